"""Cross-entropy from logits on numpy arrays: losses._ClassNLL's CPU forward and backward, in
few passes over the (M, C) logits (the softmax kept for backward, so backward needs no exp).
Rows: M samples (the class dim last), C classes; target (M,) class indices."""
import numpy as np

from tinygrad_seq import backend_cpu


# logits of at least this many elements have their passes split by rows over the kernels'
# threads (numpy releases the GIL in its loops): the word LM's [700, 10000] softmax took 10 ms on
# one thread; a pass of a few hundred microseconds on each thread (handing it over costs ~10 us,
# kernels/workers_cpu.py)
PARALLEL_ROWS_MIN_ELEMENTS = 1 << 20


def _over_rows(fn, M, C):
    """fn(lo, hi) over row ranges of an (M, C) array: one call below PARALLEL_ROWS_MIN_ELEMENTS,
    else one range per thread of the kernels' pool (tinygrad_seq.kernels.blas_cpu)."""
    if M * C < PARALLEL_ROWS_MIN_ELEMENTS or M < 2:
        fn(0, M)
        return
    from tinygrad_seq.kernels import blas_cpu
    with blas_cpu.kernel_threads(M, 1, M * C) as n:
        blas_cpu.run_chunks(lambda c: fn(*blas_cpu.chunk_bounds(c, n, M)), n)


def logits_forward_cpu(ctx, x, target, weight, ignore_index, reduction, smoothing):
    """_ClassNLL from logits on numpy, in few passes over the (M, C) logits: the softmax is
    kept for backward (so backward needs no exp) and the loss needs only
    lse = max + log(sum exp(x - max)) per row and x at the targets."""
    M, C = x.shape
    kernels = backend_cpu._row_kernels(x, 1)   # kernels/rows_cpu.py: one pass a row, threaded
    p, lse = kernels.softmax_lse(x) if kernels is not None else _softmax_lse_numpy(x)   # softmax (M, C), (M,)
    valid, rows = (target != ignore_index), np.arange(M)
    plain = weight is None and valid.all()   # the common case: no row ignored, no weights
    safe = target if plain else np.where(valid, target, 0)
    validf = np.ones(M, x.dtype) if plain else valid.astype(x.dtype)
    wt = validf if weight is None else weight[safe] * validf
    # an ignored row adds 0, whatever its logits (an inf or all -inf row: not nan * 0, as torch's)
    with np.errstate(invalid="ignore"):
        losses = lse - x[rows, target] if plain else np.where(valid, (lse - x[rows, safe]) * wt, 0)
        if smoothing:
            # sum_c w_c * -lp[m, c] = sum_c w_c * (lse_m - x[m, c])
            smooth = C * lse - x.sum(axis=1) if weight is None else weight.sum() * lse - x @ weight
            losses = losses * (1.0 - smoothing) + np.where(valid, smooth, 0) * (smoothing / C)
    ctx.save_for_backward(p, safe, wt, validf)
    ctx.cpu_softmax, ctx.rows, ctx.weight = True, rows, weight
    ctx.reduction, ctx.smoothing = reduction, smoothing
    losses = losses.astype(x.dtype, copy=False)
    if reduction == "none":
        return losses
    total = losses.sum(dtype=x.dtype)
    if reduction == "sum":
        return np.asarray(total)
    ctx.count = wt.sum(dtype=x.dtype)
    if not ctx.count:   # every row ignored or of weight 0: nan, as torch's, without a warning
        return np.asarray(np.nan, x.dtype)
    return np.asarray(total / ctx.count)


def _softmax_lse_numpy(x):
    """(softmax (M, C), log-sum-exp (M,)) of logits x (M, C) in numpy's passes: other dtypes
    and layouts, and arrays below tuning.ROWS_KERNEL_MIN_ELEMENTS."""
    M, C = x.shape
    p = np.empty_like(x)
    m = np.empty((M, 1), x.dtype)
    s = np.empty((M, 1), x.dtype)

    def softmax_rows(lo, hi):
        xs, ps = x[lo:hi], p[lo:hi]
        np.maximum.reduce(xs, axis=1, keepdims=True, out=m[lo:hi])   # (the ufuncs: np.max's wrapper 2 us a call)
        np.subtract(xs, m[lo:hi], out=ps)
        np.exp(ps, out=ps)
        np.add.reduce(ps, axis=1, keepdims=True, out=s[lo:hi])
        ps *= 1.0 / s[lo:hi]                                          # softmax (M, C)

    _over_rows(softmax_rows, M, C)
    return p, (m + np.log(s)).reshape(M)


def logits_backward_cpu(ctx, g):
    """dx = softmax * rowsum - (1 - eps) s w[t] at the targets - eps/C s w_c, where
    rowsum = s ((1 - eps) w[t] + eps/C sum(w)) (zero for ignored rows); s the upstream scale."""
    p, safe, wt, validf = ctx.saved_tensors
    M, C = p.shape
    eps = ctx.smoothing
    if ctx.reduction == "none":
        s = np.asarray(g, p.dtype)
    elif ctx.reduction == "sum":
        s = np.full(M, g, p.dtype)
    elif ctx.count:
        s = np.full(M, g / ctx.count, p.dtype)
    else:   # weight sum 0: torch's g / 0 times a weight 0 makes the rows not ignored all nan
        return np.where(validf[:, None] > 0, np.nan, 0.0).astype(p.dtype) * np.ones((1, C), p.dtype)
    pick = s * wt * (1.0 - eps)
    rowsum = pick
    if eps:
        col = s * validf * (eps / C)
        wsum = float(C) if ctx.weight is None else ctx.weight.sum()
        rowsum = pick + col * wsum
    grad = np.empty_like(p)
    _over_rows(lambda lo, hi: np.multiply(p[lo:hi], rowsum[lo:hi, None], out=grad[lo:hi]), M, C)
    if eps:
        grad -= col[:, None] if ctx.weight is None else col[:, None] * ctx.weight
    grad[ctx.rows, safe] -= pick
    return grad
