"""CPU-vs-CUDA comparison run: `python -m tinygrad_seq.compare` (also `make compare`,
`tinygrad-seq compare`).

Runs the same models (RNN/LSTM/GRU layers forward+backward, and a full LSTM language-model
training step) on "cpu" and on "cuda", checks that the two devices agree, and prints per case
the time per call on each device, the speedup, GFLOP/s and PyTorch's time on the same device
(oneDNN on the CPU, cuDNN on the GPU) when torch is installed. Writes the table as JSON and a bar
chart PNG. Without a GPU it runs the CPU side, says so, and exits 0.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.nn.variants import LAYERS

# gate counts and layer classes from the one place each is written (cell descriptions, nn.variants)
GATES = {name: cell_library.get(cell_library.CLASSES[name].spec_name()).gates for name in LAYERS}


def layer_flops(cell, T, B, I, H):
    """Forward+backward multiply-adds x2 of the GEMMs: forward 2*T*B*G*H*(I+H), backward twice that."""
    return 3 * 2 * T * B * GATES[cell] * H * (I + H)


def _median_time(fn, repeats, sync):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


class LayerCase:
    """One recurrent layer, forward + backward of sum(output)."""
    def __init__(self, cell, T, B, H):
        self.cell, self.T, self.B, self.H = cell, T, B, H
        self.name = f"{cell} T={T} B={B} H={H}"
        self.flops = layer_flops(cell, T, B, H, H)
        self.x = np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32)

    def build(self, device):
        ts.manual_seed(0)
        layer = LAYERS[self.cell](self.H, self.H).to(device)
        x = ts.Tensor(self.x, device=device)

        def step():
            layer.zero_grad()
            out, _ = layer(x)
            out.sum().backward()
            return out
        return step, lambda: layer.weight_hh_l0.grad.numpy()

    def torch_step(self, torch, device):
        torch.manual_seed(0)
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[self.cell]
        layer = cls(self.H, self.H).to(device)
        x = torch.tensor(self.x, device=device)

        def step():
            layer.zero_grad()
            out, _ = layer(x)
            out.sum().backward()
        return step


class TrainStepCase:
    """Embedding -> LSTM -> Linear -> cross_entropy -> backward -> Adam step (a char-LM step)."""
    def __init__(self, T, B, H, vocab=96):
        self.T, self.B, self.H, self.V = T, B, H, vocab
        self.name = f"lm-train-step T={T} B={B} H={H}"
        self.flops = layer_flops("lstm", T, B, H, H) + 3 * 2 * T * B * H * vocab
        rng = np.random.default_rng(0)
        self.tokens = rng.integers(0, vocab, size=(T + 1, B))

    def build(self, device):
        from tinygrad_seq import optim
        ts.manual_seed(0)
        emb, lstm, head = nn.Embedding(self.V, self.H), nn.LSTM(self.H, self.H), nn.Linear(self.H, self.V)
        model = nn.ModuleList([emb, lstm, head]).to(device)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        inp = ts.Tensor(self.tokens[:-1], device=device)
        tgt = ts.Tensor(self.tokens[1:].reshape(-1), device=device)

        def step():
            opt.zero_grad()
            out, _ = lstm(emb(inp))
            loss = ts.functional.cross_entropy(head(out).reshape(-1, self.V), tgt)
            loss.backward()
            opt.step()
            return loss
        return step, lambda: head.weight.numpy()


def _torch():
    try:
        import torch
        return torch
    except ImportError:
        return None


def run_case(case, devices, repeats, torch):
    row = {"case": case.name, "gflop": case.flops / 1e9}
    results = {}
    simulated = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    for dev in devices:
        step, sync = case.build(dev)
        start = time.perf_counter()
        out = step()
        sync()  # warm-up: JIT compilation and first transfers are not timed
        results[dev] = out.numpy()
        if dev == "cuda" and simulated:
            # the simulator's times mean nothing and a call takes seconds: the warm-up call stands in
            row[f"{dev}_s"] = time.perf_counter() - start
        else:
            row[f"{dev}_s"] = _median_time(step, repeats, sync)
        row[f"{dev}_gflops"] = case.flops / row[f"{dev}_s"] / 1e9
    if len(devices) == 2:
        a, b = results["cpu"], results["cuda"]
        row["max_abs_diff"] = float(np.max(np.abs(a - b)))
        row["agree"] = bool(np.allclose(a, b, rtol=2e-3, atol=2e-3))
        row["speedup"] = row["cpu_s"] / row["cuda_s"]
    if torch is not None and hasattr(case, "torch_step"):
        tdevs = ["cpu"] + (["cuda"] if torch.cuda.is_available() and "cuda" in devices else [])
        for dev in tdevs:
            step = case.torch_step(torch, dev)
            step()
            sync = (torch.cuda.synchronize if dev == "cuda" else (lambda: None))
            row[f"torch_{dev}_s"] = _median_time(step, repeats, sync)
    return row


def format_table(rows, devices):
    cols = [("case", "case", 28, "{}", 1)]   # (header, key, width, format, scale)
    for dev in devices:
        cols += [(f"{dev} ms", f"{dev}_s", 10, "{:.2f}", 1e3), ("GFLOP/s", f"{dev}_gflops", 8, "{:.1f}", 1),
                 (f"torch {dev} ms", f"torch_{dev}_s", 14, "{:.2f}", 1e3)]
    if len(devices) == 2:
        cols += [("speedup", "speedup", 8, "{:.1f}", 1), ("agree", "agree", 6, "{}", 1)]

    def cell(r, key, width, fmt, scale, left):
        v = r.get(key)
        text = "-" if v is None else (fmt.format(v * scale) if isinstance(v, float) else str(v))
        return text.ljust(width) if left else text.rjust(width)
    lines = [" ".join(h.ljust(w) if k == "case" else h.rjust(w) for h, k, w, _, _ in cols)]
    for r in rows:
        lines.append(" ".join(cell(r, k, w, f, s, k == "case") for _, k, w, f, s in cols))
    return "\n".join(lines)


def write_png(rows, devices, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no bar chart written (pip install 'tinygrad-seq[plot]')")
        return False
    keys = [f"{d}_s" for d in devices] + [f"torch_{d}_s" for d in devices]
    keys = [k for k in keys if any(k in r for r in rows)]
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(rows)), 4))
    width = 0.8 / len(keys)
    for i, k in enumerate(keys):
        ax.bar(np.arange(len(rows)) + i * width, [r.get(k, 0) * 1e3 for r in rows], width, label=k[:-2])
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2)
    ax.set_xticklabels([r["case"] for r in rows], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("ms per call (lower is better)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def cases(quick):
    if quick:
        return [LayerCase(c, 4, 2, 8) for c in ("rnn", "lstm", "gru")] + [TrainStepCase(4, 2, 8, 12)]
    return ([LayerCase(c, 100, b, h) for c in ("rnn", "lstm", "gru") for b, h in ((1, 256), (64, 512))]
            + [TrainStepCase(64, 32, 256)])


DESCRIPTION = __doc__.split("\n\n")[0]


def add_args(p):
    p.add_argument("--quick", action="store_true", help="tiny shapes (seconds); for tests and smoke runs")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per case (median reported)")
    p.add_argument("--json", default="compare.json", help="where to write the table as JSON")
    p.add_argument("--png", default="compare.png", help="where to write the bar chart")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    return p


def main(argv=None):
    p = add_args(argparse.ArgumentParser(prog="tinygrad-seq compare", description=__doc__.split("\n\n")[0]))
    return run(p.parse_args(argv))


def run(args):
    if args.repeats < 1:
        raise ValueError("--repeats must be at least 1")
    have_gpu = ts.cuda_available()
    devices = ["cpu", "cuda"] if have_gpu else ["cpu"]
    if not have_gpu:
        print("No GPU is present: running the CPU side only.")
    elif os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        print("'cuda' runs in Numba's CUDA simulator: its times say nothing about a GPU.")
    torch = None if args.no_torch else _torch()
    rows = []
    for case in cases(args.quick):
        rows.append(run_case(case, devices, args.repeats, torch))
        print(f"  done: {case.name}", file=sys.stderr)
    print(format_table(rows, devices))
    meta = {"machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count(),
            "gpu": have_gpu, "simulator": os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
            "torch": getattr(torch, "__version__", None), "date": time.strftime("%Y-%m-%d")}
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    print(f"wrote {args.json}")
    if write_png(rows, devices, args.png):
        print(f"wrote {args.png}")
    bad = [r["case"] for r in rows if r.get("agree") is False]
    if bad:
        print("DEVICES DISAGREE on: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
