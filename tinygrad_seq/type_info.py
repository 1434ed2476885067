"""torch.finfo / torch.iinfo: the limits of a float or integer dtype, as Python numbers."""
import numpy as np


def iinfo(type):
    """numpy's iinfo of an integer dtype (bits, min, max); a float dtype is torch's TypeError."""
    from tinygrad_seq.dtypes import as_dtype
    dt = as_dtype(type)
    if dt.kind not in "iu":   # bool too, as torch's
        raise TypeError(f"iinfo() requires an integer input type, got {dt}: use finfo for it")
    return _IInfo(np.iinfo(dt))


class _IInfo:
    """torch.iinfo's fields: bits, min, max (Python ints) and dtype (its name); repr in %g as torch's."""

    def __init__(self, info):
        self.bits, self.min, self.max, self.dtype = info.bits, int(info.min), int(info.max), str(info.dtype)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def finfo(type=None):
    """finfo(ts.float32).eps / .min / .max, as torch's; finfo() is the default dtype's."""
    from tinygrad_seq.dtypes import UnsupportedDtype, as_dtype, bfloat16, get_default_dtype
    if type is bfloat16:   # a dtype with no arrays here, but its limits are known (autocast code reads them)
        return _FInfo(_BFLOAT16_INFO)
    if isinstance(type, UnsupportedDtype):
        raise TypeError(f"finfo() of {type} is not supported here")
    dt = get_default_dtype() if type is None else as_dtype(type)
    if dt.kind != "f":
        raise TypeError(f"finfo() requires a floating point input type, got {dt}: use iinfo for it")
    return _FInfo(np.finfo(dt))


class _BFloat16Info:
    """torch.finfo(torch.bfloat16)'s fields (8 exponent bits as float32's, 7 mantissa bits)."""
    bits, dtype = 16, "bfloat16"
    eps, resolution = 2.0 ** -7, 0.01
    max = float.fromhex("0x1.fep127")
    min = -max
    tiny = smallest_normal = 2.0 ** -126


_BFLOAT16_INFO = _BFloat16Info()


class _FInfo:
    """numpy's finfo with torch's Python-float fields (eps, max, min, tiny, smallest_normal,
    resolution) and bits / dtype."""

    def __init__(self, info):
        self.bits, self.dtype = info.bits, str(info.dtype)
        for name in ("eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            setattr(self, name, float(getattr(info, name)))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")
