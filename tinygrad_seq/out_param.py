"""torch's out= for the functions of torch.linalg and torch.special: the result is computed as
without out=, then written into out by the rule of the top-level functions (functions._into:
out resized to the result's shape, an error where the result requires grad) and out returned.
torch.linalg's kernels also insist on out having the result's dtype; torch.special's cast to it
where torch's casting rule allows. A tuple result (qr, slogdet, ...) is written into a tuple of
tensors, one each, and returned as its out= named tuple (slogdet_out, ...). Also torch's out= checks of the
one-input elementwise functions (check_unary_out: dtype, bool-only, partial overlap with the
input), of nan_to_num and of frexp."""
import functools

import numpy as np

from tinygrad_seq.errors import DTypeMismatch
from tinygrad_seq.out_dtypes import c_type_name
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_matmul import scalar_name


def write_out(name, out, result, same_dtype):
    """result (a Tensor or a tuple of them) written into out; same_dtype: torch.linalg's rule."""
    from tinygrad_seq.functions import _into
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result) or \
                not all(isinstance(o, Tensor) for o in out):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
        from tinygrad_seq.return_types import out_variant   # torch.return_types.slogdet_out, ...
        written = [write_out(name, o, r, same_dtype) for o, r in zip(out, result)]
        return out_variant(result)._make(written) if hasattr(result, "_fields") else type(result)(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if same_dtype and out.dtype != result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {scalar_name(result.dtype).lower()}, but got "
                           f"{scalar_name(out.dtype).lower()} instead")
    return _into(out, result, name)


def takes_out(same_dtype):
    """Decorator: fn gets a keyword-only out=None, written by write_out."""
    def wrap(fn):
        @functools.wraps(fn)
        def with_out(*args, out=None, **kwargs):
            result = fn(*args, **kwargs)
            return result if out is None else write_out(with_out.__name__, out, result, same_dtype)
        return with_out
    return wrap


# torch's out= rules of its one-input elementwise functions beyond _into's cast, checked before
# they run (functions._method calls check_unary_out): these keep the input's dtype and refuse
# another (abs, neg, floor, ...: functions._INPUT_DTYPE_OUT, with the same message) ...
_INPUT_DTYPE_OUT = frozenset(("absolute", "bitwise_not"))
# ... these write bool only ...
_BOOL_OUT = frozenset(("signbit", "isposinf", "isneginf"))
# ... and these (all of torch's TensorIterator unary ops here) refuse an out that partly overlaps
# the input (out being the input itself is allowed: the in-place form)
_NO_PARTIAL_OVERLAP = frozenset((
    "abs absolute neg negative floor ceil trunc fix round sign sgn frac exp exp2 expm1 log log2 log10 log1p sqrt "
    "rsqrt reciprocal square sin cos tan sinh cosh tanh asin acos atan asinh acosh atanh arcsin arccos arctan "
    "arcsinh arccosh arctanh sigmoid erf erfc erfinv lgamma digamma i0 sinc logit deg2rad rad2deg angle "
    "nan_to_num bitwise_not signbit isposinf isneginf").split())


def _byte_range(arr):
    """[first, last) byte address of arr's elements, or None when they are not one dense block
    (torch's is_non_overlapping_and_dense: its overlap check gives up there)."""
    from numpy.lib.array_utils import byte_bounds
    low, high = byte_bounds(arr)
    return (low, high) if high - low == arr.nbytes else None


def refuse_partial_overlap(input, out):
    """torch's assert_no_partial_overlap: out and input dense blocks of one memory that overlap
    without being the same elements (the same range with the same strides) raise."""
    if not (isinstance(input, Tensor) and isinstance(out, Tensor)) or input.device != "cpu" or out.device != "cpu":
        return
    a, b = input.array, out.array
    if a.size == 0 or b.size == 0 or not np.may_share_memory(a, b):
        return
    ra, rb = _byte_range(a), _byte_range(b)
    if ra is None or rb is None or (ra == rb and a.strides == b.strides):
        return
    if ra[0] < rb[1] and rb[0] < ra[1]:
        from tinygrad_seq.out_rules import OVERLAP_MESSAGE
        raise RuntimeError(OVERLAP_MESSAGE)


def check_unary_out(name, input, out):
    """torch's checks on out= of the one-input elementwise function `name`, before it runs."""
    if not isinstance(out, Tensor):
        return   # _into names the wrong type
    if name in _BOOL_OUT and out.dtype != np.bool_:
        raise RuntimeError(f"{name} does not support non-boolean outputs.")
    if name in _INPUT_DTYPE_OUT and isinstance(input, Tensor) and out.dtype != input.dtype:
        raise DTypeMismatch(f"Found dtype {scalar_name(out.dtype)} but expected {scalar_name(input.dtype)}")
    if name in _NO_PARTIAL_OVERLAP:
        refuse_partial_overlap(input, out)


def write_input_dtype_out(name, input, out, result):
    """out= of torch's nan_to_num: out must have the input's dtype; result written as _into."""
    from tinygrad_seq.functions import _into
    if isinstance(out, Tensor) and out.dtype != input.dtype:
        raise RuntimeError(f"{name}: dtype of out: {scalar_name(out.dtype)} should be same as input: "
                           f"{scalar_name(input.dtype)}")
    return _into(out, result, name)




def write_frexp_out(input, out, result):
    """out=(mantissa, exponent) of torch.frexp: mantissa of the input's dtype, exponent int32, as
    torch checks them; each resized as _into's, and the pair returned as the result's type."""
    from tinygrad_seq.functions import _into
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"frexp(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != 2:
        raise TypeError(f"expected tuple of 2 elements but got {len(out)}")
    for i, o in enumerate(out):
        if not isinstance(o, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(o).__name__}")
    mantissa, exponent = out
    if mantissa.dtype != input.dtype:
        raise RuntimeError(f"torch.frexp() expects mantissa to have dtype {c_type_name(input.dtype)} but got "
                           f"{c_type_name(mantissa.dtype)}")
    if exponent.dtype != np.int32:
        raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got "
                           f"{c_type_name(exponent.dtype)}")
    return type(result)(_into(mantissa, result[0], "frexp"), _into(exponent, result[1], "frexp"))
