"""torch's legacy tensor types (ts.FloatTensor, ts.LongTensor, ...): calling one makes a Tensor
(torch's legacy constructors), isinstance(t, ts.FloatTensor) checks a CPU tensor's dtype, and
t.type(ts.DoubleTensor) converts."""
import numbers

import numpy as np

from tinygrad_seq import dtypes
from tinygrad_seq.creation import zeros
from tinygrad_seq.legacy_new import alias_of
from tinygrad_seq.size import Size
from tinygrad_seq.tensor import Tensor


class _LegacyType(type):
    """The type of ts.FloatTensor and its kin, as torch's tensortype: calling one makes a Tensor
    (torch's legacy constructors), isinstance(t, ts.FloatTensor) checks a CPU tensor's dtype,
    and t.type(ts.DoubleTensor) converts (Tensor.type reads .dtype)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'tinygrad_seq.{cls.__name__}'>"


def _legacy(dtype, name):
    def make(cls, *args, device=None):
        if len(args) == 1 and isinstance(args[0], Size):   # torch.FloatTensor(x.size()): sizes, not data
            args = tuple(args[0])
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            if isinstance(args[0], Tensor):   # an alias of a tensor of this type, else torch's TypeError
                if device is not None:
                    raise RuntimeError("Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is "
                                       "not supported.  Use torch.tensor(...) or torch.as_tensor(...) instead.")
                return alias_of(args[0], np.dtype(dtype), "cpu")
            return Tensor(args[0], dtype=dtype, device=device or "cpu")
        return zeros(*(args or (0,)), dtype=dtype, device=device or "cpu")   # FloatTensor(): empty, as torch's
    doc = f"ts.{name}(data) or ts.{name}(*sizes), as torch's legacy constructors."
    return _LegacyType(name, (), {"__new__": make, "__doc__": doc, "dtype": np.dtype(dtype), "is_legacy_type": True})


FloatTensor = _legacy(dtypes.float32, "FloatTensor")
DoubleTensor = _legacy(dtypes.float64, "DoubleTensor")
LongTensor = _legacy(dtypes.int64, "LongTensor")
IntTensor = _legacy(dtypes.int32, "IntTensor")
BoolTensor = _legacy(dtypes.bool, "BoolTensor")
ByteTensor = _legacy(dtypes.uint8, "ByteTensor")
HalfTensor = _legacy(dtypes.float16, "HalfTensor")
ShortTensor = _legacy(dtypes.int16, "ShortTensor")
CharTensor = _legacy(dtypes.int8, "CharTensor")
