"""torch's argument checks of the tensor constructors (creation.py), where numpy would compute
something else: a float fill value an integer dtype cannot hold (full((2,), inf, dtype=int32) is
INT_MIN in numpy), randint / randperm bounds outside the dtype. Each raises torch's error type
(InvalidArgument is RuntimeError and ValueError)."""
import math
import warnings

import numpy as np

from tinygrad_seq.dtypes import as_dtype
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument
from tinygrad_seq.tensor_matmul import scalar_name

# torch's C type names in its randint bound errors
_C_NAMES = {np.dtype(np.uint8): "unsigned char", np.dtype(np.int8): "signed char", np.dtype(np.int16): "short",
            np.dtype(np.int32): "int", np.dtype(np.int64): "long", np.dtype(np.bool_): "bool",
            np.dtype(np.float16): "c10::Half", np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


def _refuse(dtype):
    raise InvalidArgument(f"value cannot be converted to type {np.dtype(dtype)} without overflow")


def check_float_into_int(value, dtype):
    """A float fill value for an integer dtype: nan, inf and values outside the dtype's range
    (before truncation: -0.5 for uint8 too) raise, as torch's; others truncate."""
    info = np.iinfo(dtype)
    v = float(value)
    if not math.isfinite(v) or v < int(info.min) or v > int(info.max):
        _refuse(dtype)


def check_float_data_into_int(data, dtype):
    """tensor(data, dtype=<integer>) of float data: the same check over every element (numpy
    would raise ValueError for nan, or wrap)."""
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError, OverflowError):
        return
    if arr.dtype.kind != "f" or not arr.size:
        return
    info = np.iinfo(dtype)
    with np.errstate(invalid="ignore"):
        if not np.isfinite(arr).all() or arr.min() < int(info.min) or arr.max() > int(info.max):
            _refuse(dtype)


def _representable(dtype):
    """[lowest, highest] integers torch's randint takes for dtype (floats: exactly representable)."""
    if dtype.kind == "b":
        return 0, 1
    if dtype.kind == "f":
        digits = np.finfo(dtype).nmant + 1
        return -(2 ** digits), 2 ** digits
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def check_randint_bounds(low, high, dtype, stacklevel=3):
    """randint(low, high, dtype=...) / random_(low, high): low and high - 1 within the dtype, as
    torch's check_from_to: a float dtype raises only past its finite range and warns past the
    integers it holds exactly (2^digits), where the draws cannot be uniform."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        lowest, highest = float(info.min), float(info.max)
    else:
        lowest, highest = _representable(dtype)
    for value, name in ((low, "from"), (high - 1, "to - 1")):
        if not lowest <= value <= highest:
            raise InvalidArgument(f"{name} is out of bounds for {_C_NAMES.get(dtype, dtype)}")
    if dtype.kind == "f":
        digits = np.finfo(dtype).nmant + 1
        for value, name in ((low, "from"), (high - 1, "to - 1")):
            if not -(2 ** digits) <= value <= 2 ** digits:
                warnings.warn(f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{_C_NAMES.get(dtype, dtype)} can support discrete uniform distribution only within "
                              "this range. This warning will become an error in version 1.7 release, please fix "
                              "the code in advance", UserWarning, stacklevel=stacklevel)


def check_randperm(n, dtype):
    """randperm(n, dtype=...): n non-negative, a dtype with a kernel, and n - 1 within it."""
    if n < 0:
        raise InvalidArgument(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if dtype.kind == "b":
        raise NotImplementedError('"randperm" not implemented for \'Bool\'')
    if dtype.kind == "f":
        limit = 2 ** (np.finfo(dtype).nmant + 1) + 1
        if n > limit:
            raise InvalidArgument(f"n cannot be greater than {limit} for {scalar_name(dtype)} type.")
    elif n and n - 1 > np.iinfo(dtype).max:
        _refuse(dtype)


def dtype_of_out(dtype, out, same=False):
    """The dtype a range function computes in: out's, when out= is given without dtype= (torch's
    linspace(0, 1, 4, out=<float64>) is computed in double); same: a different dtype= raises."""
    if getattr(out, "dtype", None) is None:   # no out= (or not a tensor: _write_out names it)
        return dtype
    if dtype is None:
        return out.dtype
    if same and as_dtype(dtype) != out.dtype:
        raise DTypeMismatch(f"dtype {scalar_name(as_dtype(dtype))} does not match dtype of out "
                            f"parameter ({scalar_name(out.dtype)})")
    return dtype


def range_dtype(dt, steps, kernel):
    """dt, refused as torch's when it is bool and steps > 1 (linspace / logspace have no bool
    kernel; 0 or 1 steps is a fill, which takes bool)."""
    if dt == np.bool_ and int(steps) > 1:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    return dt
