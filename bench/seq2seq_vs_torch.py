"""One seq2seq training step, tinygrad_seq vs an equivalent PyTorch model, on the CPU.

    .venv/bin/python bench/seq2seq_vs_torch.py [--batch 32] [--src-len 20] [--tgt-len 20]
                                              [--hidden 256] [--threads 1] [--repeats 20]

Both models are the same network with the same weights (TorchSeq2Seq mirrors nn.Seq2Seq's
parameter names, so the tinygrad_seq state dict loads unchanged): embedding + bidirectional LSTM
encoder over packed sequences, tanh bridges, LSTM decoder with input feeding and Luong "general"
attention, teacher forcing, cross entropy with ignore_index=pad, then one Adam step. The script
first checks that both give the same loss, then times forward + backward + Adam for each (median
of --repeats after a warm-up) with the BLAS, Numba and torch thread counts all set to --threads.
"""
import argparse
import os
import sys
import time


def _set_threads(n):
    # before numpy / numba / torch are imported, so every pool starts with n threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def torch_model_class():
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--src-len", type=int, default=20)
    p.add_argument("--tgt-len", type=int, default=20)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)
    _set_threads(args.threads)

    import numpy as np
    import torch
    import tinygrad_seq as ts
    from tinygrad_seq import nn
    torch.set_num_threads(args.threads)

    B, S, T, H, V = args.batch, args.src_len, args.tgt_len, args.hidden, args.vocab
    from benchmarks.bench_seq2seq import seq2seq_data  # the asv suite's data: one definition
    src, lens, tgt_in, tgt_out = seq2seq_data(B, S, T, V)
    ts.manual_seed(0)
    ours = nn.Seq2Seq(V, V, args.embed, H)
    theirs = torch_model_class()(V, V, args.embed, H)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    opt_ours = ts.optim.Adam(ours.parameters(), lr=1e-3)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    t_src, t_lens = torch.from_numpy(src), torch.from_numpy(lens)
    t_in, t_out = torch.from_numpy(tgt_in), torch.from_numpy(tgt_out)

    def step_ours():
        logits, _ = ours(src, lens, tgt_in)
        loss = ours.loss(logits, tgt_out)
        opt_ours.zero_grad()
        loss.backward()
        opt_ours.step()
        return loss.item()

    def step_theirs():
        logits, _ = theirs(t_src, t_lens, t_in)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), t_out.reshape(-1), ignore_index=0)
        opt_theirs.zero_grad()
        loss.backward()
        opt_theirs.step()
        return loss.item()

    l1, l2 = step_ours(), step_theirs()
    if not np.isclose(l1, l2, rtol=1e-4):
        sys.exit(f"the two models disagree: loss {l1} (tinygrad_seq) vs {l2} (torch)")

    def timed(fn):
        fn()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times)) * 1e3

    ms_ours, ms_theirs = timed(step_ours), timed(step_theirs)
    print(f"seq2seq training step (forward + backward + Adam), B={B}, S={S}, T={T}, H={H}, "
          f"embed={args.embed}, vocab={V}, {args.threads} thread(s), first-step loss {l1:.5f} (both)")
    print(f"  tinygrad_seq  {ms_ours:8.1f} ms")
    print(f"  torch {torch.__version__:<8s}{ms_theirs:7.1f} ms")
    print(f"  ratio         {ms_ours / ms_theirs:8.2f}x (tinygrad_seq / torch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
