"""Fused kernels vs the same layer through the unfused cells (fused=False), forward + backward.

    python bench/fused_vs_unfused.py

float32, nn.RNN / nn.LSTM / nn.GRU with input size = H, best of a few runs each (the unfused
path is slow, so few). The unfused path composes each step from primitive ops; its GEMMs are
numpy's, so at large B and H both sides are GEMM-bound and the ratio shrinks.
"""
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn

SHAPES = ((200, 1, 64), (50, 16, 256), (50, 64, 512))


def best_ms(module, x, repeats):
    def run():
        y, _ = module(x)
        y.sum().backward()
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main():
    import argparse
    argparse.ArgumentParser(description="Fused kernels against the unfused cell compositions (forward + "
                                        "backward ms per call, LSTM/GRU/RNN over a few shapes).").parse_args()
    rng = np.random.default_rng(0)
    print(f"{'cell':5} {'T':>4} {'B':>3} {'H':>4} {'fused ms':>9} {'unfused ms':>11} {'ratio':>6}")
    for cell in ("LSTM", "GRU", "RNN"):
        for seq_len, batch, hidden in SHAPES:
            x = Tensor(rng.standard_normal((seq_len, batch, hidden)).astype(np.float32), requires_grad=True)
            times = []
            for fused in (True, False):
                ts.manual_seed(0)
                module = getattr(nn, cell)(hidden, hidden, fused=fused)
                times.append(best_ms(module, x, 3 if fused else 2))
            print(f"{cell:5} {seq_len:4d} {batch:3d} {hidden:4d} {times[0]:9.1f} {times[1]:11.1f} {times[1] / times[0]:6.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
