"""Module.state_dict / load_state_dict and their hooks, as torch.nn.Module's (a mixin of Module).

state_dict walks the modules as torch's does (each module's parameters, then its persistent
buffers, then its children under `prefix + name + "."`), so keys, order, the `_metadata`
attribute ({prefix without its last char: {"version": cls._version}}) and the hooks' calls
match. load_state_dict checks everything before writing anything, so a failed load (a wrong
shape, a missing key) changes nothing; only when load post-hooks are registered does a strict
key mismatch raise after the write, as torch's (the hooks may clear the mismatch first).
"""
from __future__ import annotations

import functools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.errors import KeyMismatch, ShapeMismatch
from tinygrad_seq.size import Size
from tinygrad_seq.state_array import state_array
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.nn.module_hooks import HookHandle
from tinygrad_seq.nn.lazy_parameter import UninitializedTensorMixin


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: torch's namedtuple of the missing and unexpected keys."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_array(key, v):
    """A checkpoint value (numpy, array-like, Tensor, torch tensor) as a numeric numpy array."""
    if isinstance(v, Tensor):
        v = v.numpy()
    elif not isinstance(v, np.ndarray) and hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor
        v = v.detach().cpu().numpy()
    arr = np.asarray(v)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"load_state_dict: value for {key!r} is not numeric ({arr.dtype})")
    return arr


class StateDictMixin:
    """state_dict, load_state_dict and the register_*state_dict*_hook methods of Module."""
    _version = 1   # torch's: saved in state_dict()._metadata; a layer whose format changed raises it

    def register_state_dict_pre_hook(self, hook):
        """hook(module, prefix, keep_vars) before this module's state_dict entries are made."""
        return HookHandle(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata) after this module's entries (its
        children's included) are in state_dict; it may change state_dict in place, and must
        return None."""
        hook._from_public_api = True
        return HookHandle(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook):
        """torch's older form of register_state_dict_post_hook: a returned dict replaces the
        state dict."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook that was "
                               "previously registered via register_state_dict_post_hook")
        return HookHandle(self._state_dict_hooks, hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs) before this module's entries are loaded (with_module: module first)."""
        return HookHandle(self._load_state_dict_pre_hooks,
                          functools.partial(hook, self) if with_module else hook)

    def register_load_state_dict_pre_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) before this module's entries are loaded."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook):
        """hook(module, incompatible_keys) after load_state_dict loaded this module (and its
        children); it may remove keys from incompatible_keys' lists in place, which strict
        loading then does not count."""
        return HookHandle(self._load_state_dict_post_hooks, hook)

    # ------------------------------------------------------------ saving
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for k, t in self._parameters.items():
            if t is not None:
                destination[prefix + k] = t if keep_vars else state_array(t.numpy())
        kept_out = self._non_persistent_buffers_set
        for k, t in self._buffers.items():
            if t is not None and k not in kept_out:
                destination[prefix + k] = t if keep_vars else state_array(t.numpy())

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """OrderedDict name -> numpy copy of every parameter and persistent buffer (PyTorch's
        keys; a StateArray: it also takes clone(), cpu(), size(dim), numel(), as torch's values);
        keep_vars=True gives the Tensors themselves; prefix is put before every key as given
        (torch's: "m" gives "mweight"); destination (a dict) is filled and returned."""
        if args:   # torch's old positional form state_dict(destination, prefix, keep_vars)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars][len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            elif result is not None:
                destination = result
        return destination

    # ------------------------------------------------------------ loading
    def _state_entries(self, prefix=""):
        """(key, tensor) of every parameter and persistent buffer, PyTorch's keys and order."""
        for mname, m in self.named_modules(prefix=prefix, remove_duplicate=False):
            kept_out = m._non_persistent_buffers_set
            for store in (m._parameters, m._buffers):
                for k, t in store.items():
                    if t is not None and not (store is m._buffers and k in kept_out):
                        yield (f"{mname}.{k}" if mname else k), t

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy arrays (numpy, array-likes, Tensors, torch tensors) into the parameters.
        Everything is checked before anything is written: a failed load changes nothing.
        assign (torch's: take the given tensors as the parameters) is accepted and copies the
        values as well, so references to the parameters (an optimizer's) stay valid."""
        if not isinstance(state_dict, Mapping) and not (hasattr(state_dict, "keys") and
                                                        hasattr(state_dict, "__getitem__")):
            raise TypeError(f"load_state_dict for {type(self).__name__}: expected a dict of name -> array "
                            f"(a state_dict()), got {type(state_dict).__name__}")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict((k, state_dict[k]) for k in state_dict.keys())
        missing, unexpected, error_msgs = [], [], []
        modules = list(self.named_modules(remove_duplicate=False))
        for mname, m in modules:   # torch's order: a module's pre-hooks before its children's
            prefix = mname + "." if mname else ""
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            for hook in m._load_state_dict_pre_hooks.values():
                hook(state_dict, prefix, local_metadata, strict, missing, unexpected, error_msgs)
        _fill_num_batches_tracked(modules, state_dict, metadata)
        own = OrderedDict(self._state_entries())
        missing += [k for k in own if k not in state_dict]
        unexpected += [k for k in state_dict if k not in own]
        post_hooks = any(m._load_state_dict_post_hooks for _, m in modules)
        staged = []
        for k, t in own.items():
            if k in state_dict:
                if isinstance(t, UninitializedTensorMixin):   # a lazy module's placeholder, loaded a placeholder
                    continue
                arr = _as_array(k, state_dict[k])
                if tuple(arr.shape) != t.shape:   # torch's message (raised even when strict=False), + tuples
                    error_msgs.append(f"size mismatch for {k}: copying a param with shape {Size(arr.shape)!r} "
                                      f"from checkpoint, the shape in current model is {Size(t.shape)!r} "
                                      f"(checkpoint {tuple(arr.shape)}, model {t.shape}).")
                    continue
                staged.append((t, arr.astype(t.dtype)))
        key_msgs = _key_messages(missing, unexpected) if strict and not post_hooks else []
        if key_msgs or error_msgs:   # checked before anything is written: a failed load changes nothing
            self._raise_load_errors(key_msgs + error_msgs, keys=bool(key_msgs))
        for t, arr in staged:
            dst = t.array
            if type(dst) is np.ndarray and dst.flags.writeable and dst.shape == arr.shape:
                np.copyto(dst, arr)   # into the tensor's memory, as torch's param.copy_: views and .data see it
            else:
                t.array = _device.backend(t.device).asarray(np.array(arr, copy=True))
            t._version += 1
        result = _IncompatibleKeys(missing, unexpected)
        for _, m in reversed(modules):   # torch's: children's post-hooks before their parent's
            for hook in m._load_state_dict_post_hooks.values():
                if hook(m, result) is not None:
                    raise RuntimeError("Hooks registered with ``register_load_state_dict_post_hook`` are not"
                                       "expected to return new values, if incompatible_keys need to be modified,"
                                       "it should be done inplace.")
        if strict and (missing or unexpected):
            self._raise_load_errors(_key_messages(missing, unexpected), keys=True)
        return result

    def _raise_load_errors(self, messages, keys):
        """torch's error: every problem on a line of its own (KeyMismatch where a key is missing
        or unexpected, ShapeMismatch for size mismatches alone, RuntimeError for hooks' messages)."""
        text = f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(messages)
        if keys:
            raise KeyMismatch(text)
        raise ShapeMismatch(text) if any(m.startswith("size mismatch") for m in messages) else RuntimeError(text)


def _key_messages(missing, unexpected):
    """torch's lines for missing and unexpected keys ("Missing key(s) in state_dict: "bias". ")."""
    out = []
    if missing:
        out.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
    if unexpected:
        out.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
    return out


def _fill_num_batches_tracked(modules, state_dict, metadata):
    """torch's _NormBase: a state dict of a version before 2 (a plain dict has none) may lack a
    batch norm's num_batches_tracked; the module's own counter is taken for it."""
    for mname, m in modules:
        counter = m._buffers.get("num_batches_tracked") if getattr(m, "track_running_stats", False) else None
        key = (mname + "." if mname else "") + "num_batches_tracked"
        version = None if metadata is None else metadata.get(mname, {}).get("version")
        if counter is not None and key not in state_dict and (version is None or version < 2):
            state_dict[key] = counter
