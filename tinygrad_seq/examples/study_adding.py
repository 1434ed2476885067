"""The adding problem: which recurrent cells carry one number across hundreds of steps?

Hochreiter and Schmidhuber 1997 (experiment 4); Le, Jaitly and Hinton 2015 ("A simple way to
initialize recurrent networks of rectified linear units", Figure 2). Each input sequence is T
steps of [value, marker] (examples/adding_data.py): the target, the sum of the two marked values,
is read from the last step's hidden state through a Linear(H, 1) and trained with MSE. Always
answering 1 scores 0.167 (the baseline); a model has learned the task when its test MSE falls
well below it. Models: the tanh RNN, the IRNN (a relu RNN with W_hh = I and zero biases, trained
with a smaller learning rate as in the paper), LSTM, GRU, the peephole LSTM and the CIFG LSTM,
at T = 100, 200, 400, each for the same number of steps (or until its time budget runs out).
Adam with gradient-norm clipping at 1 stands in for the paper's SGD.

    tinygrad-seq study adding [--lengths 100,200,400] [--steps 2000] [--time-budget 25] [--models rnn,irnn,lstm,...]
"""
import os
import sys
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn, optim
from tinygrad_seq import functional as F
from tinygrad_seq.examples.adding_data import BASELINE_MSE, adding_batch
from tinygrad_seq.examples.cmdline import nonnegative_float, nonnegative_int, positive_float, positive_int
from tinygrad_seq.examples.progress import ProgressBar
from tinygrad_seq.examples.study_common import int_list, irnn, name_list, save_figure

DESCRIPTION = "The adding problem (Le et al. 2015, Fig. 2): test MSE against training steps per cell and length."

SOLVED_MSE = 0.01   # "solved": test MSE under 6% of the baseline's


def _layer(key, hidden_size):
    """The recurrent layer of model `key` over inputs of width 2."""
    if key == "rnn":
        return nn.RNN(2, hidden_size)
    if key == "irnn":   # Le et al.: relu units, W_hh = identity, biases zero
        return irnn(2, hidden_size)
    if key == "lstm":
        return nn.LSTM(2, hidden_size)
    if key == "gru":
        return nn.GRU(2, hidden_size)
    if key == "peephole":
        return nn.PeepholeLSTM(2, hidden_size)
    if key == "cifg":
        return nn.CIFGLSTM(2, hidden_size)
    raise ValueError(f"unknown model {key!r}; choose from {', '.join(MODELS)}")


# key -> label (the IRNN's learning rate is --lr times --irnn-lr-scale)
MODELS = {"rnn": "tanh RNN", "irnn": "IRNN", "lstm": "LSTM", "gru": "GRU", "peephole": "peephole LSTM",
          "cifg": "CIFG LSTM"}


class AddingModel(nn.Module):
    """A recurrent layer, then Linear(H, 1) on the last step's output: x (T, B, 2) -> (B, 1)."""

    def __init__(self, key, hidden_size):
        super().__init__()
        self.rnn = _layer(key, hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[-1])


def train_one(key, steps_T, train_steps, hidden_size=64, batch_size=16, lr=1e-3, seed=0,
              time_budget=0.0, eval_every=25, test_size=200, clip=1.0, irnn_lr_scale=0.1, progress=True,
              log=print):
    """Train model `key` on the adding problem of length steps_T. Returns {"curve": [(step, test
    MSE)], "steps", "seconds", "final", "best"}; the test set is fixed by the seed. time_budget > 0
    stops training after that many seconds (counted from the end of the first step, so kernel
    compilation is not counted)."""
    ts.manual_seed(seed)
    rng = np.random.default_rng(seed)
    test_x, test_y = adding_batch(steps_T, test_size, np.random.default_rng(seed + 10_000))
    test_x, test_y = Tensor(test_x), Tensor(test_y)
    model = AddingModel(key, hidden_size)
    rate = lr * (irnn_lr_scale if key == "irnn" else 1.0)
    opt = optim.Adam(model.parameters(), lr=rate)

    def test_mse():
        with ts.no_grad():
            return float(F.mse_loss(model(test_x), test_y).item())

    curve = [(0, test_mse())]
    bar = ProgressBar(train_steps, time_budget or None, unit="seq") if progress else None
    t0, step, loss = None, 0, float("nan")
    while step < train_steps:
        x, y = adding_batch(steps_T, batch_size, rng)
        loss_t = F.mse_loss(model(Tensor(x)), Tensor(y))
        opt.zero_grad()
        loss_t.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        step += 1
        loss = float(loss_t.item())
        first = t0 is None
        if first:   # the clock (and the bar's rate) starts after the first step: compiling is not counted
            t0 = time.perf_counter()
            if bar:
                bar.t0 = t0
        out_of_time = time_budget and time.perf_counter() - t0 >= time_budget
        if step % eval_every == 0 or step == train_steps or out_of_time:
            curve.append((step, test_mse()))
        if bar:
            bar.update(step, 0 if first else batch_size, model=MODELS[key], T=steps_T, loss=loss, test=curve[-1][1])
        if not np.isfinite(loss):
            log(f"{MODELS[key]} T={steps_T}: the loss is {loss} at step {step}; stopping this run")
            if curve[-1][0] != step:
                curve.append((step, float("nan")))
            break
        if out_of_time:
            break
    if bar:
        bar.close()
    mses = [m for _, m in curve]
    finite = [m for m in mses if np.isfinite(m)]
    return {"curve": curve, "steps": step, "seconds": time.perf_counter() - t0 if t0 else 0.0,
            "final": mses[-1], "best": min(finite) if finite else float("nan"), "lr": rate}


def study(models, lengths, steps, progress=True, log=print, **kw):
    """{(model, T): train_one(...)} for every model and length."""
    return {(m, T): train_one(m, T, steps, progress=progress, log=log, **kw) for T in lengths for m in models}


def format_table(results, lengths):
    """Final test MSE (steps trained) per model and length, and whether it beat the baseline."""
    models = list(dict.fromkeys(m for m, _ in results))
    head = f"{'model':<14}" + "".join(f"{'T=' + str(T):>22}" for T in lengths)
    lines = [f"adding problem: final test MSE (best; steps trained); baseline {BASELINE_MSE:.3f}, "
             f"solved < {SOLVED_MSE}", head, "-" * len(head)]
    for m in models:
        cells = []
        for T in lengths:
            r = results.get((m, T))
            if r is None:
                cells.append(f"{'-':>22}")
                continue
            mark = "*" if r["final"] < SOLVED_MSE else ""
            cells.append(f"{r['final']:>9.4f}{mark:1}({r['best']:.4f}; {r['steps']:>4})".rjust(22))
        lines.append(f"{MODELS[m]:<14}" + "".join(cells))
    lines.append("* solved: final test MSE < 0.01")
    return "\n".join(lines)


def markdown_table(results, lengths):
    models = list(dict.fromkeys(m for m, _ in results))
    rows = ["| model | " + " | ".join(f"T={T}" for T in lengths) + " |",
            "|---|" + "---|" * len(lengths)]
    for m in models:
        cells = []
        for T in lengths:
            r = results.get((m, T))
            cells.append("-" if r is None else (f"**{r['final']:.4f}**" if r["final"] < SOLVED_MSE
                                                 else f"{r['final']:.4f}") + f" ({r['steps']} steps)")
        rows.append(f"| {MODELS[m]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def plot(results, lengths, path, log=print):
    """Test MSE against steps, one panel per length, the 0.167 baseline dashed -> PNG."""
    def draw(plt):
        fig, axes = plt.subplots(1, len(lengths), figsize=(4.2 * len(lengths), 3.6), squeeze=False)
        for ax, T in zip(axes[0], lengths):
            for (m, t), r in results.items():
                if t == T:
                    s, mse = zip(*r["curve"])
                    ax.semilogy(s, np.maximum(mse, 1e-5), label=MODELS[m])
            ax.axhline(BASELINE_MSE, color="k", ls="--", lw=1, label="always 1 (0.167)")
            ax.axhline(SOLVED_MSE, color="g", ls=":", lw=1, label=f"solved ({SOLVED_MSE})")
            ax.set_ylim(bottom=min(ax.get_ylim()[0], 1e-3))
            ax.set_title(f"T = {T}")
            ax.set_xlabel("training steps")
            ax.grid(True, alpha=0.3)
        axes[0][0].set_ylabel("test MSE")
        axes[0][0].legend(fontsize=7)
        fig.suptitle("the adding problem (Le et al. 2015, Fig. 2)")
        return fig
    return save_figure(draw, path, log)


def add_args(p):
    p.add_argument("--lengths", type=int_list, default=(100, 200, 400), help="sequence lengths T (100,200,400)")
    p.add_argument("--steps", type=positive_int, default=2000, help="training steps per model and length (%(default)s)")
    p.add_argument("--hidden-size", type=positive_int, default=64, help="%(default)s (the paper: 100)")
    p.add_argument("--batch-size", type=positive_int, default=16, help="%(default)s")
    p.add_argument("--lr", type=positive_float, default=1e-3, help="Adam learning rate (%(default)s)")
    p.add_argument("--irnn-lr-scale", type=positive_float, default=0.1,
                   help="the IRNN trains with lr times this (%(default)s; Le et al. use a smaller rate)")
    p.add_argument("--models", type=name_list(MODELS), default=tuple(MODELS),
                   help=f"any of {','.join(MODELS)} (all)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="%(default)s")
    p.add_argument("--time-budget", type=nonnegative_float, default=25.0, metavar="SECONDS",
                   help="seconds of training per model and length, 0: no limit (%(default)s)")
    p.add_argument("--eval-every", type=positive_int, default=25, help="test MSE every N steps (%(default)s)")
    p.add_argument("--test-size", type=positive_int, default=200, help="test sequences (%(default)s)")
    p.add_argument("--out", default="out", help="folder for adding.png and adding.md (%(default)s)")
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write the PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def run(a):
    if any(T < 2 for T in a.lengths):
        raise ValueError(f"--lengths: every length must be at least 2, got {a.lengths}")
    t0 = time.perf_counter()
    results = study(a.models, a.lengths, a.steps, progress=not a.quiet, hidden_size=a.hidden_size,
                    batch_size=a.batch_size, lr=a.lr, seed=a.seed, time_budget=a.time_budget,
                    eval_every=a.eval_every, test_size=a.test_size, irnn_lr_scale=a.irnn_lr_scale)
    table = format_table(results, a.lengths)
    print(table)
    print(f"total {time.perf_counter() - t0:.0f} s")
    os.makedirs(a.out, exist_ok=True)
    md = os.path.join(a.out, "adding.md")
    with open(md, "w") as f:
        f.write(markdown_table(results, a.lengths) + "\n")
    print(f"table: {md}")
    if a.plot:
        png = plot(results, a.lengths, os.path.join(a.out, "adding.png"))
        if png:
            print(f"plot: {png}")
    return 0


def main(argv=None, prog="python -m tinygrad_seq.examples.study_adding"):
    from tinygrad_seq.examples import cmdline
    return cmdline.run_app(sys.modules[__name__], argv, prog)


if __name__ == "__main__":
    sys.exit(main())
