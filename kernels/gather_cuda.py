"""Gathers and scatters on numba.cuda device arrays: embedding rows (take_rows, and its adjoint
index_add_rows with atomic adds) and one element per row (pick, pick_backward). Arrays in,
arrays out, as in ops_cuda.
"""
import numpy as np
from numba import cuda

from .ops_cuda import as_device, ascontiguous, launch_1d, ptx_listing, zeros


# ---------------------------------------------------------------- gathers and scatters

@cuda.jit
def _take_rows_kernel(w, idx, out):
    # w [V, D], idx [N] int64, out [N, D]: out[n] = w[idx[n]]
    D = w.shape[1]
    for i in range(cuda.grid(1), out.shape[0] * D, cuda.gridsize(1)):
        n = i // D
        out[n, i % D] = w[idx[n], i % D]


@cuda.jit
def _index_add_rows_kernel(out, idx, g, skip_row):
    # out [V, D] += g [N, D] at rows idx [N] (atomics: repeated indices accumulate); rows equal
    # to skip_row (>= 0) are left alone
    D = out.shape[1]
    for i in range(cuda.grid(1), g.shape[0] * D, cuda.gridsize(1)):
        n = i // D
        r = idx[n]
        if r != skip_row:
            cuda.atomic.add(out, (r, i % D), g[n, i % D])


@cuda.jit
def _pick_kernel(a, idx, out):
    # a [N, C], idx [N] -> out [N] = a[n, idx[n]]
    for n in range(cuda.grid(1), a.shape[0], cuda.gridsize(1)):
        out[n] = a[n, idx[n]]


@cuda.jit
def _pick_backward_kernel(out, idx, g):
    # out [N, C] (zeroed) gets g[n] at [n, idx[n]]
    for n in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[n, idx[n]] = g[n]


def take_rows(w, idx):
    """w [V, D], idx int (any shape) -> idx.shape + (D,): the embedding lookup (take axis 0)."""
    w = ascontiguous(as_device(w))
    idx = ascontiguous(as_device(idx, np.int64))
    flat = idx.reshape(idx.size)
    out = cuda.device_array((idx.size, w.shape[1]), w.dtype)
    if out.size:
        _take_rows_kernel[launch_1d(out.size)](w, flat, out)
    return out.reshape(tuple(idx.shape) + (w.shape[1],))


def index_add_rows(shape, idx, g, skip_row=None):
    """zeros(shape=(V, D)) with each row of g (idx.shape + (D,)) added at row idx[...]; repeats
    accumulate (atomic adds); row skip_row (an embedding's padding_idx) stays zero."""
    g = ascontiguous(as_device(g))
    idx = ascontiguous(as_device(idx, np.int64))
    out = zeros(tuple(shape), g.dtype)
    if idx.size:
        g2 = g.reshape((idx.size, shape[1]))
        _index_add_rows_kernel[launch_1d(g2.size)](out, idx.reshape(idx.size), g2,
                                                   -1 if skip_row is None else int(skip_row))
    return out


def pick(a, idx):
    """a [N, C], idx [N] int -> a[n, idx[n]] [N]."""
    a = ascontiguous(as_device(a))
    idx = ascontiguous(as_device(idx, np.int64))
    out = cuda.device_array(a.shape[0], a.dtype)
    if a.shape[0]:
        _pick_kernel[launch_1d(a.shape[0])](a, idx, out)
    return out


def pick_backward(shape, idx, g):
    """zeros(shape=(N, C)) with g[n] placed at [n, idx[n]] (the adjoint of pick)."""
    g = ascontiguous(as_device(g))
    idx = ascontiguous(as_device(idx, np.int64))
    out = zeros(tuple(shape), g.dtype)
    if shape[0]:
        _pick_backward_kernel[launch_1d(shape[0])](out, idx, g)
    return out


# ---------------------------------------------------------------- PTX listing

def ptx_kernels():
    """The gather and scatter kernels."""
    def kernels(dt, ty):
        return [(f"take_rows_{ty.name}", _take_rows_kernel, (ty.a2, ty.idx1, ty.a2)),
                (f"index_add_rows_{ty.name}", _index_add_rows_kernel, (ty.a2, ty.idx1, ty.a2, ty.i64)),
                (f"pick_{ty.name}", _pick_kernel, (ty.a2, ty.idx1, ty.a1)),
                (f"pick_backward_{ty.name}", _pick_backward_kernel, (ty.a2, ty.idx1, ty.a1))]
    return ptx_listing(kernels)
