"""The writes of Module._load_from_state_dict (module_state.py) and the log that undoes them.

torch's load_state_dict writes module by module as it walks the tree, so a load that fails
(a wrong shape, a missing key found later) leaves the modules before it written. Here every
write of the default loader is logged while a load_state_dict runs (copy: the old values;
assign: the old registries), and a failed load undoes them newest first: a failed load
changes nothing (API.md). Writes a custom _load_from_state_dict makes itself are not logged.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.nn.parameter import Parameter

_active = threading.local()   # .undo: the running load_state_dict's undo list (callables), or None


class UndoLog:
    """`with UndoLog() as log:` makes log.undo the active list for the writes below; a nested
    load_state_dict's log joins its caller's when it succeeds. log.rollback() undoes them."""

    def __enter__(self):
        self.outer = getattr(_active, "undo", None)
        self.undo = _active.undo = []
        return self

    def __exit__(self, exc_type, exc, tb):
        _active.undo = self.outer
        if exc_type is None and self.outer is not None:
            self.outer.extend(self.undo)   # the caller's failure undoes these too
        return False

    def rollback(self):
        for undo in reversed(self.undo):
            undo()
        self.undo.clear()


def _log(undo):
    log = getattr(_active, "undo", None)
    if log is not None:
        log.append(undo)


def as_array(key, value):
    """A checkpoint value (numpy, array-like, Tensor, torch tensor) as a numeric numpy array."""
    if isinstance(value, Tensor):
        value = value.numpy()
    elif not isinstance(value, np.ndarray) and hasattr(value, "detach") and hasattr(value, "cpu"):  # torch's
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"load_state_dict: value for {key!r} is not numeric ({arr.dtype})")
    return arr


def as_tensor(key, value):
    """A checkpoint value for assign=True: a Tensor as itself; anything else as a Tensor over a
    numeric array of it, its dtype kept (torch's assign keeps the checkpoint's dtype)."""
    if isinstance(value, Tensor):
        return value
    arr = as_array(key, value)
    if not arr.flags.writeable:
        arr = arr.copy()
    return Tensor._wrap(np.asarray(arr), "cpu")


def copy_into(tensor, arr):
    """torch's param.copy_(input_param): arr (tensor's shape) cast into tensor's memory, so views
    of it, .data and an optimizer's references see the values."""
    dst = tensor.array
    if type(dst) is np.ndarray and dst.flags.writeable and dst.shape == arr.shape:
        if getattr(_active, "undo", None) is not None:
            old = dst.copy()
            _log(lambda: (np.copyto(dst, old), _bump(tensor)))
        np.copyto(dst, arr, casting="unsafe")
    else:   # a device array, or a read-only one: a new array of the tensor's dtype
        old = dst
        _log(lambda: (setattr(tensor, "array", old), _bump(tensor)))
        tensor.array = _device.backend(tensor.device).asarray(np.array(arr, dtype=tensor.dtype, copy=True))
    _bump(tensor)


def _bump(tensor):
    tensor._version += 1


def assign_to(module, name, old, value):
    """torch's assign=True: value becomes module.<name> (a parameter's requires_grad kept: a
    Tensor value is wrapped in a Parameter sharing its memory)."""
    if isinstance(old, Parameter):
        if isinstance(value, Parameter):
            value.requires_grad_(old.requires_grad)
        else:
            value = Parameter(value, requires_grad=old.requires_grad)
    registries = (module._parameters, module._buffers)
    saved = [OrderedDict(r) for r in registries], set(module._non_persistent_buffers_set)
    setattr(module, name, value)

    def undo():
        for registry, before in zip(registries, saved[0]):
            registry.clear()
            registry.update(before)
        module._non_persistent_buffers_set.clear()
        module._non_persistent_buffers_set.update(saved[1])
    _log(undo)


def fill_num_batches_tracked(module, state_dict, prefix, local_metadata):
    """torch's _NormBase._load_from_state_dict: a state dict of a version before 2 (a plain dict
    has none) may lack a batch norm's num_batches_tracked; the module's own counter is taken."""
    counter = module._buffers.get("num_batches_tracked") if getattr(module, "track_running_stats", False) else None
    version = local_metadata.get("version")
    key = prefix + "num_batches_tracked"
    if counter is not None and key not in state_dict and (version is None or version < 2):
        state_dict[key] = counter


def key_messages(missing, unexpected):
    """torch's lines for missing and unexpected keys ("Missing key(s) in state_dict: "bias". ")."""
    out = []
    if missing:
        out.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
    if unexpected:
        out.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
    return out
