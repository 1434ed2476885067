"""torch's rules for bool (and integer) operands of arithmetic where numpy would compute: kernels
torch has no bool form of (remainder, floor / trunc division, fmod, pow of two bools, shifts,
clamp to bool bounds, lerp of non-float tensors) raise NotImplementedError naming the kernel;
a Boolean alpha of add / sub is only taken for a bool result; bool ** a Python bool is a bool."""
import numpy as np

from tinygrad_seq.tensor_matmul import scalar_name

_BOOL = np.dtype(np.bool_)


def refuse_bool(kernel, dtype):
    """NotImplementedError (torch's) when the operands' common dtype is bool: no kernel for it."""
    if dtype == _BOOL:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def is_bool_number(x):
    return isinstance(x, (bool, np.bool_))


def bool_alpha(self, other, alpha):
    """add / sub's alpha under torch's rule: a bool alpha only for a bool result ("Boolean alpha
    only supported for Boolean results."); a bool result takes any alpha as a bool (alpha=3 is
    True). Returns (other as a tensor, alpha as used)."""
    other = self._other(other)
    if self.dtype == other.dtype:
        result_dtype = self.dtype
    else:
        from tinygrad_seq.tensor_math import _promote   # (tensor_math imports this module)
        result_dtype = _promote(self, other)[0].dtype
    if result_dtype != _BOOL:
        if is_bool_number(alpha):
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        return other, alpha
    return other, bool(alpha)


def bool_pow(self, exponent):
    """self ** exponent for a bool tensor self, where torch differs from integer pow: a Python bool
    exponent keeps bool (x ** True is x, x ** False all True); a bool tensor exponent has no
    kernel. None: no bool rule applies (the exponent promotes self, as an int's)."""
    if is_bool_number(exponent):
        return self.clone() if exponent else self.new_ones(self.shape)
    if getattr(exponent, "dtype", None) == _BOOL:
        refuse_bool("pow", _BOOL)
    return None


def refuse_clamp_bool(x, min, max):
    """clamp of a bool tensor to bool bounds (or None): torch has no bool clamp kernel."""
    if x.dtype == _BOOL and all(v is None or is_bool_number(v) for v in (min, max)):
        kernel = "clamp_scalar_cpu" if min is not None and max is not None else \
            "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu"
        refuse_bool(kernel, _BOOL)


def refuse_non_float_lerp(self, weight):
    """lerp of integer or bool tensors: torch's kernels are for floats only."""
    if self.dtype.kind != "f":
        kernel = "lerp_kernel_tensor" if hasattr(weight, "dtype") else "lerp_kernel_scalar"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(self.dtype)}\'')


def trunc_divide_ints(a, b):
    """a / b rounded toward zero, exactly, for integer arrays of one dtype (the float quotient
    would round int64 values past 2**24)."""
    q = np.floor_divide(a, b)
    inexact = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
    return np.where(inexact, q + 1, q).astype(q.dtype)
