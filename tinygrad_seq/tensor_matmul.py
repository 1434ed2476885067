"""Matrix products of Tensor (the MatMulOps base of tensor_math.MathOps): @, matmul, mm, bmm, dot,
with torch's dtype rules: no promotion between two tensors of different dtypes (RuntimeError),
no bool kernel (NotImplementedError), and a numpy operand promoting as torch's does. Also the
dtype checks the other products share (addmm, addmv, baddbmm, inner, vdot, cross, cdist), in
torch's words ("expected scalar type Float but found Double"), and addmm / baddbmm / addbmm / mv /
inner (attached to Tensor by tensor_more)."""
import math

import numpy as np

from tinygrad_seq import ops
from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch
from tinygrad_seq.grad_fn_names import named

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
        if not isinstance(o, MatMulOps):   # a numpy array (or list): as torch's, the result promotes
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

    def matmul(self, other): return self.__matmul__(other)

    def mm(self, mat2):
        o = mat2
        if self.ndim != 2 or getattr(o, "ndim", 0) != 2:
            raise ShapeMismatch(f"mm: expected two 2-D tensors, got shapes {self.shape} and {getattr(o, 'shape', ())}")
        return self @ o

    def bmm(self, mat2):
        o = mat2
        if self.ndim != 3 or getattr(o, "ndim", 0) != 3 or o.shape[0] != self.shape[0]:
            raise ShapeMismatch(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                                f"{self.shape} and {getattr(o, 'shape', ())}")
        return named(self @ o, "BmmBackward0")

    def dot(self, other):
        """The inner product of two 1-D tensors of one length, as torch.dot."""
        o = self._other(other)
        if self.ndim != 1 or o.ndim != 1 or self.shape != o.shape:
            raise ShapeMismatch(f"dot: expected two 1-D tensors of the same length, got shapes {self.shape} and {o.shape}")
        return self @ o

    def _matmul_error(self, o):
        """Raise the matmul shape error that names both shapes (after numpy refused)."""
        if self.ndim == 0 or o.ndim == 0:
            raise ShapeMismatch(f"matmul: both arguments need at least 1 dimension, got shapes {self.shape} and {o.shape}")
        k1 = self.shape[-1]
        k2 = o.shape[-2] if o.ndim > 1 else o.shape[0]
        if k1 != k2:
            raise ShapeMismatch(f"matmul: shapes {self.shape} and {o.shape} are not aligned ({k1} != {k2})")
        if self.ndim > 2 or o.ndim > 2:
            try:
                np.broadcast_shapes(self.shape[:-2], o.shape[:-2])
            except ValueError:
                raise ShapeMismatch(f"matmul: batch dimensions of {self.shape} and {o.shape} cannot be broadcast") from None


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
    """beta * self + alpha * product; beta == 0 ignores self (a nan or inf in it too), as torch's."""
    beta, alpha = integral_scalars(self.dtype, beta, alpha)
    out = product * alpha if alpha != 1 else product
    if beta == 0:
        from tinygrad_seq.creation import zeros
        return out + zeros(*self.shape, dtype=out.dtype, device=out.device)
    return out + (self * beta if beta != 1 else self)


def _same_as_input(self, mat, batch2=None):
    """torch's addmm / addbmm / baddbmm refuse an input of another dtype than the products'."""
    if self.dtype != mat.dtype:
        if batch2 is None:
            raise DTypeMismatch(f"self and mat2 must have the same dtype, but got {scalar_name(self.dtype)} "
                                f"and {scalar_name(mat.dtype)}")
        raise DTypeMismatch(f"Input dtypes must be the same, got: input {self.dtype}, batch1: {mat.dtype}, "
                            f"batch2: {batch2.dtype}")


def addmm(self, mat1, mat2, *, beta=1, alpha=1):
    prod = mat1 @ mat2
    _same_as_input(self, prod)
    return named(beta_plus(self, beta, prod, alpha), "AddmmBackward0")


def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    _same_as_input(self, batch1, batch2)
    return named(beta_plus(self, beta, batch1.bmm(batch2), alpha), "BaddbmmBackward0")


def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
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
