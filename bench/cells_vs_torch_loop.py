"""Our fused cell variants against the same cell written as a PyTorch user writes it: a Python loop
over the steps of torch ops (per step F.linear for x and h, the gates' torch.sigmoid / tanh,
F.layer_norm), autograd for the backward. Forward + backward, float32, 2 threads each, the same
weights (loaded from our layer's state dict), side by side in alternating rounds.

    python bench/cells_vs_torch_loop.py [--cells peephole_lstm,cifg_lstm,layernorm_lstm,layernorm_gru]
                                        [--T 50] [--B 1,16,64] [--H 64,256] [--repeats 5]

Issue 15's goal: the peephole LSTM at or above 2.5x the PyTorch loop at T=50 B=16 H=256 (its
anchor: 36-38 ms for the loop on an Intel Xeon), and the same for the CIFG and LayerNorm cells
against a loop of the same cell. Before timing, each pair's outputs and input gradients are
checked to agree (float32: a relative error of the whole arrays below 1e-4), so that both
sides compute the same cell.
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import tinygrad_seq as ts
from tinygrad_seq.nn.variants import LAYERS


def _peephole_step(p, x, h, c):
    i, f, g, o = (F.linear(x, p["weight_ih_l0"], p["bias_ih_l0"]) + F.linear(h, p["weight_hh_l0"], p["bias_hh_l0"])).chunk(4, 1)
    w = p["weight_peephole_l0"]
    c = torch.sigmoid(f + w[1] * c) * c + torch.sigmoid(i + w[0] * c) * torch.tanh(g)
    return torch.sigmoid(o + w[2] * c) * torch.tanh(c), c


def _cifg_step(p, x, h, c):
    i, g, o = (F.linear(x, p["weight_ih_l0"], p["bias_ih_l0"]) + F.linear(h, p["weight_hh_l0"], p["bias_hh_l0"])).chunk(3, 1)
    i = torch.sigmoid(i)
    c = (1 - i) * c + i * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _layernorm_lstm_step(p, x, h, c):
    width = p["ln_ih_weight_l0"].shape[0]
    gates = (F.layer_norm(F.linear(x, p["weight_ih_l0"]), (width,), p["ln_ih_weight_l0"], p["ln_ih_bias_l0"])
             + F.layer_norm(F.linear(h, p["weight_hh_l0"]), (width,), p["ln_hh_weight_l0"], p["ln_hh_bias_l0"])
             + p["bias_l0"])
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(F.layer_norm(c, (c.shape[1],), p["ln_c_weight_l0"], p["ln_c_bias_l0"]))
    return h, c


def _layernorm_gru_step(p, x, h, c):
    width = p["ln_ih_weight_l0"].shape[0]
    xr, xz, xn = (F.layer_norm(F.linear(x, p["weight_ih_l0"]), (width,), p["ln_ih_weight_l0"], p["ln_ih_bias_l0"])
                  + p["bias_ih_l0"]).chunk(3, 1)
    hr, hz, hn = (F.layer_norm(F.linear(h, p["weight_hh_l0"]), (width,), p["ln_hh_weight_l0"], p["ln_hh_bias_l0"])
                  + p["bias_hh_l0"]).chunk(3, 1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return n + z * (h - n), c


# cell -> (its torch step, whether it has a cell state c)
STEPS = {"peephole_lstm": (_peephole_step, True), "cifg_lstm": (_cifg_step, True),
         "layernorm_lstm": (_layernorm_lstm_step, True), "layernorm_gru": (_layernorm_gru_step, False)}


def make_pair(cell, T, B, H, seed=0):
    """(ours, theirs): closures running one forward + backward each on the same weights and data,
    and a check that both compute the same outputs and input gradients."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, H)).astype(np.float32)
    layer = LAYERS[cell](H, H)
    params = {k: torch.from_numpy(np.array(v)).requires_grad_(True) for k, v in layer.state_dict().items()}
    step, has_c = STEPS[cell]
    xs = ts.tensor(x, requires_grad=True)
    xt = torch.from_numpy(x).requires_grad_(True)

    def ours():
        layer.zero_grad()
        xs.grad = None
        y, _ = layer(xs)
        y.sum().backward()
        return y.numpy(), xs.grad.numpy()

    def theirs():
        for p in params.values():
            p.grad = None
        xt.grad = None
        h = torch.zeros(B, H)
        c = torch.zeros(B, H) if has_c else None
        ys = []
        for t in range(T):
            h, c = step(params, xt[t], h, c)
            ys.append(h)
        y = torch.stack(ys)
        y.sum().backward()
        return y.detach().numpy(), xt.grad.numpy()

    (y0, g0), (y1, g1) = ours(), theirs()
    # float32 through T steps (a LayerNorm's backward amplifies rounding: single elements of dx at
    # t=0 differed by 1%), so the check is on the whole arrays' relative error
    for what, a, b in (("outputs", y0, y1), ("input gradients", g0, g1)):
        err = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)
        if not err < 1e-4:
            raise AssertionError(f"{cell} T={T} B={B} H={H}: {what} differ from the PyTorch loop's, "
                                 f"relative error {err:.2e}")
    return ours, theirs


def time_pair(pair, repeats):
    """Median seconds per call of each side: rounds of one untimed call, then timed calls, side by side."""
    for f in pair:
        f()
    t0 = time.perf_counter()
    pair[1]()
    calls = max(1, min(10, int(0.3 / max(time.perf_counter() - t0, 1e-6))))
    times = [[], []]
    for _ in range(repeats):
        for k, f in enumerate(pair):
            f()
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            times[k].append((time.perf_counter() - t0) / calls)
    return [float(np.median(t)) for t in times]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default=",".join(STEPS))
    ap.add_argument("--T", default="50")
    ap.add_argument("--B", default="1,16,64")
    ap.add_argument("--H", default="64,256")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    for c in cells:
        if c not in STEPS:
            ap.error(f"unknown cell {c!r}; expected some of {', '.join(STEPS)}")
    torch.set_num_threads(args.threads)
    ts.set_num_threads(args.threads)
    shapes = [(T, B, H) for T in map(int, args.T.split(",")) for B in map(int, args.B.split(","))
              for H in map(int, args.H.split(","))]
    print(f"{os.cpu_count()} CPUs, {args.threads} threads each, load {os.getloadavg()}, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, torch {torch.__version__}")
    print("| cell | T | B | H | ours ms | PyTorch loop ms | loop / ours |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for cell in cells:
        for T, B, H in shapes:
            ours, theirs = time_pair(make_pair(cell, T, B, H), args.repeats)
            print(f"| {cell} | {T} | {B} | {H} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {theirs / ours:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
