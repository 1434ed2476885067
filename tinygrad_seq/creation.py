"""Free tensor constructors and joins: ts.zeros, ts.ones, ts.randn, ts.cat, ts.stack, ..."""
import numpy as np

from tinygrad_seq import ops, random
from tinygrad_seq.tensor import Tensor


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _make(arr, dtype, device, requires_grad):
    return Tensor(arr.astype(np.dtype(dtype or np.float32), copy=False), requires_grad=requires_grad, device=device)


def tensor(data, dtype=None, device="cpu", requires_grad=False):
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def zeros(*shape, dtype=None, device="cpu", requires_grad=False):
    return _make(np.zeros(_shape(shape)), dtype, device, requires_grad)


def ones(*shape, dtype=None, device="cpu", requires_grad=False):
    return _make(np.ones(_shape(shape)), dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device="cpu", requires_grad=False):
    return _make(np.full(_shape((shape,)), fill_value), dtype, device, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def randn(*shape, dtype=None, device="cpu", requires_grad=False):
    return _make(random.normal(_shape(shape)), dtype, device, requires_grad)


def rand(*shape, dtype=None, device="cpu", requires_grad=False):
    return _make(random.uniform(0.0, 1.0, _shape(shape)), dtype, device, requires_grad)


def randint(low, high, size, device="cpu"):
    return Tensor(random.generator().integers(low, high, size=_shape((size,))), device=device)


def arange(start, end=None, step=1, dtype=None, device="cpu"):
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    return Tensor(arr if dtype is None else arr.astype(dtype), device=device)


def _check_join(tensors, dim, name, same_shape):
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    ref = tensors[0]
    nd = ref.ndim + (1 if same_shape else 0)
    if not -nd <= dim < max(nd, 1):
        raise IndexError(f"{name}: dimension {dim} out of range for {nd} dimensions")
    d = dim % nd
    for i, t in enumerate(tensors[1:], 1):
        if t.device != ref.device:
            raise RuntimeError(f"{name}: expected all tensors on one device, got {ref.device} and {t.device}")
        if t.ndim != ref.ndim or (same_shape and t.shape != ref.shape) or \
                (not same_shape and t.shape[:d] + t.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]):
            raise ValueError(f"{name}: tensor 0 has shape {ref.shape} but tensor {i} has shape {t.shape}")
    return d


def cat(tensors, dim=0):
    tensors = list(tensors)
    d = _check_join(tensors, dim, "cat", False)
    tensors = _common_dtype(tensors)
    return ops.Cat.apply(*tensors, axis=d)


def stack(tensors, dim=0):
    tensors = list(tensors)
    d = _check_join(tensors, dim, "stack", True)
    tensors = _common_dtype(tensors)
    return ops.Stack.apply(*tensors, axis=d)


def where(cond, a, b):
    """ts.where(cond, a, b): elementwise choice; differentiable in a and b."""
    ref = a if isinstance(a, Tensor) else b
    a, b = ref._other(a), ref._other(b)
    c = cond.array if isinstance(cond, Tensor) else np.asarray(cond)
    return ops.Where.apply(a, b, cond=c)


def _common_dtype(tensors):
    dt = np.result_type(*[t.dtype for t in tensors])
    return [t if t.dtype == dt else t.to(dtype=dt) for t in tensors]
