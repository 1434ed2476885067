"""A first layer's training call, whose input (the data) needs no gradient: nn.LSTM / GRU / RNN
forward + backward with x.requires_grad False and True, ours and torch's, side by side (alternating
blocks, medians), float32, as many torch threads as Numba's. Our fused backward then runs no dx
GEMM (tinygrad_seq/recurrent.py, _dx_option); torch's computes it either way.

    python bench/input_grad_vs_torch.py [--shapes "50,64,256;200,16,512"] [--cells lstm,gru,rnn]
                                        [--rounds 5] [--markdown PATH]
"""
import argparse
import datetime
import os
import statistics

import numba
import numpy as np
import torch

import tinygrad_seq as ts
from asv_machine import describe
from compare_torch import OUR_CELL, RESULTS, TORCH_CELL, load_average, matmul_gflops
from interleave import time_blocks


def make_paths(cell, seq_len, batch, hidden):
    """[ours with x.grad, ours without, torch's with, torch's without]: closures running one
    forward + backward (loss = sum of y * a fixed weight) on the same weights and data."""
    torch.manual_seed(0)
    theirs = TORCH_CELL[cell](hidden, hidden)
    ours = OUR_CELL[cell](hidden, hidden)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((seq_len, batch, hidden)).astype(np.float32)
    w = rng.standard_normal((seq_len, batch, hidden)).astype(np.float32)
    paths = []
    for lib, module in ((ts, ours), (torch, theirs)):
        for requires in (True, False):
            xs, ws = lib.tensor(x, requires_grad=requires), lib.tensor(w)

            def call(module=module, xs=xs, ws=ws):
                module.zero_grad()
                xs.grad = None
                y, _ = module(xs)
                (y * ws).sum().backward()
            paths.append(call)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="50,16,256;50,64,256;200,16,512;200,64,512")
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--markdown", dest="markdown_path")
    args = parser.parse_args()
    torch.set_num_threads(numba.get_num_threads())
    shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";")]
    info = describe()
    load, gflops = load_average(), matmul_gflops()
    when = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [f"{info['cpu']}, {os.cpu_count()} CPUs; {numba.get_num_threads()} Numba threads, "
             f"{torch.get_num_threads()} torch threads; numpy 2048^3 float32 matmul {gflops:.0f} GFLOP/s; "
             f"load average {load}; {when}; torch {torch.__version__}", "",
             "ms a forward + backward (medians); ratio = torch / ours", "",
             "| cell | T | B | H | ours, x.grad | ours, no x.grad | torch, x.grad | torch, no x.grad | "
             "ours: no-grad speed-up | torch/ours, no x.grad |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for cell in args.cells.split(","):
        for seq_len, batch, hidden in shapes:
            paths = make_paths(cell, seq_len, batch, hidden)
            paths[0]()
            times = time_blocks(paths, 3, args.rounds, 0.2)
            og, on, tg, tn = (statistics.median(t) * 1e3 for t in times)
            lines.append(f"| {cell} | {seq_len} | {batch} | {hidden} | {og:.2f} | {on:.2f} | {tg:.2f} | {tn:.2f} | "
                         f"{og / on:.2f} | {tn / on:.2f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    path = args.markdown_path or os.path.join(
        RESULTS, f"input_grad_vs_torch_{info['machine']}_{datetime.date.today().isoformat()}.md")
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
