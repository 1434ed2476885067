"""asv: nn.Seq2Seq (bidirectional LSTM encoder, LSTM decoder with Luong "general" attention and
input feeding) on the CPU: one training step and greedy / beam-search decoding.
The training step runs at 1 and 2 threads on tinygrad_seq and on its torch twin
(torch_seq2seq_class, the same weights; skipped where torch is not installed, and for GRU).

Issue 6's shape: B = 32, S = T = 20, H = 256 (embed 64, vocab 64). A training step is forward
(teacher forcing) + cross entropy + backward + Adam. Decoding runs max_len = 20 steps (random
weights rarely produce eos, so every call does the same work); beam search uses beam_size 5.
bench/seq2seq_vs_torch.py times the same training step (make_step) against PyTorch.
"""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import nn

from .common import namespace, use_threads

B, S, T, H, E, V = 32, 20, 20, 256, 64, 64


def seq2seq_data(B, S, T, V, seed=0):
    """src [B,S] (padded with 0), lengths [B], tgt_in / tgt_out [B,T]: random tokens, bos = 1."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(S // 2, S + 1, size=B)
    lens[0] = S
    src = rng.integers(4, V, size=(B, S))
    src[np.arange(S)[None, :] >= lens[:, None]] = 0
    tgt = rng.integers(3, V, size=(B, T + 1))
    tgt[:, 0] = 1
    return src, lens, tgt[:, :-1].copy(), tgt[:, 1:].copy()


def torch_seq2seq_class():
    """The torch twin of nn.Seq2Seq (LSTM, Luong "general" attention, bidirectional encoder): the
    same parameter names, so a tinygrad_seq state dict loads unchanged."""
    import torch
    import torch.nn as tnn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class Encoder(tnn.Module):
        def __init__(self, V, E, H, L):
            super().__init__()
            self.embedding = tnn.Embedding(V, E, padding_idx=0)
            self.rnn = tnn.LSTM(E, H, L, batch_first=True, bidirectional=True)

    class Attention(tnn.Module):
        def __init__(self, Hq, Hk):
            super().__init__()
            self.linear = tnn.Linear(Hk, Hq, bias=False)

    class Decoder(tnn.Module):
        def __init__(self, V, E, H, K, L):
            super().__init__()
            self.embedding = tnn.Embedding(V, E, padding_idx=0)
            self.rnn = tnn.LSTM(E + H, H, L)
            self.attention = Attention(H, K)
            self.combine = tnn.Linear(H + K, H, bias=False)
            self.out = tnn.Linear(H, V)

    class TorchSeq2Seq(tnn.Module):
        """nn.Seq2Seq(rnn_type="lstm", attention="general", bidirectional=True) in PyTorch."""
        def __init__(self, src_vocab_size, tgt_vocab_size, embed_size, hidden_size, num_layers=1):
            super().__init__()
            self.L, self.H = num_layers, hidden_size
            self.encoder = Encoder(src_vocab_size, embed_size, hidden_size, num_layers)
            self.decoder = Decoder(tgt_vocab_size, embed_size, hidden_size, 2 * hidden_size, num_layers)
            self.bridge_h = tnn.Linear(2 * hidden_size, hidden_size)
            self.bridge_c = tnn.Linear(2 * hidden_size, hidden_size)

        def forward(self, src, lengths, tgt_in):
            B, S = src.shape
            emb = self.encoder.embedding(src)
            packed = pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
            out, (h, c) = self.encoder.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=S)     # (B, S, 2H)

            def merge(x):
                return x.view(self.L, 2, B, self.H).permute(0, 2, 1, 3).reshape(self.L, B, 2 * self.H)
            state = (torch.tanh(self.bridge_h(merge(h))), torch.tanh(self.bridge_c(merge(c))))
            invalid = torch.arange(S)[None, :] >= lengths[:, None]
            proj = self.decoder.attention.linear(out)                               # (B, S, H)
            feed = out.new_zeros(B, self.H)
            temb = self.decoder.embedding(tgt_in)
            outs, attn = [], []
            for t in range(tgt_in.shape[1]):
                o, state = self.decoder.rnn(torch.cat([temb[:, t], feed], 1).unsqueeze(0), state)
                q = o[0]
                scores = torch.bmm(proj, q.unsqueeze(2)).squeeze(2).masked_fill(invalid, float("-inf"))
                w = torch.softmax(scores, dim=1)
                ctx = torch.bmm(w.unsqueeze(1), out).squeeze(1)
                feed = torch.tanh(self.decoder.combine(torch.cat([q, ctx], 1)))
                outs.append(feed)
                attn.append(w)
            return self.decoder.out(torch.stack(outs, 1)), torch.stack(attn, 1)

    return TorchSeq2Seq


def _model(H, E, V, rnn_type="lstm"):
    ts.manual_seed(0)
    return nn.Seq2Seq(V, V, E, H, rnn_type=rnn_type)


def make_step(lib, B, S, T, H, E, V, rnn_type="lstm"):
    """(step, model): step() runs one training step and returns the loss: forward with teacher
    forcing, cross entropy ignoring pad 0, backward, Adam(lr=1e-3). lib "torch" runs the torch
    twin loaded with nn.Seq2Seq's initial weights (LSTM only), so both start from one state."""
    if lib == "torch" and rnn_type != "lstm":
        raise NotImplementedError("the torch twin of nn.Seq2Seq is LSTM only")
    ours = _model(H, E, V, rnn_type)
    src, lens, tgt_in, tgt_out = seq2seq_data(B, S, T, V)
    if lib == "tinygrad_seq":
        model, opt = ours, ts.optim.Adam(ours.parameters(), lr=1e-3)

        def loss_fn():
            logits, _ = model(src, lens, tgt_in)
            return model.loss(logits, tgt_out)
    else:
        torch = namespace("torch").torch
        model = torch_seq2seq_class()(V, V, E, H)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        t_src, t_lens, t_in, t_out = (torch.from_numpy(a) for a in (src, lens, tgt_in, tgt_out))

        def loss_fn():
            logits, _ = model(t_src, t_lens, t_in)
            return torch.nn.functional.cross_entropy(logits.reshape(-1, V), t_out.reshape(-1), ignore_index=0)

    def step():
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step, model


class _TrainStep:
    def _setup(self, lib, threads, B, S, T, H, E, V, rnn_type):
        use_threads(namespace(lib), threads)
        self._step, self.model = make_step(lib, B, S, T, H, E, V, rnn_type)
        self._step()                                  # JIT compilation happens here, not timed


class Seq2SeqTrainStep(_TrainStep):
    params = (["lstm", "gru"], [1, 2], ["tinygrad_seq", "torch"])
    param_names = ["rnn", "threads", "lib"]
    timeout = 300

    def setup(self, rnn, threads, lib):
        self._setup(lib, threads, B, S, T, H, E, V, rnn)

    def time_train_step(self, rnn, threads, lib):
        self._step()

    def peakmem_train_step(self, rnn, threads, lib):
        self._step()


class Seq2SeqDecode:
    params = (["greedy", "beam5"],)
    param_names = ["method"]
    timeout = 300

    def setup(self, method):
        self.model = _model(H, E, V)
        self.src, self.lens, _, _ = seq2seq_data(B, S, T, V)
        self.model.greedy_decode(self.src[:2], self.lens[:2], max_len=2)

    def time_decode(self, method):
        if method == "greedy":
            self.model.greedy_decode(self.src, self.lens, max_len=T)
        else:
            self.model.beam_search(self.src, self.lens, beam_size=5, max_len=T)


class QuickSeq2Seq(_TrainStep):
    """The tiny subset CI runs (`asv run --quick --bench Quick`); the training step on torch too,
    so CI runs the shared step and the torch twin."""
    params = (["tinygrad_seq", "torch"],)
    param_names = ["lib"]

    def setup(self, lib):
        self._setup(lib, 1, 4, 6, 5, 16, 8, 12, "lstm")

    def time_train_step(self, lib):
        self._step()


class QuickSeq2SeqDecode:
    """Greedy and beam-search decoding of a tiny nn.Seq2Seq, for CI."""
    def setup(self):
        self.model = _model(16, 8, 12)
        self.src, self.lens, _, _ = seq2seq_data(4, 6, 5, 12)
        self.model.greedy_decode(self.src[:2], self.lens[:2], max_len=2)

    def time_greedy_and_beam(self):
        self.model.greedy_decode(self.src, self.lens, max_len=5)
        self.model.beam_search(self.src, self.lens, beam_size=3, max_len=5)
