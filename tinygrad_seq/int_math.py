"""Integer (and bool) arithmetic where numpy's answer or the float formula differs from torch's:
min / minimum by numpy's own min (the float path's -max(-x) wraps for unsigned types and for the
dtype's minimum), and integer powers with negative exponents, which torch computes (1 ** -n = 1,
(-1) ** -n = +-1, 0 for any other base) where numpy raises. No gradients: integers have none."""
import numpy as np

from tinygrad_seq import autograd, device as _device


def _host(t):
    return _device.backend(t.device).to_host(t.array)


def _on_device(arr, device):
    arr = np.asarray(arr)
    arr = arr if arr.flags.c_contiguous else arr.copy()   # (ascontiguousarray would make 0-d 1-d)
    return autograd._Tensor._wrap(arr if device == "cpu" else _device.backend(device).asarray(arr), device)


def exact_minimum(a, b):
    """Elementwise minimum of two tensors of one integer or bool dtype."""
    return _on_device(np.minimum(_host(a), _host(b)), a.device)


def int_pow(a, b):
    """a ** b for integer tensors a and b (promoted as torch's), negative exponents included."""
    if a.array.dtype != b.array.dtype:
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(a, b)
    base, exp = _host(a), _host(b)
    negative = exp < 0
    if not negative.any():   # (laid out as torch's: a transposed base keeps its order)
        from tinygrad_seq.elementwise_layout import elementwise
        out = elementwise(np.power, base, exp)
        return autograd._Tensor._wrap(out, "cpu") if a.device == "cpu" and out.ndim else _on_device(out, a.device)
    with np.errstate(all="ignore"):
        out = np.power(base, np.where(negative, 0, exp))
        odd = (exp % 2) != 0
        inverse = np.where(base == 1, 1, np.where(base == -1, np.where(odd, -1, 1), 0)).astype(out.dtype)
    return _on_device(np.where(negative, inverse, out), a.device)


def exact_min(x, dim, keepdim):
    """min of an integer or bool tensor: the value (dim None) or (values, indices) along dim."""
    from tinygrad_seq.tensor_reduce import MinResult, _dim1
    arr = _host(x)
    if dim is None:
        if arr.size == 0:
            from tinygrad_seq.errors import ShapeMismatch
            raise ShapeMismatch("min(): expected a dim for a tensor with no elements; pass dim=")
        return _on_device(np.asarray(arr.min(keepdims=keepdim)), x.device)   # (keepdim: every dim at 1)
    d = _dim1(dim, x.ndim)
    values, index = np.min(arr, axis=d, keepdims=keepdim), np.argmin(arr, axis=d)
    if keepdim:
        index = np.expand_dims(index, d)
    return MinResult(_on_device(values, x.device), _on_device(index.astype(np.int64), x.device))


def exact_amin(x, dims, keepdim):
    from tinygrad_seq import ops
    return _on_device(np.asarray(np.amin(_host(x), axis=ops._norm_axes(dims, x.ndim), keepdims=keepdim)), x.device)


def exact_argmin(x, dim, keepdim):
    from tinygrad_seq.tensor_reduce import _dim1
    arr = _host(x)
    if dim is None:
        return _on_device(np.asarray(np.argmin(arr.reshape(-1)), dtype=np.int64), x.device)
    d = _dim1(dim, x.ndim)
    index = np.argmin(arr, axis=d).astype(np.int64)
    return _on_device(np.expand_dims(index, d) if keepdim else index, x.device)
