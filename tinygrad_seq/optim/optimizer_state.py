"""Per-parameter optimizer state as torch keeps it: `optimizer.state[p]` is a dict of Tensors
(moments on the parameter's device and dtype; `step` a 0-d CPU tensor of torch's scalar dtype)
and plain numbers (SparseAdam's int step, LBFGS's counters).

The update rules keep their numeric paths on arrays: each step reads `state[name].array`, the
Tensor's own memory (Tensor._wrap shares it, no copy), so an in-place write by the program
(`state['exp_avg'].zero_()`) or a replaced entry (`state['exp_avg'] = ts.zeros_like(p)`, or
`v.to(device)` on resume) is what the next step uses, as in torch.

Checkpoints follow torch: state_dict() hands out these live dicts; load_state_dict casts each
saved value with .to(p's dtype, p's device), which returns a Tensor that already matches
itself (no copy), and leaves `step` as it was saved.
"""
import numpy as np

from tinygrad_seq import dtypes as _dtypes
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.errors import ShapeMismatch


def scalar_dtype():
    """torch's _get_scalar_dtype(): the dtype of step counters and NAdam's mu_product."""
    return np.float64 if _dtypes.get_default_dtype() == np.float64 else np.float32


def new_scalar(value=0.0):
    """A 0-d CPU tensor of the scalar dtype (torch's torch.tensor(value, dtype=_get_scalar_dtype()))."""
    return Tensor._wrap(np.array(value, scalar_dtype()), "cpu")


def state_tensor(array, p):
    """array (a backend array on p's device) as a state Tensor sharing its memory."""
    return Tensor._wrap(array, p.device)


def count_step(state):
    """state['step'] += 1 in place, as torch's `step_t += 1`; returns the new count as a float.
    A step the program moved to another device is counted there; a plain number (a state dict
    of an old format) becomes a 0-d tensor, as torch's __setstate__ makes it."""
    step = state["step"]
    if isinstance(step, Tensor):
        a = step.array
        if type(a) is np.ndarray:   # the usual case: a 0-d CPU array, written in place
            # the sum of a float32 or float64 count and 1 is exact in a Python float, so storing
            # it rounds as torch's step_t += 1 does (a ufunc on a 0-d array costs 10x more)
            a[()] = a.item() + 1
            return a.item()
        step.add_(1)
        return float(step.item())
    state["step"] = new_scalar(float(step) + 1)
    return float(step) + 1


def scalar_value(t):
    """The number a 0-d state tensor holds (on any device)."""
    a = t.array
    if type(a) is np.ndarray or isinstance(a, np.generic):
        return float(a)
    return float(t.item())


def set_scalar(t, value):
    """Write value into 0-d state tensor t in place, rounded to its dtype."""
    if t.device == "cpu":
        t._shared_array()[...] = value
    else:
        t.fill_(value)


def live_state(optimizer, index):
    """torch's packed state: {parameter index: the optimizer's own state dict of it}, in the
    order the state was made. The dicts (and their tensors) ARE the optimizer's: a later step
    shows in them. An entry whose key is not a Tensor (`optimizer.state["note"] = 1`) is kept
    under its own key, as torch keeps it; one of a Tensor no group holds is left out."""
    return {(index[id(k)] if isinstance(k, Tensor) else k): st for k, st in optimizer.state.items()
            if not isinstance(k, Tensor) or id(k) in index}


def saved_state(state_dict, flat):
    """{parameter index: {name: value}} of a state dict: PyTorch's nested form, or the flat
    'state.<i>.<name>' keys of the form earlier versions saved."""
    if "state" in state_dict and "param_groups" in state_dict:
        state = state_dict["state"]
        if not isinstance(state, dict):
            raise TypeError(f"loaded state dict's 'state' must be a dict of parameter index -> state, "
                            f"got {type(state).__name__}")
        return {_state_key(i): st for i, st in state.items()}
    out = {}
    for k, v in flat.items():
        if k.startswith("state."):
            _, idx, name = k.split(".", 2)
            out.setdefault(int(idx), {})[name] = v
    return out


def _state_key(key):
    """A saved state key: a parameter index as an int (also "3", as a JSON round trip leaves it);
    any other key (torch keeps state that is not a parameter's) as it is."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    return key


def cast_state_value(optimizer, p, idx, name, value, step_kind):
    """A saved state value as load_state_dict keeps it (torch's Optimizer._cast):
    dicts and lists cast element by element; numbers, strings and None as they are; a Tensor
    cast with .to(p's dtype when p is floating, p's device), so a matching one is kept, not
    copied. numpy arrays and another library's tensors become Tensors first (copies).
    `step` is kept as saved (torch), a number becoming a 0-d tensor of the scalar dtype when
    step_kind is "tensor" (torch's __setstate__) and an int when it is "int" (SparseAdam).
    An optimizer of ours checks each moment's shape (optimizer._state_shape)."""
    if isinstance(value, dict):
        return {k: cast_state_value(optimizer, p, idx, k, v, step_kind) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(cast_state_value(optimizer, p, idx, None, v, step_kind) for v in value)
    if name == "step" and step_kind is not None:
        return _saved_step(value, step_kind)
    if name in setstate_rules(type(optimizer))[1] and isinstance(value, (int, float)) and not isinstance(value, bool):
        return new_scalar(float(value)).to(device=p.device)   # NAdam's mu_product, ASGD's eta and mu
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    t = value if isinstance(value, Tensor) else Tensor._wrap(np.array(_host_array(value), copy=True), "cpu")
    if step_kind is not None and name is not None:
        expected = optimizer._state_shape(p, name)
        if expected is not None and tuple(t.shape) != tuple(expected):
            raise ShapeMismatch(f"loaded state {name!r} of parameter {idx} has shape {tuple(t.shape)}, "
                             f"expected {tuple(expected)} for a parameter of shape {tuple(p.shape)}")
    return t.to(dtype=p.dtype if p.dtype.kind == "f" else None, device=p.device)


def _saved_step(value, step_kind):
    if step_kind == "int":
        return int(value.item() if hasattr(value, "item") else value)
    if isinstance(value, Tensor):   # torch keeps a saved step as it is
        return value
    if isinstance(value, (bool, int, float)):   # an old format's number: torch's __setstate__ tensor
        return new_scalar(float(value))
    arr = np.asarray(_host_array(value))
    if arr.dtype.kind == "f" and arr.shape == ():   # another library's 0-d tensor: its dtype kept
        return Tensor._wrap(np.array(arr, copy=True), "cpu")
    return new_scalar(float(arr.reshape(()).item()))


def _host_array(v):
    """A numpy array of v: a torch tensor, a numpy array or scalar."""
    if not isinstance(v, np.ndarray) and hasattr(v, "detach") and hasattr(v, "cpu"):   # a torch tensor
        return v.detach().cpu().numpy()
    return np.asarray(v)


# what each torch optimizer's __setstate__ (run by its load_state_dict) does to a loaded state:
# the group options it sets where the saved group lacks them (a state dict of an older torch),
# and the per-parameter states besides `step` it turns from a number into a 0-d tensor
_FLAGS = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
_ADAM = dict(amsgrad=False, maximize=False, foreach=None, capturable=False, differentiable=False,
             decoupled_weight_decay=False, fused=None)
_SETSTATE_RULES = {
    "SGD": (dict(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False), ()),
    "Adam": (_ADAM, ()), "AdamW": (_ADAM, ()),
    "Adagrad": (dict(foreach=None, maximize=False, differentiable=False, fused=None), ()),
    "Adadelta": (_FLAGS, ()), "Adamax": (_FLAGS, ()), "Rprop": (_FLAGS, ()),
    "ASGD": (_FLAGS, ("eta", "mu")),
    "NAdam": (dict(_FLAGS, decoupled_weight_decay=False), ("mu_product",)),
    "RAdam": (dict(_FLAGS, decoupled_weight_decay=False), ()),
    "RMSprop": (dict(_FLAGS, momentum=0, centered=False), ()),
    "Adafactor": (dict(foreach=None), ()),
}


def setstate_rules(cls):
    """(group option defaults, number states) of torch's __setstate__ for optimizer class cls, or
    of the library optimizer it subclasses (a subclass inherits torch's __setstate__)."""
    for c in cls.__mro__:
        if c.__module__.startswith("tinygrad_seq.optim") and c.__name__ in _SETSTATE_RULES:
            return _SETSTATE_RULES[c.__name__]
    return {}, ()
