"""torch.testing.make_tensor: a tensor of the given shape, dtype and device filled with values
drawn uniformly from [low, high) by torch's calls (randint for bool and integer dtypes,
empty(...).uniform_ for floats), so a program gets torch's values and leaves torch's stream
where torch's does (gradgradcheck draws its grad_outputs with it). No complex dtypes here."""
import collections.abc
import math
import warnings

import numpy as np

from tinygrad_seq import dtypes


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    import tinygrad_seq as ts
    np_dtype = np.dtype(dtypes.as_dtype(dtype))
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    integral = np_dtype.kind in "biu"
    if requires_grad and integral:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:   # twice the last dim, every other element taken (offset 1), as torch's
        shape = (*shape[:-1], 2 * shape[-1])

    def low_high(lowest, highest_exclusive, default_low, default_high):
        lo = default_low if low is None else low
        hi = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo == hi and not integral:
            warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                          "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                          FutureWarning, stacklevel=3)
        elif lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        elif hi < lowest or lo >= highest_exclusive:
            raise ValueError(f"The value interval specified by `low` and `high` is [{lo}, {hi}), but {dtype} only "
                             f"supports [{lowest}, {highest_exclusive})")
        lo, hi = min(max(lo, lowest), highest_exclusive), min(max(hi, lowest), highest_exclusive)
        return (math.ceil(lo), math.ceil(hi)) if integral else (lo, hi)

    if np_dtype.kind == "b":
        result = ts.randint(*low_high(0, 2, 0, 2), shape, device=device, dtype=dtype)
    elif integral:
        info = np.iinfo(np_dtype)
        lo, hi = low_high(int(info.min), int(info.max) + (np_dtype != np.int64), -9, 10)
        result = ts.randint(lo, hi, shape, device=device, dtype=dtype)
    elif np_dtype.kind == "f":
        info = np.finfo(np_dtype)
        lo, hi = low_high(float(info.min), float(info.max), -9, 9)
        result = ts.empty(shape, device=device, dtype=dtype)
        if hi - lo >= float(info.max):   # uniform_ needs to - from <= max: scaled, as torch's
            result.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            result.uniform_(lo, hi)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). To "
                        f"request support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if integral else float(np.finfo(np_dtype).tiny)
    if not integral:
        result.requires_grad = requires_grad
    return result
