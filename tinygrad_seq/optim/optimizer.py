"""Optimizer: PyTorch's base class (param_groups, state, zero_grad, state dicts in PyTorch's form).

Updates run under no_grad on the parameters' raw arrays through their device backend
(tinygrad_seq.device.backend), in place, so parameter identity is kept and "cuda" parameters
never leave the device. Subclasses implement _update(B, p, g, state, group) for one parameter.
Hooks (step, state_dict, load_state_dict) live in optimizer_hooks.py.
"""
import collections
import copy
import warnings

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.leaf_grads import zero_in_place
from tinygrad_seq.autograd import enable_grad, no_grad
from tinygrad_seq.optim.optimizer_hooks import (OptimizerHooks, register_optimizer_step_post_hook,  # noqa: F401
                                                register_optimizer_step_pre_hook, required, with_step_hooks)
from tinygrad_seq.optim.optimizer_state import (cast_state_value, live_state, saved_state,  # noqa: F401
                                                scalar_dtype, setstate_rules, state_tensor)
from tinygrad_seq.tensor import Tensor


class Optimizer(OptimizerHooks):
    # torch's implementation keywords (foreach, fused, capturable, differentiable) this class
    # takes; none for an optimizer of yours, as torch adds none to its defaults
    _implementation_keywords = ()
    # what load_state_dict makes of a saved `step`: a 0-d tensor of the scalar dtype (torch's
    # optimizers), or an int (SparseAdam)
    _step_kind = "tensor"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._implementation_keywords and "__init__" in cls.__dict__:
            _spell_out_implementation(cls)

    def __init__(self, params, defaults, implementation=None):
        """implementation: torch's choices of update implementation (foreach, fused, capturable,
        differentiable) as a subclass received them; there is one implementation here, so they
        are only checked and kept in defaults and the param groups, as torch keeps them."""
        self._init_hooks()
        self.defaults = _in_torch_order(type(self), dict(defaults, **_implementation_flags(type(self), implementation or {})))
        if "lr" in self.defaults:
            self.defaults["lr"] = _as_lr(self.defaults["lr"])
        # parameter -> dict of its state, as torch's: Tensors on its device (the rules update
        # their arrays in place), a 0-d CPU tensor `step` (optimizer_state.py); a defaultdict(dict)
        # as torch's, so `state = self.state[p]` starts an entry
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)
        if self.defaults.get("fused") and self.defaults.get("foreach"):   # torch checks after the groups
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:   # torch's KeyError
            raise KeyError(f"param group {sorted(group)} has no 'params' entry")
        ps = group.get("params")
        if isinstance(ps, (set, frozenset)):   # torch's TypeError: a set's order changes between runs
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        ps = [ps] if isinstance(ps, Tensor) else list(ps if ps is not None else [])
        # (name, parameter) pairs (model.named_parameters()): torch 2.13 keeps the names as
        # param_names
        names = [p[0] for p in ps if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)]
        if names:
            if len(names) != len(ps):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            ps = [p[1] for p in ps]
            group["param_names"] = names
        for p in ps:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if p._ctx is not None and not group.get("differentiable", self.defaults.get("differentiable")):
                raise ValueError("can't optimize a non-leaf Tensor")   # (torch's differentiable steps take them)
        if len({id(p) for p in ps}) != len(ps):   # torch 2.13 warns and keeps them (a step updates twice)
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error (as in torch)", UserWarning, stacklevel=3)
        group["params"] = ps
        if "lr" in group:
            group["lr"] = _as_lr(group["lr"])
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        for g in self.param_groups:
            if ("param_names" in group) != ("param_names" in g):
                raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                                 f"{'with' if 'param_names' in group else 'without'} names to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in ps):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._init_group_state(group)

    def _init_group_state(self, group):
        """Hook for optimizers whose state exists before the first step (Adagrad)."""

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    zero_in_place(p)

    def step(self, closure=None):
        if self.defaults.get("differentiable"):   # Tensor ops under grad mode (SGD's: sgd_differentiable.py)
            return self._differentiable_step(closure)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        states = self.state
        with no_grad(), np.errstate(all="ignore"):   # an inf / nan gradient: torch's values, no numpy warning
            for group in self.param_groups:
                group = group_numbers(group)   # Tensor options (torch keeps them) as the numbers the rule reads
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.shape != p.shape:
                        raise RuntimeError(f"{type(self).__name__}: gradient of shape {p.grad.shape} "
                                           f"for a parameter of shape {p.shape}")
                    B = _device.backend(p.device)
                    g = p.grad.array
                    if group.get("maximize", False):
                        g = B.neg(g)
                    state = states.get(p)
                    try:
                        if state is None:   # an entry only once the rule keeps something (torch's SGD keeps none)
                            state = {}
                            self._update(B, p, g, state, group)
                            if state:
                                states[p] = state
                        else:
                            self._update(B, p, g, state, group)
                    except TypeError as e:   # an integer parameter (torch takes them) and a fractional update
                        if p.dtype.kind == "f":
                            raise
                        raise RuntimeError(f"{type(self).__name__}: the update of a {p.dtype} parameter is "
                                           f"fractional and can't be cast to {p.dtype} (torch's SGD takes "
                                           f"integer parameters with an integer lr and momentum)") from e
                    p._version += 1
        return loss

    def _update(self, B, p, g, state, group):
        raise NotImplementedError(f"{type(self).__name__} must define _update (the per-parameter rule)")

    # ------------------------------------------------------------ helpers for subclasses
    @staticmethod
    def _zeros_like(B, p):
        return B.zeros(p.shape, p.dtype)

    @staticmethod
    def _state_zeros(B, p, shape=None):
        """A state Tensor of zeros in p's dtype on p's device (p's shape unless given); the rules
        read and write its .array."""
        return state_tensor(B.zeros(tuple(p.shape) if shape is None else shape, p.dtype), p)

    def _state_array(self, B, p, state, name):
        """The array of state[name], a Tensor of zeros made first where the entry is missing or
        None (a group option turned on after the first step)."""
        t = state.get(name)
        if t is None:
            t = state[name] = self._state_zeros(B, p)
        return t.array

    @staticmethod
    def _lerp_(B, a, b, w):
        """a <- a + w (b - a) in place, evaluated as PyTorch's lerp kernel does."""
        diff = B.sub(b, a)
        new = B.add(a, B.mul(diff, w)) if w < 0.5 else B.sub(b, B.mul(diff, 1.0 - w))
        B.copy_into(a, new)
        return a

    # ------------------------------------------------------------ checkpoints
    def _indexed_params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self):
        """PyTorch's form: {"state": {i: {name: Tensor or number}}, "param_groups": [{option:
        value, ..., "params": [i, ...]}]}, i counting parameters over all groups in order. As
        torch's, the per-parameter dicts and their tensors are the optimizer's own (live: a later
        step shows in them); ts.save writes the whole dict as it is."""
        return self._state_dict_with_hooks(self._build_state_dict)

    def _build_state_dict(self):
        index = {id(p): i for i, p in enumerate(self._indexed_params())}
        groups, start = [], 0
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = list(range(start, start + len(group["params"])))
            groups.append(saved)
            start += len(group["params"])
        return {"state": live_state(self, index), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore from state_dict() output (PyTorch's nested {'state', 'param_groups'} form: ours,
        its ts.load round trip, or a torch optimizer's), or from the flat 'state.<i>.<name>' /
        'param_groups.<g>.<option>' dicts that earlier versions saved. Everything is checked
        before anything changes. Every saved group option comes back (strings and None too, as
        torch's); an option the saved group lacks takes torch's __setstate__ default
        (SGD's fused: False) or else keeps its current value; any other key the group holds
        (initial_lr, the program's own) goes, as torch's, unless the dict is the old flat form. State tensors are
        taken as torch takes them: cast with .to(the parameter's dtype and device), so a Tensor
        that already matches becomes the optimizer's own (not a copy); `step` as saved."""
        self._load_state_dict_with_hooks(state_dict, self._load_state_dict)

    def _load_state_dict(self, state_dict):
        if "param_groups" not in state_dict and not any(str(k).startswith("param_groups.") for k in state_dict):
            raise KeyError("param_groups")   # torch's (a model's state dict passed by mistake)
        flat = _flatten(state_dict)
        nested = _nested_groups(state_dict)
        n_groups = len(self.param_groups)
        saved_groups = sorted({int(k.split(".")[1]) for k in flat if k.startswith("param_groups.")})
        if saved_groups != list(range(n_groups)):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer has {n_groups}")
        id_map = {}
        new_groups = []
        for gi, group in enumerate(self.param_groups):
            key = f"param_groups.{gi}.params"
            if key not in flat:
                raise KeyError(f"loaded state dict is missing {key!r}")
            saved_ids = [int(i) for i in np.asarray(flat[key]).reshape(-1)]
            if len(saved_ids) != len(group["params"]):
                raise ValueError(f"loaded state dict contains a parameter group {gi} of "
                                 f"{len(saved_ids)} parameters, the optimizer's group has "
                                 f"{len(group['params'])}")
            id_map.update(zip(saved_ids, group["params"]))
            if nested is not None:
                opts = {name: _saved_option(v, group.get(name, self.defaults.get(name)))
                        for name, v in nested[gi].items() if name != "params"}
            else:
                opts = {}
                prefix = f"param_groups.{gi}."
                for k, v in flat.items():
                    name = k[len(prefix):]
                    # every numeric option comes back, also those a scheduler added (initial_lr, ...)
                    if k.startswith(prefix) and k != key and np.asarray(v).dtype.kind in "biuf":
                        opts[name] = _like(np.asarray(v), group.get(name, self.defaults.get(name)))
            new_groups.append(opts)
        # an optimizer of yours (its own step(), no _update) gets its state back as torch's
        # would (no step conversion, no shape checks)
        step_kind = None if type(self)._update is Optimizer._update else self._step_kind
        new_state = collections.defaultdict(dict)
        for idx, entry in saved_state(state_dict, flat).items():
            if not isinstance(idx, int):   # state that is no parameter's: kept as it is (torch's)
                new_state[idx] = entry
                continue
            if idx not in id_map:
                raise KeyError(f"loaded state dict has state for parameter {idx}, which no group holds")
            p = id_map[idx]
            new_state[p] = {name: cast_state_value(self, p, idx, name, v, step_kind) for name, v in entry.items()}
        for group, opts in zip(self.param_groups, new_groups):
            # torch's order: the saved options, then (kept here) any the saved group lacks, params last
            # (torch's __setstate__ defaults in place of the current values: SGD's fused loads as False)
            # (a torch-form dict replaces the group, as torch's: a key that is no option of the
            # optimizer, a scheduler's initial_lr or the program's own, goes unless saved)
            missing = {k: v for k, v in group.items() if k != "params" and (nested is None or k in self.defaults)}
            missing.update(setstate_rules(type(self))[0])
            merged = dict(opts, **{k: v for k, v in missing.items() if k not in opts})
            merged["params"] = group["params"]
            group.clear()
            group.update(merged)
        self.state = new_state

    def _state_shape(self, p, name):
        """The shape of state tensor `name` of parameter p (Adafactor's factored rows and columns
        differ); () for the 0-d ones (step counts, NAdam's mu_product, ASGD's eta and mu); an
        override may return None for a state whose shape a load does not check."""
        return () if name in _SCALAR_STATE else tuple(p.shape)

    def __repr__(self):
        # torch's text: a blank line between groups
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for k in sorted(group):
                if k != "params":
                    text += f"    {k}: {group[k]}\n"
        return text + ")"


Optimizer.step = with_step_hooks(Optimizer.step)   # subclasses' steps are wrapped by __init_subclass__


# the per-parameter states that are 0-d tensors: step counts, NAdam's momentum product,
# ASGD's eta and mu
_SCALAR_STATE = ("step", "mu_product", "eta", "mu")


def check_lr(lr):
    """torch's checks of an optimizer's lr: a Tensor of one element, not negative."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def group_numbers(group):
    """group as an update reads it: each 1-element Tensor option, and each Tensor item of a tuple
    option (Adam's betas, Adafactor's eps), as its Python number (lr as a float), as torch's steps
    read them (_get_value / Scalar arguments); the group itself keeps the Tensors the user gave
    (torch's param_groups do). group unchanged (not copied) where it holds no Tensor option."""
    def number(k, v):
        if isinstance(v, Tensor):
            if v.numel() != 1:
                raise ValueError(f"Tensor {k} must be 1-element, got a Tensor of shape {tuple(v.shape)}")
            return float(v.item()) if k == "lr" else v.item()
        if isinstance(v, tuple) and any(isinstance(x, Tensor) for x in v):
            return tuple(number(f"{k}[{i}]", x) for i, x in enumerate(v))
        return v
    read = {k: (v if k in ("params", "param_names") else number(k, v)) for k, v in group.items()}
    return group if all(read[k] is group[k] for k in group) else read


def _as_lr(lr):
    """A Tensor lr stays one (torch keeps it; schedulers then compute in its dtype); another
    library's 0-d tensor becomes its number."""
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        return lr
    if lr is not None and not isinstance(lr, (int, float)) and hasattr(lr, "item"):
        return float(lr.item())
    return lr


def _nested_groups(sd):
    """The saved param groups of PyTorch's nested form, or None for a flat dict."""
    if "state" in sd and "param_groups" in sd and isinstance(sd["param_groups"], (list, tuple)):
        return sd["param_groups"]
    return None


def _saved_option(v, current):
    """A saved group option as the group keeps it: numbers, strings, None, tuples as they were
    (copies); a Tensor as a Tensor (torch keeps a saved tensor lr); arrays as current's Python type."""
    if isinstance(v, Tensor):
        return v.detach().clone()
    if isinstance(v, np.ndarray) or (hasattr(v, "detach") and hasattr(v, "cpu")):   # numpy, torch
        arr = _to_numpy(v)
        return Tensor(np.array(arr)) if isinstance(current, Tensor) else _like(arr, current)
    if isinstance(v, list) and isinstance(current, tuple):
        return tuple(v)
    return copy.deepcopy(v)


def _like(arr, current):
    """Turn a saved option array back into the Python type the option has now."""
    if isinstance(current, bool) or arr.dtype == np.bool_:
        return bool(arr)
    if isinstance(current, tuple) or (current is None and arr.ndim == 1):
        return tuple(x.item() for x in arr.reshape(-1))
    if isinstance(current, int) and arr.dtype.kind in "iu":
        return int(arr)
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _to_numpy(v):
    if isinstance(v, Tensor):
        return v.numpy()
    if not isinstance(v, np.ndarray) and hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor
        return v.detach().cpu().numpy()
    return np.asarray(v)


def _flatten(sd):
    """PyTorch's nested {'state', 'param_groups': [...]} -> our flat 'param_groups.<g>.<option>'
    keys (the state is read by optimizer_state.saved_state); a flat dict as it is."""
    if not ("state" in sd and "param_groups" in sd and isinstance(sd["param_groups"], (list, tuple))):
        return dict(sd)
    flat = {}
    for gi, group in enumerate(sd["param_groups"]):
        for k, v in group.items():
            if v is not None and not isinstance(v, str):
                flat[f"param_groups.{gi}.{k}"] = _to_numpy(v)
    return flat


_IMPLEMENTATION_FLAGS = dict(foreach=None, capturable=False, differentiable=False, fused=None)

# torch 2.13's order of each optimizer's defaults (so of param_groups and state_dict()), where it
# is not the algorithm's keywords then the implementation flags: a printed group reads as torch's
_TORCH_KEY_ORDER = {
    "ASGD": ("weight_decay", "foreach", "maximize", "differentiable", "capturable"),
    "Adadelta": ("maximize", "capturable", "foreach", "differentiable"),
    "Adagrad": ("initial_accumulator_value", "foreach", "maximize", "differentiable", "fused"),
    "Adam": ("maximize", "foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"),
    "AdamW": ("maximize", "foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"),
    "Adamax": ("weight_decay", "foreach", "maximize", "differentiable", "capturable"),
    "RAdam": ("maximize", "foreach", "capturable", "decoupled_weight_decay", "differentiable"),
    "RMSprop": ("lr", "momentum", "alpha", "eps", "centered", "weight_decay", "capturable", "foreach", "maximize",
                "differentiable"),
}


def _in_torch_order(cls, defaults):
    """defaults with the keys _TORCH_KEY_ORDER names for cls (or the library optimizer it
    subclasses) moved to the end in that order."""
    for c in cls.__mro__:
        tail = _TORCH_KEY_ORDER.get(c.__name__) if c.__module__.startswith("tinygrad_seq.optim") else None
        if tail:
            return {**{k: v for k, v in defaults.items() if k not in tail},
                    **{k: defaults[k] for k in tail if k in defaults}}
    return defaults


def _implementation_flags(cls, given):
    """torch's implementation keywords this optimizer class takes (its _implementation_keywords),
    with their defaults; capturable (CUDA graphs) and differentiable (an update recorded for
    autograd) True raise, but differentiable for an optimizer with a _differentiable_step (SGD)."""
    name, takes = cls.__name__, cls._implementation_keywords
    unknown = sorted(set(given) - set(takes))
    if unknown:
        raise TypeError(f"{name}.__init__() got an unexpected keyword argument {unknown[0]!r}")
    flags = {k: given.get(k, _IMPLEMENTATION_FLAGS[k]) for k in takes}
    for key in ("differentiable", "capturable"):
        if flags.get(key) and not (key == "differentiable" and hasattr(cls, "_differentiable_step")):
            raise ValueError(f"{name}: {key}=True is not supported (one update implementation here); "
                             f"leave it False")
    return flags


def _spell_out_implementation(cls):
    """cls.__init__'s signature with its **implementation keywords spelled out (foreach=None,
    fused=None, ...), as torch's: programs test `'fused' in inspect.signature(optim.AdamW).parameters`."""
    import inspect
    sig = inspect.signature(cls.__init__)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    if len(params) == len(sig.parameters):
        return
    have = {p.name for p in params}
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=_IMPLEMENTATION_FLAGS[k])
               for k in cls._implementation_keywords if k not in have]
    cls.__init__.__signature__ = sig.replace(parameters=params)
