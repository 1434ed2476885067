"""Matrix products of Tensor (the MatMulOps base of tensor_math.MathOps): @, matmul, mm, bmm, dot,
with torch's dtype rules: no promotion between two tensors of different dtypes (RuntimeError),
no bool kernel (NotImplementedError), and a numpy operand promoting as torch's does. Also the
dtype checks the other products share (addmm, addmv, baddbmm, inner, vdot, cross, cdist), in
torch's words ("expected scalar type Float but found Double"), and addmm / baddbmm / addbmm / mv /
inner (attached to Tensor by tensor_more), with torch's deprecated (beta, [alpha,] ...) positional
forms of addmm / addmv / addr / addbmm / baddbmm (deprecated_method_args, deprecated_free_args)."""
import math

import numpy as np

from tinygrad_seq import ops
from tinygrad_seq.errors import DTypeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.operand_types import defer_unknown
from tinygrad_seq.matmul_shape_errors import check_bmm, check_dot, check_mm, raise_matmul_error

# torch's scalar type names, as its dtype errors spell them
_TORCH_NAMES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double", np.dtype(np.float16): "Half",
                np.dtype(np.int64): "Long", np.dtype(np.int32): "Int", np.dtype(np.int16): "Short",
                np.dtype(np.int8): "Char", np.dtype(np.uint8): "Byte", np.dtype(np.bool_): "Bool"}


def scalar_name(dtype):
    """torch's name of a dtype in its errors: Float, Double, Long, Bool, ..."""
    return _TORCH_NAMES.get(np.dtype(dtype), str(dtype))


def no_bool(kernel, dtype):
    """torch has no bool kernel for the products: NotImplementedError naming the kernel."""
    if dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def same_scalar_type(a, b):
    """torch's check of kernels that take one dtype (cross, cdist, einsum's bmm): both the same."""
    if a.dtype != b.dtype:
        raise DTypeMismatch(f"expected scalar type {scalar_name(a.dtype)} but found {scalar_name(b.dtype)}")


def _bool_kernel(a, o):
    """The kernel torch's matmul of these shapes runs (its bool error names it)."""
    if a.ndim == 1 and o.ndim == 1:
        return "dot"
    if a.ndim <= 2 and o.ndim <= 2:
        return "addmv_impl_cpu" if o.ndim == 1 else "addmm_impl_cpu_"
    return "bmm"


class MatMulOps:
    __slots__ = ()

    def __matmul__(self, o):
        a = self
        if isinstance(o, (list, tuple)):   # as torch's: no sequence operand
            return NotImplemented
        if not isinstance(o, MatMulOps):   # a numpy array: as torch's, the result promotes
            o = self._other(o)
            if o.dtype != a.dtype and "b" not in (o.dtype.kind, a.dtype.kind):
                dt = np.promote_types(a.dtype, o.dtype)
                a, o = a.to(dtype=dt), o.to(dtype=dt)
        elif o.device != a.device:
            o = self._other(o)   # raises: tensors on two devices
        dt = a.array.dtype
        if dt != o.array.dtype or dt.kind == "b":
            # torch promotes nothing in matmul (a 0-d operand: its error first) and has no bool kernel
            if a.ndim == 0 or o.ndim == 0:
                a._matmul_error(o)
            if dt == o.array.dtype:
                no_bool(_bool_kernel(a, o), dt)
            raise DTypeMismatch(f"expected m1 and m2 to have the same dtype, but got: {dt} != {o.array.dtype}")
        try:
            return ops.MatMul.apply(a, o)
        except ValueError:
            a._matmul_error(o)
            raise

    def __rmatmul__(self, o):
        o = self._other(o)
        a = self
        if o.dtype != a.dtype and "b" not in (o.dtype.kind, a.dtype.kind):   # numpy @ tensor promotes
            dt = np.promote_types(a.dtype, o.dtype)
            a, o = a.to(dtype=dt), o.to(dtype=dt)
        return o.__matmul__(a)

    def matmul(self, other): return MatMulOps._matmul(self, other)   # (an unknown operand: TypeError)

    # `t @ Foo()` hands the operand back to Python (Foo.__rmatmul__), as torch's
    _matmul, __matmul__, __rmatmul__ = __matmul__, defer_unknown(__matmul__), defer_unknown(__rmatmul__)

    def mm(self, mat2):
        check_mm(self, mat2)
        return self @ mat2

    def bmm(self, mat2):
        check_bmm(self, mat2)
        return named(self @ mat2, "BmmBackward0")

    def dot(self, tensor):
        """The inner product of two 1-D tensors of one length, as torch.dot (its parameter name)."""
        o = self._other(tensor)
        check_dot(self, o)
        return self @ o

    def _matmul_error(self, o):
        """Raise torch's shape error of self @ o (after numpy refused), naming the shapes it saw."""
        raise_matmul_error(self, o)


# ---------------------------------------------------------------- the products built on matmul
def integral_scalars(dtype, *scalars):
    """alpha / beta of a product on integer tensors: torch truncates a float to an integer (the
    result keeps the integer dtype); one the dtype cannot hold raises, as torch's."""
    if np.dtype(dtype).kind not in "iu":
        return scalars
    info, out = np.iinfo(dtype), []
    for s in scalars:
        if isinstance(s, (float, np.floating)):
            if not (math.isfinite(s) and info.min <= int(s) <= info.max):
                raise RuntimeError(f"value {s} cannot be converted to type {dtype} without overflow")
            s = int(s)
        out.append(s)
    return tuple(out)


def beta_plus(self, beta, product, alpha):
    """beta * self + alpha * product; beta == 0 ignores self's values (a nan or inf in it too) but
    keeps self in the graph with a zero gradient, as torch's (its result has a grad_fn)."""
    beta, alpha = integral_scalars(self.dtype, beta, alpha)
    out = product * alpha if alpha != 1 else product
    return out + ignored_input(self) if beta == 0 else out + (self * beta if beta != 1 else self)


def ignored_input(self):
    """Zeros of self's shape and dtype whose gradient to self is zero: a beta == 0 input."""
    from tinygrad_seq.creation import ones
    return self.masked_fill(ones(*self.shape, dtype=np.bool_, device=self.device), 0)


# ---------------------------------------------------------------- torch's deprecated overloads
# the names torch's deprecated signatures give the two product operands
_OPERANDS = {"addmm": ("mat1", "mat2"), "addmv": ("mat", "vec"), "addr": ("vec1", "vec2"),
             "addbmm": ("batch1", "batch2"), "baddbmm": ("batch1", "batch2")}
DEPRECATED_FREE = frozenset(_OPERANDS)   # the free functions with a (beta, input, [alpha,] ...) form


def _is_number(x):
    return isinstance(x, (bool, int, float, np.number))


def _deprecation_warning(name, signature):
    import warnings
    a, b = _OPERANDS[name]
    warnings.warn(f"This overload of {name} is deprecated:\n\t{name}({signature})\nConsider using one of the "
                  f"following signatures instead:\n\t{name}(Tensor {a}, Tensor {b}, *, Number beta = 1, "
                  "Number alpha = 1)", UserWarning, stacklevel=4)


def deprecated_method_args(name, first, second, rest, beta, alpha):
    """x.addmm(beta, mat1, mat2) / x.addmm(beta, alpha, mat1, mat2): torch 2.13 still runs these
    (with a deprecation warning). first, second, rest: the positional arguments. Returns
    (operand1, operand2, beta, alpha); the modern call (two tensors) passes through."""
    if not _is_number(first):
        if rest:
            raise TypeError(f"{name}() takes 2 positional tensors, got {2 + len(rest)} arguments")
        return first, second, beta, alpha
    if (beta, alpha) != (1, 1):
        raise TypeError(f"{name}(): the deprecated overload (Number beta, ...) takes no beta= / alpha= keywords")
    a, b = _OPERANDS[name]
    if _is_number(second) and len(rest) == 2:
        _deprecation_warning(name, f"Number beta, Number alpha, Tensor {a}, Tensor {b}")
        return rest[0], rest[1], first, second
    if not _is_number(second) and len(rest) == 1:
        _deprecation_warning(name, f"Number beta, Tensor {a}, Tensor {b}")
        return second, rest[0], first, 1
    raise TypeError(f"{name}() received an invalid combination of arguments: expected ({a}, {b}, *, beta, "
                    f"alpha) or the deprecated (beta, [alpha,] {a}, {b})")


def deprecated_free_args(name, beta, args, kwargs):
    """torch.addmm(beta, input, [alpha,] mat1, mat2): the deprecated free form torch 2.13 still runs
    (with its warning), as (input, (mat1, mat2), kwargs with beta / alpha)."""
    a, b = _OPERANDS[name]
    if kwargs.keys() - {a, b} or len(args) not in (2, 3, 4) or not _is_number(beta):
        raise TypeError(f"{name}() received an invalid combination of arguments: expected (Tensor input, "
                        f"Tensor {a}, Tensor {b}, *, Number beta, Number alpha)")
    input, rest = args[0], list(args[1:])
    has_alpha = bool(rest) and _is_number(rest[0])
    alpha = rest.pop(0) if has_alpha else 1
    operands = rest + [kwargs[k] for k in (a, b) if k in kwargs]
    if len(operands) != 2:
        raise TypeError(f"{name}() missing its {a} / {b} arguments")
    middle = "Number alpha, " if has_alpha else ""
    _deprecation_warning(name, f"Number beta, Tensor input, {middle}Tensor {a}, Tensor {b}")
    return input, tuple(operands), {"beta": beta, "alpha": alpha}


def _same_as_input(self, mat, batch2=None):
    """torch's addmm / addbmm / baddbmm refuse an input of another dtype than the products'."""
    if self.dtype != mat.dtype:
        if batch2 is None:
            raise DTypeMismatch(f"self and mat2 must have the same dtype, but got {scalar_name(self.dtype)} "
                                f"and {scalar_name(mat.dtype)}")
        raise DTypeMismatch(f"Input dtypes must be the same, got: input {self.dtype}, batch1: {mat.dtype}, "
                            f"batch2: {batch2.dtype}")


def addmm(self, mat1, mat2, *deprecated, beta=1, alpha=1):
    mat1, mat2, beta, alpha = deprecated_method_args("addmm", mat1, mat2, deprecated, beta, alpha)
    prod = mat1 @ mat2
    _same_as_input(self, prod)
    return named(beta_plus(self, beta, prod, alpha), "AddmmBackward0")


def baddbmm(self, batch1, batch2, *deprecated, beta=1, alpha=1):
    batch1, batch2, beta, alpha = deprecated_method_args("baddbmm", batch1, batch2, deprecated, beta, alpha)
    _same_as_input(self, batch1, batch2)
    return named(beta_plus(self, beta, batch1.bmm(batch2), alpha), "BaddbmmBackward0")


def addbmm(self, batch1, batch2, *deprecated, beta=1, alpha=1):
    batch1, batch2, beta, alpha = deprecated_method_args("addbmm", batch1, batch2, deprecated, beta, alpha)
    prod = batch1.bmm(batch2)
    _same_as_input(self, prod)
    return named(beta_plus(self, beta, prod.sum(0), alpha), "AddbmmBackward0")


def mv(self, vec):
    if self.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got {self.ndim}-D and {vec.ndim}-D")
    return self @ vec


def inner(self, other):
    """Sum over the last dims: [*a, k] and [*b, k] -> [*a, *b]."""
    if not self.ndim or not other.ndim:
        return self * other   # a 0-d operand: torch multiplies (and promotes)
    if self.dtype != other.dtype:
        raise DTypeMismatch("inner(): both inputs should have same dtype, got "
                            f"{scalar_name(self.dtype)} and {scalar_name(other.dtype)}")
    no_bool("addmm_impl_cpu_", self.dtype)
    a = self.reshape((*self.shape[:-1], *([1] * (other.ndim - 1)), self.shape[-1]))
    return named((a * other).sum(-1), "ViewBackward0")   # torch's: a matmul of the flattened operands
