"""Fused cell variants (generated kernels) against our hand-written fused LSTM, forward + backward,
float32, through the layers (as a user calls them).

    python bench/cells_vs_lstm.py [--repeats 7] [--cells peephole_lstm,cifg_lstm,...]

Prints a markdown table of median times and the ratio variant / LSTM (goal for the peephole
LSTM: <= 1.15). The default cells are every described variant (cell_library.CLASSES, by layer
name) and "lstm (generated)", the LSTM's own description through the generated kernel.
"""
import argparse
import os
import platform
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.cellspec import CellSpec
from tinygrad_seq.nn.variants import LAYERS


DEFAULT_CELLS = [key for key, c in cell_library.CLASSES.items() if not c.hand_written] + ["lstm (generated)"]


def _layer(name, H):
    if name == "lstm (generated)":
        base = cell_library.CELLS["lstm"]
        return nn.Recurrent(CellSpec("lstm_generated", base.gates, base.states, base.step, base.params), H, H)
    return LAYERS[name](H, H)


def time_layer(layer, x, repeats):
    def once():
        layer.zero_grad()
        out, _ = layer(x)
        out.sum().backward()
    once()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cells", default=",".join(DEFAULT_CELLS))
    ap.add_argument("--T", type=int, default=50)
    args = ap.parse_args()
    cells = args.cells.split(",")
    print(f"{cpu_model()}, {os.cpu_count()} cpus, threads {ts.get_num_threads()}, load {os.getloadavg()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| T | B | H | lstm ms | " + " | ".join(f"{c} ms (ratio)" for c in cells) + " |")
    print("|---" * (4 + len(cells)) + "|")
    for B in (1, 16, 64):
        for H in (64, 256):
            x = ts.Tensor(np.random.default_rng(0).standard_normal((args.T, B, H)).astype(np.float32))
            ts.manual_seed(0)
            base = time_layer(nn.LSTM(H, H), x, args.repeats)
            row = [f"{args.T}", f"{B}", f"{H}", f"{base * 1e3:.2f}"]
            for c in cells:
                ts.manual_seed(0)
                t = time_layer(_layer(c, H), x, args.repeats)
                row.append(f"{t * 1e3:.2f} ({t / base:.2f})")
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
