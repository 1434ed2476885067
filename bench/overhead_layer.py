"""The engine's own cost of a recurrent layer call: nn.LSTM / GRU / RNN with autograd, the
kernels replaced by stubs that return ready arrays of the right shapes, so only the engine runs
(module forward, argument checks, the graph node, the backward sweep, gradients into the leaves).

    python bench/overhead_layer.py [--cells lstm,gru,rnn] [--T 50 --B 16 --H 64] [--repeats 15]

Prints microseconds per call, the best of `repeats` blocks of 200 calls: forward + backward
(what training pays on top of the kernels) and a forward under no_grad. The figures do not
depend on T, B, H beyond the stubs' allocations; run it from two checkouts in alternation to
compare engine changes (the host's speed drifts between minutes). The stubs and the calls are
the asv suite's (bench/benchmarks/bench_engine.py, LayerCallOverhead).
"""
import argparse
import datetime
import os
import platform
import sys
import time


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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--T", type=int, default=50)
    parser.add_argument("--B", type=int, default=16)
    parser.add_argument("--H", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from benchmarks.bench_engine import layer_calls, stub_layer_kernels

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{platform.processor() or platform.machine()}, {when}; T={args.T} B={args.B} H={args.H}, "
          f"best of {args.repeats} x 200 calls, us per call")
    print("| layer | forward + backward | forward, no_grad |")
    print("|---|---:|---:|")
    for cell in args.cells.split(","):
        restore = stub_layer_kernels(cell, args.T, args.B, args.H)
        try:
            train_call, inference_call = layer_calls(cell, args.T, args.B, args.H)
            train, infer = best_us(train_call, args.repeats), best_us(inference_call, args.repeats)
        finally:
            restore()
        print(f"| {cell} | {train:.1f} | {infer:.1f} |")


if __name__ == "__main__":
    main()
