"""A generated cell's kernel with one of the plan's savings turned off, against itself with it on
(and against the hand-written layer where there is one), forward + backward through the layer,
float32, alternating in one process.

    python bench/generated_ab.py --cell gru --off overlay --shapes 200,64,512 50,16,256
    python bench/generated_ab.py --cell layernorm_lstm --off recompute_muldiv

--off overlay: values the backward reads stay in SV, not over the input projection's dead
blocks (cellgen/overlay.py). --off recompute_muldiv: Plan._recomputed recomputes adds and subs
only, and keeps muls and divs. Each variant compiles under its own cell name (a first run
compiles for some seconds). Prints one line per shape: medians and the ratios on / off and
on / hand-written; only the ratios mean much on a shared machine.
"""
import argparse
import os
import platform
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.cellgen import plan as plan_mod
from tinygrad_seq.cellspec import CellSpec

HAND = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn_tanh": nn.RNN}


def _without(feature):
    """Patch the plan so that `feature` is off; returns the undo."""
    if feature == "overlay":
        saved = plan_mod.overlay_on_xp
        plan_mod.overlay_on_xp = lambda plan: None
        return lambda: setattr(plan_mod, "overlay_on_xp", saved)
    saved = plan_mod.Plan._recomputed

    def adds_only(self, needed):
        ops = {n.id: n.op for n in self.nodes}
        return {i for i in saved(self, needed) if ops[i] in ("add", "sub")}
    plan_mod.Plan._recomputed = adds_only
    return lambda: setattr(plan_mod.Plan, "_recomputed", saved)


def _build(cell, feature, H, T, B):
    """{label: layer}: the cell with feature on and off (compiled now), and the hand-written layer."""
    base = cell_library.CELLS[cell]
    layers = {}
    for label, on in (("on", True), ("off", False)):
        undo = None if on else _without(feature)
        try:
            spec = CellSpec(f"{cell}_ab_{feature}_{label}", base.gates, base.states, base.step, base.params)
            layers[label] = nn.Recurrent(spec, H, H)
            y, _ = layers[label](ts.randn(T, B, H, requires_grad=True))
            y.sum().backward()   # compiled with this plan
        finally:
            if undo is not None:
                undo()
    if cell in HAND:
        layers["hand"] = HAND[cell](H, H)
    return layers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cell", default="gru", choices=sorted(cell_library.CELLS))
    ap.add_argument("--off", default="overlay", choices=["overlay", "recompute_muldiv"])
    ap.add_argument("--shapes", nargs="+", default=["200,64,512", "50,16,256"], help="T,B,H (input size = H)")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {args.cell}, {args.off} on vs off")
    for shape in args.shapes:
        T, B, H = (int(v) for v in shape.split(","))
        layers = _build(args.cell, args.off, H, T, B)
        x = ts.randn(T, B, H, requires_grad=True)

        def run(layer):
            y, _ = layer(x)
            y.sum().backward()
        for layer in layers.values():
            run(layer)
        times = {k: [] for k in layers}
        for r in range(args.rounds):
            order = list(layers.items())
            for k, layer in (order[::-1] if r % 2 else order):
                t0 = time.perf_counter()
                run(layer)
                times[k].append(time.perf_counter() - t0)
        ms = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
        line = f"T={T} B={B} H={H}: on {ms['on']:.1f} ms, off {ms['off']:.1f} ms, on/off {ms['on'] / ms['off']:.3f}"
        if "hand" in ms:
            line += f"; hand-written {ms['hand']:.1f} ms, on/hand {ms['on'] / ms['hand']:.3f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
