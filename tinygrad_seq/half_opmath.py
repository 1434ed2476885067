"""float16 computed as torch's CPU kernels compute it: in float32 (their "opmath" type), rounded
to float16 once at the end of the op.

numpy's float16 ufuncs round after every step, so a composite here (silu = x sigmoid(x), gelu's
tanh form, elu's alpha expm1(x), a norm's mean, divide and scale) rounded several times, and a
Python number met a float16 tensor rounded to float16 first (x * 0.1 multiplied by 0.09998):
1-3 units in the last place off torch's values, and up to 2,000 where a step cancelled
(gelu(-4, approximate="tanh") gave -0.0 for torch's -7.0e-05; torch 2.13, 2026-12-06).
"""
import numpy as np

from tinygrad_seq.grad_fn_names import named

HALF = np.dtype(np.float16)   # numpy's native float16 dtype, one object: the hot paths test `is HALF`


def opmath(t, fn, name=None):
    """fn(t); for a float16 t computed on t.float() and rounded to float16 once (the casts are
    differentiable: the gradient is computed in float32 and rounded once too). The result's node
    is called `name` where given."""
    out = fn(t) if t.dtype != HALF else fn(t.float()).to(dtype=HALF)
    return out if name is None else named(out, name)


def opmath_array(a, fn):
    """fn(a) on arrays: for float16 computed on float32 and rounded once."""
    if getattr(a, "dtype", None) != HALF:
        return fn(a)
    return fn(a.astype(np.float32)).astype(HALF)


def half_times_scalar(t, other, op, reverse):
    """half_times_number for what torch takes as a scalar beside a float16 tensor: a numpy number
    or a 0-d floating tensor on the CPU that needs no gradient (beside a 0-d float16 tensor it is
    a tensor of the same rank: they promote); None for anything else."""
    if isinstance(other, (np.floating, np.integer)) and not isinstance(other, np.bool_):
        return half_times_number(t, other.item(), op, reverse)
    array = getattr(other, "array", None)
    if (type(array) is np.ndarray and array.ndim == 0 and array.dtype.kind == "f" and not other.requires_grad
            and getattr(other, "device", None) == "cpu" and t.ndim):
        return half_times_number(t, array.item(), op, reverse)
    return None


def half_times_number(t, number, op, reverse):
    """t * number, number * t, t / number or number / t for a float16 t and a Python number, as
    torch's CPU kernels: the number kept in float32 (torch rounds it to float16 only for add and
    sub), the product rounded once; number / t is torch's reciprocal(t) * number."""
    if op == "mul":
        return named((t.float() * number).to(dtype=HALF), "MulBackward0")
    if not reverse:
        return named((t.float() / number).to(dtype=HALF), "DivBackward0")
    reciprocal = (1.0 / t.float()).to(dtype=HALF)   # torch's reciprocal(t), a float16 tensor
    return named(reciprocal if number == 1 else (reciprocal.float() * number).to(dtype=HALF), "MulBackward0")


def in_float32(fn, *tensors):
    """fn(*tensors) for float16 tensors, computed on their float32 copies and rounded once, its
    node named as fn's own (a Linear's product and bias: torch's addmm adds the bias before it
    rounds, where two float16 ops rounded twice)."""
    out = fn(*(None if t is None else t.float() for t in tensors))
    node = out.grad_fn
    return named(out.to(dtype=HALF), node.name()) if node is not None else out.to(dtype=HALF)


def rounded_once(graph_fn, *tensors, name=None):
    """graph_fn(*tensors) for float16 tensors (None allowed) with the value of graph_fn on their
    float32 copies rounded once, but graph_fn's own float16 gradient: where torch's forward rounds
    once and its backward rounds at each step as graph_fn does (a Conv1d's or a LayerNorm's bias,
    lerp's weight), out = graph + (exact - graph), the difference outside the graph. Its node is
    called `name`, by default graph_fn's last node's name."""
    from tinygrad_seq.autograd import is_grad_enabled, no_grad
    with no_grad():
        exact = graph_fn(*(None if t is None or t.dtype != HALF else t.float() for t in tensors)).to(dtype=HALF)
    if not is_grad_enabled() or not any(t is not None and t.requires_grad for t in tensors):
        return exact
    out = graph_fn(*tensors)
    name = name or (out.grad_fn.name() if out.grad_fn is not None else None)
    fixed = out + (exact - out.detach())   # exact: both float16 and a unit or two apart
    return fixed if name is None else named(fixed, name)



def times_alpha(t, other, alpha, op):
    """t.add(other, alpha=alpha) / t.sub(...) for float16 tensors: alpha rounded to float16, then
    computed in float32 and rounded once, as torch's vectorised loop does (its element loop, which
    takes a non-contiguous tensor and a contiguous one's last elements past a multiple of the
    vector width, rounds other * alpha first: there ours differs by a unit). (result, other):
    the result for float16 tensors, else (None, other * alpha) for the caller's add / sub."""
    if op == "sub" and getattr(other, "dtype", None) == np.bool_ and hasattr(other, "array"):
        return None, other   # (unscaled: sub then refuses the bool tensor, as torch's)
    if t.dtype != HALF or getattr(other, "dtype", None) != HALF or isinstance(alpha, bool):
        if getattr(other, "dtype", t.dtype) != t.dtype and other.dtype.kind in "biu" and hasattr(other, "array"):
            from tinygrad_seq.tensor_math import _promote   # (tensor_math imports this module)
            other = _promote(t, other)[1]   # in the result's dtype first: an int8 + bool * 2 stays int8
        return None, other * alpha
    a = float(np.float16(alpha))
    return opmath(t, lambda u: u.add(other.float(), alpha=a) if op == "add" else u.sub(other.float(), alpha=a),
                  "AddBackward0" if op == "add" else "SubBackward0"), other
