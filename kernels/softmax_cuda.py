"""Row kernels on numba.cuda device arrays: softmax and log-softmax along any axis, and the fused
cross entropy (log-sum-exp per row, ignore_index, mean/sum/none) with its backward. One block per
row of a contiguous [N, C] matrix. Arrays in, arrays out, as in ops_cuda.
"""
import builtins
import math

import numpy as np
from numba import cuda, from_dtype

from . import reduce_cuda
from .ops_cuda import MAX_BLOCKS, THREADS, as_device, ascontiguous, launch_1d, ptx_listing, transpose

_cache = {}


# ---------------------------------------------------------------- row-wise fused kernels

def _row_kernels(dtype):
    """Kernels working on the rows of a contiguous [N, C] matrix, one block per row."""
    key = ("rows", np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    nbt = from_dtype(np.dtype(dtype))
    NT = THREADS
    zero = nbt.cast_python_value(0.0)
    one = nbt.cast_python_value(1.0)
    ninf = nbt.cast_python_value(-np.inf)

    @cuda.jit(device=True, inline=True)
    def block_reduce(sh, v, is_max):
        # all threads of the block get the sum (or max) of v; sh is NT of shared memory
        t = cuda.threadIdx.x
        sh[t] = v
        cuda.syncthreads()
        s = NT // 2
        while s > 0:
            if t < s:
                if is_max:
                    if sh[t + s] > sh[t]:
                        sh[t] = sh[t + s]
                else:
                    sh[t] += sh[t + s]
            cuda.syncthreads()
            s //= 2
        r = sh[0]
        cuda.syncthreads()
        return r

    @cuda.jit(device=True, inline=True)
    def row_lse(x, n, sh):
        # log-sum-exp of row n of x [N, C], max subtracted
        C = x.shape[1]
        t = cuda.threadIdx.x
        m = ninf
        for c in range(t, C, NT):
            if x[n, c] > m:
                m = x[n, c]
        m = block_reduce(sh, m, True)
        s = zero
        for c in range(t, C, NT):
            s += math.exp(x[n, c] - m)
        s = block_reduce(sh, s, False)
        return m + math.log(s)

    @cuda.jit(fastmath=True)
    def softmax_rows(x, out, log):
        # x, out [N, C]: out = softmax(x) (log-softmax when log) along C
        sh = cuda.shared.array(NT, nbt)
        for n in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
            lse = row_lse(x, n, sh)
            for c in range(cuda.threadIdx.x, x.shape[1], NT):
                out[n, c] = x[n, c] - lse if log else math.exp(x[n, c] - lse)

    @cuda.jit(fastmath=True)
    def ce_rows(x, target, ignore_index, lse_out, loss, valid):
        # x [N, C], target [N] int64 -> lse_out [N], loss [N] (0 where ignored), valid [N] (1/0)
        sh = cuda.shared.array(NT, nbt)
        for n in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
            lse = row_lse(x, n, sh)
            if cuda.threadIdx.x == 0:
                tg = target[n]
                lse_out[n] = lse
                if tg == ignore_index:
                    loss[n] = zero
                    valid[n] = zero
                else:
                    loss[n] = lse - x[n, tg]
                    valid[n] = one

    _cache[key] = (softmax_rows, ce_rows)
    return softmax_rows, ce_rows


def _rows(a, axis):
    """a with axis moved last, as a contiguous [N, C] matrix, and the permutation used."""
    axis %= a.ndim
    perm = tuple(d for d in range(a.ndim) if d != axis) + (axis,)
    moved = transpose(a, perm) if axis != a.ndim - 1 else ascontiguous(a)
    return moved, perm


def _softmax(a, axis, log):
    a = as_device(a)
    moved, perm = _rows(a, axis)
    C = tuple(moved.shape)[-1] if moved.ndim else 1
    x2 = moved.reshape((moved.size // builtins.max(C, 1), C))
    out = cuda.device_array(x2.shape, a.dtype)
    if out.size:
        softmax_rows, _ = _row_kernels(a.dtype)
        softmax_rows[min(x2.shape[0], MAX_BLOCKS * 64), THREADS](x2, out, log)
    out = out.reshape(moved.shape)
    if perm != tuple(range(a.ndim)):
        out = transpose(out, tuple(np.argsort(perm)))
    return out


def softmax(a, axis=-1):
    """Numerically stable softmax along axis -> a.shape."""
    return _softmax(a, axis, False)


def log_softmax(a, axis=-1):
    """Numerically stable log-softmax along axis -> a.shape."""
    return _softmax(a, axis, True)


@cuda.jit
def _ce_finish(total, count, out, mean):
    # out [1] = total[0] / count[0] (mean over non-ignored rows) or total[0]
    if cuda.grid(1) == 0:
        out[0] = total[0] / count[0] if mean else total[0]


def _ce_backward_kernel(dtype):
    key = ("ce_bwd", np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    zero = from_dtype(np.dtype(dtype)).cast_python_value(0.0)
    one = from_dtype(np.dtype(dtype)).cast_python_value(1.0)

    @cuda.jit(fastmath=True)
    def ce_backward(x, target, lse, g, per_row, count, ignore_index, dx):
        # dx [N, C] = (softmax(x) - onehot(target)) * scale; scale = g[n] (per_row), g[0] / count[0]
        # (count given, reduction mean) or g[0]; rows with target == ignore_index get 0
        N, C = x.shape
        for i in range(cuda.grid(1), N * C, cuda.gridsize(1)):
            n = i // C
            c = i % C
            tg = target[n]
            if tg == ignore_index:
                dx[n, c] = zero
                continue
            s = g[n] if per_row else g[0]
            if count.size > 0:
                s = s / count[0]
            p = math.exp(x[n, c] - lse[n])
            dx[n, c] = (p - (one if c == tg else zero)) * s

    _cache[key] = ce_backward
    return ce_backward


def cross_entropy(logits, targets, ignore_index=-100, reduction="mean"):
    """logits [N, C], targets [N] int64 -> (loss, lse, count):
    loss: shape () for "mean"/"sum", [N] for "none" (0 on ignored rows); lse [N] the rows'
    log-sum-exp; count [1] the number of non-ignored rows (all three stay on the device)."""
    x = ascontiguous(as_device(logits))
    tg = ascontiguous(as_device(targets, np.int64))
    N = x.shape[0]
    lse = cuda.device_array(N, x.dtype)
    loss = cuda.device_array(N, x.dtype)
    valid = cuda.device_array(N, x.dtype)
    _, ce_rows = _row_kernels(x.dtype)
    if N:
        ce_rows[min(N, MAX_BLOCKS * 64), THREADS](x, tg, int(ignore_index), lse, loss, valid)
    count = reduce_cuda.sum(valid, keepdims=False).reshape(1)
    if reduction == "none":
        return loss, lse, count
    out = cuda.device_array(1, x.dtype)
    _ce_finish[1, 1](reduce_cuda.sum(loss).reshape(1), count, out, reduction == "mean")
    return out.reshape(()), lse, count


def cross_entropy_backward(logits, targets, lse, grad, count, ignore_index=-100, reduction="mean"):
    """Gradient of cross_entropy w.r.t. logits [N, C]. grad: the loss gradient, shape ()/[1]
    ("mean"/"sum") or [N] ("none"); lse and count from cross_entropy."""
    x = ascontiguous(as_device(logits))
    tg = ascontiguous(as_device(targets, np.int64))
    g = as_device(grad, x.dtype)
    g = ascontiguous(g).reshape(builtins.max(g.size, 1))
    dx = cuda.device_array(x.shape, x.dtype)
    if dx.size:
        cnt = count if reduction == "mean" else cuda.device_array(0, x.dtype)
        _ce_backward_kernel(x.dtype)[launch_1d(dx.size)](
            x, tg, lse, g, reduction == "none", cnt, int(ignore_index), dx)
    return dx


# ---------------------------------------------------------------- PTX listing

def ptx_kernels():
    """The softmax and cross-entropy row kernels."""
    def kernels(dt, ty):
        softmax_rows, ce_rows = _row_kernels(dt)
        return [(f"softmax_rows_{ty.name}", softmax_rows, (ty.a2, ty.a2, ty.boolean)),
                (f"ce_rows_{ty.name}", ce_rows, (ty.a2, ty.idx1, ty.i64, ty.a1, ty.a1, ty.a1)),
                (f"ce_backward_{ty.name}", _ce_backward_kernel(dt),
                 (ty.a2, ty.idx1, ty.a1, ty.a1, ty.boolean, ty.a1, ty.i64, ty.a2)),
                (f"ce_finish_{ty.name}", _ce_finish, (ty.a1, ty.a1, ty.a1, ty.boolean))]
    return ptx_listing(kernels)
