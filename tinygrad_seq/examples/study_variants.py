"""Greff et al. 2015 ("LSTM: A Search Space Odyssey"): which parts of the LSTM matter?

Their eight variants, each written here as a user-defined cell with the public cell-description
API (tinygrad_seq.cellspec: a CellSpec with a step of Tensor ops; the fused kernel and its
backward are generated from it) and trained as a character-level language model (Embedding ->
nn.Recurrent(cell) -> Linear) for the same number of steps on the char-LM corpus (the Python
standard library's source, examples/charlm). The table is set beside the paper's finding:
removing the forget gate (NFG) or the output activation (NOAF) hurts most; coupling the input and
forget gates (CIFG) or dropping the peepholes (NP) does not hurt.

The vanilla LSTM "V" of the paper has peepholes (Gers and Schmidhuber 2000): i and f see c(t-1),
o sees c(t); every other variant changes one thing in V. Gate chunks of W_ih x + b_ih + W_hh h +
b_hh are in the order the step names them; peephole rows start at zero.

    tinygrad-seq study variants [--steps 200] [--hidden-size 128] [--variants V,NFG,...]
"""
import math
import os
import sys
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn, optim
from tinygrad_seq.data import batchify
from tinygrad_seq.examples.charlm import Config, Vocab, evaluate, load_corpus, unigram_entropy
from tinygrad_seq.examples.charlm.training import Training, train_loop, warm_up
from tinygrad_seq.examples.cmdline import nonnegative_float, nonnegative_int, positive_float, positive_int
from tinygrad_seq.examples.study_common import name_list, save_figure
from tinygrad_seq.nn import CellSpec, ParamSpec   # the public cell-description API

DESCRIPTION = "Greff et al. 2015's eight LSTM variants as user-defined cells, trained on the char-LM corpus."


def pre(cell, x, s):
    """The gate pre-activations W_ih x + b_ih + W_hh h + b_hh (B, gates * H)."""
    return cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh)


def peepholes(rows):
    """PyTorch's four parameters (weight_ih [G*H, I], weight_hh [G*H, H], bias_ih, bias_hh [G*H])
    and `rows` peephole vectors, weight_peephole [rows, H], zero at the start."""
    return [ParamSpec("weight_ih", ("G*H", "I")), ParamSpec("weight_hh", ("G*H", "H")),
            ParamSpec("bias_ih", ("G*H",), bias=True), ParamSpec("bias_hh", ("G*H",), bias=True),
            ParamSpec("weight_peephole", (rows, "H"), init="zeros")]


def vanilla(cell, x, s):            # V: gates i, f, g, o; peepholes i, f, o
    i, f, g, o = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    c = (f + p[1] * s.c).sigmoid() * s.c + (i + p[0] * s.c).sigmoid() * g.tanh()
    return {"h": (o + p[2] * c).sigmoid() * c.tanh(), "c": c}


def no_input_gate(cell, x, s):      # NIG: i = 1; gates f, g, o; peepholes f, o
    f, g, o = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    c = (f + p[0] * s.c).sigmoid() * s.c + g.tanh()
    return {"h": (o + p[1] * c).sigmoid() * c.tanh(), "c": c}


def no_forget_gate(cell, x, s):     # NFG: f = 1; gates i, g, o; peepholes i, o
    i, g, o = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    c = s.c + (i + p[0] * s.c).sigmoid() * g.tanh()
    return {"h": (o + p[1] * c).sigmoid() * c.tanh(), "c": c}


def no_output_gate(cell, x, s):     # NOG: o = 1; gates i, f, g; peepholes i, f
    i, f, g = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    c = (f + p[1] * s.c).sigmoid() * s.c + (i + p[0] * s.c).sigmoid() * g.tanh()
    return {"h": c.tanh(), "c": c}


def no_input_activation(cell, x, s):   # NIAF: the block input g without tanh
    i, f, g, o = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    c = (f + p[1] * s.c).sigmoid() * s.c + (i + p[0] * s.c).sigmoid() * g
    return {"h": (o + p[2] * c).sigmoid() * c.tanh(), "c": c}


def no_output_activation(cell, x, s):  # NOAF: h = o * c, no tanh on the cell
    i, f, g, o = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    c = (f + p[1] * s.c).sigmoid() * s.c + (i + p[0] * s.c).sigmoid() * g.tanh()
    return {"h": (o + p[2] * c).sigmoid() * c, "c": c}


def no_peepholes(cell, x, s):       # NP: the LSTM without peepholes (PyTorch's nn.LSTM)
    i, f, g, o = cell.split(pre(cell, x, s))
    c = f.sigmoid() * s.c + i.sigmoid() * g.tanh()
    return {"h": o.sigmoid() * c.tanh(), "c": c}


def coupled_gates(cell, x, s):      # CIFG: f = 1 - i; gates i, g, o; peepholes i, o
    i, g, o = cell.split(pre(cell, x, s))
    p = cell.weight_peephole
    i = (i + p[0] * s.c).sigmoid()
    c = (1 - i) * s.c + i * g.tanh()
    return {"h": (o + p[1] * c).sigmoid() * c.tanh(), "c": c}


# name -> (CellSpec, what the paper found for it: Greff et al. 2015, section 5.1 / Figure 3)
VARIANTS = {
    "V": (CellSpec("greff_v", 4, ("h", "c"), vanilla, peepholes(3)), "reference"),
    "NIG": (CellSpec("greff_nig", 3, ("h", "c"), no_input_gate, peepholes(2)), "worse (speech, handwriting)"),
    "NFG": (CellSpec("greff_nfg", 3, ("h", "c"), no_forget_gate, peepholes(2)), "much worse (all three tasks)"),
    "NOG": (CellSpec("greff_nog", 3, ("h", "c"), no_output_gate, peepholes(2)), "worse (speech, handwriting)"),
    "NIAF": (CellSpec("greff_niaf", 4, ("h", "c"), no_input_activation, peepholes(3)),
             "worse (speech, handwriting)"),
    "NOAF": (CellSpec("greff_noaf", 4, ("h", "c"), no_output_activation, peepholes(3)),
             "much worse (all three tasks)"),
    "NP": (CellSpec("greff_np", 4, ("h", "c"), no_peepholes), "no significant change"),
    "CIFG": (CellSpec("greff_cifg", 3, ("h", "c"), coupled_gates, peepholes(2)), "no significant change"),
}


class VariantLM(nn.Module):
    """Embedding -> nn.Recurrent(cell) -> Linear; ids (T, B) -> logits (T, B, V), as CharLM."""

    def __init__(self, cell, vocab_size, embed_dim=32, hidden_size=128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.Recurrent(cell, embed_dim, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        y, state = self.rnn(self.embed(ids), state)
        return self.head(y), state


def load_data(max_chars, val_fraction=0.05, text=None):
    """(vocab, train ids, validation ids) of the char-LM corpus, split as charlm train splits it."""
    text = load_corpus(text, max_chars)
    n_val = max(32, int(len(text) * val_fraction))
    vocab = Vocab.build(text)
    return vocab, vocab.encode(text[:-n_val]), vocab.encode(text[-n_val:])


def train_variant(name, data, steps=200, hidden_size=128, embed_dim=32, batch_size=32, bptt=64, lr=4e-3,
                  clip=1.0, seed=0, time_budget=0.0, eval_every=50, eval_chars=40_000, quiet=False):
    """Train variant `name` on data = load_data(...); the charlm training loop (truncated BPTT,
    clipping, Adam with cosine decay). Returns the history with "val" (the final validation loss,
    nats per character; NaN when training stopped on a non-finite loss)."""
    vocab, train_ids, val_ids = data
    cell = VARIANTS[name][0]
    cfg = Config(steps=steps, hidden_size=hidden_size, embed_dim=embed_dim, batch_size=batch_size, bptt=bptt,
                 lr=lr, clip=clip, seed=seed, time_budget=time_budget, eval_every=eval_every,
                 eval_chars=eval_chars, quiet=quiet)
    ts.manual_seed(seed)
    model = VariantLM(cell, len(vocab), embed_dim, hidden_size)
    tr = Training(cfg=cfg, device="cpu", vocab=vocab, model=model, optimizer=optim.Adam(model.parameters(), lr=lr),
                  train_stream=Tensor(np.ascontiguousarray(batchify(train_ids, batch_size))), val_ids=val_ids,
                  rank=0, world_size=1, resumed=None)
    warm_up(tr)   # compiles the generated kernels (training and evaluation) outside the time budget
    evaluate(model, val_ids[:2 * bptt + 2], "cpu", batch_size=2, bptt=bptt)
    hist = train_loop(tr)
    hist["val"] = evaluate(model, val_ids[:eval_chars], "cpu") if hist["stopped"] == "done" else float("nan")
    return hist


def study(names, data, progress=True, log=print, **kw):
    out = {}
    for n in names:
        if progress:
            log(f"variant {n}")
        out[n] = train_variant(n, data, quiet=not progress, **kw)
    return out


def format_table(results, baseline=None):
    """Validation loss per variant, its difference to V, the paper's finding."""
    ref = results.get("V", {}).get("val")
    head = f"{'variant':<8} {'val loss':>9} {'vs V':>8} {'steps':>6} {'train s':>8}  Greff et al. 2015"
    lines = ["validation cross-entropy (nats/char) after the same training budget", head, "-" * len(head)]
    for n, h in results.items():
        v = h["val"]
        diff = f"{v - ref:+8.3f}" if ref is not None and math.isfinite(v) and n != "V" else f"{'':>8}"
        note = VARIANTS[n][1] + ("" if h["stopped"] == "done" else f"; stopped: {h['stopped']}")
        lines.append(f"{n:<8} {v:>9.4f} {diff} {h['steps']:>6} {h['train_seconds']:>8.1f}  {note}")
    if baseline is not None:
        lines.append(f"unigram baseline (ignores context): {baseline:.4f}")
    return "\n".join(lines)


def markdown_table(results):
    ref = results.get("V", {}).get("val")
    rows = ["| variant | val loss (nats/char) | vs V | steps | Greff et al. 2015 |", "|---|---|---|---|---|"]
    for n, h in results.items():
        v = h["val"]
        diff = f"{v - ref:+.3f}" if ref is not None and math.isfinite(v) and n != "V" else ""
        rows.append(f"| {n} | {v:.4f} | {diff} | {h['steps']} | {VARIANTS[n][1]} |")
    return "\n".join(rows)


def plot(results, path, baseline=None, log=print):
    """Left: validation loss against steps; right: the final validation loss per variant, each bar
    labelled. The y axes stop a little above the unigram baseline (a variant past it has learned
    less than character frequencies: its value is written at the top)."""
    vals = {n: h["val"] for n, h in results.items()}
    finite = [v for v in vals.values() if math.isfinite(v)]
    lo = min(finite) - 0.1 if finite else 0.0
    hi = max(finite) + 0.1 if finite else 1.0
    if baseline is not None:
        hi = min(hi, baseline + 0.3)

    def draw(plt):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
        for n, h in results.items():
            if h["val_step"]:
                a.plot(h["val_step"], h["val_loss"], marker=".", label=n)
        if baseline is not None:
            for ax in (a, b):
                ax.axhline(baseline, color="k", ls="--", lw=1, label="unigram baseline")
        a.set_ylim(lo, hi)
        a.set_xlabel("training steps")
        a.set_ylabel("validation loss (nats/char)")
        a.grid(True, alpha=0.3)
        a.legend(fontsize=7, ncol=2)
        names = list(results)
        b.bar(names, [min(vals[n], hi) if math.isfinite(vals[n]) else hi for n in names], color="tab:blue")
        for k, n in enumerate(names):
            b.text(k, min(vals[n], hi) if math.isfinite(vals[n]) else hi, f"{vals[n]:.3f}",
                   ha="center", va="bottom", fontsize=7)
        b.set_ylim(lo, hi + 0.05)
        b.set_ylabel("final validation loss")
        b.grid(True, axis="y", alpha=0.3)
        fig.suptitle("Greff et al. 2015's LSTM variants on the char-LM corpus (same steps each)")
        return fig
    return save_figure(draw, path, log)


def add_args(p):
    p.add_argument("--variants", type=name_list(VARIANTS), default=tuple(VARIANTS),
                   help=f"any of {','.join(VARIANTS)} (all)")
    p.add_argument("--steps", type=positive_int, default=200, help="training steps per variant (%(default)s)")
    p.add_argument("--hidden-size", type=positive_int, default=128, help="%(default)s")
    p.add_argument("--batch-size", type=positive_int, default=32, help="%(default)s")
    p.add_argument("--bptt", type=positive_int, default=64, help="%(default)s")
    p.add_argument("--lr", type=positive_float, default=4e-3, help="Adam learning rate (%(default)s)")
    p.add_argument("--max-chars", type=positive_int, default=1_000_000, help="corpus characters (%(default)s)")
    p.add_argument("--text", metavar="FILE", help="UTF-8 text (default: the standard library's source)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="%(default)s")
    p.add_argument("--time-budget", type=nonnegative_float, default=150.0, metavar="SECONDS",
                   help="at most this many seconds of training per variant, 0: no limit (%(default)s)")
    p.add_argument("--eval-every", type=positive_int, default=50, help="validation every N steps (%(default)s)")
    p.add_argument("--eval-chars", type=positive_int, default=20_000, help="validation characters (%(default)s)")
    p.add_argument("--out", default="out", help="folder for variants.png and variants.md (%(default)s)")
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write the PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def run(a):
    t0 = time.perf_counter()
    data = load_data(a.max_chars, text=a.text)
    results = study(a.variants, data, progress=not a.quiet, steps=a.steps, hidden_size=a.hidden_size,
                    batch_size=a.batch_size, bptt=a.bptt, lr=a.lr, seed=a.seed, time_budget=a.time_budget,
                    eval_every=a.eval_every, eval_chars=a.eval_chars)
    baseline = unigram_entropy(data[2], len(data[0]))
    print(format_table(results, baseline))
    print(f"total {time.perf_counter() - t0:.0f} s")
    os.makedirs(a.out, exist_ok=True)
    md = os.path.join(a.out, "variants.md")
    with open(md, "w") as f:
        f.write(markdown_table(results) + "\n")
    print(f"table: {md}")
    if a.plot:
        png = plot(results, os.path.join(a.out, "variants.png"), baseline)
        if png:
            print(f"plot: {png}")
    return 0


def main(argv=None, prog="python -m tinygrad_seq.examples.study_variants"):
    from tinygrad_seq.examples import cmdline
    return cmdline.run_app(sys.modules[__name__], argv, prog)


if __name__ == "__main__":
    sys.exit(main())
