"""Redo the CPU kernels' calibration on this machine and print what it chose and why.

    python -m tinygrad_seq.tune [--cells lstm,gru,rnn] [--batches 1,16,64] [--hidden 64,256,512]
                                [--dtype float32] [--keep]

The kernels make their machine-dependent choices (kernels/tuning.py) the first time they meet a
shape class; this command forgets this machine's decisions (unless --keep) and measures every
shape class of the grid now (each for sequences of --steps and for one-step calls, a decoder's
step), the few-row products' swap per class of rows, and whether the common row-wise,
elementwise, optimizer, embedding-gradient and product calls split over the threads per class of
size (kernels/split_cpu.py), so that later calls only read the wisdom file. One line per
decision: the shape class,
the candidates' times in ms, the choice and the reason.
"""
import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_seq.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--hidden", default="64,256,512")
    parser.add_argument("--steps", type=int, default=50, help="sequence length the shapes stand for")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--keep", action="store_true", help="keep the decisions already on disk")
    args = parser.parse_args(argv)
    cells = args.cells.split(",")
    unknown = sorted(set(cells) - {"lstm", "gru", "rnn"})
    if unknown:
        parser.error(f"--cells: unknown cell(s) {', '.join(unknown)}; expected lstm, gru, rnn")
    try:
        batches = [int(v) for v in args.batches.split(",")]
        hiddens = [int(v) for v in args.hidden.split(",")]
    except ValueError:
        parser.error("--batches and --hidden take comma-separated positive integers")
    if min(batches + hiddens) < 1 or args.steps < 1:
        parser.error("--batches, --hidden and --steps must be positive")

    os.environ["TINYGRAD_SEQ_TUNE"] = "auto"
    import numpy as np

    from .kernels import blas_cpu, gru_cpu, lstm_cpu, machine_cpu, rnn_cpu, tuning, weight_grads_cpu

    tuning.CALIBRATE_MIN_MACS = 0  # every listed shape class is measured, however small
    tuning.CALIBRATE_COMPILES = 1  # ... with every candidate compiled, not only those a first run had
    info = machine_cpu.machine()
    print(f"machine: {info['cpu_model']}, Numba target {info['cpu_name']} ({'+'.join(info['isa'])}), "
          f"{info['threads']} threads")
    if not args.keep:
        tuning.forget()
    modules = {"lstm": (lstm_cpu, 4), "gru": (gru_cpu, 3), "rnn": (rnn_cpu, 1)}
    dtype = np.dtype(args.dtype)
    blas_cpu.gemm_route(dtype)   # the whole-sequence GEMMs' route first: the other measurements use it
    rows, top = 1, 1 << max(2 * tuning.setting("SWAP_MAX_ROWS") - 1, 0).bit_length()
    while rows <= top:   # x @ W^T with few rows: swapped or not, per class of rows (powers of two)
        blas_cpu.swap_rows(rows, dtype)
        rows *= 2
    if blas_cpu.kernel_threads.planned(1, 1 << 20, 1 << 62) > 1:
        split_grid(dtype)
    for cell in cells:
        module, gates = modules[cell]
        for batch in batches:
            for hidden in hiddens:
                module._plan(args.steps, batch, hidden, hidden, dtype)
                module._plan(1, batch, hidden, hidden, dtype)   # a decoder's step: its thread count too
                threads = blas_cpu.kernel_threads.planned(args.steps, batch, 1 << 62)
                if threads > 1:
                    weight_grads_cpu.gradient_split(args.steps * batch, gates * hidden, hidden, hidden, threads, dtype)
    table = tuning.decisions()
    for key in sorted(table):
        print(describe(key, table[key]))
    print(f"wisdom file: {tuning.wisdom_path()}")
    return 0


def split_grid(dtype):
    """Calls of every class of size each split family measures (tuning.SPLIT_MEASURED), on random
    data: softmax and layer_norm over rows of 512, sigmoid and tanh, an Adam step, an embedding
    gradient of a table 256 wide, a [rows, 64] @ [64, 64] product."""
    import numpy as np

    from . import embedding_grad
    from .kernels import elementwise_cpu, gemm_cpu, rows_cpu, tuning
    from .optim import fused_steps

    rng = np.random.default_rng(0)

    def classes(family, per_element=1.0):   # element counts of the family's measured classes
        lo, hi = tuning.SPLIT_MEASURED[family]
        size = lo
        while size < hi:
            yield max(1, int(size / per_element))
            size *= 2

    for n in classes("rows"):
        x = rng.standard_normal((max(2, n // 512), 512)).astype(dtype)
        rows_cpu.softmax(x)
        rows_cpu.layer_norm(x, None, None, 1e-5)
    for kernel, run in ((elementwise_cpu.sigmoid_range, elementwise_cpu.sigmoid),
                        (elementwise_cpu.tanh_range, elementwise_cpu.tanh)):
        for n in classes("elementwise", elementwise_cpu.COST_NS[kernel][dtype.char == "d"]):
            run(rng.standard_normal(n).astype(dtype))
    group = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    for n in classes("optim"):
        p, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
        fused_steps.adam_step(p, g, np.zeros_like(p), np.zeros_like(p), None, 1, group)
    for n in classes("embedding"):
        idx = rng.integers(0, n // 256, 1024)
        embedding_grad.embedding_grad_cpu((n // 256, 256), idx, rng.standard_normal((1024, 256)).astype(dtype), None)
    for n in classes("gemm", 64 * 64):
        gemm_cpu.matmul(rng.standard_normal((n, 64)).astype(dtype), rng.standard_normal((64, 64)).astype(dtype))


def describe(key, record):
    """One line: shape class, each candidate's ms, the choice and why."""
    # the choice as the candidates' labels spell it (the wisdom file keeps its parts in sorted order)
    parts = {f"{k}={v}" for k, v in record["choice"].items()}
    chosen = next((label for label in (*record["ms"], record["default"]) if set(label.split(",")) == parts),
                  ",".join(sorted(parts)))
    times = "  ".join(f"{label} {ms:.3f} ms" for label, ms in record["ms"].items())
    unmeasured = record.get("unmeasured", ())
    if unmeasured:
        times += f"{'  ' if times else ''}not measured (not compiled when first met): {', '.join(unmeasured)}"
    if "crowded" in record:
        times += (f"{'  ' if times else ''}(other processes took {record['crowded']:.2f} of a core meanwhile: "
                  "not kept in the wisdom file, measured again by the next process)")
    default_ms = record["ms"].get(record["default"])
    if chosen == record["default"] and len(record["ms"]) < 2:
        why = "the default rule's choice: no other candidate was compiled to compare"
    elif chosen == record["default"]:
        why = "the default rule's choice: nothing was faster by the margin"
    else:
        why = f"{default_ms / record['ms'][chosen]:.2f}x faster than the default ({record['default']})"
    return f"{key}\n    {times}\n    -> {chosen}: {why}"


if __name__ == "__main__":
    sys.exit(main())
