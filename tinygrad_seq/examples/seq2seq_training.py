"""The seq2seq example's training loop: Adam with gradient clipping on length-bucketed batches,
evaluation by exact match, checkpoints every N steps or minutes, a stop on Ctrl-C or on a
non-finite loss, and resuming from a checkpoint."""
import math
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.examples.progress import ProgressBar, format_seconds
from tinygrad_seq.examples.seq2seq_checkpoint import build_model, read_checkpoint
from tinygrad_seq.examples.seq2seq_task import Parallel, Task, exact_match, training_batches
from tinygrad_seq.nn.seq2seq import Seq2Seq
from tinygrad_seq.seqdata import Vocab


def check_args(args, world_size=1):
    for name in ("steps", "batch_size", "hidden", "embed", "layers", "eval_every", "val_size", "test_size", "pool"):
        v = getattr(args, name, 1)   # a caller's namespace may hold only some of them
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {v!r}")
    for name in ("lr", "clip"):
        v = getattr(args, name, 1.0)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"--{name} must be a finite positive number, got {v!r}")
    if args.batch_size < world_size:
        raise ValueError(f"--batch-size {args.batch_size} is smaller than the {world_size} processes: "
                         f"each needs at least one example of every batch")


class TrainingDiverged(RuntimeError):
    """The loss or the gradient norm became NaN or infinite."""


def train(args, log=print, par=None, save=None, interrupted=None):
    """Train on args' task; par: this process's Parallel (default: a single process). In a
    data-parallel run only process 0 evaluates; it decides when all stop. save(model, task,
    metrics, optimizer, progress) is called every --save-every steps and --save-minutes (on
    process 0); interrupted: a threading.Event that stops training after the current step.
    Returns (model, task, test pairs, test outputs, metrics); metrics["stopped"] is "done" or
    "interrupted", and metrics["optimizer"], metrics["progress"] let the caller save a final
    checkpoint. Raises TrainingDiverged on a non-finite loss (that step is not applied)."""
    par = par or Parallel()
    check_args(args, par.world_size)
    resume = read_checkpoint(args.resume) if getattr(args, "resume", None) else None
    if resume is not None and resume.get("progress") is None:
        raise ValueError(f"--resume: {args.resume} holds a model only (no optimizer state or step); "
                         f"it was written by an older version and cannot be resumed")
    ts.manual_seed(args.seed)                # the same initial weights on every process
    done = int(resume["progress"]["step"]) if resume is not None else 0
    # the same global batches on every process; a resumed run draws fresh ones
    rng = np.random.default_rng([args.seed, done] if done else args.seed)
    task = Task(args.task)
    if resume is not None:
        task.src_vocab, task.tgt_vocab = Vocab(resume["src_vocab"]), Vocab(resume["tgt_vocab"])
        model = build_model(args.resume, resume, args.device)
    else:
        model = Seq2Seq(len(task.src_vocab), len(task.tgt_vocab), embed_size=args.embed,
                        hidden_size=args.hidden, num_layers=args.layers, rnn_type=args.rnn,
                        attention=args.attention, pad_idx=task.tgt_vocab.pad_idx,
                        bos_idx=task.tgt_vocab.bos_idx, eos_idx=task.tgt_vocab.eos_idx,
                        teacher_forcing_ratio=args.teacher_forcing).to(args.device)
    params = list(model.parameters())
    train_model = par.wrap(model)
    opt = ts.optim.Adam(params, lr=args.lr)
    if resume is not None:
        if resume.get("optimizer") is not None:
            opt.load_state_dict(resume["optimizer"])
        if resume["progress"].get("rng") is not None:
            ts.random.generator().bit_generator.state = resume["progress"]["rng"]
    val = task.sample(args.val_size, np.random.default_rng(args.seed + 1), "val")
    test = task.sample(args.test_size, np.random.default_rng(args.seed + 2), "test")
    n_params = sum(p.numel() for p in params)
    cfg = model.config
    log(f"task {task.name}: Seq2Seq({cfg['rnn_type']}, hidden {cfg['hidden_size']}, {cfg['attention']} "
        f"attention), {n_params:,} parameters, batch {args.batch_size}, device {args.device}"
        + (f", data-parallel over {par.world_size} processes" if par.world_size > 1 else "")
        + (f"; resuming from {args.resume} at step {done}" if resume is not None else ""))

    main = par.rank == 0
    bar = None if args.quiet or not main else ProgressBar(args.steps, args.time_budget or None, unit="ex")
    t0 = last_save = time.perf_counter()
    old = (resume or {}).get("metrics") or {}
    val_acc, loss_avg = old.get("val_exact", 0.0), old.get("loss")
    history, examples = list(old.get("history", [])), int(old.get("examples", 0))
    stopped, step = "done", done
    saved = {"step": done if resume is not None else None}

    def metrics_now():
        elapsed = time.perf_counter() - t0
        return {"steps": step, "train_seconds": round(elapsed, 1), "loss": loss_avg, "val_exact": val_acc,
                "history": history, "examples": examples, "processes": par.world_size}

    def progress():
        return {"step": step, "rng": ts.random.generator().bit_generator.state}
    batches = training_batches(task, args.pool, args.batch_size, rng, par.rank, par.world_size)
    for step, b in enumerate(batches, done + 1):
        if step > args.steps:
            step -= 1
            break
        logits, _ = train_model(b["src"], b["src_lengths"], b["tgt_in"])
        loss = model.loss(logits, b["tgt_out"])
        if par.world_size > 1:
            loss = loss * b["loss_scale"]
        opt.zero_grad()
        loss.backward()
        gnorm = nn.utils.clip_grad_norm_(params, args.clip)
        gnorm = float(gnorm.item() if hasattr(gnorm, "item") else gnorm)
        lv = loss.item()
        # the gradient norm is the same on every process (averaged gradients): all stop together
        if not math.isfinite(gnorm) or (par.world_size == 1 and not math.isfinite(lv)):
            if bar is not None:
                bar.close()
            kept = (f"the last good checkpoint is the one of step {saved['step']}"
                    if saved["step"] is not None else "no checkpoint was written")
            raise TrainingDiverged(f"training diverged at step {step}: loss {lv:.4g}, gradient norm {gnorm:.4g} "
                                   f"(not finite); stopped without applying it; {kept}. Try a smaller --lr")
        opt.step()
        examples += b["examples"]
        elapsed = time.perf_counter() - t0
        out_of_time = bool(args.time_budget) and elapsed > args.time_budget
        last = step == args.steps or out_of_time
        stop_now = bool(interrupted is not None and interrupted.is_set())
        if par.world_size > 1:
            # one small message a step: the global batch's mean loss (the mean of the scaled
            # losses) and process 0's stop flags (its clock and its Ctrl-C decide for everyone)
            lv, stop, stop_now = par.all_reduce([lv / par.world_size, float(main and last),
                                                 float(main and stop_now)])
            last, stop_now = bool(stop), bool(stop_now)
        loss_avg = lv if loss_avg is None else 0.95 * loss_avg + 0.05 * lv
        if stop_now:
            stopped = "interrupted"
            break
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
        if save is not None and main and not last:
            due = args.save_every and step % args.save_every == 0
            due = due or (args.save_minutes and time.perf_counter() - last_save >= 60 * args.save_minutes)
            if due:
                save(model, task, metrics_now(), opt, progress())
                saved["step"], last_save = step, time.perf_counter()
        if bar is not None:
            bar.update(step, b["examples"], loss=loss_avg, val=val_acc)
        if last:
            break
    if bar is not None:
        bar.close()
    train_seconds = time.perf_counter() - t0
    metrics = metrics_now()
    run_examples = examples - int(old.get("examples", 0))
    test_acc, outputs = None, None
    if main and stopped == "done":
        test_acc, outputs = exact_match(model, task, test)
    metrics.update(test_exact=test_acc, test_size=len(test), stopped=stopped,
                   examples_per_second=run_examples / max(train_seconds, 1e-9))
    metrics["optimizer"], metrics["progress"] = opt, progress()
    return model, task, test, outputs, metrics
