"""Python ints into an integer dtype as torch converts them (c10's overflow check): a value in the
dtype's range is kept; a negative value wraps into an unsigned dtype down to -max (uint8: -1 is
255, -129 is 127, -255 is 1), as two's complement arithmetic would give it; any other value raises
RuntimeError "value cannot be converted to type uint8 without overflow". numpy 2 raises
OverflowError for all of these; callers come here from that error or from an integer-dtype
branch, so the float path never pays for the check. (Arithmetic and comparisons wrap any int
instead, as torch's u8 + 300: tensor_math._other.)"""
import math

import numpy as np

from tinygrad_seq.errors import IntegerOverflow, InvalidArgument


def _refuse(dtype):
    raise InvalidArgument(f"value cannot be converted to type {np.dtype(dtype)} without overflow")


def _lowest(info):
    """The smallest value torch accepts for the dtype: -max for an unsigned one (it wraps)."""
    return -int(info.max) if info.min == 0 else int(info.min)


def int_scalar(value, dtype):
    """A Python int as a numpy scalar of the integer dtype, converted (or refused) as torch's."""
    dtype = np.dtype(dtype)
    try:
        return dtype.type(value)   # in range: numpy's own conversion (out of it numpy 2 raises)
    except OverflowError:
        pass
    info = np.iinfo(dtype)
    if _lowest(info) <= value < 0:
        return dtype.type(value + int(info.max) + 1)
    _refuse(dtype)


_FLOAT_MAX = {np.dtype(np.float16): 65504.0, np.dtype(np.float32): 3.4028234663852886e38}


def float_scalar(value, dtype):
    """A Python (or numpy) number for a float tensor of `dtype`: refused as torch's when finite but
    rounding to inf there (masked_fill(mask, -1e9) or fill_(100000) on float16); inf, nan,
    in-range values, bools and float64 pass unchanged. Cheap when in range (one comparison): it
    runs on every masked_fill."""
    limit = _FLOAT_MAX.get(dtype)
    if limit is None or isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return value
    try:
        v = float(value)
    except OverflowError:   # an int beyond float64
        _refuse(dtype)
    if abs(v) > limit and math.isfinite(v):
        with np.errstate(over="ignore"):
            if np.isinf(np.dtype(dtype).type(v)):   # above max but rounding down to it still fits
                _refuse(dtype)
    return value


def int_array(data, dtype):
    """Nested lists of Python ints as an array of the integer dtype, each converted as int_scalar
    (torch.tensor([-1, -129], dtype=uint8) is [255, 127]; [256] raises)."""
    dtype = np.dtype(dtype)
    try:
        arr = np.asarray(data, dtype=np.int64)
    except OverflowError:   # beyond int64: torch's ValueError "Overflow when unpacking long long"
        raise IntegerOverflow("Overflow when unpacking long long: a value does not fit in int64") from None
    info = np.iinfo(dtype)
    if arr.size and (arr.min() < _lowest(info) or arr.max() > info.max):
        _refuse(dtype)
    return arr.astype(dtype)
