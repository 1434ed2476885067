"""Checkpoints of the seq2seq dates example: one file (ts.save, no pickle) with everything needed to
decode or to resume training:

    {"kind": "tinygrad_seq.seq2seq", "task": "dates" | "reverse", "model": state dict,
     "config": Seq2Seq(**config), "src_vocab", "tgt_vocab": Vocab JSON dicts, "metrics": dict,
     "optimizer": its state_dict() or None, "progress": {"step", "examples", "rng"} or None}

The earlier layout (weights in <stem>.npz, the rest in <stem>.json) still loads.
"""
import json
import os

import tinygrad_seq as ts
from tinygrad_seq.nn.seq2seq import Seq2Seq

KIND = "tinygrad_seq.seq2seq"


def save_checkpoint(model, task, path, metrics, optimizer=None, progress=None):
    """Write the checkpoint to `path` (a .npz file; a path without an extension gets .npz)
    atomically: the previous file stays intact until the new one is complete."""
    path = checkpoint_path(path)
    ts.save({"kind": KIND, "task": task.name, "model": model.state_dict(), "config": dict(model.config),
             "src_vocab": json.loads(task.src_vocab.to_json()), "tgt_vocab": json.loads(task.tgt_vocab.to_json()),
             "metrics": metrics, "optimizer": optimizer.state_dict() if optimizer is not None else None,
             "progress": progress}, path)
    return path


def checkpoint_path(path):
    path = os.fspath(path)
    return path if os.path.splitext(path)[1] else path + ".npz"


def read_checkpoint(path):
    """-> the checked checkpoint dict; `path` may be the file or its stem."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    ck = ts.load(path)
    if isinstance(ck, dict) and ck.get("kind") != KIND:
        stem = os.path.splitext(path)[0]
        if os.path.exists(stem + ".json") and "kind" not in ck:   # the two-file layout
            with open(stem + ".json") as f:
                meta = json.load(f)
            ck = dict(meta, kind=KIND, model=ck, optimizer=None, progress=None)
    if not isinstance(ck, dict) or ck.get("kind") != KIND:
        raise ValueError(f"{path} is not a seq2seq checkpoint (train one with `tinygrad-seq seq2seq`)")
    for key in ("task", "model", "config", "src_vocab", "tgt_vocab"):
        if key not in ck:
            raise ValueError(f"{path}: corrupt seq2seq checkpoint: no {key!r} entry")
    if ck["task"] not in ("dates", "reverse"):
        raise ValueError(f"{path}: corrupt seq2seq checkpoint: unknown task {ck['task']!r}")
    if not isinstance(ck["config"], dict):
        raise ValueError(f"{path}: corrupt seq2seq checkpoint: its model settings are not a dict")
    return ck


def build_model(path, ck, device="cpu"):
    """The Seq2Seq a checked checkpoint describes, with its weights, on `device`."""
    try:
        model = Seq2Seq(**ck["config"])
        model.load_state_dict(ck["model"])
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: the weights do not fit the model its settings describe: "
                         f"{e.args[0] if e.args else e}") from None
    return model.to(device)
