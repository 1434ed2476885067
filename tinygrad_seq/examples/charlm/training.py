"""The char-LM training loop: truncated BPTT over the training stream, gradient clipping, Adam
with cosine decay; checkpoints every N steps or minutes, a stop on Ctrl-C or on a non-finite
loss, and resuming from a checkpoint."""
import contextlib
import math
import threading
import time

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn
from tinygrad_seq import device as _device
from tinygrad_seq.data import batchify, detach_state, tbptt_chunks
from tinygrad_seq.examples.charlm import model as _model
from tinygrad_seq.examples.charlm.corpus import Vocab, load_corpus
from tinygrad_seq.examples.charlm.evaluation import evaluate
from tinygrad_seq.examples.progress import ProgressBar


def check_device(device):
    if _device.canonical(device) == "cuda" and not ts.cuda_available():
        raise RuntimeError("--device cuda: no CUDA GPU is available on this machine "
                           "(install the 'cuda' extra on a machine with an NVIDIA GPU)")
    return _device.canonical(device)


class Training:
    """Everything a training run needs, built by build_training()."""

    def __init__(self, **kw):
        self.agree, self.resumed, self.stop = None, None, threading.Event()   # stop: set by Ctrl-C
        self.__dict__.update(kw)


# the corpus settings a resumed run takes from its checkpoint (the vocabulary was built from them)
_CORPUS_KEYS = ("text", "max_chars", "val_fraction")
# the stream's layout, which the saved position counts in: left out on the command line, the
# checkpoint's (set, they may differ: the position then falls where the new layout puts it)
_STREAM_KEYS = ("batch_size", "bptt")


def build_training(cfg, rank=0, world_size=1, resume=None):
    """The corpus, vocabulary, model, optimizer and this rank's share of the training stream.
    With world_size > 1 the batch columns are dealt out round-robin, so each rank trains on
    batch_size // world_size columns of one shared stream; a caller wraps `model` (e.g. in
    nn.parallel.DistributedDataParallel) and sets `agree` (flag -> rank 0's flag) so all ranks
    stop at the same step. resume: a checked checkpoint dict (checkpoint.read_checkpoint): the
    model settings, vocabulary, weights, optimizer state and progress come from it."""
    from dataclasses import fields

    from tinygrad_seq import optim
    from tinygrad_seq.examples import resume_settings
    from tinygrad_seq.examples.charlm.checkpoint import MODEL_KEYS
    from tinygrad_seq.examples.charlm.config import Config
    device = check_device(cfg.device)
    if resume is not None:   # the model and the corpus it was trained on come from the checkpoint
        defaults = {f.name: f.default for f in fields(Config)}
        resume_settings.settle(cfg, resume["config"], defaults, MODEL_KEYS + _CORPUS_KEYS, cfg.resume)
        resume_settings.take_left_out(cfg, resume["config"], _STREAM_KEYS)
    text = load_corpus(cfg.text, cfg.max_chars)
    n_val = max(2 * 16, int(len(text) * cfg.val_fraction))
    train_text, val_text = text[:-n_val], text[-n_val:]
    # the whole text: the validation part may have rare characters
    vocab = Vocab.from_array(resume["vocab"]) if resume is not None else Vocab.build(text, cfg.max_vocab)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    if cfg.batch_size % world_size:
        raise ValueError(f"--batch-size {cfg.batch_size} is not divisible by the {world_size} processes")
    stream = batchify(train_ids, cfg.batch_size)[:, rank::world_size]
    ts.manual_seed(cfg.seed)   # the same initial weights on every rank
    model = _model.CharLM(len(vocab), cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.dropout).to(device)
    optimizer = optim.Adam(model.parameters(), lr=cfg.lr)
    if resume is not None:
        model.load_state_dict(resume["model"])
        if resume.get("optimizer") is not None:
            optimizer.load_state_dict(resume["optimizer"])
    return Training(cfg=cfg, device=device, text=text, vocab=vocab, model=model, optimizer=optimizer,
                    train_stream=Tensor(np.ascontiguousarray(stream), device=device),
                    val_ids=val_ids, train_chars=len(train_text), rank=rank, world_size=world_size,
                    resumed=resume)


def lr_at(cfg, frac):
    """Cosine decay from lr to lr * min_lr_ratio as the run's progress goes 0 -> 1."""
    lo = cfg.lr * cfg.min_lr_ratio
    return lo + (cfg.lr - lo) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def set_lr(optimizer, lr):
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for g in groups:
            g["lr"] = lr
    else:
        optimizer.lr = lr


def warm_up(tr, train_model=None):
    """One forward and backward on the first chunk, no optimizer step, so that compiling the
    kernels is not counted in the time budget. Gradients are dropped; weights are unchanged."""
    train_model = train_model or tr.model
    x, y = next(iter(tbptt_chunks(tr.train_stream, tr.cfg.bptt)))
    no_sync = getattr(train_model, "no_sync", None)   # DDP: no gradient all-reduce for this one
    with (no_sync() if no_sync else contextlib.nullcontext()):
        loss, _ = _model.lm_loss(train_model, x, y, None)
        loss.backward()
    _warm_optimizer(tr.optimizer)
    tr.optimizer.zero_grad()


def _warm_optimizer(optimizer):
    """One step of the optimizer's algorithm on copies of the parameters and their gradients, so
    that its fused kernel (kernels/optim_cpu.py: about a second to compile on a first run) is
    compiled before the clock starts too; the model and the optimizer's state are untouched."""
    group = optimizer.param_groups[0]
    params = [p for p in group["params"] if p.grad is not None]
    if not params:
        return
    copies = []
    for p in params:
        c = nn.Parameter(p.detach().clone())
        c.grad = p.grad.detach().clone()
        copies.append(c)
    options = {k: v for k, v in group.items() if k != "params"}
    type(optimizer)([dict(options, params=copies)]).step()


def new_history():
    return {"step": [], "loss": [], "val_step": [], "val_loss": [], "grad_norm": []}


def train_loop(tr, train_model=None, save=None):
    """Train tr.model on tr.train_stream; returns the history dict, whose "stopped" says why it
    ended: "done" (steps or time budget), "interrupted" (tr.stop set, by Ctrl-C) or
    "nonfinite" (a loss or gradient norm that is NaN or infinite; that step is not applied).
    `train_model` is what the forward pass calls (a DistributedDataParallel wrapper, say);
    save(progress, hist) is called every cfg.save_every steps and every cfg.save_minutes."""
    cfg, model = tr.cfg, tr.model
    train_model = train_model or model
    params = list(model.parameters())
    chunks_per_epoch = len(tbptt_chunks(tr.train_stream, cfg.bptt))
    progress = dict(tr.resumed.get("progress") or {}) if tr.resumed else {}
    step, epoch, chunk = int(progress.get("step", 0)), int(progress.get("epoch", 0)), int(progress.get("chunk", 0))
    chunk = chunk % chunks_per_epoch
    if progress.get("rng") is not None:
        ts.random.generator().bit_generator.state = progress["rng"]
    saved_hist = tr.resumed.get("history") if tr.resumed else None
    hist = {k: list(v) for k, v in saved_hist.items()} if isinstance(saved_hist, dict) else new_history()
    for k, v in new_history().items():
        hist.setdefault(k, v)
    # one bar, on rank 0; its rate counts the characters of all ranks (world_size equal shares)
    bar = None
    if not cfg.quiet and tr.rank == 0:
        bar = ProgressBar(cfg.steps, cfg.time_budget or None, unit="char")
    state, stopped, bad = None, "done", None
    val_eval = tr.val_ids[:cfg.eval_chars]
    start_step = step
    t0 = last_save = time.perf_counter()

    def where():
        return {"step": step, "epoch": epoch, "chunk": chunk,
                "rng": ts.random.generator().bit_generator.state}
    model.train()
    while step < cfg.steps:
        for x, y in tbptt_chunks(tr.train_stream, cfg.bptt, start=chunk * cfg.bptt):
            elapsed = time.perf_counter() - t0
            stop = step >= cfg.steps or bool(cfg.time_budget and elapsed >= cfg.time_budget) or tr.stop.is_set()
            if tr.agree is not None:   # data-parallel: every rank stops at rank 0's step
                stop = tr.agree(stop)
            if stop:
                break
            frac = step / cfg.steps
            if cfg.time_budget:
                frac = max(frac, elapsed / cfg.time_budget)
            set_lr(tr.optimizer, lr_at(cfg, frac))
            state = detach_state(state)
            loss, state = _model.lm_loss(train_model, x, y, state)
            tr.optimizer.zero_grad()
            loss.backward()
            gnorm = nn.utils.clip_grad_norm_(params, cfg.clip)
            gnorm = float(gnorm.item() if hasattr(gnorm, "item") else gnorm)
            lv = loss.item()
            # the gradient norm is the same on every rank (averaged gradients): all stop together
            if not math.isfinite(gnorm) or (tr.world_size == 1 and not math.isfinite(lv)):
                stopped, bad = "nonfinite", {"step": step + 1, "loss": lv, "grad_norm": gnorm}
                break
            tr.optimizer.step()
            step += 1
            chunk += 1
            hist["step"].append(step)
            hist["loss"].append(lv)
            hist["grad_norm"].append(gnorm)
            if cfg.eval_every and step % cfg.eval_every == 0 and tr.rank == 0:
                hist["val_step"].append(step)
                hist["val_loss"].append(evaluate(model, val_eval, tr.device))
            if save is not None and tr.rank == 0:
                due = cfg.save_every and step % cfg.save_every == 0
                due = due or (cfg.save_minutes and time.perf_counter() - last_save >= 60 * cfg.save_minutes)
                if due:
                    save(where(), hist)
                    last_save = time.perf_counter()
            if bar:
                metrics = {"loss": lv, "epoch": epoch}
                if hist["val_loss"]:
                    metrics["val"] = hist["val_loss"][-1]
                bar.update(step, x.shape[0] * x.shape[1] * tr.world_size, **metrics)
        else:
            epoch, chunk = epoch + 1, 0
            state = None
            continue
        break
    if bar:
        bar.close()
    if stopped == "done" and tr.stop.is_set():
        stopped = "interrupted"
    hist["train_seconds"] = time.perf_counter() - t0
    hist["steps"] = step
    hist["steps_this_run"] = step - start_step
    hist["chunks_per_epoch"] = chunks_per_epoch
    hist["stopped"], hist["bad_step"], hist["progress"] = stopped, bad, where()
    return hist
