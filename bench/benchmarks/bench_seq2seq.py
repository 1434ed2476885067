"""asv: nn.Seq2Seq (bidirectional LSTM encoder, LSTM decoder with Luong "general" attention and
input feeding) on the CPU: one training step and greedy / beam-search decoding.

Issue 6's shape: B = 32, S = T = 20, H = 256 (embed 64, vocab 64). A training step is forward
(teacher forcing) + cross entropy + backward + Adam. Decoding runs max_len = 20 steps (random
weights rarely produce eos, so every call does the same work); beam search uses beam_size 5.
bench/seq2seq_vs_torch.py times the same training step against PyTorch.
"""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import nn

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


def _model(H, E, V, rnn_type="lstm"):
    ts.manual_seed(0)
    return nn.Seq2Seq(V, V, E, H, rnn_type=rnn_type)


class _TrainStep:
    def _setup(self, B, S, T, H, E, V, rnn_type):
        self.model = _model(H, E, V, rnn_type)
        self.opt = ts.optim.Adam(self.model.parameters(), lr=1e-3)
        self.src, self.lens, self.tgt_in, self.tgt_out = seq2seq_data(B, S, T, V)
        self._step()                                  # JIT compilation happens here, not timed

    def _step(self):
        logits, _ = self.model(self.src, self.lens, self.tgt_in)
        loss = self.model.loss(logits, self.tgt_out)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


class Seq2SeqTrainStep(_TrainStep):
    params = (["lstm", "gru"],)
    param_names = ["rnn"]
    timeout = 300

    def setup(self, rnn):
        self._setup(B, S, T, H, E, V, rnn)

    def time_train_step(self, rnn):
        self._step()

    def peakmem_train_step(self, rnn):
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
    """The tiny subset CI runs (`asv run --quick --bench Quick`)."""
    def setup(self):
        self._setup(4, 6, 5, 16, 8, 12, "lstm")

    def time_train_step(self):
        self._step()

    def time_greedy_and_beam(self):
        self.model.greedy_decode(self.src, self.lens, max_len=5)
        self.model.beam_search(self.src, self.lens, beam_size=3, max_len=5)
