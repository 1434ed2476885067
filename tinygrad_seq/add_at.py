"""Accumulating writes into host arrays where targets repeat, in torch's order of addition:
index_add_ and index_put_(accumulate=True) by rows, scatter_add_ along a dim. Large ones run the
Numba kernels of kernels/index_add_cpu.py (one pass); small ones, and layouts the kernels do not
take, numpy's ufunc.at (the same order, slower: 9 ns an element)."""
import math

import numpy as np

KERNEL_MIN_ELEMENTS = 4096   # below: numpy's ufunc.at (a kernel call's dispatch, a first compile)
_KERNEL_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int64, np.int32))
_kernels = []   # [kernels.index_add_cpu], imported on first use (it imports numba)


def _module(dtype):
    if not _kernels:
        from tinygrad_seq.kernels import index_add_cpu
        _kernels.append(index_add_cpu)
    from tinygrad_seq.kernels.compile_notice import announce
    k = _kernels[0]
    announce("the index_add / scatter_add CPU kernels", dtype, (k.add_rows, k.scatter_add))
    return k


def _kernel_takes(a, src, n_written):
    return (n_written >= KERNEL_MIN_ELEMENTS and a.dtype in _KERNEL_DTYPES and src.dtype == a.dtype
            and a.flags.c_contiguous and a.flags.writeable)


def add_rows(a, dim, rows, src):
    """a[..., rows[k], ...] += src[..., k, ...] along dim, k in order (torch's index_add_ loop);
    rows [K] int, src of a's shape but K along dim."""
    rows = np.asarray(rows).reshape(-1)
    n = a.shape[dim]
    if _kernel_takes(a, src, src.size) and rows.size and 0 <= rows.min() and rows.max() < n:
        lead = math.prod(a.shape[:dim])
        a3 = a.reshape(lead, n, -1)
        src3 = np.ascontiguousarray(src).reshape(lead, rows.size, a3.shape[2])
        _module(a.dtype).add_rows(a3, rows.astype(np.int64, copy=False), src3)
        return a
    np.add.at(np.moveaxis(a, dim, 0), rows, np.moveaxis(src, dim, 0))
    return a


def scatter_add(a, dim, index, src, fallback):
    """a[..., index[..., k, ...], ...] += src[..., k, ...] along dim (torch's scatter_add_), by the
    kernel where index has src's shape and a's along every other dim; else fallback(a)."""
    if (_kernel_takes(a, src, index.size) and index.shape == src.shape and index.dtype.kind == "i"
            and all(index.shape[k] == a.shape[k] for k in range(a.ndim) if k != dim)
            and index.size and 0 <= index.min() and index.max() < a.shape[dim]):
        lead = math.prod(a.shape[:dim])
        a3 = a.reshape(lead, a.shape[dim], -1)
        shape3 = (lead, index.shape[dim], a3.shape[2])
        _module(a.dtype).scatter_add(a3, np.ascontiguousarray(index, np.int64).reshape(shape3),
                                     np.ascontiguousarray(src).reshape(shape3))
        return a
    return fallback(a)
