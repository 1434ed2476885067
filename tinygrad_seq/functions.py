"""torch's free functions (ts.tanh(x), ts.max(x, 1), ts.cat([...]), ts.where(c, a, b), ...): each
calls the Tensor method of the same name, so the two forms cannot drift apart."""
import builtins
import functools
import warnings

import numpy as np

from tinygrad_seq import ops, out_rules
from tinygrad_seq.argument_types import not_a_tensor, require_tensor_sequence
from tinygrad_seq.broadcast_errors import broadcast_shape, raise_if_mismatched
from tinygrad_seq.dim_alias import dim_from_axis
from tinygrad_seq.dim_arg import dim_int
from tinygrad_seq.errors import InvalidArgument, DTypeMismatch, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.int_convert import float_scalar, int_scalar
from tinygrad_seq.nonzero_diag_out import diag_into, nonzero_into
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.operator_functions import add, div, first_operand as _first_operand, mul, pow, rsub, sub
from tinygrad_seq.tensor_matmul import DEPRECATED_FREE, deprecated_free_args
from tinygrad_seq.join_checks import _check_join, _common_dtype
from tinygrad_seq.meshgrid import meshgrid  # noqa: F401
from tinygrad_seq.tensor_more import broadcast_tensors  # noqa: F401
from tinygrad_seq.type_info import finfo, iinfo  # noqa: F401  (torch.finfo / torch.iinfo)


def cat(tensors, dim=0, *, axis=None):
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "cat", 0)
    tensors = require_tensor_sequence(tensors, "cat")   # before .ndim is read: ts.cat(a, b), ts.cat([t, [1.]])
    empty = [t.array.shape == (0,) for t in tensors]   # torch joins all but these (or the first)
    if tensors and builtins.all(empty):   # only legacy empty tensors: torch takes any dim, gives (0,)
        dim = 0
    skip = frozenset(i for i, e in enumerate(empty) if e and (i or not builtins.all(empty))) if True in empty else ()
    d = _check_join([t for i, t in enumerate(tensors) if i not in skip] if skip else tensors, dim, "cat", False)
    return ops.Cat.apply(*_common_dtype(tensors), axis=d, skip=skip)


def stack(tensors, dim=0, *, axis=None):
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "stack", 0)
    tensors = require_tensor_sequence(tensors, "stack")
    d = _check_join(tensors, dim, "stack", True)
    return ops.Stack.apply(*_common_dtype(tensors), axis=d)


def where(condition, input=None, other=None):
    """where(cond, a, b): elementwise choice, differentiable in a and b; where(cond): the
    indices of the true elements, one index tensor per dimension."""
    if input is None and other is None:
        return tuple(Tensor(np.ascontiguousarray(i)) for i in np.nonzero(_as_array(condition)))
    ref = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else Tensor(input)
    if ref.dtype.kind in "iu":   # a Python int outside the tensor's dtype raises (u8 with -1: 255), as torch
        input, other = (int_scalar(v, ref.dtype) if type(v) is int else v for v in (input, other))
    elif ref.dtype.kind == "f" and ref.dtype != np.float16:   # and a number the float dtype would make inf
        # (float16 takes it as inf, as torch's where(mask, scores, -1e9) on float16 scores)
        input, other = (v if isinstance(v, Tensor) else float_scalar(v, ref.dtype) for v in (input, other))
    with np.errstate(over="ignore"):
        a, b = ref._other(input), ref._other(other)
    if a.dtype != b.dtype:
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(a, b)
    c = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if c.dtype == np.uint8:   # torch's deprecated uint8 condition: nonzero is true
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be "
                      "removed in a future version of PyTorch. Use a boolean condition instead.", UserWarning,
                      stacklevel=2)
        c = c != 0
    if c.dtype != np.bool_:
        raise DTypeMismatch(f"where expected condition to be a boolean tensor, but got a tensor with dtype {c.dtype}")
    broadcast_shape(c.shape, a.shape, b.shape)   # torch's RuntimeError when they do not broadcast
    return ops.Where.apply(a, b, cond=c)   # (broadcast in the node: autograd sums each gradient back)


def _as_array(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def nonzero(input, as_tuple=False, *, out=None):
    if out is not None:
        return nonzero_into(out, input, as_tuple)
    a = _as_array(input)
    if a.ndim == 0:   # torch: a 0-d tensor has [1, 0] (non-zero) or [0, 0] indices
        n = int(bool(a))
        return (Tensor(np.zeros(n, np.int64)),) if as_tuple else Tensor(np.zeros((n, 0), np.int64))
    idx = np.nonzero(a)
    if as_tuple:   # (numpy's are strided columns of one array; torch's each contiguous)
        return tuple(Tensor(np.ascontiguousarray(i)) for i in idx)
    # torch fills [ndim, N] and returns its transpose: [N, ndim] with strides (1, N)
    return Tensor(np.stack(idx, 0).T if idx else np.zeros((0, 0), np.int64))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):
    """max(x), max(x, dim) -> (values, indices), max(a, b) / max(a, other=b) elementwise (torch.max)."""
    return input.max(dim, keepdim if keepdims is None else keepdims, axis=axis, other=other)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):
    return input.min(dim, keepdim if keepdims is None else keepdims, axis=axis, other=other)


def maximum(input, other): return _both_tensors(input, other, "maximum").maximum(other)
def minimum(input, other): return _both_tensors(input, other, "minimum").minimum(other)


def _both_tensors(a, b, name):
    """a, when a and b are both Tensors (torch's maximum / atan2 / ... have no number overload)."""
    for x, argument, position in ((a, "input", 1), (b, "other", 2)):
        if not isinstance(x, Tensor):
            raise not_a_tensor(name, argument, position, x)
    return a


def _into(out, result, name):
    """torch's out=: the result written into out (resized when its shape differs; cast to
    out's dtype), and out returned; a tuple result (values, indices) goes into a tuple of
    tensors, returned as the result's out= type (torch.return_types.max_out, ...)."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): out= takes a tuple of {len(result)} Tensors here")
        if hasattr(result, "indices") and isinstance(out[-1], Tensor) and out[-1].dtype != np.int64:
            raise RuntimeError(f"{name}(): Expected out tensor to have dtype long int, but got "
                               f"{out[-1].dtype} instead")
        written = [_into(o, r, name) for o, r in zip(out, result)]
        if not hasattr(result, "_fields"):
            return tuple(written)
        from tinygrad_seq.return_types import out_variant   # torch.return_types.max_out, ...
        return out_variant(result)._make(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): out= takes one Tensor here")
    from tinygrad_seq.autograd import is_grad_enabled
    if (result.requires_grad or out.requires_grad) and is_grad_enabled():
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad.")
    if not (np.can_cast(result.dtype, out.dtype, "same_kind")
            or (result.dtype.kind in "iu" and out.dtype.kind in "iu")   # torch: any integer into any
            or name in ("all", "any")):   # bool or uint8 either way (out_rules checked out's dtype)
        raise (TypeError if name == "cat" else RuntimeError)(   # torch's cat: TypeError
            f"result type {result.dtype} can't be cast to the desired output type {out.dtype}")
    if out.shape != result.shape:
        out_rules.warn_resized(name, out.shape, result.shape)
        from tinygrad_seq.tensor_fill_in import resize_memory   # torch's resize_ (a view stays over its base)
        resize_memory(out, tuple(result.shape))
    out.copy_(result.detach())
    return out


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _takes_out(fn):
    """fn with torch's out= keyword (see _into)."""
    @functools.wraps(fn)
    def with_out(*args, out=None, **kwargs):
        if out is not None and args and fn.__name__ in out_rules.RULED:   # torch's overlap checks on out
            out_rules.checked_kwargs(fn.__name__, args[0], out, kwargs, args[1:])
        result = fn(*args, **kwargs)
        return result if out is None else _into(out, result, fn.__name__)
    return with_out


def clamp(input, min=None, max=None):
    return input.clamp(min, max)


# the free functions defined here take out= too (torch's amsgrad: torch.max(a, b, out=a))
cat, stack, where, max, min, maximum, minimum, add, sub, mul, div, pow, clamp = (
    _takes_out(f) for f in (cat, stack, where, max, min, maximum, minimum, add, sub, mul, div, pow, clamp))
concat = concatenate = cat
clip = clamp


def outer(input, vec2, *, out=None):
    result = _tensor(input).outer(vec2)
    return result if out is None else _into(out, result, "outer")


ger = outer


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None, axis=None):
    """input.repeat_interleave(repeats, dim); with input alone (counts: a 1-D integer tensor),
    arange(len(counts)) with element i repeated counts[i] times, torch's one-argument form."""
    if repeats is not None:
        return _tensor(input).repeat_interleave(repeats, dim, output_size=output_size, axis=axis)
    if dim is not None or axis is not None:
        raise TypeError("repeat_interleave(): missing argument 'repeats' (dim= goes with repeats)")
    counts = _tensor(input)
    if counts.dtype not in (np.int32, np.int64):   # torch's kernels: int32 and int64 counts only
        from tinygrad_seq.functional_checks import torch_type_name
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for \'{torch_type_name(counts.dtype)}\'')
    if counts.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    c = counts.numpy()
    if c.size and c.min() < 0:
        raise RuntimeError("repeats can not be negative")
    out = Tensor._wrap(np.repeat(np.arange(c.shape[0], dtype=c.dtype), c), "cpu")   # counts' dtype, as torch's
    return out if counts.device == "cpu" else out.to(counts.device)


def is_floating_point(input):
    return input.is_floating_point()


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """nan, +inf and -inf replaced (by 0 and the dtype's largest and smallest finite values unless
    given), as torch's; the gradient passes where the input is finite. out= must have the input's
    dtype (out_param.write_input_dtype_out)."""
    if out is not None:
        from tinygrad_seq.out_param import check_unary_out, write_input_dtype_out
        check_unary_out("nan_to_num", input, out)
        return write_input_dtype_out("nan_to_num", input, out, nan_to_num(input, nan, posinf, neginf))
    if input.dtype.kind != "f":
        return input.clone()
    info = np.finfo(input.dtype)
    posinf, neginf = float(info.max) if posinf is None else posinf, float(info.min) if neginf is None else neginf
    out = where(input.isnan(), Tensor(np.asarray(nan, input.dtype), device=input.device), input)
    out = where(input == float("inf"), Tensor(np.asarray(posinf, input.dtype), device=input.device), out)
    return named(where(input == -float("inf"), Tensor(np.asarray(neginf, input.dtype), device=input.device), out),
                 "NanToNumBackward0")


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` above (below, if negative) the main one of the dim1-dim2 planes,
    as the last dimension of the result, as torch's: a view of input on the CPU (diagonal_view.py),
    a copy elsewhere; differentiable."""
    n = builtins.max(input.ndim, 1)   # torch wraps dims as if a 0-d tensor had one
    for d in (dim1, dim2):
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    d1, d2 = dim1 % n, dim2 % n
    if d1 == d2:
        raise ShapeMismatch(f"diagonal dimensions cannot be identical {dim1}, {dim2} (shape {input.shape})")
    if type(input.array) is np.ndarray:
        from tinygrad_seq.diagonal_view import Diagonal
        from tinygrad_seq.tensor_shape import mark_view
        out = Diagonal.apply(input, offset=offset, dim1=d1, dim2=d2)
        out._view = (input, "diagonal", (offset, d1, d2))
        return named(mark_view(out, input), "DiagonalBackward0")
    rest = [d for d in range(input.ndim) if d not in (d1, d2)]
    x = input.permute(*rest, d1, d2)
    n1, n2 = x.shape[-2], x.shape[-1]
    length = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else builtins.min(n1 + offset, n2))
    rows = np.arange(length) + builtins.max(0, -offset)
    return named(x[..., rows, rows + offset], "DiagonalBackward0")


def diag(input, diagonal=0, *, out=None):
    """1-D input: a square matrix with input on the `diagonal`-th diagonal; 2-D: that diagonal."""
    diagonal = dim_int(diagonal, "diagonal")   # a numpy integer (np.uint8(3): a Python int first)
    if out is not None:
        return diag_into(out, diag(input, diagonal))
    if input.ndim == 2:
        return named(globals()["diagonal"](input, diagonal).clone(), "DiagonalBackward0_copy")   # torch's name
    if input.ndim != 1:
        raise ShapeMismatch(f"diag: expected a 1-D or 2-D tensor, got shape {input.shape}")
    n = input.shape[0] + abs(diagonal)
    from tinygrad_seq.creation import zeros
    out = zeros(n, n, dtype=input.dtype, device=input.device)
    rows = np.arange(input.shape[0]) + builtins.max(0, -diagonal)
    out[rows, rows + diagonal] = input
    return named(out, "DiagEmbedBackward0")   # torch's (a fresh tensor: its write's node is its own)


def dot(input, tensor):   # torch's parameter names
    if input.ndim != 1 or tensor.ndim != 1:
        raise ValueError(f"dot: expected two 1-D tensors, got shapes {input.shape} and {tensor.shape}")
    return input @ tensor


def _check_tolerances(rtol, atol):
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not tol >= 0:   # a nan tolerance too, as torch's
            raise InvalidArgument(f"{name} must be greater than or equal to zero, but got {tol}")


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    """torch.allclose; either side may also be a state-dict value (a StateArray: torch's are
    Tensors, so a checkpoint compared with the model's state dict takes this call)."""
    _check_tolerances(rtol, atol)
    a, b = _as_array(input), _as_array(other)
    try:
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise_if_mismatched(a, b)
        raise


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    _check_tolerances(rtol, atol)
    a, b = _as_array(input), _as_array(other)
    try:
        return Tensor(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise_if_mismatched(a, b)
        raise


def equal(input, other):
    """torch.equal: same shape and elements; either side may be a state-dict value, as allclose."""
    a, b = _as_array(input), _as_array(other)
    return a.shape == b.shape and bool((a == b).all())


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-D non-negative integer tensor (weighted sums with weights):
    numpy's bincount, no gradient (torch's has none for the counts either)."""
    a = _as_array(input)
    if a.dtype.kind not in "iu" or a.dtype in (np.uint16, np.uint32, np.uint64):   # torch's integral kernels only
        from tinygrad_seq.functional_checks import torch_type_name
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{torch_type_name(a.dtype)}'")
    if minlength < 0:
        raise InvalidArgument("minlength should be >= 0")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise InvalidArgument("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else _as_array(weights)
    if w is not None and (w.ndim != 1 or w.shape[0] != a.shape[0]) and a.size:
        raise InvalidArgument("weights should be 1-d and have the same length as input")
    out = np.bincount(a, w, minlength)
    device = input.device if isinstance(input, Tensor) else "cpu"   # torch's: the input's device
    if w is None or a.size == 0:   # torch's: an empty input counts int64 zeros, weighted or not
        return Tensor(out.astype(np.int64), device=device)
    # float32 weights sum in float32 (torch's); any other weights (float16, int, bool) in float64
    return Tensor(out.astype(np.float32 if w.dtype == np.float32 else np.float64), device=device)


# the global switches (deterministic algorithms, print options, default device): global_settings.py
from tinygrad_seq.global_settings import (are_deterministic_algorithms_enabled, get_default_device,  # noqa: E402,F401
                                          set_default_device, set_printoptions, use_deterministic_algorithms)


# torch's free functions that refuse a non-Tensor input (ts.sum([t1, t2]) summed the stacked list,
# ts.mean([t]) averaged it)
_TENSOR_ONLY = frozenset(("sum", "mean", "nansum", "nanmean", "prod", "amax", "amin", "eq", "ne", "gt", "ge", "lt",
                          "le", "fmod", "lerp", "logical_and", "logical_or", "logical_xor", "logaddexp2",
                          "nextafter", "ldexp", "heaviside", "copysign", "gcd", "lcm"))
_TWO_TENSORS = frozenset(("atan2", "arctan2", "hypot", "logaddexp", "fmax", "fmin"))
# out= of torch's index ops takes the result's dtype only (no cast, unlike the elementwise ops)
_SAME_DTYPE_OUT = frozenset(("gather", "scatter", "scatter_add", "take_along_dim", "index_select", "masked_select"))
# ... and of its unary ops that keep the input's dtype (exp, sin, ... cast into any float out=)
_INPUT_DTYPE_OUT = frozenset(("neg", "negative", "abs", "floor", "ceil", "trunc", "round", "sign", "frac", "sgn",
                              "fix"))
# binary functions torch also takes with a number first (a wrapped number, _first_operand)
_NUMBER_FIRST = frozenset(("remainder", "xlogy", "floor_divide", "true_divide", "divide", "bitwise_and",
                           "bitwise_or", "bitwise_xor"))
# ... of which these compute in float from an int's value (-2 beside uint8 stays -2)
_VALUE_FIRST = frozenset(("xlogy", "true_divide", "divide"))
# ... of which these need a Tensor among the two (floor_divide and the divides take two numbers)
_NOT_TWO_NUMBERS = frozenset(("remainder", "xlogy", "bitwise_and", "bitwise_or", "bitwise_xor"))


def _method(name):
    def fn(input, *args, out=None, **kwargs):
        if name in DEPRECATED_FREE and not isinstance(input, Tensor) and args and isinstance(args[0], Tensor):
            input, args, kwargs = deprecated_free_args(name, input, args, kwargs)   # torch.addmm(beta, input, ...)
        if name in _TWO_TENSORS:
            _both_tensors(input, args[0] if args else kwargs.get("other"), name)
        if not isinstance(input, Tensor):
            if name in _TENSOR_ONLY:
                raise not_a_tensor(name, "input", 1, input)
            if name in _NUMBER_FIRST and args:
                if name in _NOT_TWO_NUMBERS and not isinstance(args[0], Tensor):
                    raise TypeError(f"{name}() received an invalid combination of arguments - got "
                                    f"({type(input).__name__}, {type(args[0]).__name__}), but expected a Tensor "
                                    "as input or other")
                if name in _VALUE_FIRST and isinstance(args[0], Tensor) and args[0].dtype.kind in "iub":
                    input = Tensor(float(input))   # computed in float: -2 stays -2 beside uint8, as torch's
                else:
                    input = _first_operand(input, args[0])
        if out is not None and name in out_rules.RULED:
            kwargs = out_rules.checked_kwargs(name, input, out, kwargs, args)
        if out is not None:
            from tinygrad_seq.out_param import check_unary_out
            check_unary_out(name, input, out)   # the one-input elementwise ops' dtype / overlap rules
        result = getattr(_tensor(input), name)(*args, **kwargs)
        if out is None:
            return result
        if name in _SAME_DTYPE_OUT and isinstance(out, Tensor) and out.dtype != result.dtype:
            raise DTypeMismatch(f"{name}(): Expected out tensor to have dtype {result.dtype}, but got {out.dtype} instead")
        if name in _INPUT_DTYPE_OUT and isinstance(out, Tensor) and out.dtype != result.dtype:
            from tinygrad_seq.tensor_matmul import scalar_name
            raise DTypeMismatch(f"Found dtype {scalar_name(out.dtype)} but expected {scalar_name(result.dtype)}")
        return _into(out, result, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"ts.{name}(input, ...): the same as input.{name}(...)."
    return fn


METHODS = ("addcmul addcdiv movedim moveaxis fmod index_put bitwise_and bitwise_or bitwise_xor logit frac sgn diff "
           "trace tensor_split aminmax nansum nanmean median cummax cummin logcumsumexp addmm baddbmm addbmm mv "
           "inner index_copy fliplr flipud ravel erf erfc erfinv sinh cosh tan asin acos atan asinh acosh atanh "
           "exp2 atan2 hypot logaddexp xlogy fmax fmin arcsin arccos arctan arctan2 swapdims tanh exp log "
           "sigmoid relu abs sqrt sin cos log1p expm1 floor ceil round trunc sign "
           "reciprocal rsqrt square log2 log10 neg negative softmax log_softmax matmul mm bmm argmax argmin "
           "amax amin sum mean prod std var norm cumsum cumprod topk sort argsort kthvalue gather scatter "
           "scatter_add index_select masked_select masked_fill index_fill split chunk unbind flip roll squeeze "
           "unsqueeze transpose swapaxes permute reshape flatten unflatten narrow select t "
           "tile isnan isinf isfinite logical_and logical_or logical_not logical_xor all any "
           "count_nonzero eq ne gt ge lt le clone detach numel floor_divide remainder lerp "
           "broadcast_to take_along_dim triu tril index_add clamp_min clamp_max logsumexp argwhere dot "
           "unfold true_divide divide").split()


inf, nan, pi, e = float("inf"), float("nan"), float(np.pi), float(np.e)

for _name in METHODS:
    globals()[_name] = _method(_name)

__all__ = sorted(n for n in list(globals())
                 if not n.startswith("_") and n not in ("np", "ops", "Tensor", "builtins", "METHODS", "sys"))
