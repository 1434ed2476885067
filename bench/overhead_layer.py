"""The engine's own cost of a recurrent layer call: nn.LSTM / GRU / RNN with autograd, the
kernels replaced by stubs that return ready arrays of the right shapes, so only the engine runs
(module forward, argument checks, the graph node, the backward sweep, gradients into the leaves).

    python bench/overhead_layer.py [--cells lstm,gru,rnn] [--T 50 --B 16 --H 64] [--repeats 15]

Prints microseconds per call, the best of `repeats` blocks of 200 calls: forward + backward
(what training pays on top of the kernels) and a forward under no_grad. The figures do not
depend on T, B, H beyond the stubs' allocations; run it from two checkouts in alternation to
compare engine changes (the host's speed drifts between minutes).
"""
import argparse
import datetime
import platform
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq.kernels import gru_cpu, lstm_cpu, rnn_cpu

LAYERS = {"lstm": (ts.nn.LSTM, lstm_cpu, 4), "gru": (ts.nn.GRU, gru_cpu, 3), "rnn": (ts.nn.RNN, rnn_cpu, 1)}


def stub_kernels(cell, T, B, H, dtype=np.float32):
    """Replace the cell's kernel entry points by stubs returning new arrays of their outputs'
    shapes (the recurrent Functions adopt gradients the kernels allocate); returns a restore()."""
    _, module, gates = LAYERS[cell]
    states = 2 if cell == "lstm" else 1

    def forward(*args, **kwargs):
        outs = [np.empty((T, B, H), dtype)] + [np.empty((B, H), dtype) for _ in range(states)]
        return tuple(outs) + ((),)

    def backward(*args, **kwargs):
        outs = [np.empty((T, B, H), dtype)] + [np.empty((B, H), dtype) for _ in range(states)]
        weights = [np.empty((gates * H, H), dtype), np.empty((gates * H, H), dtype)]
        return tuple(outs + weights + [np.empty(gates * H, dtype), np.empty(gates * H, dtype)])

    names = (f"{cell}_forward", f"{cell}_backward")
    saved = [getattr(module, n) for n in names]
    for n, stub in zip(names, (forward, backward)):
        setattr(module, n, stub)

    def restore():
        for n, original in zip(names, saved):
            setattr(module, n, original)
    return restore


def best_us(fn, repeats, number=200):
    for _ in range(number):
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e6


def measure(cell, T, B, H, repeats):
    layer_cls = LAYERS[cell][0]
    rng = np.random.default_rng(0)
    layer = layer_cls(H, H)
    x = ts.tensor(rng.standard_normal((T, B, H)).astype(np.float32), requires_grad=True)
    h0 = ts.tensor(np.zeros((1, B, H), np.float32), requires_grad=True)
    c0 = ts.tensor(np.zeros((1, B, H), np.float32), requires_grad=True)
    dy = ts.tensor(rng.standard_normal((T, B, H)).astype(np.float32))
    state = (h0, c0) if cell == "lstm" else h0
    leaves = (x, h0, c0, *layer.parameters())

    def train_call():
        for p in leaves:
            p.grad = None
        y, _ = layer(x, state)
        y.backward(dy)

    def inference_call():
        with ts.no_grad():
            layer(x, state)

    restore = stub_kernels(cell, T, B, H)
    try:
        return best_us(train_call, repeats), best_us(inference_call, repeats)
    finally:
        restore()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--T", type=int, default=50)
    parser.add_argument("--B", type=int, default=16)
    parser.add_argument("--H", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{platform.processor() or platform.machine()}, {when}; T={args.T} B={args.B} H={args.H}, "
          f"best of {args.repeats} x 200 calls, us per call")
    print("| layer | forward + backward | forward, no_grad |")
    print("|---|---:|---:|")
    for cell in args.cells.split(","):
        train, infer = measure(cell, args.T, args.B, args.H, args.repeats)
        print(f"| {cell} | {train:.1f} | {infer:.1f} |")


if __name__ == "__main__":
    main()
