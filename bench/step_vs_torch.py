"""One-step calls (T=1: a decoder's step, a sampler's step) of nn.LSTM / GRU / RNN against torch's,
float32, side by side: the layer as a user calls it, for training (forward, backward with dy,
gradients into the parameters and the input) and for inference (forward under no_grad).

    python bench/step_vs_torch.py [--cells lstm,gru,rnn] [--batches 1,16,64] [--hiddens 128,256,512]
                                  [--modes train,infer] [--rounds 7] [--markdown PATH] [--json PATH]

compare_torch.py measures whole sequences (T = 50, 200), where the time loop runs inside one
kernel call; a step of T=1 has no loop to amortise anything over: two products per weight
matrix, a pointwise pass, and the fixed costs of a call (the module's checks, the graph node,
the kernel driver handing chunks to threads). Each shape runs ours and torch's in alternating
blocks with idle gaps (bench/interleave.py); medians. Thread counts match. Input size = H.
Results go to bench/results/step_vs_torch_<machine>_<date>.md and .json by default.
"""
import argparse
import datetime
import json
import os
import statistics

import numba
import numpy as np
import torch

import tinygrad_seq as ts
from asv_machine import describe
from compare_torch import OUR_CELL, RESULTS, TORCH_CELL, load_average, matmul_gflops
from interleave import time_blocks


def make_paths(cell, batch, hidden, mode, seed=0):
    """(ours, theirs, our module, torch's module): closures running one step of the layer on the
    same weights and data."""
    torch.manual_seed(seed)
    theirs_module = TORCH_CELL[cell](hidden, hidden)
    ours_module = OUR_CELL[cell](hidden, hidden)
    ours_module.load_state_dict(theirs_module.state_dict())
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, batch, hidden)).astype(np.float32)
    h = (0.5 * rng.standard_normal((1, batch, hidden))).astype(np.float32)
    dy = rng.standard_normal((1, batch, hidden)).astype(np.float32)
    train = mode == "train"
    xo, xt = ts.tensor(x, requires_grad=train), torch.tensor(x, requires_grad=train)
    state_o = (ts.tensor(h), ts.tensor(h)) if cell == "lstm" else ts.tensor(h)
    state_t = (torch.tensor(h), torch.tensor(h)) if cell == "lstm" else torch.tensor(h)
    dyo, dyt = ts.tensor(dy), torch.tensor(dy)

    def step(lib, module, x_, state, dy_):
        if train:
            module.zero_grad()
            x_.grad = None
            y, _ = module(x_, state)
            y.backward(dy_)
        else:
            with lib.no_grad():
                module(x_, state)

    return (lambda: step(ts, ours_module, xo, state_o, dyo)), (lambda: step(torch, theirs_module, xt, state_t, dyt)), \
        ours_module, theirs_module


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--hiddens", default="128,256,512")
    parser.add_argument("--modes", default="train,infer")
    parser.add_argument("--rounds", type=int, default=7, help="alternating blocks per side and shape")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per block")
    parser.add_argument("--gap", type=float, default=0.15, help="seconds of idle after each block")
    parser.add_argument("--markdown", dest="markdown_path")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    threads = numba.get_num_threads()
    torch.set_num_threads(threads)
    described = describe()
    started = datetime.datetime.now().astimezone()
    meta = dict(cpu=described["cpu"], machine_slug=described["machine"], cpus=os.cpu_count(), threads=threads,
                torch=torch.__version__, numba=numba.__version__, date=started.isoformat(timespec="seconds"),
                load_average_before=load_average(), matmul_gflops=matmul_gflops())
    print(f"{meta['cpu']}; {threads} threads each; numpy matmul {meta['matmul_gflops']:.0f} GFLOP/s; "
          f"load {meta['load_average_before']}")
    rows = []
    for mode in args.modes.split(","):
        for cell in args.cells.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                for hidden in (int(h) for h in args.hiddens.split(",")):
                    ours, theirs, _, _ = make_paths(cell, batch, hidden, mode)
                    ours(), theirs()   # first calls: compiles, plans, torch's allocator
                    t_ours, t_torch = (statistics.median(t) * 1e6
                                       for t in time_blocks([ours, theirs], args.calls, args.rounds, args.gap))
                    row = dict(mode=mode, cell=cell, B=batch, H=hidden, ours_us=t_ours, torch_us=t_torch,
                               ratio=t_torch / t_ours)
                    rows.append(row)
                    print(f"{mode:5} {cell:4} B={batch:3d} H={hidden:4d}  ours {t_ours:8.0f} us  torch {t_torch:8.0f} us"
                          f"  torch/ours {row['ratio']:5.2f}", flush=True)
    meta["load_average_after"] = load_average()
    stamp = started.strftime("%Y-%m-%dT%H%M")
    base = os.path.join(RESULTS, f"step_vs_torch_{described['machine']}_{stamp}")
    with open(args.json_path or base + ".json", "w") as f:
        json.dump(dict(meta, rows=rows), f, indent=1)
    with open(args.markdown_path or base + ".md", "w") as f:
        f.write(markdown_table(meta, rows))
    at_least = sum(r["ratio"] >= 1.0 for r in rows)
    print(f"torch/ours >= 1.0 at {at_least} of {len(rows)}; wrote {args.markdown_path or base + '.md'}")
    return rows


def markdown_table(meta, rows):
    load = meta["load_average_before"]
    lines = [f"{meta['cpu']}, {meta['cpus']} CPUs; {meta['threads']} Numba threads and torch threads; numpy 2048^3 "
             f"float32 matmul {meta['matmul_gflops']:.0f} GFLOP/s; load average before {load[0]:.2f} {load[1]:.2f} "
             f"{load[2]:.2f}; {meta['date']}; torch {meta['torch']}, numba {meta['numba']}. One step (T=1), input "
             "size = H, float32; medians of alternating blocks (`python bench/step_vs_torch.py`).",
             "",
             "| mode | cell | B | H | ours us | torch us | torch/ours |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['cell']} | {r['B']} | {r['H']} | {r['ours_us']:.0f} | {r['torch_us']:.0f} | "
                     f"{r['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
