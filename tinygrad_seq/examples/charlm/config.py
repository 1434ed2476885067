"""The char-LM run's settings and their checks (the command line and library callers share them)."""
import math
from dataclasses import dataclass, fields

from tinygrad_seq import device as _device


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
    time_budget: float = 90.0    # seconds of training, counted from the first step; 0: no limit
    eval_every: int = 250
    eval_chars: int = 40_000     # validation characters per evaluation
    device: str = "cpu"
    seed: int = 0
    sample_length: int = 300
    temperature: float = 0.8
    prime: str = "def "
    out: str = "out"
    checkpoint: str = None       # default: <out>/charlm.npz
    save_every: int = 250        # steps between checkpoints; 0: none by step count
    save_minutes: float = 5.0    # minutes between checkpoints; 0: none by time
    resume: str = None           # checkpoint to continue from
    plot: bool = True
    quiet: bool = False
    distributed: bool = False

    @property
    def checkpoint_path(self):
        import os
        return self.checkpoint or os.path.join(self.out, "charlm.npz")


# the numeric settings, by the range each must be in
POSITIVE_INTS = ("max_chars", "max_vocab", "embed_dim", "hidden_size", "num_layers", "batch_size", "bptt",
                 "steps", "eval_chars")
NONNEGATIVE_INTS = ("eval_every", "sample_length", "save_every")
POSITIVE_FLOATS = ("lr", "clip", "temperature")
NONNEGATIVE_FLOATS = ("time_budget", "save_minutes")


def check_config(cfg):
    """Raise ValueError naming the first setting out of range (NaN and infinities included)."""
    def flag(name):
        return "--" + name.replace("_", "-")
    for name in POSITIVE_INTS + NONNEGATIVE_INTS:
        v = getattr(cfg, name)
        low = 1 if name in POSITIVE_INTS else 0
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{flag(name)} must be an integer of at least {low}, got {v!r}")
    for name in POSITIVE_FLOATS + NONNEGATIVE_FLOATS:
        v = getattr(cfg, name)
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (v == 0 and name in POSITIVE_FLOATS):
            kind = "positive" if name in POSITIVE_FLOATS else "zero or positive"
            raise ValueError(f"{flag(name)} must be a finite {kind} number, got {v!r}")
    if not (isinstance(cfg.val_fraction, (int, float)) and 0 < cfg.val_fraction < 1):
        raise ValueError(f"--val-fraction must be between 0 and 1, got {cfg.val_fraction}")
    if not (isinstance(cfg.dropout, (int, float)) and 0 <= cfg.dropout < 1):
        raise ValueError(f"--dropout must be in [0, 1), got {cfg.dropout}")
    if not (isinstance(cfg.min_lr_ratio, (int, float)) and 0 <= cfg.min_lr_ratio <= 1):
        raise ValueError(f"min_lr_ratio must be in [0, 1], got {cfg.min_lr_ratio}")
    _device.canonical(cfg.device)
    return cfg


def config_from_args(a):
    cfg = check_config(Config(**{f.name: getattr(a, f.name) for f in fields(Config) if hasattr(a, f.name)}))
    cfg.explicit_flags = getattr(a, "explicit_flags", None)   # what a resumed run must match (resume_settings)
    return cfg
