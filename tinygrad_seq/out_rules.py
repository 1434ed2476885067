"""torch's out= rules that depend on the op, checked before it runs (functions._method):
- sum / prod / cumsum / cumprod without dtype= compute in out's dtype (torch takes the result dtype
  from out: sum([1.5, 2.5], out=int64) is 1 + 2); with dtype= it must equal out's dtype;
- mm / bmm / matmul / softmax / log_softmax / logcumsumexp write an out of the result's dtype only
  (out_dtypes.py);
- the elementwise ops of several inputs (add, mul, eq, where, ...), cumsum / cumprod / logcumsumexp,
  addcmul / addcdiv / lerp refuse an out that is part of an input; cat / stack one sharing any
  memory with an input;
- all / any write a bool or uint8 out only;
- topk / kthvalue / median (with a dim) refuse an out that shares memory with the input;
- float_power writes a float64 out only, heaviside an out of the input's dtype only, gcd / lcm an
  out their result casts to (checked before the op refuses float operands, as torch's).
And once for every op that resizes out= (functions._into): torch's deprecation UserWarning when
out had elements (the creation functions resize silently, as torch's)."""
import warnings

import numpy as np

from tinygrad_seq.errors import DTypeMismatch

OVERLAP_MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                   "single memory location. Please clone() the tensor before performing the operation.")
_RESULT_DTYPE_FROM_OUT = frozenset(("sum", "prod", "cumsum", "cumprod"))
_BOOL_RESULT = frozenset(("all", "any"))
_NO_OVERLAP = frozenset(("topk", "kthvalue", "median"))
_OUT_DTYPE = frozenset(("float_power", "heaviside", "gcd", "lcm"))
_NO_INPUT_OVERLAP = frozenset(("take",))   # torch's assert_no_overlap: out shares no memory with the input
# torch's TensorIterator ops (elementwise of several inputs, cumulative): out may be an input, not
# part of one (assert_no_partial_overlap; torch.add(x[1:], x[:-1], out=x[:-1]) raises). The
# one-input elementwise ops: out_param.check_unary_out
_NO_PARTIAL_OVERLAP = frozenset((
    "addcmul addcdiv lerp add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow "
    "float_power atan2 arctan2 hypot xlogy fmax fmin maximum minimum logaddexp logaddexp2 copysign nextafter ldexp "
    "heaviside igamma igammac gcd lcm eq ne gt ge lt le greater greater_equal less less_equal not_equal "
    "logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor clamp clip clamp_min clamp_max where "
    "cumsum cumprod logcumsumexp").split())
# cat / stack: out shares no memory with any input (assert_no_overlap, full overlap too)
_JOINS = frozenset(("cat", "concat", "concatenate", "stack"))
# ops whose out must have the result's dtype (no cast), checked before they run (out_dtypes.py)
_EXACT_DTYPE = frozenset(("mm", "bmm", "matmul", "softmax", "log_softmax", "logcumsumexp"))
RULED = (_RESULT_DTYPE_FROM_OUT | _BOOL_RESULT | _NO_OVERLAP | _OUT_DTYPE | _NO_INPUT_OVERLAP | _NO_PARTIAL_OVERLAP
         | _EXACT_DTYPE | _JOINS)
_SILENT_RESIZE = frozenset(("zeros", "ones", "full", "eye", "arange", "linspace", "logspace", "randn", "rand",
                            "randint", "randperm", "range", "bernoulli", "multinomial"))


def warn_resized(name, out_shape, result_shape):
    """torch's UserWarning for an out= with elements resized to the result's shape."""
    if name in _SILENT_RESIZE or 0 in tuple(out_shape):
        return
    warnings.warn(f"An output with one or more elements was resized since it had shape {list(out_shape)}, which "
                  f"does not match the required output shape {list(result_shape)}. This behavior is deprecated, "
                  f"and in a future PyTorch release outputs will not be resized unless they have zero elements. "
                  f"You can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
                  f"t.resize_(0).", UserWarning, stacklevel=4)


def _check_out_dtype(name, input, other, out):
    """float_power / heaviside / gcd / lcm: torch's refusals of out's dtype."""
    from tinygrad_seq.tensor_matmul import scalar_name
    if name == "float_power":
        if out.dtype != np.float64:
            raise DTypeMismatch(f"the output given to float_power has dtype {scalar_name(out.dtype)} but the "
                                f"operation's result requires dtype Double")
    elif name == "heaviside":
        if out.dtype != getattr(input, "dtype", out.dtype):
            raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    else:
        result = np.promote_types(getattr(input, "dtype", out.dtype), getattr(other, "dtype", out.dtype))
        if result.kind == "f" and out.dtype.kind != "f":
            raise RuntimeError(f"result type {scalar_name(result)} can't be cast to the desired output type "
                               f"{scalar_name(out.dtype)}")


def checked_kwargs(name, input, out, kwargs, args=()):
    """kwargs for the op given out= (dtype= filled in from out where torch takes it), after
    torch's checks on out (args: the op's other positional arguments)."""
    from tinygrad_seq.tensor import Tensor
    from tinygrad_seq.tensor_matmul import scalar_name
    if name in _RESULT_DTYPE_FROM_OUT and isinstance(out, Tensor):
        dtype = kwargs.get("dtype")
        if dtype is None:
            kwargs = dict(kwargs, dtype=out.dtype)
        else:
            from tinygrad_seq.out_dtypes import expected_out_dtype
            expected_out_dtype(dtype, out)
    elif name in _BOOL_RESULT and isinstance(out, Tensor) and out.dtype not in (np.bool_, np.uint8):
        raise DTypeMismatch(f"{name} only supports bool tensor for result, got: {scalar_name(out.dtype)}")
    elif name in _OUT_DTYPE and isinstance(out, Tensor):
        _check_out_dtype(name, input, args[0] if args else next(iter(kwargs.values()), None), out)
    elif name in _NO_OVERLAP and isinstance(input, Tensor) and input.device == "cpu":
        for o in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(o, Tensor) and o.device == "cpu" and np.may_share_memory(o.array, input.array):
                raise RuntimeError(OVERLAP_MESSAGE)
    elif name in _NO_INPUT_OVERLAP:
        from tinygrad_seq.internal_overlap import check_no_overlap
        check_no_overlap(out, input)
    elif name in _EXACT_DTYPE and isinstance(out, Tensor) and isinstance(input, Tensor):
        from tinygrad_seq.out_dtypes import check_exact_out_dtype
        check_exact_out_dtype(name, input, out, args, kwargs)
    elif name in _JOINS and isinstance(input, (tuple, list)):
        from tinygrad_seq.internal_overlap import check_no_overlap
        for operand in input:
            check_no_overlap(out, operand)
    if name in _NO_PARTIAL_OVERLAP and isinstance(out, Tensor):   # (after the dtype rules, as torch's order)
        from tinygrad_seq.internal_overlap import check_no_partial_overlap
        for operand in (input, *args, *kwargs.values()):
            if isinstance(operand, Tensor) and operand is not out:
                check_no_partial_overlap(out, operand)
    return kwargs
