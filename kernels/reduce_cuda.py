"""Reductions on numba.cuda device arrays: sum, max, argmax (first maximum on ties) and mean over
any axes of strided operands, with a block-per-output tree, a thread-per-output loop for many short
rows, and two passes for few long ones. Arrays in, arrays out, as in ops_cuda.
"""
import builtins

import numpy as np
from numba import cuda, from_dtype

from .ops_cuda import (MAX_BLOCKS, SIM, THREADS, as_device, ascontiguous, elementwise, fill,
                       flat_view, launch_1d, offset_dev, ptx_listing)

_cache = {}


# ---------------------------------------------------------------- reductions

_SUM, _MAX, _ARGMAX = 0, 1, 2


def _reduce_kernels(op, dtype):
    """(row, serial) kernels reducing `a` (flat + strides) over the reduced dims to out [O * P]:
    row: one block per (output, chunk) with a shared-memory tree; serial: a thread per output."""
    key = ("red", op, np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    nbt = from_dtype(np.dtype(dtype))
    ident = nbt.cast_python_value(0.0 if op == _SUM else -np.inf)
    NT = THREADS

    @cuda.jit(device=True, inline=True)
    def combine(v, i, w, j):
        # (value, index) pair of the reduction of two pairs; argmax keeps the first on ties
        if op == _SUM:
            return v + w, i
        if w > v or (w == v and j < i):
            return w, j
        return v, i

    @cuda.jit(fastmath=True)
    def row(out, a, kshape, kst, rshape, rst, R, P, chunk):
        sv = cuda.shared.array(NT, nbt)
        si = cuda.shared.array(NT, np_int64)
        t = cuda.threadIdx.x
        O = out.size // P
        for blk in range(cuda.blockIdx.x, O * P, cuda.gridDim.x):
            o = blk // P
            p = blk % P
            base = offset_dev(o, kshape, kst)
            v = ident
            vi = R
            for r in range(p * chunk + t, min(R, (p + 1) * chunk), NT):
                v, vi = combine(v, vi, a[base + offset_dev(r, rshape, rst)], r)
            sv[t] = v
            si[t] = vi
            cuda.syncthreads()
            s = NT // 2
            while s > 0:
                if t < s:
                    v2, i2 = combine(sv[t], si[t], sv[t + s], si[t + s])
                    sv[t] = v2
                    si[t] = i2
                cuda.syncthreads()
                s //= 2
            if t == 0:
                out[blk] = si[0] if op == _ARGMAX else sv[0]
            cuda.syncthreads()

    @cuda.jit(fastmath=True)
    def serial(out, a, kshape, kst, rshape, rst, R):
        for o in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            base = offset_dev(o, kshape, kst)
            v = ident
            vi = R
            for r in range(R):
                v, vi = combine(v, vi, a[base + offset_dev(r, rshape, rst)], r)
            out[o] = vi if op == _ARGMAX else v

    _cache[key] = (row, serial)
    return row, serial


np_int64 = from_dtype(np.dtype(np.int64))


def _reduce(a, axis, keepdims, op):
    a = as_device(a)
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else tuple(ax % nd for ax in np.atleast_1d(axis))
    kept = [d for d in range(nd) if d not in axes]
    flat, st = flat_view(a)
    kshape = (1,) + tuple(a.shape[d] for d in kept)
    kst = (0,) + tuple(st[d] for d in kept)
    rshape = (1,) + tuple(a.shape[d] for d in axes)
    rst = (0,) + tuple(st[d] for d in axes)
    O = int(np.prod(kshape))
    R = int(np.prod(rshape))
    out_shape = tuple(1 if d in axes else a.shape[d] for d in range(nd)) if keepdims else \
        tuple(a.shape[d] for d in kept)
    out_dtype = np.int64 if op == _ARGMAX else a.dtype
    out = cuda.device_array(O, out_dtype)
    if O == 0:
        return out.reshape(out_shape)
    if R == 0:
        assert op == _SUM, "max/argmax of an empty axis"
        return fill(out, 0).reshape(out_shape)
    row, serial = _reduce_kernels(op, a.dtype)
    if R < 64 and O >= 64:
        serial[launch_1d(O)](out, flat, kshape, kst, rshape, rst, R)
    elif op != _ARGMAX and O < 64 and R >= (1 << 16) and not SIM:
        # two passes: P partial results per output, then a contiguous reduction of the partials
        P = min(1024, -(-R // (1 << 14)))
        chunk = -(-R // P)
        part = cuda.device_array(O * P, a.dtype)
        row[min(O * P, 65535), THREADS](part, flat, kshape, kst, rshape, rst, R, P, chunk)
        row[min(O, 65535), THREADS](out, part, (1, O), (0, P), (1, P), (0, 1), P, 1, P)
    else:
        row[min(O, MAX_BLOCKS * 64), THREADS](out, flat, kshape, kst, rshape, rst, R, 1, R)
    return out.reshape(out_shape)


def sum(a, axis=None, keepdims=False):
    """Sum over axis (int, tuple or None for all) -> reduced shape (a 0-d array for None)."""
    return _reduce(a, axis, keepdims, _SUM)


def max(a, axis=None, keepdims=False):
    """Maximum over axis (int, tuple or None) -> reduced shape."""
    return _reduce(a, axis, keepdims, _MAX)


def argmax(a, axis=None):
    """int64 index of the first maximum along one axis (None: of the flattened array)."""
    if axis is None:
        return _reduce(ascontiguous(as_device(a)).reshape(a.size), 0, False, _ARGMAX)
    return _reduce(a, axis, False, _ARGMAX)


def mean(a, axis=None, keepdims=False):
    s = sum(a, axis, keepdims)
    n = a.size // builtins.max(s.size, 1)
    return elementwise("mul", s, 1.0 / builtins.max(n, 1))


# ---------------------------------------------------------------- PTX listing

def ptx_kernels():
    """The row and serial kernels of sum, max and argmax."""
    def kernels(dt, ty):
        out = []
        for op in (_SUM, _MAX, _ARGMAX):
            row, serial = _reduce_kernels(op, dt)
            o = ty.idx1 if op == _ARGMAX else ty.a1
            views = (o, ty.a1, ty.tup2, ty.tup2, ty.tup2, ty.tup2)
            out.append((f"reduce{op}_row_{ty.name}", row, views + (ty.i64,) * 3))
            out.append((f"reduce{op}_serial_{ty.name}", serial, views + (ty.i64,)))
        return out
    return ptx_listing(kernels)
