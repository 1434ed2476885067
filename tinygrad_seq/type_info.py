"""torch.finfo / torch.iinfo: the limits of a float or integer dtype, as Python numbers.

As torch's: the argument must be a dtype (ts.float32, ts.int64, ...; None, a name string, a
numpy scalar type or a tensor is a TypeError; Python's float / int / bool are float64 / int64 /
bool); finfo() with no argument is the default dtype's; two infos are equal when they describe
the same dtype (finfo(complex64), float32's limits, equals finfo(float32)); they are unhashable."""
import numpy as np

_NO_ARGUMENT = object()   # finfo() called without a dtype: the default dtype's


def _dtype_argument(function, value):
    """value as a dtype when it is one of the library's dtypes or Python's float / int / bool
    (torch's dtype arguments), else torch's TypeError."""
    from tinygrad_seq.dtypes import UnsupportedDtype, as_dtype
    if value is float or value is int or value is bool:
        return as_dtype(value)
    if not isinstance(value, (np.dtype, UnsupportedDtype)):
        raise TypeError(f"{function}(): argument 'type' (position 1) must be torch.dtype, "
                        f"not {value.__class__.__name__}")
    return value


def iinfo(type):
    """bits, min, max of an integer dtype; a float dtype or bool is torch's TypeError."""
    dt = _dtype_argument("iinfo", type)
    if not isinstance(dt, np.dtype) or dt.kind not in "iu":   # bool too, as torch's
        raise TypeError(f"iinfo() requires an integer input type, got {dt}: use finfo for it")
    return _IInfo(np.iinfo(dt))


class _IInfo:
    """torch.iinfo's fields: bits, min, max (Python ints) and dtype (its name); repr in %g as torch's."""
    __hash__ = None   # torch.iinfo is unhashable

    def __init__(self, info):
        self.bits, self.min, self.max, self.dtype = info.bits, int(info.min), int(info.max), str(info.dtype)

    def __eq__(self, other):
        return isinstance(other, _IInfo) and self.dtype == other.dtype

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def finfo(type=_NO_ARGUMENT):
    """finfo(ts.float32).eps / .min / .max, as torch's; finfo() is the default dtype's; a complex
    dtype gives its real part's limits (complex64: float32's)."""
    from tinygrad_seq.dtypes import UnsupportedDtype, bfloat16, float16, float32, float64, get_default_dtype
    dt = get_default_dtype() if type is _NO_ARGUMENT else _dtype_argument("finfo", type)
    if dt is bfloat16:   # a dtype with no arrays here, but its limits are known (autocast code reads them)
        return _FInfo(_BFLOAT16_INFO, _BFLOAT16_INFO.resolution)
    if isinstance(dt, UnsupportedDtype) and dt.is_complex:   # complex32 / 64 / 128: float16 / 32 / 64
        real = {4: float16, 8: float32, 16: float64}[dt.itemsize]
        return _FInfo(np.finfo(real), 10.0 ** -np.finfo(real).precision)
    if not isinstance(dt, np.dtype) or dt.kind != "f":
        raise TypeError(f"finfo() requires a floating point input type, got {dt}: use iinfo for it")
    info = np.finfo(dt)
    return _FInfo(info, 10.0 ** -info.precision)


class _BFloat16Info:
    """torch.finfo(torch.bfloat16)'s fields (8 exponent bits as float32's, 7 mantissa bits)."""
    bits, dtype = 16, "bfloat16"
    eps, resolution = 2.0 ** -7, 0.01
    max = float.fromhex("0x1.fep127")
    min = -max
    tiny = smallest_normal = 2.0 ** -126


_BFLOAT16_INFO = _BFloat16Info()


class _FInfo:
    """numpy's finfo with torch's Python-float fields (eps, max, min, tiny, smallest_normal) and
    bits / dtype; resolution is 10 ** -precision exactly (numpy's is rounded to the dtype: float32's
    1e-6 would read 9.99999997e-07)."""
    __hash__ = None   # torch.finfo is unhashable

    def __init__(self, info, resolution):
        self.bits, self.dtype, self.resolution = info.bits, str(info.dtype), float(resolution)
        for name in ("eps", "max", "min", "tiny", "smallest_normal"):
            setattr(self, name, float(getattr(info, name)))

    def __eq__(self, other):
        return isinstance(other, _FInfo) and self.dtype == other.dtype

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")
