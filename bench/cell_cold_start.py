"""A new cell's first compile: process start to the end of its first forward + backward through the
layer, with an empty cell cache (the hand-written kernels' cache as it is), with the backward's
background compile on and off (kernels/background_compile.py), in alternating fresh processes.

    python bench/cell_cold_start.py [--cell PeepholeLSTM] [--repeats 3] [--T 50 --B 16 --H 64]

Prints per run: wall seconds to the end of the forward and of the backward, and this process's CPU
seconds (the child's are not counted: they run on the other core). Then the cached case.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np
import tinygrad_seq as ts
T, B, H = map(int, sys.argv[2:5])
layer = getattr(ts.nn, sys.argv[1])(H, H)
x = ts.tensor(np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32), requires_grad=True)
y, _ = layer(x)
t1 = time.perf_counter()
y.sum().backward()
t2 = time.perf_counter()
print(t1 - t0, t2 - t0, time.process_time())
"""


def run(cell, shape, cache, background):
    env = dict(os.environ, TINYGRAD_SEQ_CACHE=cache, TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE=str(int(background)))
    # Python's own bytecode cache as an installed package has it: where PYTHONDONTWRITEBYTECODE
    # is set (this project's development machines), each child compiled the library's sources again
    # (about 0.1 s of a cached run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", CHILD, cell, *map(str, shape)], env=env, capture_output=True,
                         text=True, check=True)
    return [float(v) for v in out.stdout.split()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cell", default="PeepholeLSTM", help="an nn layer class built from a cell description")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--T", type=int, default=50)
    ap.add_argument("--B", type=int, default=16)
    ap.add_argument("--H", type=int, default=64)
    args = ap.parse_args()
    shape = (args.T, args.B, args.H)
    print(f"{args.cell} T={args.T} B={args.B} H={args.H}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    totals = {True: [], False: []}
    for r in range(args.repeats):
        for background in (r % 2 == 0, r % 2 != 0):
            forward, total, cpu = run(args.cell, shape, tempfile.mkdtemp(), background)
            totals[background].append(total)
            print(f"empty cache, background compile {'on ' if background else 'off'}: forward {forward:.2f} s, "
                  f"forward+backward {total:.2f} s, CPU {cpu:.2f} s", flush=True)
    cache = tempfile.mkdtemp()
    run(args.cell, shape, cache, True)
    cached = [run(args.cell, shape, cache, True)[1] for _ in range(args.repeats)]
    print(f"medians: empty cache {statistics.median(totals[True]):.2f} s with the background compile, "
          f"{statistics.median(totals[False]):.2f} s without; cached {statistics.median(cached):.2f} s")


if __name__ == "__main__":
    main()
