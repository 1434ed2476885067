"""Input checks the functional ops share, each O(1) (a dtype or shape attribute test, never a
pass over the data: they sit on the training hot paths), raising what torch raises."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch

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


def refuse_float_into(x, type_name=None):
    """torch's RuntimeError where a float result would be written into an integer or bool x
    (dropout of an int64 tensor, huber_loss of an int64 input against a float target): it
    computes into x's dtype and refuses the narrowing. type_name: the name torch's message gives
    where it is not x's own (alpha_dropout of a bool x says 'Long')."""
    raise DTypeMismatch(f"result type Float can't be cast to the desired output type "
                        f"{type_name or torch_type_name(x.dtype)}")


def refuse_integral_pair(kernel, a, b):
    """torch's NotImplementedError for a pointwise loss whose two operands promote to an integer or
    bool dtype (mse_loss of two int64 tensors: '"mse_cpu" not implemented for 'Long''); a float
    operand on either side makes it a float loss, as torch's."""
    if a.dtype.kind not in "fc" and b.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f'\'{torch_type_name(np.result_type(a.dtype, b.dtype))}\'')


def require_float_argument(value, op, name, position):
    """value as a float; torch's argument parser's TypeError for a float argument given as None or
    a non-number (F.batch_norm(momentum=None): a module's cumulative average is its own business)."""
    if not (isinstance(value, (int, float, np.integer, np.floating)) or getattr(value, "ndim", None) == 0):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be float, not {type(value).__name__}")
    return float(value)   # (a bool, an int or a 0-d tensor as torch's parser takes them)


def require_norm_params(kernel, x, *params):
    """layer_norm / group_norm / batch_norm: torch's NotImplementedError for an integer or bool
    input, and its RuntimeError for a parameter (weight, bias, running statistics) of another
    dtype than the input's; a float16 input may take float32 parameters, as torch's CPU kernels
    allow. The parameters used to promote the result (float32 input, float64 weight -> float64)."""
    require_float(x, kernel)
    for p in params:
        if p is not None and p.dtype != x.dtype and not (x.dtype == np.float16 and p.dtype == np.float32):
            detail = ("all inputs must share same datatype." if x.dtype == np.float64
                      else "expect parameter to have scalar type of Float")
            raise DTypeMismatch(f"mixed dtype (CPU): {detail}")


def check_per_channel(channels, **params):
    """torch's batch_norm check of its per-channel tensors (weight, bias, running_mean,
    running_var: in that order), each of `channels` elements where given."""
    for name, t in params.items():
        if t is not None and t.numel() != channels:
            raise ShapeMismatch(f"{name} should contain {channels} elements not {t.numel()}")
