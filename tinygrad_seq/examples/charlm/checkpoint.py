"""char-LM checkpoints: one file (ts.save, no pickle) holding everything a run needs to sample or
to resume:

    {"kind": "tinygrad_seq.charlm", "model": state dict, "vocab": code points (V,) int64,
     "config": model and data settings, "optimizer": its state_dict() or None,
     "progress": {"step", "epoch", "chunk", "rng"} or None, "history": losses so far}

Files written before this layout (a flat .npz with 'meta.vocab' and 'meta.config' entries) still
load for sampling. Every check names the file and what is wrong with it.
"""
import json
import math
import os

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq.examples.charlm.corpus import Vocab
from tinygrad_seq.examples.charlm.model import CharLM

KIND = "tinygrad_seq.charlm"
MODEL_KEYS = ("embed_dim", "hidden_size", "num_layers", "dropout")


class CheckpointError(ValueError):
    """A file that is readable but is not a usable char-LM checkpoint."""


def save_checkpoint(path, model, vocab, cfg_dict, optimizer=None, progress=None, history=None):
    """Write the checkpoint to `path` atomically (the previous file stays intact until the new one
    is complete)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ts.save({"kind": KIND, "model": model.state_dict(), "vocab": vocab.to_array(), "config": dict(cfg_dict),
             "optimizer": optimizer.state_dict() if optimizer is not None else None,
             "progress": progress, "history": history}, path)


def read_checkpoint(path):
    """-> the checked checkpoint dict (the layout above; the old layout converted to it)."""
    ck = ts.load(path)
    if not isinstance(ck, dict):
        raise CheckpointError(f"{path} is not a char-LM checkpoint (it holds a {type(ck).__name__})")
    if "meta.vocab" in ck or "meta.config" in ck:
        ck = _from_first_layout(path, ck)
    elif ck.get("kind") != KIND:
        raise CheckpointError(f"{path} is not a char-LM checkpoint (no kind {KIND!r}; "
                              f"train one with `tinygrad-seq charlm train`)")
    for key in ("model", "vocab", "config"):
        if key not in ck:
            raise CheckpointError(f"{path}: corrupt char-LM checkpoint: no {key!r} entry")
    _check_vocab(path, ck["vocab"])
    _check_config(path, ck["config"])
    if not isinstance(ck["model"], dict):
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: 'model' is a {type(ck['model']).__name__}, "
                              f"not a state dict")
    return ck


def _from_first_layout(path, state):
    if "meta.vocab" not in state or "meta.config" not in state:
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: it has only one of meta.vocab and meta.config")
    raw = np.asarray(state.pop("meta.config"))
    try:
        if raw.dtype != np.uint8:
            raise ValueError(f"stored as {raw.dtype}, not UTF-8 bytes")
        cfg = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: its settings (meta.config) are not "
                              f"valid JSON ({e})") from None
    return {"kind": KIND, "vocab": state.pop("meta.vocab"), "config": cfg, "model": state,
            "optimizer": None, "progress": None, "history": None}


def _check_vocab(path, vocab):
    arr = vocab.numpy() if isinstance(vocab, ts.Tensor) else vocab
    if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype.kind not in "iu" or arr.size == 0:
        what = f"shape {arr.shape} dtype {arr.dtype}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: the vocabulary should be a non-empty "
                              f"1-D integer array of code points, got {what}")
    if arr.min() < 0 or arr.max() > 0x10FFFF:
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: the vocabulary has code points outside "
                              f"0..0x10FFFF")
    if len(np.unique(arr)) != len(arr):
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: the vocabulary repeats characters")


def _check_config(path, cfg):
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{path}: corrupt char-LM checkpoint: its settings are a {type(cfg).__name__}, "
                              f"not a dict")
    for key in MODEL_KEYS:
        if key not in cfg:
            raise CheckpointError(f"{path}: corrupt char-LM checkpoint: its settings lack {key!r}")
        v = cfg[key]
        if key == "dropout":
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v < 1
            want = "a number in [0, 1)"
        else:
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= 1
            want = "a positive integer"
        if not ok:
            raise CheckpointError(f"{path}: corrupt char-LM checkpoint: setting {key!r} is {v!r}, expected {want}")


def build_model(path, ck, device="cpu"):
    """The CharLM a checked checkpoint describes, with its weights, on `device`."""
    vocab = Vocab.from_array(ck["vocab"])
    cfg = ck["config"]
    model = CharLM(len(vocab), cfg["embed_dim"], cfg["hidden_size"], cfg["num_layers"], cfg["dropout"])
    try:
        model.load_state_dict(ck["model"])
    except (KeyError, ValueError, TypeError) as e:
        msg = e.args[0] if e.args else str(e)
        raise CheckpointError(f"{path}: the weights do not fit the model its settings describe: {msg}") from None
    return model.to(device), vocab


def load_checkpoint(path, device="cpu"):
    """-> (model, vocab, config dict)."""
    ck = read_checkpoint(path)
    model, vocab = build_model(path, ck, device)
    return model, vocab, ck["config"]
