"""Per-op overhead of the engine vs PyTorch eager, interleaved in one run.

    python bench/overhead_vs_torch.py [--repeats 7] [--json PATH]

Cases (float32, CPU, one thread each):
  mul 4x4 forward  x * y on (4, 4) leaves that require grad (the graph node is recorded, no backward)
  mul 4x4      forward + backward of (x * y).sum() on (4, 4) leaves
  matmul 4x4   forward + backward of (x @ y).sum() on (4, 4) leaves
  chain 10k    backward of a 10,000-node chain y = y * 1.0001 (built untimed, timed sweep only)
Each repeat times ours then torch's on the same data (so load from other processes hits both);
the table reports the median per call in microseconds and ratio = ours / torch (< 1: we are
leaner). The tiny arrays make array math negligible: this measures graph bookkeeping.
"""
import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch

import tinygrad_seq as ts


def timeit(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def make_cases(chain_len=10_000):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4)).astype(np.float32)
    b = rng.standard_normal((4, 4)).astype(np.float32)
    ox, oy = ts.Tensor(a, requires_grad=True), ts.Tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)

    def ours_fwd():
        ox * oy

    def torch_fwd():
        tx * ty

    def ours_mul():
        (ox * oy).sum().backward()

    def torch_mul():
        (tx * ty).sum().backward()

    def ours_matmul():
        (ox @ oy).sum().backward()

    def torch_matmul():
        (tx @ ty).sum().backward()

    def chain(mod_x):
        def build():
            y = mod_x
            for _ in range(chain_len):
                y = y * 1.0001
            return y.sum()
        return build

    c0 = ts.Tensor(np.ones(4, np.float32), requires_grad=True)
    t0 = torch.ones(4, requires_grad=True)
    return [
        ("mul 4x4 forward", ours_fwd, torch_fwd, 20000, None),
        ("mul 4x4 fwd+bwd", ours_mul, torch_mul, 2000, None),
        ("matmul 4x4 fwd+bwd", ours_matmul, torch_matmul, 2000, None),
        (f"chain {chain_len} backward", chain(c0), chain(t0), 1, "prebuilt"),
    ]


def run_case(ours, theirs, number, mode):
    if mode == "prebuilt":  # time only the backward sweep of a graph built beforehand
        root_o, root_t = ours(), theirs()
        t0 = time.perf_counter()
        root_o.backward()
        to = time.perf_counter() - t0
        t0 = time.perf_counter()
        root_t.backward()
        tt = time.perf_counter() - t0
        return to, tt
    return timeit(ours, number), timeit(theirs, number)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cases = make_cases()
    rows = []
    for name, ours, theirs, number, mode in cases:
        run_case(ours, theirs, max(number // 10, 1), mode)  # warm up
        o_times, t_times = [], []
        for _ in range(args.repeats):
            o, t = run_case(ours, theirs, number, mode)
            o_times.append(o)
            t_times.append(t)
        o_med, t_med = statistics.median(o_times), statistics.median(t_times)
        rows.append({"case": name, "ours_us": o_med * 1e6, "torch_us": t_med * 1e6, "ratio": o_med / t_med})
    print(f"tinygrad_seq vs torch {torch.__version__} eager, {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, median of {args.repeats}")
    print(f"{'case':<24}{'ours us':>12}{'torch us':>12}{'ours/torch':>12}")
    for r in rows:
        print(f"{r['case']:<24}{r['ours_us']:>12.1f}{r['torch_us']:>12.1f}{r['ratio']:>12.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
