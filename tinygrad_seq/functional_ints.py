"""torch's rules for integer and bool inputs to the functional ops that keep their dtype
(hardtanh, threshold, the dropouts): bounds and fill values truncated to integers, and the
refusals torch gives where a float would have to be written into an integer tensor. Only
reached after an O(1) dtype test has found a non-float input, so float inputs never come here."""
import numpy as np

from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.functional_checks import refuse_float_into
from tinygrad_seq.tensor import Tensor


def integer_hardtanh_bounds(x, min_val, max_val):
    """hardtanh's bounds for an integer x, truncated as torch's (Scalar.toLong); a bool x, or a
    negative bound for an unsigned x, refused (torch's RuntimeErrors: the clamp used to run)."""
    if x.dtype.kind == "b":
        raise InvalidArgument("Bool inputs not supported for hardtanh")
    lo, hi = int(min_val), int(max_val)
    if x.dtype.kind == "u" and (lo < 0 or hi < 0):
        raise InvalidArgument("cannot do hardtanh on an unsigned type with negative limits")
    return lo, hi


def integer_threshold_args(x, threshold, value):
    """threshold's threshold and value for an integer x, both truncated to integers as torch's
    (a float value used to turn the result float); value must fit x's dtype, except that a
    negative one wraps into an unsigned dtype (torch's Scalar conversion). A bool x is refused."""
    if x.dtype.kind == "b":
        raise NotImplementedError('"threshold_cpu" not implemented for \'Bool\'')
    info = np.iinfo(x.dtype)
    th, v = int(threshold), int(value)
    if v > info.max or (info.min < 0 and v < info.min):
        raise InvalidArgument(f"value cannot be converted to type {x.dtype}_t without overflow")
    return th, (v % (int(info.max) + 1) if v < 0 and info.min == 0 else v)


def integer_dropout(x, p, inplace, bool_name=None):
    """A dropout in training with 0 < p <= 1 of an integer or bool x: p = 1 gives zeros of x's
    dtype (torch's x * 0; a float zero tensor came back before), any other p torch refuses, its
    float mask not castable into x (the mask used to be truncated into x's dtype, or x scaled
    into a float). bool_name: the type torch's message names for a bool x."""
    if p < 1.0:
        refuse_float_into(x, bool_name if x.dtype.kind == "b" else None)
    from tinygrad_seq.functional import _applied
    return _applied(x, lambda t: Tensor(np.zeros(t.shape, t.dtype), device=t.device), inplace)
