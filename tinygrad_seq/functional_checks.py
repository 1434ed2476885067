"""Input checks the functional ops share, each O(1) (a dtype or shape attribute test, never a
pass over the data: they sit on the training hot paths), raising what torch raises."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch

# torch's ScalarType names, which its error messages quote ("... not implemented for 'Long'")
_TORCH_TYPE_NAMES = {np.dtype(k): v for k, v in (
    ("bool", "Bool"), ("uint8", "Byte"), ("int8", "Char"), ("int16", "Short"), ("int32", "Int"),
    ("int64", "Long"), ("uint16", "UInt16"), ("uint32", "UInt32"), ("uint64", "UInt64"),
    ("float16", "Half"), ("float32", "Float"), ("float64", "Double"))}


def torch_type_name(dtype):
    """The name torch's messages give a dtype: int64 -> 'Long', float32 -> 'Float'."""
    return _TORCH_TYPE_NAMES.get(np.dtype(dtype), str(dtype))


def require_float(x, kernel):
    """torch's NotImplementedError for an integer or bool input to a floating-point kernel
    (gelu, silu, softmax, ...); kernel: the name torch's CPU message gives, so a PyTorch program
    sees the same text. An integer input used to be cast or truncated silently."""
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{torch_type_name(x.dtype)}\'')


def require_same_dtype(name, a, b, what="input", other="weight"):
    """torch's RuntimeError for operands of different dtypes where it does not promote (F.linear:
    a float32 input against a float64 weight used to give a float64 result)."""
    if a.dtype is not b.dtype and a.dtype != b.dtype:
        raise DTypeMismatch(f"{name}: expected {what} and {other} to have the same dtype, but got "
                            f"{what} {a.dtype} and {other} {b.dtype}")
