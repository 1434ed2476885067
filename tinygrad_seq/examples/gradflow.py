"""Gradient flow through time: how far back does a loss at the last step reach?

For a plain tanh RNN, the IRNN, an LSTM, a GRU and the LSTM / GRU variants (PyTorch's
initialisation), run T steps on random input, put a loss L = <v, h_T> on the last hidden state
and measure ||dL/dh_t|| for every earlier step t (each step's state keeps its gradient with
Tensor.retain_grad()). Then do it again with the recurrent weights W_hh scaled down and up. The
gradient k steps back is a product of k Jacobians dh_t/dh_{t-1}, so it shrinks or grows
geometrically (Pascanu, Mikolov and Bengio 2013, "On the difficulty of training recurrent neural
networks"). The tanh RNN loses the most per step with small weights (vanishing) and is the one
that blows up with large ones (exploding); the gated cells lose less per step and stay bounded
with large weights, because the LSTM's cell path c_t = f * c_{t-1} + i * g is additive (scaled by
the forget gate f, not by W_hh) and the GRU interpolates h_t = (1 - z) * n + z * h_{t-1}. The row
"LSTM fb+1" adds 1 to the forget-gate bias (Gers et al. 2000; Jozefowicz et al. 2015): f starts
near 0.73 instead of 0.5, and the gradient reaches much further back. The IRNN (Le et al. 2015:
relu units, W_hh = I, zero biases) starts as an identity map for positive units, so its gradient
neither shrinks nor grows much at scale 1, and is the most sensitive to the scale. The peephole
LSTM starts as the LSTM (zero peepholes); the CIFG's forget gate is 1 - i; the LayerNorm LSTM
normalises W_hh h, so scaling W_hh changes nothing; the reset-before GRU (Cho et al. 2014) is
close to PyTorch's GRU.

    tinygrad-seq gradflow [--steps 150] [--hidden-size 64] [--scales 0.5,1,4] [--cells all] [--out out]
"""
import argparse
import math
import os
import sys

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn
from tinygrad_seq.examples.cmdline import nonnegative_int, positive_int
from tinygrad_seq.examples.study_common import irnn

DESCRIPTION = __doc__.split("\n\n")[0]



def _builder(cls, **kw):
    return lambda i, h, dtype: cls(i, h, dtype=dtype, **kw)


# key -> (label, layer builder (input_size, hidden_size, dtype), forget-gate bias added to the init)
CELLS = {"rnn": ("tanh RNN", _builder(nn.RNN), 0.0),
         "irnn": ("IRNN", lambda i, h, dtype: irnn(i, h, dtype=dtype), 0.0),
         "lstm": ("LSTM", _builder(nn.LSTM), 0.0),
         "gru": ("GRU", _builder(nn.GRU), 0.0),
         "lstm-fb1": ("LSTM fb+1", _builder(nn.LSTM), 1.0),
         "peephole": ("peephole", _builder(nn.PeepholeLSTM), 0.0),
         "cifg": ("CIFG", _builder(nn.CIFGLSTM), 0.0),
         "lnlstm": ("LN-LSTM", _builder(nn.LayerNormLSTM), 0.0),
         "gru-rb": ("GRU r-before", _builder(nn.GRU, reset_after=False), 0.0)}


def grad_norms(cell, steps=150, hidden_size=64, input_size=16, batch=4, scale=1.0, seed=0,
               input_scale=1.0):
    """||dL/dh_t|| for t = 0 .. steps-1 (index t), L = <v, h_{steps-1}>, W_hh multiplied by `scale`.
    float64, so nothing underflows; returns an array of `steps` norms."""
    ts.manual_seed(seed)
    _, build, forget_bias = CELLS[cell]
    layer = build(input_size, hidden_size, np.float64)
    with ts.no_grad():
        layer.weight_hh_l0.mul_(scale)
        if forget_bias:   # gates i, f, g, o: rows H..2H are the forget gate's
            b = layer.bias_hh_l0.numpy().copy()
            b[hidden_size:2 * hidden_size] += forget_bias
            layer.bias_hh_l0.copy_(Tensor(b))
    rng = np.random.default_rng(seed + 1)
    x = Tensor(input_scale * rng.standard_normal((steps, batch, input_size)))
    v = Tensor(rng.standard_normal((1, batch, hidden_size)) / np.sqrt(batch * hidden_size))
    state, hs = None, []
    for t in range(steps):
        _, state = layer(x[t:t + 1], state)
        h = state[0] if isinstance(state, tuple) else state   # (h, c) for the LSTMs
        h.retain_grad()
        hs.append(h)
    loss = (hs[-1] * v).sum()
    loss.backward()
    return np.array([np.linalg.norm(h.grad.numpy()) if h.grad is not None else 0.0 for h in hs])


DEFAULT_CELLS = ("rnn", "irnn", "lstm", "lstm-fb1", "gru")


def study(cells=DEFAULT_CELLS, scales=(0.5, 1.0, 4.0), steps=150, hidden_size=64, seed=0):
    """{(cell, scale): norms by lag} where norms[k] = ||dL/dh_{T-1-k}|| (k steps back)."""
    return {(c, s): grad_norms(c, steps, hidden_size, scale=s, seed=seed)[::-1] for c in cells for s in scales}


def lags_for(steps):
    return [k for k in (0, 1, 5, 10, 25, 50, 100, 150, 200, 300, 500) if k < steps]


def format_table(results, steps):
    lags = lags_for(steps)
    head = f"{'cell':<12} {'W_hh x':>6} " + " ".join(f"{'k=' + str(k):>9}" for k in lags) + f" {'per step':>9}"
    lines = ["||dL/dh_(T-k)|| for a loss at the last step T, k steps back", head, "-" * len(head)]
    for (cell, scale), norms in results.items():
        k = lags[-1]
        rate = (norms[k] / norms[0]) ** (1.0 / k) if norms[0] > 0 and norms[k] > 0 else 0.0
        lines.append(f"{CELLS[cell][0]:<12} {scale:>6g} " + " ".join(f"{norms[j]:>9.2e}" for j in lags)
                     + f" {rate:>9.3f}")
    lines.append("per step: the geometric-mean factor by which the norm changes per step back")
    return "\n".join(lines)


def plot(results, path, log=print):
    """Log-scale plot, one panel per W_hh scale -> PNG at `path`; None (one message) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: skipping the gradient-flow PNG (pip install 'tinygrad-seq[plot]')")
        return None
    scales = sorted({s for _, s in results})
    fig, axes = plt.subplots(1, len(scales), figsize=(4.2 * len(scales), 3.8), squeeze=False)
    for ax, s in zip(axes[0], scales):
        for (cell, scale), norms in results.items():
            if scale == s:
                # exact zeros (an IRNN whose relu units all switched off) are left out of the log plot
                ax.semilogy(np.arange(len(norms)), np.where(norms > 0, norms, np.nan), label=CELLS[cell][0])
        ax.set_title(f"W_hh x {s:g}" + (" (PyTorch init)" if s == 1 else ""))
        ax.set_xlabel("steps back from the loss (k)")
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("||dL/dh_(T-k)||")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("gradient flow through time (Pascanu et al. 2013)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _scales(text):
    try:
        vals = tuple(float(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not vals or any(not math.isfinite(v) or v <= 0 for v in vals):
        raise argparse.ArgumentTypeError(f"scales must be positive finite numbers, got {text!r}")
    return vals


def _at_least_two(text):
    steps = positive_int(text)
    if steps < 2:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 2 (a gradient needs two steps)")
    return steps


def add_args(p):
    p.add_argument("--steps", type=_at_least_two, default=150, help="sequence length T (%(default)s)")
    p.add_argument("--hidden-size", type=positive_int, default=64, help="%(default)s")
    p.add_argument("--scales", type=_scales, default=(0.5, 1.0, 4.0),
                   help="factors for the recurrent weights W_hh (default 0.5,1,4)")
    p.add_argument("--cells", default=",".join(DEFAULT_CELLS),
                   help="any of rnn, irnn, lstm, gru, lstm-fb1 (forget-gate bias +1), peephole, cifg, "
                        "lnlstm (LayerNorm LSTM), gru-rb (GRU, reset gate before the product), or all (the "
                        "nine); the default, %(default)s, is the cells with hand-written kernels, which need "
                        "no compiling")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="%(default)s")
    p.add_argument("--out", default="out", help="folder for gradflow.png (%(default)s)")
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write the PNG")
    return p


def run(a):
    cells = tuple(CELLS) if a.cells.strip() == "all" else tuple(c.strip() for c in a.cells.split(",") if c.strip())
    bad = [c for c in cells if c not in CELLS]
    if bad or not cells:
        raise ValueError(f"--cells: unknown cell {bad[0] if bad else a.cells!r}; choose from {', '.join(CELLS)}")
    results = study(cells, a.scales, a.steps, a.hidden_size, a.seed)
    print(format_table(results, a.steps))
    if a.plot:
        png = plot(results, os.path.join(a.out, "gradflow.png"))
        if png:
            print(f"plot: {png}")
    return 0


def main(argv=None, prog="python -m tinygrad_seq.examples.gradflow"):
    from tinygrad_seq.examples import cmdline
    return cmdline.run_app(sys.modules[__name__], argv, prog)


if __name__ == "__main__":
    sys.exit(main())
