"""Fused CPU kernels and layers vs torch.nn.RNN/LSTM/GRU, forward + backward, float32, side by side.

    python bench/compare_torch.py [--quick | --shapes T,B,H;...] [--cells lstm,gru,rnn] [--budget S]
                                  [--json PATH] [--markdown PATH]

Three paths per shape, on the same data and weights: our kernel pair (arrays in, arrays out),
our layer as a user calls it (ts.nn.LSTM/GRU/RNN with autograd: forward, backward with dy,
gradients into the parameters) and torch's layer. The calls run back to back in alternating
blocks (each path, then idle; three rounds, so load from other processes hits all), and the
table reports medians. Thread counts match: torch.set_num_threads(numba.get_num_threads()).
ratio = torch ms / our kernel ms (> 1: we are faster); layer/kernel = our layer's ms over our
kernel's (the autograd engine's overhead). GFLOP/s counts the three GEMM-sized products
of forward + backward: 3 * 2*T*B*G*H*(I+H), G = 4 (LSTM), 3 (GRU), 1 (RNN). The numpy
2048^3 float32 matmul rate (best of 5) is measured before and after the run as the machine's
reference; the printed %mm is relative to the one before, pct_matmul in the JSON and the markdown
column to the higher of the two. The machine is recorded with the results (CPU model, vector ISA,
L2/L3, GEMM rate, load, date, thread counts); by default they go to
bench/results/compare_torch_<machine>.json and .md, one pair per machine (the name from
bench/asv_machine.py).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time

import numba
import numpy as np
import torch

import tinygrad_seq as ts
import compare_history
from asv_machine import describe
from interleave import time_blocks
from tinygrad_seq.kernels import blas_cpu, gru_cpu, lstm_cpu, rnn_cpu

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
TORCH_CELL = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
OUR_CELL = {"lstm": ts.nn.LSTM, "gru": ts.nn.GRU, "rnn": ts.nn.RNN}
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
FULL_GRID = [(t, b, h) for t in (50, 200) for b in (1, 16, 64) for h in (64, 256, 512)]
QUICK_GRID = [(50, 1, 64), (50, 16, 256), (50, 64, 512)]


def machine_name():
    """lscpu's model name (falls back to platform.processor())."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or platform.machine()


def load_average():
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def matmul_gflops(n=2048, repeats=5):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, a, out=out)
        times.append(time.perf_counter() - t0)
    # the best repeat: the rate this machine reaches when nothing else runs
    return 2 * n**3 / min(times) / 1e9


def make_case(cell, seq_len, batch, hidden, seed=0):
    """Seeded data [T,B,I=H], the modules, and closures running one forward+backward each:
    (our kernels, our layer, torch's layer)."""
    rng = np.random.default_rng(seed)
    n_in = hidden
    torch.manual_seed(seed)
    module = TORCH_CELL[cell](n_in, hidden)
    w_ih = module.weight_ih_l0.detach().numpy().copy()
    w_hh = module.weight_hh_l0.detach().numpy().copy()
    b_ih = module.bias_ih_l0.detach().numpy().copy()
    b_hh = module.bias_hh_l0.detach().numpy().copy()
    x = rng.standard_normal((seq_len, batch, n_in)).astype(np.float32)
    h0 = rng.standard_normal((batch, hidden)).astype(np.float32) * 0.5
    c0 = rng.standard_normal((batch, hidden)).astype(np.float32) * 0.5
    dy = rng.standard_normal((seq_len, batch, hidden)).astype(np.float32)
    dh_n = np.zeros((batch, hidden), np.float32)
    lengths = np.full(batch, seq_len, np.int64)

    if cell == "lstm":
        def ours():
            y, h_n, c_n, saved = lstm_cpu.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, False)
            return lstm_cpu.lstm_backward(dy, dh_n, dh_n, x, h0, c0, w_ih, w_hh, lengths, False, saved)
    elif cell == "gru":
        def ours():
            y, h_n, saved = gru_cpu.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, False)
            return gru_cpu.gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, False, saved)
    else:
        def ours():
            y, h_n, saved = rnn_cpu.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, False, False)
            return rnn_cpu.rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, False, False, saved)

    xt = torch.from_numpy(x).requires_grad_(True)
    h0t = torch.from_numpy(h0)[None].requires_grad_(True)
    c0t = torch.from_numpy(c0)[None].requires_grad_(True)
    dyt = torch.from_numpy(dy)

    def theirs():
        for p in (xt, h0t, c0t, *module.parameters()):
            p.grad = None
        state = (h0t, c0t) if cell == "lstm" else h0t
        y, _ = module(xt, state)
        y.backward(dyt)

    layer = OUR_CELL[cell](n_in, hidden)
    layer.load_state_dict(module.state_dict())
    xs = ts.tensor(x, requires_grad=True)
    h0s = ts.tensor(h0[None], requires_grad=True)
    c0s = ts.tensor(c0[None], requires_grad=True)
    dys = ts.tensor(dy)

    def ours_layer():
        for p in (xs, h0s, c0s, *layer.parameters()):
            p.grad = None
        y, _ = layer(xs, (h0s, c0s) if cell == "lstm" else h0s)
        y.backward(dys)

    return ours, ours_layer, theirs


def time_paths(paths, budget_s, gap_s, rounds=3):
    """Medians of back-to-back calls, in alternating blocks: each round runs, for each path in
    turn, one untimed call and then timed calls, and idles gap_s after each path's block. Back to back is
    how training calls a layer; a sleep before every single call measured both sides cold (the
    worker threads parked: 50,64,64 LSTM took 19 ms on each side instead of 7-11 ms), and calls
    interleaved one by one measured each side while the other's BLAS/OpenMP workers still spun
    (torch's 6.9 ms became 75 ms)."""
    paths[0]()
    t0 = time.perf_counter()
    paths[0]()
    calls = max(2, min(12, int(budget_s / (len(paths) * rounds * max(time.perf_counter() - t0, 1e-6)))))
    times = time_blocks(paths, calls, rounds, gap_s)
    return [statistics.median(t) for t in times], len(times[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="three shapes per cell")
    parser.add_argument("--shapes", help="semicolon-separated T,B,H triples instead of the grid")
    parser.add_argument("--markdown", dest="markdown_path",
                        help="write the table as markdown here (default bench/results/compare_torch_<machine>.md)")
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--json", dest="json_path",
                        help="write the results here (default bench/results/compare_torch_<machine>.json)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of repeats per shape")
    parser.add_argument("--gap", type=float, default=0.3,
                        help="seconds of idle between blocks (lets the other side's spinning worker threads settle)")
    args = parser.parse_args()

    threads = numba.get_num_threads()
    torch.set_num_threads(threads)
    grid = QUICK_GRID if args.quick else FULL_GRID
    if args.shapes:
        grid = [tuple(int(v) for v in shape.split(",")) for shape in args.shapes.split(";")]
    load_before = load_average()
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    ref_before = matmul_gflops()
    print(f"numba threads {threads}, torch threads {torch.get_num_threads()}, torch {torch.__version__}, "
          f"numba {numba.__version__}, numpy {np.__version__}")
    print(f"numpy float32 2048^3 matmul: {ref_before:.1f} GFLOP/s")
    header = (f"{'cell':5} {'T':>4} {'B':>3} {'H':>4} {'ours ms':>9} {'layer ms':>9} {'torch ms':>9} {'ratio':>6} "
              f"{'lay/ker':>7} {'GFLOP/s':>8} {'%mm':>5} {'n':>3}")
    print(header)
    rows = []
    for cell in args.cells.split(","):
        for seq_len, batch, hidden in grid:
            (t_ours, t_layer, t_torch), repeats = time_paths(make_case(cell, seq_len, batch, hidden), args.budget,
                                                              args.gap)
            flops = 3 * 2 * seq_len * batch * GATES[cell] * hidden * (2 * hidden)
            gflops = flops / t_ours / 1e9
            row = dict(cell=cell, T=seq_len, B=batch, H=hidden, I=hidden, ours_ms=t_ours * 1e3,
                       layer_ms=t_layer * 1e3, torch_ms=t_torch * 1e3, ratio=t_torch / t_ours,
                       ratio_layer=t_torch / t_layer, layer_over_kernel=t_layer / t_ours, gflops=gflops,
                       repeats=repeats)
            rows.append(row)
            print(f"{cell:5} {seq_len:4d} {batch:3d} {hidden:4d} {t_ours * 1e3:9.2f} {t_layer * 1e3:9.2f} "
                  f"{t_torch * 1e3:9.2f} {t_torch / t_ours:6.2f} {t_layer / t_ours:7.2f} {gflops:8.1f} "
                  f"{100 * gflops / ref_before:5.0f} {repeats:3d}", flush=True)
    ref_after = matmul_gflops()
    load_after = load_average()
    print(f"numpy float32 2048^3 matmul after the run: {ref_after:.1f} GFLOP/s")
    print(f"load average before {load_before}, after {load_after}")
    described = describe()
    meta = dict(machine=machine_name(), machine_slug=described["machine"], cpu=described["cpu"],
                cpus=os.cpu_count(), date=started, threads=threads, torch_threads=torch.get_num_threads(),
                torch=torch.__version__, numba=numba.__version__, numpy=np.__version__,
                load_average_before=load_before, load_average_after=load_after,
                matmul_gflops=[ref_before, ref_after], gemm_route=blas_cpu.gemm_route(np.float32),
                openblas_env={k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ})
    for row in rows:
        row["pct_matmul"] = 100 * row["gflops"] / max(ref_before, ref_after)
    json_path = args.json_path or os.path.join(RESULTS, f"compare_torch_{described['machine']}.json")
    markdown_path = args.markdown_path or os.path.join(RESULTS, f"compare_torch_{described['machine']}.md")
    with open(json_path, "w") as f:
        json.dump(dict(meta, rows=rows), f, indent=1)
    with open(markdown_path, "w") as f:
        f.write(markdown_table(meta, rows))
    print(f"wrote {json_path} and {markdown_path}")
    print("against the goals (python bench/compare_history.py lists every kept run):")
    print(compare_history.HEADER)
    print(compare_history.summary_line(dict(meta, rows=rows), json_path))


def markdown_table(meta, rows):
    """The rows as a markdown table; %mm is our GFLOP/s over the first numpy matmul rate."""
    ref = max(meta["matmul_gflops"])
    load = meta["load_average_before"]
    lines = [f"{meta['cpu']}, {meta['cpus']} CPUs; {meta['threads']} Numba threads, {meta['torch_threads']} torch "
             f"threads; numpy 2048^3 float32 matmul {ref:.0f} GFLOP/s; load average before "
             f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {meta['date']}; torch {meta['torch']}, numba {meta['numba']}; "
             f"whole-sequence GEMMs on {meta.get('gemm_route', 'blas')} (kernels/blas_cpu.gemm_route); "
             f"environment {' '.join(f'{k}={v}' for k, v in meta.get('openblas_env', {}).items()) or 'without OPENBLAS_* settings'}",
             "",
             "| cell | T | B | H | ours ms | layer ms | torch ms | torch/ours | torch/layer | layer/kernel | GFLOP/s "
             "| % of matmul | repeats |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['T']} | {r['B']} | {r['H']} | {r['ours_ms']:.2f} | {r['layer_ms']:.2f} | "
                     f"{r['torch_ms']:.2f} | {r['ratio']:.2f} | {r['ratio_layer']:.2f} | {r['layer_over_kernel']:.2f} | "
                     f"{r['gflops']:.1f} | {100 * r['gflops'] / ref:.0f} | {r['repeats']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
