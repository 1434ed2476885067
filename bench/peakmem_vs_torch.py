"""Peak memory of one LSTM forward + backward: ours vs torch.nn.LSTM, float32, each in a fresh process.

    python bench/peakmem_vs_torch.py [--T 1000] [--B 16] [--H 256] [--repeats 3] [--json PATH]

Each measurement is a fresh subprocess that imports its library, builds the seeded inputs, runs
one small warm-up forward+backward (JIT cache load, allocator and thread-pool start-up are not
counted), reads its resident set size, then runs the measured forward + backward once and reads
the peak (ru_maxrss). Reported: peak RSS minus RSS just before the measured call, in MiB, median of
--repeats processes. Input x [T,B,I=H] and the output gradient dy [T,B,H] are allocated before the
baseline on both sides. Sides:
    kernels  tinygrad_seq.kernels.lstm_cpu.lstm_forward / lstm_backward (arrays in, arrays out)
    module   tinygrad_seq.nn.LSTM through the autograd engine (parameter .grad included)
    torch    torch.nn.LSTM, y.backward(dy) (parameter .grad included)
The warm-up uses T=4 so its own peak stays below the baseline.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import os, resource, sys
import numpy as np

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

side, T, B, H = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)

def data(t):
    x = rng.standard_normal((t, B, H)).astype(np.float32)
    dy = rng.standard_normal((t, B, H)).astype(np.float32)
    return x, dy

if side == "torch":
    import torch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(H, H)
    def run(x, dy):
        xt = torch.from_numpy(x).requires_grad_(True)
        y, _ = lstm(xt)
        y.backward(torch.from_numpy(dy))
elif side == "module":
    import tinygrad_seq as ts
    ts.manual_seed(0)
    lstm = ts.nn.LSTM(H, H)
    def run(x, dy):
        xt = ts.tensor(x, requires_grad=True)
        y, _ = lstm(xt)
        y.backward(ts.tensor(dy))
else:
    from tinygrad_seq.kernels import lstm_cpu
    scale = 1 / np.sqrt(H)
    w_ih = rng.uniform(-scale, scale, (4 * H, H)).astype(np.float32)
    w_hh = rng.uniform(-scale, scale, (4 * H, H)).astype(np.float32)
    b = np.zeros(4 * H, np.float32)
    h0 = np.zeros((B, H), np.float32)
    def run(x, dy):
        y, h_n, c_n, saved = lstm_cpu.lstm_forward(x, h0, h0, w_ih, w_hh, b, b, None, False)
        return lstm_cpu.lstm_backward(dy, h0, h0, x, h0, h0, w_ih, w_hh, None, False, saved)

run(*data(4))
x, dy = data(T)
before = rss_mib()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
run(x, dy)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{before:.2f} {peak_before:.2f} {peak:.2f}")
"""


def measure(side, seq_len, batch, hidden):
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", CHILD, side, str(seq_len), str(batch), str(hidden)],
                         capture_output=True, text=True, env=env, check=True).stdout.split()
    before, peak_before, peak = map(float, out[-3:])
    if peak_before > before + 1:
        raise RuntimeError(f"{side}: warm-up peak {peak_before:.1f} MiB above the baseline {before:.1f} MiB")
    return peak - before, before


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--T", type=int, default=1000)
    parser.add_argument("--B", type=int, default=16)
    parser.add_argument("--H", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sides", default="kernels,module,torch")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    sides = args.sides.split(",")
    results = {s: [] for s in sides}
    for _ in range(args.repeats):
        for side in sides:
            results[side].append(measure(side, args.T, args.B, args.H))
    floats = args.T * args.B * args.H
    print(f"LSTM forward+backward, float32, T={args.T} B={args.B} I=H={args.H}; "
          f"one [T,B,H] array = {floats * 4 / 2**20:.1f} MiB")
    print(f"{'side':8} {'peak - baseline MiB':>20} {'baseline MiB':>13} {'in [T,B,H] arrays':>18}")
    rows = {}
    for side, vals in results.items():
        delta = statistics.median(v[0] for v in vals)
        base = statistics.median(v[1] for v in vals)
        rows[side] = dict(peak_delta_mib=delta, baseline_mib=base, all_deltas=[v[0] for v in vals])
        print(f"{side:8} {delta:20.1f} {base:13.1f} {delta / (floats * 4 / 2**20):18.2f}")
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(dict(T=args.T, B=args.B, H=args.H, dtype="float32", rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
