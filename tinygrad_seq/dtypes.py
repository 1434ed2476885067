"""PyTorch's dtype names as numpy dtypes (so `t.dtype == ts.float32` holds), the default float
dtype, and the parsing of every form a dtype argument takes (ts.long, np.int64, "int64",
"torch.LongTensor", Python's float / int / bool)."""
import builtins

import numpy as np

float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)



class UnsupportedDtype:
    """torch's dtypes this library has no arrays for (bfloat16, the complex ones): the names
    exist, so a program that only names one (`autocast(dtype=torch.bfloat16, enabled=False)`,
    `x.dtype == torch.bfloat16`, `if dtype in (torch.float16, torch.bfloat16)`) runs; making a
    tensor of one raises a TypeError that says so (as_dtype)."""
    __slots__ = ("name", "is_floating_point", "is_complex", "itemsize", "is_signed")

    def __init__(self, name, is_floating_point, is_complex, itemsize):
        self.name, self.is_floating_point, self.is_complex = name, is_floating_point, is_complex
        self.itemsize, self.is_signed = itemsize, True

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):   # pickled by name: ts.save of a dict naming one
        return (_unsupported, (self.name,))


bfloat16 = UnsupportedDtype("bfloat16", True, False, 2)
complex32 = chalf = UnsupportedDtype("complex32", False, True, 4)
complex64 = cfloat = UnsupportedDtype("complex64", False, True, 8)
complex128 = cdouble = UnsupportedDtype("complex128", False, True, 16)
UNSUPPORTED = {d.name: d for d in (bfloat16, complex32, complex64, complex128)}


def _unsupported(name):
    return UNSUPPORTED[name]


NAMES = ("float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32",
         "int", "int16", "short", "int8", "uint8", "bool")

# torch's legacy tensor type names (t.type(), ts.LongTensor, ...)
TENSOR_TYPES = {"FloatTensor": float32, "DoubleTensor": float64, "HalfTensor": float16,
                "LongTensor": int64, "IntTensor": int32, "ShortTensor": int16, "CharTensor": int8,
                "ByteTensor": uint8, "BoolTensor": bool}
_TYPE_NAMES = {v: k for k, v in TENSOR_TYPES.items()}
_PY = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}   # torch's: Python's float is double

_default = float32


def get_default_dtype():
    return _default


def set_default_dtype(dtype):
    """The dtype of Python floats and lists, of ts.zeros/ones/randn... without dtype=, and of the
    parameters of nn modules made afterwards (as in PyTorch)."""
    global _default
    d = as_dtype(dtype)
    if d not in (float16, float32, float64):
        raise TypeError(f"set_default_dtype: only floating point dtypes (float16, float32 and float64) are supported, got {d}")
    _default = d


def as_dtype(dtype):
    """numpy dtype for any dtype argument form; a clear error for the others."""
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, UnsupportedDtype):
        raise TypeError(f"{dtype} tensors are not supported by tinygrad_seq: use ts.float32 or ts.float64"
                        + (" (a pair of real tensors for complex numbers)" if dtype.is_complex else ""))
    if dtype in _PY:
        return _PY[dtype]
    if isinstance(dtype, str):
        name = dtype[6:] if dtype.startswith("torch.") else dtype
        if name in TENSOR_TYPES:
            return TENSOR_TYPES[name]
        if name in NAMES:
            return globals()[name]
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use ts.float32, ts.float64, ts.int64, ts.bool, ...") from None


def type_name(dtype):
    """torch's name for a tensor type, 'torch.FloatTensor' style (Tensor.type())."""
    return "torch." + _TYPE_NAMES.get(np.dtype(dtype), f"{np.dtype(dtype).name}Tensor")


def is_floating_point(dtype):
    if isinstance(dtype, UnsupportedDtype):
        return dtype.is_floating_point
    return np.dtype(dtype).kind == "f"
