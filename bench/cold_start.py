"""Cold start: time from process start to the end of the first LSTM forward + backward, with
Numba's cache warm and with it empty (a fresh machine: every kernel compiles).

    python bench/cold_start.py [--repeats 5] [--empty-repeats 2] [--T 50 --B 16 --H 64] [--json PATH] [--source-only]

Each run is a fresh interpreter (python -c ...). The parent reads the monotonic clock just before
it spawns the child; the child prints the monotonic clock (time.perf_counter is CLOCK_MONOTONIC on
Linux, shared by all processes) after each phase, so every figure counts from process start,
interpreter start-up included. Phases:
    import   `import tinygrad_seq` (ours) / `import torch` (theirs)
    forward  first forward of nn.LSTM on x [T,B,I=H] (ours: numba import, its registry set-up
             and the kernels' cache loads happen here)
    backward first backward of the same graph
    total    process start -> end of the first backward
One untimed run first makes sure numba's on-disk cache is warm (the "warm cache" of the goal), after
the package's Python bytecode is compiled (compileall), as `pip install` and `make install` leave it:
where PYTHONDONTWRITEBYTECODE is set (this project's development machines set it) a checkout would
otherwise compile ~150 modules' source on every import (AMD EPYC Zen 2: import 0.44 s instead of
0.17 s). --source-only skips that step and times what such a checkout gets.
Empty cache: each run gets a fresh NUMBA_CACHE_DIR (the tuning wisdom file lives there too), and
after the LSTM the same process runs a GRU forward + backward ("gru": its time after the LSTM).
CPU seconds (the process's, all threads) are printed beside the wall times: on a shared machine
the compile's wall time grows with the load, its CPU time much less.
--profile prints, for ours, where the first call's time goes: numba import, each kernel's cache load
(the first also starts Numba's runtime) and whether Numba's registries were refreshed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

OURS = r"""
import time, sys
stamps = [time.perf_counter()]
import tinygrad_seq as ts
stamps.append(time.perf_counter())
import numpy as np
T, B, H = map(int, sys.argv[1:4])
lstm = ts.nn.LSTM(H, H)
x = ts.tensor(np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32), requires_grad=True)
y, _ = lstm(x)
stamps.append(time.perf_counter())
y.sum().backward()
stamps.append(time.perf_counter())
print(" ".join(repr(s) for s in stamps))
"""

OURS_EMPTY = r"""
import time, sys
stamps = [time.perf_counter()]
import tinygrad_seq as ts
stamps.append(time.perf_counter())
import numpy as np
T, B, H = map(int, sys.argv[1:4])
x = ts.tensor(np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32), requires_grad=True)
y, _ = ts.nn.LSTM(H, H)(x)
stamps.append(time.perf_counter())
y.sum().backward()
stamps.append(time.perf_counter())
cpu_lstm = time.process_time()
y, _ = ts.nn.GRU(H, H)(x)
y.sum().backward()
stamps.append(time.perf_counter())
print(" ".join(repr(s) for s in stamps), cpu_lstm, time.process_time())
"""

THEIRS = r"""
import time, sys
stamps = [time.perf_counter()]
import torch
stamps.append(time.perf_counter())
import numpy as np
T, B, H = map(int, sys.argv[1:4])
torch.set_num_threads(2)
lstm = torch.nn.LSTM(H, H)
x = torch.from_numpy(np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32)).requires_grad_(True)
y, _ = lstm(x)
stamps.append(time.perf_counter())
y.sum().backward()
stamps.append(time.perf_counter())
print(" ".join(repr(s) for s in stamps))
"""

PROFILE = r"""
import time, sys
t0 = time.perf_counter()
import tinygrad_seq as ts
t1 = time.perf_counter()
from tinygrad_seq.kernels import blas_cpu  # loads cython_blas alone, then imports numba
t2 = time.perf_counter()
from tinygrad_seq.kernels import lstm_cpu
t3 = time.perf_counter()
from numba.core.registry import cpu_target
t4 = time.perf_counter()
import numpy as np
T, B, H = map(int, sys.argv[1:4])
rng = np.random.default_rng(0)
x = rng.standard_normal((T, B, H)).astype(np.float32)
w = (rng.standard_normal((4 * H, H)) * 0.1).astype(np.float32)
b = np.zeros(4 * H, np.float32); h0 = np.zeros((B, H), np.float32)
L = np.full(B, T, np.int64)
loads = []
act = np.empty((T, B, 4 * H), np.float32)
s = time.perf_counter(); blas_cpu.input_projection(x, w, act, 1); loads.append(("input_projection", time.perf_counter() - s))
y = np.empty((T, B, H), np.float32); hn = h0.copy(); cn = h0.copy()
hp = np.empty_like(y); cp = np.empty_like(y); tc = np.empty_like(y)
s = time.perf_counter(); lstm_cpu._forward(act, h0, h0, w, None, b, L, False, y, hn, cn, hp, cp, tc, 32, 0, B)
loads.append(("lstm _forward", time.perf_counter() - s))
dg = np.empty_like(act)
s = time.perf_counter(); lstm_cpu._backward(y, h0.copy(), h0.copy(), np.ascontiguousarray(w.T), None, L, False, act, cp, tc, dg, np.zeros(4 * H, np.float32), 32, 0, B)
loads.append(("lstm _backward", time.perf_counter() - s))
from tinygrad_seq.kernels import weight_grads_cpu
s = time.perf_counter(); weight_grads_cpu.weight_gradients(dg, dg, x, hp, w, 1)
loads.append(("weight_gradients", time.perf_counter() - s))
print(f"import tinygrad_seq {t1 - t0:.3f} s, blas_cpu + numba import {t2 - t1:.3f} s, lstm_cpu {t3 - t2:.3f} s")
print("first call (cache load + run): " + ", ".join(f"{n} {v:.3f} s" for n, v in loads))
print("scipy.linalg imported:", "scipy.linalg" in sys.modules)
print("numba's registries refreshed (kernels/cache_load.py loads without):",
      bool(cpu_target.target_context._registries))
"""


def run_child(code, shape, env=None):
    t_spawn = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *map(str, shape)], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    if code is OURS_EMPTY:
        stamps, (cpu_lstm, cpu_all) = [float(v) for v in out[-7:-2]], map(float, out[-2:])
        return dict(interpreter=stamps[0] - t_spawn, imported=stamps[1] - t_spawn, forward=stamps[2] - stamps[1],
                    backward=stamps[3] - stamps[2], total=stamps[3] - t_spawn, gru=stamps[4] - stamps[3],
                    cpu_total=cpu_lstm, cpu_gru=cpu_all - cpu_lstm)
    stamps = [float(v) for v in out[-4:]]
    return dict(interpreter=stamps[0] - t_spawn, imported=stamps[1] - t_spawn, forward=stamps[2] - stamps[1],
                backward=stamps[3] - stamps[2], total=stamps[3] - t_spawn)


def compile_bytecode():
    """The package's modules compiled to __pycache__ (a no-op where they are current)."""
    import compileall
    import importlib.util
    for name in ("tinygrad_seq", "tinygrad_seq.kernels"):
        folder = os.path.dirname(importlib.util.find_spec(name).origin)
        compileall.compile_dir(folder, quiet=1, workers=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--empty-repeats", type=int, default=2, help="runs on an empty Numba cache (0: none)")
    parser.add_argument("--T", type=int, default=50)
    parser.add_argument("--B", type=int, default=16)
    parser.add_argument("--H", type=int, default=64)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--source-only", action="store_true",
                        help="do not compile the package's bytecode first (see above)")
    args = parser.parse_args()
    shape = (args.T, args.B, args.H)
    if not args.source_only:
        compile_bytecode()
    run_child(OURS, shape)  # warms numba's on-disk cache
    if args.profile:
        print(subprocess.run([sys.executable, "-c", PROFILE, *map(str, shape)], capture_output=True, text=True,
                             check=True).stdout)
    runs = {"ours": [], "torch": []}
    for _ in range(args.repeats):
        runs["ours"].append(run_child(OURS, shape))
        runs["torch"].append(run_child(THEIRS, shape))
    empty = []
    for _ in range(args.empty_repeats):
        with tempfile.TemporaryDirectory() as cache:
            empty.append(run_child(OURS_EMPTY, shape, dict(os.environ, NUMBA_CACHE_DIR=cache)))
    keys = ("interpreter", "imported", "forward", "backward", "total")
    print(f"first LSTM forward+backward, T={args.T} B={args.B} I=H={args.H}, float32; seconds from "
          f"process start, median of {args.repeats} fresh processes")
    print(f"{'side':6} " + " ".join(f"{k:>11}" for k in keys) + f" {'max total':>10}")
    summary = {}
    for side, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs) for k in keys}
        summary[side] = dict(median=med, runs=rs)
        print(f"{side:6} " + " ".join(f"{med[k]:11.3f}" for k in keys) + f" {max(r['total'] for r in rs):10.3f}")
    print("interpreter: spawn -> first line of the script; imported: spawn -> library imported")
    if empty:
        ekeys = ("imported", "forward", "backward", "total", "cpu_total", "gru", "cpu_gru")
        med = {k: statistics.median(r[k] for r in empty) for k in ekeys}
        summary["ours_empty_cache"] = dict(median=med, runs=empty)
        print(f"empty Numba cache, median of {len(empty)} fresh processes: import + first LSTM forward+backward "
              f"{med['total']:.2f} s wall ({med['cpu_total']:.2f} s CPU; forward {med['forward']:.2f} s, backward "
              f"{med['backward']:.2f} s); the first GRU forward+backward after it {med['gru']:.2f} s wall "
              f"({med['cpu_gru']:.2f} s CPU)")
    print("Python bytecode: " + ("not compiled first (--source-only)" if args.source_only
                                 else "compiled first, as an installed package has it"))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(dict(T=args.T, B=args.B, H=args.H, load_average=load, bytecode=not args.source_only,
                           date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), runs=summary), f, indent=1)


if __name__ == "__main__":
    main()
