"""One seq2seq training step, tinygrad_seq vs an equivalent PyTorch model, on the CPU.

    .venv/bin/python bench/seq2seq_vs_torch.py [--batch 32] [--src-len 20] [--tgt-len 20]
                                              [--hidden 256] [--threads 1] [--blocks 6] [--steps 4] [--gap 0.3]

Both models are the same network with the same weights (TorchSeq2Seq mirrors nn.Seq2Seq's
parameter names, so the tinygrad_seq state dict loads unchanged; it, the data and the step are
defined once in the asv suite, bench/benchmarks/bench_seq2seq.py): embedding + bidirectional LSTM
encoder over packed sequences, tanh bridges, LSTM decoder with input feeding and Luong "general"
attention, teacher forcing, cross entropy with ignore_index=pad, then one Adam step. The script
first checks that both give the same loss, then times forward + backward + Adam for each, in
--blocks alternating blocks of --steps steps a side (a shared machine's changes of speed hit both
sides alike; medians of the step times), with the BLAS, Numba and torch thread counts all set to
--threads.
"""
import argparse
import os
import platform
import sys
import time


def _set_threads(n):
    # before numpy / numba / torch are imported, so every pool starts with n threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def _suite():
    """The asv suite's module (bench/benchmarks/bench_seq2seq.py), which defines the data, the
    torch twin and the training step once; imported after _set_threads."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from benchmarks import bench_seq2seq
    return bench_seq2seq


def torch_model_class():
    return _suite().torch_seq2seq_class()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--src-len", type=int, default=20)
    p.add_argument("--tgt-len", type=int, default=20)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blocks", type=int, default=6, help="alternating blocks per library")
    p.add_argument("--steps", type=int, default=4, help="timed steps per block")
    p.add_argument("--gap", type=float, default=0.3,
                   help="seconds of idle after each block (lets the other side's spinning threads settle)")
    args = p.parse_args(argv)
    _set_threads(args.threads)

    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    suite = _suite()
    B, S, T, H, V = args.batch, args.src_len, args.tgt_len, args.hidden, args.vocab
    step_ours, _ = suite.make_step("tinygrad_seq", B, S, T, H, args.embed, V)
    step_theirs, _ = suite.make_step("torch", B, S, T, H, args.embed, V)
    l1, l2 = step_ours(), step_theirs()
    if not np.isclose(l1, l2, rtol=1e-4):
        sys.exit(f"the two models disagree: loss {l1} (tinygrad_seq) vs {l2} (torch)")

    # blocks of --steps steps alternate between the libraries (bench/interleave.py), so that a
    # change in the machine's speed (a shared machine) hits both sides alike; medians of the steps
    from interleave import time_blocks
    t_ours, t_theirs = time_blocks([step_ours, step_theirs], args.steps, args.blocks, args.gap)
    times = {"ours": t_ours, "torch": t_theirs}
    ms_ours, ms_theirs = (float(np.median(times[k])) * 1e3 for k in ("ours", "torch"))
    print(f"seq2seq training step (forward + backward + Adam), B={B}, S={S}, T={T}, H={H}, "
          f"embed={args.embed}, vocab={V}, {args.threads} thread(s), first-step loss {l1:.5f} (both)")
    print(f"  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {_cpu()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}; medians of {args.blocks} x {args.steps} steps a side, interleaved")
    print(f"  tinygrad_seq  {ms_ours:8.1f} ms")
    print(f"  torch {torch.__version__:<8s}{ms_theirs:7.1f} ms")
    print(f"  ratio         {ms_ours / ms_theirs:8.2f}x (tinygrad_seq / torch time; speedup {ms_theirs / ms_ours:.2f}x)")
    return 0


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
