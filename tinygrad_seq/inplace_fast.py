"""The short way for the in-place writes of training loops outside the graph: add_ / sub_ /
mul_ / div_ (and +=, -=, *=, /=) of a float CPU tensor by a Python number or by a tensor of its
own dtype whose shape broadcasts to it, and copy_ from a tensor of its dtype (EMA weights,
load_state_dict, `p.data.copy_(...)`), written by numpy straight into the tensor's memory.

InPlaceOps._write computes any in-place op out of place through the Tensor op, converts and checks
the result, then copies it in: ~30 us for a 64-element add_, against ~5 us for `x + 1`, which a
hand-written SGD step (`p.data.add_(p.grad, alpha=-lr)` per parameter) or a running sum pays on
every call. Here numpy's ufunc writes with out= (an operand that is part of the tensor raises
torch's error first; the same memory, `x.add_(x)`, numpy reads before it writes), in the same float arithmetic as
the out-of-place op (other * alpha first, then the op), so the values are the general path's bit
for bit. Everything else (a graph to record, an int or bool tensor, another dtype or device, a
shape that needs torch's error, a numpy scalar array, read-only memory) returns None and takes
the general path."""
import numpy as np

from tinygrad_seq import autograd
from tinygrad_seq.internal_overlap import check_no_partial_overlap

_UFUNCS = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.divide}
_NUMBER = (float, int)


def broadcasts_to(shape, target):
    """True when an operand of `shape` broadcasts to `target` without changing it (the written
    tensor's shape)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def arith_in_place(t, name, other, alpha=1):
    """t after t = t (op) alpha * other written in place, or None where the general path must run.
    alpha: add_ / sub_'s (a Python number; 1 for mul_ / div_)."""
    a = t.array
    if type(a) is not np.ndarray or a.dtype.kind != "f" or t.device != "cpu" or not a.flags.writeable:
        return None
    ta = type(alpha)
    if ta is not int and ta is not float:   # a bool or numpy alpha: torch's rules (Tensor.add)
        return None
    if a.dtype == np.float16 and (alpha != 1 or name == "mul_" or name == "div_"):
        return None   # computed in float32 and rounded once by the general path (half_opmath.py)
    grad_on = autograd.is_grad_enabled()
    to = type(other)
    if to is float or to is int:
        if grad_on and t.requires_grad:
            return None
        t._refuse_inplace()
        operand = np.array(other * alpha if alpha != 1 else other, a.dtype)   # as Tensor._binary wraps a number
    elif isinstance(other, autograd._Tensor):
        o = other.array
        if (type(o) is not np.ndarray or o.dtype != a.dtype or other.device != "cpu"
                or (grad_on and (t.requires_grad or other.requires_grad))):
            return None
        if o.shape != a.shape and not broadcasts_to(o.shape, a.shape):
            return None   # torch's error comes from the general path
        t._refuse_inplace()   # torch's leaf error first
        check_no_partial_overlap(t, other)   # torch's refusal of an operand that is part of t
        operand = o if alpha == 1 else np.multiply(o, np.array(alpha, a.dtype))
    else:
        return None
    if name == "div_":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):   # backend_cpu.div's quiet
            np.divide(a, operand, out=a)
    else:
        _UFUNCS[name](a, operand, out=a)
    t._record_write()
    t._sync_base()
    return t


def copy_in_place(t, src):
    """t after t.copy_(src) written by numpy (np.copyto, broadcasting src), or None where the
    general path must run: a graph to record, another dtype or device, a numpy scalar array,
    read-only memory, a shape that needs torch's error. The general copy_ clones src first and
    copies the clone in (two passes over the data, ~8x np.copyto for a 256x64 tensor)."""
    a = t.array
    if type(a) is not np.ndarray or t.device != "cpu" or not a.flags.writeable:
        return None
    s = src.array
    if type(s) is not np.ndarray or s.dtype != a.dtype or src.device != "cpu":
        return None
    if autograd.is_grad_enabled() and (t.requires_grad or src.requires_grad):
        return None
    if s.shape != a.shape and not broadcasts_to(s.shape, a.shape):
        return None
    t._refuse_inplace()   # torch's leaf error first
    check_no_partial_overlap(t, src)   # x[1:].copy_(x[:-1]): torch's RuntimeError
    np.copyto(a, s)
    t._record_write()
    t._sync_base()
    return t
