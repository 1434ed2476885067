"""Module.state_dict / load_state_dict and their hooks, as torch.nn.Module's (a mixin of Module).

state_dict walks the modules as torch's does (each module's parameters, then its persistent
buffers, then its children under `prefix + name + "."`), so keys, order, the `_metadata`
attribute ({prefix without its last char: {"version": cls._version}}) and the hooks' calls
match. load_state_dict walks them as torch's does too: each module's _load_from_state_dict (its
load pre-hooks, then its own entries; a subclass may override it) gets only the keys under its
prefix, then its children, then its load post-hooks; the key mismatches and size mismatches are
raised together at the end. A failed load changes nothing: the writes are undone first
(state_load.py).
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from tinygrad_seq.errors import KeyMismatch, ShapeMismatch
from tinygrad_seq.size import Size
from tinygrad_seq.state_array import state_array
from tinygrad_seq.nn import state_load
from tinygrad_seq.nn.module_hooks import HookHandle, WrappedHook
from tinygrad_seq.nn.lazy_parameter import UninitializedTensorMixin


_EXTRA_STATE_KEY_SUFFIX = "_extra_state"   # torch's key for get_extra_state()'s object


def _overrides(module, name):
    """torch's test: the module's class defines its own get_extra_state / set_extra_state."""
    return getattr(type(module), name, None) is not getattr(StateDictMixin, name)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: torch's namedtuple of the missing and unexpected keys."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


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
        error_msgs) before this module's entries are loaded (with_module: module first, held by
        a weak reference, as torch's)."""
        return HookHandle(self._load_state_dict_pre_hooks, WrappedHook(hook, self) if with_module else hook)

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
                destination[prefix + k] = t if keep_vars else state_array(t.numpy(), of_module=True)
        kept_out = self._non_persistent_buffers_set
        for k, t in self._buffers.items():
            if t is not None and k not in kept_out:
                destination[prefix + k] = t if keep_vars else state_array(t.numpy(), of_module=True)
        if _overrides(self, "get_extra_state"):   # torch's: whatever object it returns, as is
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def get_extra_state(self):
        """torch's hook for state beyond parameters and buffers: a subclass that defines it gets
        its return value saved in state_dict() under "<prefix>_extra_state" (and should define
        set_extra_state to load it). Module's own is never called."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called. "
                           "Please file an issue at https://github.com/pytorch/pytorch/issues/new?"
                           "template=bug-report.yml to report this bug.")

    def set_extra_state(self, state):
        """torch's: load_state_dict passes a subclass that defines it its "<prefix>_extra_state"
        entry (strict: missing is an error; an entry for a module without it is unexpected)."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called. "
                           "Please file an issue at https://github.com/pytorch/pytorch/issues/new?"
                           "template=bug-report.yml to report this bug.")

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """OrderedDict name -> numpy copy of every parameter and persistent buffer (PyTorch's
        keys; a StateArray: it also takes clone(), cpu(), size(dim), numel(), as torch's values);
        keep_vars=True gives the Tensors themselves; prefix is put before every key as given
        (torch's: "m" gives "mweight"); destination (a dict) is filled and returned. A module
        whose class defines get_extra_state adds "<prefix>_extra_state": the object it returns."""
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
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """torch's: load this module's own parameters and persistent buffers (not its
        children's) from state_dict (keys under prefix), after its load pre-hooks; a subclass
        may override it (with _save_to_state_dict) to keep its own format. Problems go into the
        lists: keys missing / unexpected (strict), error_msgs (a wrong shape). A one-element 1-D
        entry loads into a 0-d tensor (torch's rule for old checkpoints);
        local_metadata["assign_to_params_buffers"] (load_state_dict(assign=True)) takes the
        checkpoint's tensors as the parameters instead of copying into them."""
        state_load.fill_num_batches_tracked(self, state_dict, prefix, local_metadata)
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        kept_out = self._non_persistent_buffers_set
        local_state = {k: t for k, t in self._parameters.items() if t is not None}
        local_state.update((k, t) for k, t in self._buffers.items() if t is not None and k not in kept_out)
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, t in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            if isinstance(t, UninitializedTensorMixin):   # a lazy module's placeholder, loaded a placeholder
                continue
            value = (state_load.as_tensor if assign else state_load.as_array)(key, state_dict[key])
            if len(t.shape) == 0 and tuple(value.shape) == (1,):
                value = value.reshape(())
            if tuple(value.shape) != tuple(t.shape):   # torch's message (raised even when strict=False), + tuples
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {Size(value.shape)!r} "
                                  f"from checkpoint, the shape in current model is {Size(t.shape)!r} "
                                  f"(checkpoint {tuple(value.shape)}, model {tuple(t.shape)}).")
                continue
            try:
                if assign:
                    state_load.assign_to(self, name, t, value)
                else:
                    state_load.copy_into(t, value)
            except Exception as ex:   # torch's: reported with the others
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model are '
                                  f"{Size(t.shape)!r} and whose dimensions in the checkpoint are "
                                  f"{Size(value.shape)!r}, an exception occurred : {ex.args}.")
        extra_state_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if _overrides(self, "set_extra_state"):
            if extra_state_key in state_dict:
                self.set_extra_state(state_dict[extra_state_key])
            elif strict:
                missing_keys.append(extra_state_key)
        elif strict and extra_state_key in state_dict:
            unexpected_keys.append(extra_state_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_state_key:
                    head, dot, _ = key[len(prefix):].partition(".")
                    if (head not in self._modules) if dot else (head not in local_state):
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Load arrays (numpy, array-likes, Tensors, torch tensors) into the parameters and
        persistent buffers, as torch's: each module's _load_from_state_dict gets the keys under
        its prefix, then its children theirs, then its load post-hooks run. assign=True takes
        the given tensors as the parameters (their dtype and memory; requires_grad kept).
        A failed load changes nothing: the writes made are undone before the error is raised
        (state_load.py)."""
        if not isinstance(state_dict, Mapping) and not (hasattr(state_dict, "keys") and
                                                        hasattr(state_dict, "__getitem__")):
            raise TypeError(f"load_state_dict for {type(self).__name__}: expected a dict of name -> array "
                            f"(a state_dict()), got {type(state_dict).__name__}")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict((k, state_dict[k]) for k in state_dict.keys())   # a copy the hooks may change
        if metadata is not None:
            state_dict._metadata = metadata
        missing, unexpected, error_msgs = [], [], []

        def load(module, local_state_dict, prefix):
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True, missing, unexpected,
                                         error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)},
                         child_prefix)
            incompatible = _IncompatibleKeys(missing, unexpected)   # the hooks may change the lists in place
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:   # torch's AssertionError
                    raise AssertionError("Hooks registered with ``register_load_state_dict_post_hook`` are not "
                                         "expected to return new values, if incompatible_keys need to be "
                                         "modified, it should be done inplace.")

        with state_load.UndoLog() as log:
            try:
                load(self, state_dict, "")
                key_msgs = state_load.key_messages(missing, unexpected) if strict else []
                if key_msgs or error_msgs:
                    self._raise_load_errors(key_msgs + error_msgs, keys=bool(key_msgs))
            except BaseException:
                log.rollback()
                raise
        return _IncompatibleKeys(missing, unexpected)

    def _raise_load_errors(self, messages, keys):
        """torch's error: every problem on a line of its own (KeyMismatch where a key is missing
        or unexpected, ShapeMismatch for size mismatches alone, RuntimeError for hooks' messages)."""
        text = f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(messages)
        if keys:
            raise KeyMismatch(text)
        raise ShapeMismatch(text) if any(m.startswith("size mismatch") for m in messages) else RuntimeError(text)

