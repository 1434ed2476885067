"""Every `bench/compare_torch.py` run kept under bench/results/, one line each, scored against the
goals of the issue that set them (issue 14):

- LSTM torch/ours >= 1.0 at every grid shape and >= 1.25 at the median shape;
- GRU and RNN >= 1.5, or >= 1.1 where PyTorch itself runs above 60% of numpy's GEMM rate;
- LSTM T=200 B=64 H=512 at >= 80% of numpy's 2048^3 matmul rate in the same run;
- the layer path within 5% of the kernel path at B >= 16.

    python bench/compare_history.py [--machine amd-epyc-2cpu-avx512f] [files...]
    python bench/compare_history.py --grid [file]    # one run's grid, as the README shows it
                                                     # (default: the latest kept run)

Prints a markdown table, oldest run first. A run with fewer than the 54 grid rows (--quick,
--shapes) is scored on the shapes it has. The host's speed drifts between minutes: a goal met in
one run and missed in the next is within noise; only the ratios of one run are comparable.
"""
import argparse
import datetime
import glob
import json
import os
import re
import statistics

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
GOAL_LSTM, GOAL_LSTM_MEDIAN, GOAL_GATED, GOAL_GATED_FAST_TORCH = 1.0, 1.25, 1.5, 1.1
TORCH_FAST = 60.0   # % of numpy's GEMM rate from which the 1.1x goal applies
GOAL_PEAK_SHAPE, GOAL_PEAK_PCT = (200, 64, 512), 80.0
GOAL_LAYER = 1.05


def ours_pct(row, matmul):
    """Our GFLOP/s as a % of numpy's 2048^3 matmul rate in the run (the faster of its two probes,
    before and after the grid, as compare_torch.py scores it)."""
    return 100 * row["gflops"] / matmul


def torch_pct(row, matmul):
    """PyTorch's GFLOP/s as a % of the same rate (the same flop count as ours)."""
    return ours_pct(row, matmul) / row["ratio"]


def gated_goal(row, matmul):
    return GOAL_GATED_FAST_TORCH if torch_pct(row, matmul) > TORCH_FAST else GOAL_GATED


def score(run):
    """The goals of one run (the dict compare_torch.py writes) -> dict of counts and ranges."""
    rows = run["rows"]
    matmul = max(run["matmul_gflops"])
    by_cell = {c: [r for r in rows if r["cell"] == c] for c in ("lstm", "gru", "rnn")}
    out = {}
    lstm = by_cell["lstm"]
    if lstm:
        ratios = [r["ratio"] for r in lstm]
        out["lstm"] = (min(ratios), max(ratios), sum(x >= GOAL_LSTM for x in ratios), len(ratios),
                       statistics.median(ratios))
        peak = [r for r in lstm if (r["T"], r["B"], r["H"]) == GOAL_PEAK_SHAPE]
        out["peak_pct"] = ours_pct(peak[0], matmul) if peak else None
    for cell in ("gru", "rnn"):
        if by_cell[cell]:
            out[cell] = (sum(r["ratio"] >= gated_goal(r, matmul) for r in by_cell[cell]), len(by_cell[cell]))
    layered = [r for r in rows if r["B"] >= 16 and "layer_over_kernel" in r]
    out["layer"] = (sum(r["layer_over_kernel"] <= GOAL_LAYER for r in layered), len(layered))
    return out


def summary_line(run, path):
    s = score(run)
    load = run.get("load_average_before", [None])[0]
    mm = run.get("matmul_gflops") or [0]
    env = " ".join(f"{k}={v}" for k, v in sorted((run.get("openblas_env") or {}).items()))
    when = datetime.datetime.fromisoformat(run["date"])
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    cells = [when.strftime("%Y-%m-%d %H:%M"), run.get("machine_slug", "?") + (f" ({env})" if env else ""),
             f"{load:.1f}" if load is not None else "?", f"{max(mm):.0f}"]
    if "lstm" in s:
        lo, hi, met, n, med = s["lstm"]
        cells += [f"{lo:.2f}-{hi:.2f}", f"{met}/{n}", f"{med:.2f}",
                  "-" if s["peak_pct"] is None else f"{s['peak_pct']:.0f}%"]
    else:
        cells += ["-"] * 4
    for cell in ("gru", "rnn"):
        cells.append(f"{s[cell][0]}/{s[cell][1]}" if cell in s else "-")
    cells.append(f"{s['layer'][0]}/{s['layer'][1]}")
    cells.append(f"`{os.path.relpath(path, os.path.dirname(os.path.dirname(RESULTS)))}`")
    return "| " + " | ".join(cells) + " |"


HEADER = ("| run (UTC) | machine | load | matmul GFLOP/s | LSTM torch/ours | LSTM >= 1.0 | LSTM median | "
          "LSTM 200,64,512 % of matmul | GRU goal | RNN goal | layer within 5% (B >= 16) | file |\n"
          "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")


def grid_table(run):
    """One run's grid as the README's table: the LSTM's times, every cell's torch/ours, and the
    layer path over the kernel path."""
    matmul = max(run["matmul_gflops"])
    by = {(r["cell"], r["T"], r["B"], r["H"]): r for r in run["rows"]}
    lines = ["| T | B | H | LSTM ours ms | LSTM torch ms | LSTM torch/ours | LSTM % of numpy's GEMM rate | "
             "GRU torch/ours | RNN torch/ours | layer/kernel: LSTM, GRU, RNN |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    shapes = sorted({(r["T"], r["B"], r["H"]) for r in run["rows"]})
    for shape in shapes:
        lstm, gru, rnn = (by.get((cell,) + shape) for cell in ("lstm", "gru", "rnn"))
        cells = [str(v) for v in shape]
        cells += ([f"{lstm['ours_ms']:.2f}", f"{lstm['torch_ms']:.2f}", f"{lstm['ratio']:.2f}",
                   f"{ours_pct(lstm, matmul):.0f}"] if lstm else ["-"] * 4)
        cells += [f"{r['ratio']:.2f}" if r else "-" for r in (gru, rnn)]
        cells.append(", ".join(f"{r['layer_over_kernel']:.2f}" if r else "-" for r in (lstm, gru, rnn)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def runs(paths):
    """(run dict, path) of each distinct run, oldest first (a run's dated copy and its
    machine-named copy count once)."""
    seen, found = set(), []
    for path in paths:
        with open(path) as f:
            run = json.load(f)
        if "rows" not in run or "date" not in run:
            continue
        key = (run["date"], run.get("machine_slug"))
        if key in seen:
            continue
        seen.add(key)
        found.append((run, path))
    return sorted(found, key=lambda rp: rp[0]["date"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="result files (default: bench/results/compare_torch_*.json)")
    parser.add_argument("--machine", help="only runs of this machine slug")
    parser.add_argument("--grid", action="store_true", help="print one run's grid (the last of the files)")
    args = parser.parse_args()
    # dated copies first: a run's machine-named copy (the latest run) then counts as seen
    paths = args.files or sorted(glob.glob(os.path.join(RESULTS, "compare_torch_*.json")),
                                 key=lambda p: (not re.search(r"_\d{4}-\d\d-\d\dT\d{4}\.json$", p), p))
    # the goals are for 2 threads on each side
    kept = [(run, path) for run, path in runs(paths) if run.get("threads", 2) == 2
            and (not args.machine or run.get("machine_slug") == args.machine)]
    if args.grid:
        if not kept:
            raise SystemExit("no compare_torch run among the files")
        print(grid_table(kept[-1][0]))
        return
    print(HEADER)
    for run, path in kept:
        print(summary_line(run, path))


if __name__ == "__main__":
    main()
