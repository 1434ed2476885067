"""One training step of PyTorch's word_language_model (LSTM), tinygrad_seq vs PyTorch, on the CPU.

    .venv/bin/python bench/lm_vs_torch.py [--threads 1 2] [--blocks 6] [--steps 5] [--gap 0.3]
                                          [--vocab 10000] [--emsize 64] [--nhid 256]

The model is written once against a torch-like namespace (Embedding -> 2-layer LSTM -> Linear to
the vocabulary; bench/benchmarks/bench_training.py, the asv suite, holds it, the step and the
data) and built twice from the same state dict: bptt 35, batch 20, cross entropy over
all 700 positions, backward, clip_grad_norm_(0.25), SGD(lr=20) (the example's settings), the
hidden state carried and detached between steps. Each thread count runs in its own process
(the BLAS, OpenMP and Numba pools start with that many threads); inside it, blocks of --steps
steps alternate between the two libraries so a change in machine load hits both, each block
after one untimed step and followed by --gap seconds of idle (bench/interleave.py), and the table
gives each side's median step time. It also checks the first losses agree.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time


def worker(args):
    import numpy as np

    # the model, the step and the data are the asv suite's (bench/benchmarks/bench_training.py)
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from benchmarks.bench_training import build_lm, lm_batches, lm_trainer
    from benchmarks.common import namespace

    n_threads = args.threads[0]
    tL, oL = namespace("torch"), namespace("tinygrad_seq")
    tL.torch.set_num_threads(n_threads)
    oL.torch.set_num_threads(n_threads)
    V, E, H, T, B = args.vocab, args.emsize, args.nhid, 35, 20
    tL.torch.manual_seed(0)
    tmodel = build_lm(tL, V, E, H)
    omodel = build_lm(oL, V, E, H)
    omodel.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    tstep, ostep = lm_trainer(tL, tmodel), lm_trainer(oL, omodel)
    tdata, odata = lm_batches(tL, V, T, B), lm_batches(oL, V, T, B)
    losses = [(ostep(*odata[i]).item(), tstep(*tdata[i]).item()) for i in range(2)]
    from interleave import time_blocks
    batch = {"ours": 0, "torch": 0}

    def stepper(name, step, data):
        def run():  # the next batch of this side's data each call
            step(*data[batch[name] % len(data)]).item()
            batch[name] += 1
        return run

    t_ours, t_torch = time_blocks([stepper("ours", ostep, odata), stepper("torch", tstep, tdata)],
                                  args.steps, args.blocks, args.gap)
    times = {"ours": t_ours, "torch": t_torch}
    med = {n: float(np.median(v)) * 1e3 for n, v in times.items()}
    print(json.dumps({"threads": n_threads, "ms": med, "losses": losses}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--vocab", type=int, default=10000)
    p.add_argument("--emsize", type=int, default=64)
    p.add_argument("--nhid", type=int, default=256)
    p.add_argument("--gap", type=float, default=0.3,
                   help="seconds of idle after each block (lets the other side's spinning threads settle)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("Model name")), "?")
    print(f"word-level LM step (Embedding {args.vocab}x{args.emsize}, 2-layer LSTM {args.nhid}, "
          f"Linear to {args.vocab}, bptt 35, batch 20, cross entropy, clip 0.25, SGD)")
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {model}, "
          f"{os.cpu_count()} CPUs, load before {os.getloadavg()[0]:.2f}")
    print(f"{'threads':>7} {'ours ms':>9} {'torch ms':>9} {'speedup':>8}  first losses (ours / torch)")
    for n in args.threads:
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = str(n)
        cmd = [sys.executable, __file__, "--worker", "--threads", str(n), "--blocks", str(args.blocks),
               "--steps", str(args.steps), "--gap", str(args.gap), "--vocab", str(args.vocab), "--emsize", str(args.emsize),
               "--nhid", str(args.nhid)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        o, t = r["ms"]["ours"], r["ms"]["torch"]
        ls = ", ".join(f"{a:.5f}/{b:.5f}" for a, b in r["losses"])
        print(f"{n:>7} {o:>9.1f} {t:>9.1f} {t / o:>7.2f}x  {ls}")
    print(f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
