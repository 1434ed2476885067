"""Fused cell variants (generated kernels) against our hand-written fused LSTM (or GRU, RNN), forward
+ backward, float32, through the layers (as a user calls them).

    python bench/cells_vs_lstm.py [--repeats 7] [--cells peephole_lstm,cifg_lstm,...] [--T 50,200]
                                  [--B 1,16,64] [--H 64,256,512]
    python bench/cells_vs_lstm.py --base gru --cells "gru (generated)"     # also --base rnn

Prints a markdown table of median times and the ratio variant / LSTM (goal for the peephole
LSTM: <= 1.15 at every shape of the grid T in {50, 200}, B in {1, 16, 64}, H in {64, 256, 512}).
The default cells are every described variant (cell_library.CLASSES, by layer name) and
"lstm (generated)", the LSTM's own description through the generated kernel. The layers of a
shape run in alternating rounds (each layer once per round), so that the host's drifting speed
hits all of them alike; only the ratios mean much on a shared machine.
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


# the hand-written layers, and the descriptions of their cells that "<name> (generated)" runs
BASES = {"lstm": (nn.LSTM, "lstm"), "gru": (nn.GRU, "gru"), "rnn": (nn.RNN, "rnn_tanh")}


def _layer(name, H):
    if name.endswith(" (generated)"):
        base = cell_library.CELLS[BASES[name.split()[0]][1]]
        return nn.Recurrent(CellSpec(base.name + "_generated", base.gates, base.states, base.step, base.params), H, H)
    return LAYERS[name](H, H)


def time_layers(layers, x, repeats):
    """Median seconds of forward + backward per layer, the layers run in alternating rounds."""
    def once(layer):
        layer.zero_grad()
        out, _ = layer(x)
        out.sum().backward()

    for layer in layers:  # compile and calibrate outside the timing
        once(layer)
        once(layer)
    times = [[] for _ in layers]
    for _ in range(repeats):
        for k, layer in enumerate(layers):
            t0 = time.perf_counter()
            once(layer)
            times[k].append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


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
    ap.add_argument("--base", default="lstm", choices=sorted(BASES),
                    help="the hand-written layer the ratios are to (with --base gru: --cells 'gru (generated)')")
    ap.add_argument("--T", default="50", help="sequence lengths, comma-separated")
    ap.add_argument("--B", default="1,16,64", help="batch sizes, comma-separated")
    ap.add_argument("--H", default="64,256,512", help="hidden sizes (= input sizes), comma-separated")
    args = ap.parse_args()
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    cells = args.cells.split(",")
    print(f"{cpu_model()}, {os.cpu_count()} cpus, threads {ts.get_num_threads()}, load {os.getloadavg()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"| T | B | H | {args.base} ms | " + " | ".join(f"{c} ms (ratio)" for c in cells) + " |")
    print("|---" * (4 + len(cells)) + "|")
    for T in ints(args.T):
        for B in ints(args.B):
            for H in ints(args.H):
                x = ts.Tensor(np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32))
                layers = []
                for c in [args.base] + cells:
                    ts.manual_seed(0)
                    layers.append(BASES[c][0](H, H) if c == args.base else _layer(c, H))
                base, *rest = time_layers(layers, x, args.repeats)
                row = [f"{T}", f"{B}", f"{H}", f"{base * 1e3:.2f}"]
                row += [f"{t * 1e3:.2f} ({t / base:.2f})" for t in rest]
                print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
