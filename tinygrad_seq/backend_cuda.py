"""The "cuda" array backend: backend_cpu's names on numba device arrays.

Almost every name is a kernel from the op modules of tinygrad_seq.kernels (ops_cuda, gemm_cuda,
reduce_cuda, softmax_cuda, gather_cuda); this module adds the few engine conveniences around
them (dtype rules of asarray, indexing, in-place updates). Imported only when the "cuda" device is
first used (device.backend), so CPU users never load numba.cuda. Under NUMBA_ENABLE_CUDASIM=1 the
same code runs in Numba's CUDA simulator.

Indexing with integer or bool arrays, and slices with negative steps, go through host memory
(a copy each way): correct, but slow; the models here index with basic slices and integers.
"""
import numbers

import numpy as np

from tinygrad_seq.kernels import ops_cuda as K
from tinygrad_seq.kernels.gather_cuda import index_add_rows, pick, pick_backward, take_rows
from tinygrad_seq.kernels.gemm_cuda import matmul
from tinygrad_seq.kernels.reduce_cuda import argmax, max, sum
from tinygrad_seq.kernels.softmax_cuda import log_softmax, softmax

name = "cuda"

# ops_cuda's kernels, unchanged
add, sub, mul, div, neg, power = K.add, K.sub, K.mul, K.div, K.neg, K.power
maximum, minimum = K.maximum, K.minimum
exp, log, tanh, sigmoid, relu, abs, sqrt, sign = K.exp, K.log, K.tanh, K.sigmoid, K.relu, K.abs, K.sqrt, K.sign


def _unbool(a):
    """Bool operands enter the elementwise kernels as float32 (their dtype rule takes the
    first operand's dtype, and the kernels have no bool arithmetic)."""
    return K.astype(a, np.float32) if K.is_device(a) and a.dtype == np.bool_ else a


def _comparison(kernel):
    def op(*args):
        return K.astype(kernel(*[_unbool(a) for a in args]), np.bool_)   # bool, as numpy's
    op.__name__ = kernel.__name__
    op.__doc__ = f"{kernel.__name__} elementwise -> bool"
    return op


gt, ge, lt, le, eq, ne, logical_not = (_comparison(k) for k in (K.gt, K.ge, K.lt, K.le, K.eq, K.ne, K.logical_not))


def where(cond, a, b):
    """numpy's where; the result dtype is a's or b's (a bool cond never sets it)."""
    dt = next((x.dtype for x in (a, b) if K.is_device(x) and x.dtype.kind == "f"),
              next((x.dtype for x in (a, b) if K.is_device(x)), None))
    if dt is not None and K.is_device(cond) and cond.dtype != dt:
        cond = K.astype(cond, dt)
    return K.where(cond, a, b)


def zero_where(drop, g):
    """0 where drop (bool) else g, as a select: an inf or nan of g at a dropped place gives 0."""
    return where(drop, 0, g)


def sigmoid_backward(g, y):
    """g * (1 - y) * y: sigmoid's gradient from its output y."""
    return mul(mul(g, sub(1, y)), y)


def relu_backward(g, y):
    """g where y > 0 else 0: relu's gradient from its output y."""
    return zero_where(le(y, 0), g)


def tanh_backward(g, y):
    """g * (1 - y^2): tanh's gradient from its output y."""
    return mul(g, sub(1, mul(y, y)))


def softmax_backward(g, y, axis):
    """y * (g - sum(g * y, axis)): softmax's gradient from its output y."""
    return mul(y, sub(g, sum(mul(g, y), axis=axis, keepdims=True)))


def log_softmax_backward(g, y, axis):
    """g - exp(y) * sum(g, axis): log_softmax's gradient from its output y."""
    return sub(g, mul(exp(y), sum(g, axis=axis, keepdims=True)))


zeros, ones, full, copy, astype, ascontiguous = K.zeros, K.ones, K.full, K.copy, K.astype, K.ascontiguous
broadcast_to, concatenate, stack, split = K.broadcast_to, K.concatenate, K.stack, K.split
fill, copy_into, to_host = K.fill, K.copy_into, K.to_host


def asarray(data, dtype=None):
    """Device array from host data or a device array (cast when dtype differs)."""
    if K.is_device(data):
        return data if dtype is None or data.dtype == np.dtype(dtype) else K.astype(data, dtype)
    host = np.asarray(data, dtype=dtype)
    dev = K.as_device(host)
    # as_device goes through np.ascontiguousarray, which makes 0-d data 1-d
    return dev if dev.shape == host.shape else K.reshape(dev, host.shape)


def reshape(a, shape):
    shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        shape = tuple(a.size // known if s == -1 else s for s in shape)
    return K.reshape(a, shape)


def transpose(a, axes):
    return K.transpose(a, axes)


def clip(a, lo, hi):
    out = a
    if lo is not None:
        out = K.maximum(out, lo)
    if hi is not None:
        out = K.minimum(out, hi)
    return out if out is not a else K.copy(a)


# ---------------------------------------------------------------- indexing
def _device_slicable(idx, ndim):
    """True when numba's device-array slicing handles idx (ints and positive-step slices)."""
    for it in idx:
        if isinstance(it, slice):
            if it.step is not None and it.step <= 0:
                return False
        elif not isinstance(it, numbers.Integral):
            return False
    return len(idx) <= ndim


def _host_index(idx):
    return tuple(K.to_host(i) if K.is_device(i) else i for i in idx)


def _device_view(a, idx):
    """a[idx] as a device array. One element (an integer per axis) comes back from numba as a
    host scalar, so it is taken as the [1, ..., 1] slice around it instead."""
    if len(idx) == a.ndim and all(isinstance(i, numbers.Integral) for i in idx):
        for axis, (i, n) in enumerate(zip(idx, a.shape)):
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
        return a[tuple(slice(i % n, i % n + 1) for i, n in zip(idx, a.shape))]
    return a[idx] if idx else a


def getitem(a, idx):
    if _device_slicable(idx, a.ndim):
        view = _device_view(a, idx)
        if len(idx) == a.ndim and all(isinstance(i, numbers.Integral) for i in idx):
            return K.reshape(K.copy(view), ())  # a copy, like numpy's scalar: no view into a
        return K.ascontiguous(view)
    return asarray(np.ascontiguousarray(K.to_host(a)[_host_index(idx)]))


def index_add(shape, dtype, idx, g, advanced):
    """zeros(shape) with g added at [idx] (the adjoint of getitem)."""
    if not advanced and _device_slicable(idx, len(shape)):
        out = K.zeros(shape, dtype)
        K.copy_into(_device_view(out, idx), g)
        return out
    host = np.zeros(shape, dtype)
    np.add.at(host, _host_index(idx), K.to_host(g))
    return asarray(host)


def setitem(a, idx, v):
    if _device_slicable(idx, a.ndim):
        K.copy_into(_device_view(a, idx), v)
        return a
    host = K.to_host(a)
    host[_host_index(idx)] = K.to_host(v) if K.is_device(v) else v
    K.copy_into(a, asarray(host))
    return a


# ---------------------------------------------------------------- in place
def iadd(a, b):
    return K.copy_into(a, K.add(a, b))


def imul(a, b):
    return K.copy_into(a, K.mul(a, b))


def may_share_memory(a, b):
    """Whether two device arrays may overlap (their device address ranges meet): the in-place
    check of autograd relies on it. Host arrays never share memory with device ones."""
    if not (K.is_device(a) and K.is_device(b)):
        return False
    return K.may_overlap(a, b)


# ---------------------------------------------------------------- through host memory
# Ops the recurrent models never run on the GPU in their hot loops (sorting, cumulative sums,
# gathers of torch.gather, rounding): numpy on a host copy, then back. Correct, not fast.
def _via_host(fn, name):
    def op(*args):
        host = [K.to_host(a) if K.is_device(a) else a for a in args]
        return asarray(np.ascontiguousarray(fn(*host)))
    op.__name__ = name
    op.__doc__ = f"backend_cpu.{name} on a host copy."
    return op


def _host_inplace(fn, name):
    def op(out, *args):
        host = K.to_host(out)
        fn(host, *[K.to_host(a) if K.is_device(a) else a for a in args])
        K.copy_into(out, asarray(host))
        return out
    op.__name__ = name
    op.__doc__ = f"backend_cpu.{name} on a host copy, written back into out."
    return op


def _cpu():
    from tinygrad_seq import backend_cpu
    return backend_cpu


for _name in ("sin", "cos", "log1p", "expm1", "floor", "ceil", "rint", "trunc", "floor_divide",
              "remainder", "logical_and", "logical_or", "logical_xor", "cumsum", "cumprod", "argsort",
              "gather"):
    globals()[_name] = _via_host(getattr(_cpu(), _name), _name)
scatter = _host_inplace(_cpu().scatter, "scatter")
scatter_add = _host_inplace(_cpu().scatter_add, "scatter_add")
