"""Row-wise kernels over the last axis of a C-contiguous [R, C] array: softmax, log_softmax, their
backwards, layer_norm forward and backward, and the softmax with its log-sum-exp that
cross_entropy from logits keeps.

numpy's versions make four to eight passes over memory, on one thread, with a scalar libm exp for
float32 (a [1600, 512] float32 softmax 5x, layer_norm 7x torch's time on 2 threads; AMD EPYC,
2026-12-05). Here each row is read into cache once and worked there: the exp is
vector_math_cpu.vexp (float32: a vectorized polynomial; float64: libm), and the rows split over
the kernels' threads (blas_cpu.run_chunks) where that pays on this machine (split_cpu "rows",
measured per op, class of size and dtype; default from tuning.ROWS_SPLIT_MIN_ELEMENTS elements).

Accuracy: every row sum (softmax's sum of exp, the dot products of the backwards, layer_norm's
mean and variance) accumulates in float64, also for float32 input. torch adds in float32 with a
vectorized tree. Both choices matched torch within assert_close's defaults at C = 512, 10000 and
50000; float64 stayed closer to the exact softmax (largest relative error at C = 50000, inputs of
std 3: torch 8.9e-6, float32 lanes 2.9e-6, float64 1.1e-6; /tmp/s45/rowsB/accuracy.py,
2026-12-05), and costs nothing measurable here (the exp dominates). The reductions are their own
small functions compiled with "reassoc" (so LLVM vectorizes them: a reduction is the one
place the order of additions may change); the functions that inline vexp keep
vector_math_cpu.FASTMATH only.

Special values as torch's: a row holding nan is all nan; a row of all -inf is all nan (-inf minus
its max -inf); a +inf in a row makes the row nan (inf - inf), as torch's kernels do.

Imports numpy and numba only (and the kernels' own threads and settings).
"""
import numpy as np

from .cache_load import njit
from . import tuning
from .blas_cpu import chunk_bounds, kernel_threads, run_chunks
from .compile_notice import announce
from .split_cpu import splits
from .vector_math_cpu import FASTMATH, vexp

_JIT = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
# reductions only: "reassoc" lets LLVM keep several partial sums (a vector of them) instead of one
# chain of additions; nothing else in these functions is reordered
_REDUCE = dict(nogil=True, cache=True, fastmath={"reassoc", "contract"}, error_model="numpy")


# -- reductions of one row (1-D contiguous) -----------------------------------------------------

@njit(**_REDUCE)
def _row_max(x):
    """The largest element (-inf for a row of -inf; a nan is skipped: the row's exp turns nan).
    Eight running maxima: LLVM does not vectorize a max reduction without "nnan", and eight
    independent chains ran 2.1x faster than one (125 against 265 us over [1600, 512] float32)."""
    n = x.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = x[0]
    for i in range(0, n - n % 8, 8):
        v0, v1, v2, v3, v4, v5, v6, v7 = x[i], x[i + 1], x[i + 2], x[i + 3], x[i + 4], x[i + 5], x[i + 6], x[i + 7]
        a0, a1 = (v0 if v0 > a0 else a0), (v1 if v1 > a1 else a1)
        a2, a3 = (v2 if v2 > a2 else a2), (v3 if v3 > a3 else a3)
        a4, a5 = (v4 if v4 > a4 else a4), (v5 if v5 > a5 else a5)
        a6, a7 = (v6 if v6 > a6 else a6), (v7 if v7 > a7 else a7)
    for i in range(n - n % 8, n):
        a0 = x[i] if x[i] > a0 else a0
    a0, a2, a4, a6 = max(a0, a1), max(a2, a3), max(a4, a5), max(a6, a7)
    return max(max(a0, a2), max(a4, a6))


@njit(**_REDUCE)
def _row_sum(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.float64(x[i])
    return s


@njit(**_REDUCE)
def _row_dot(a, b):
    s = 0.0
    for i in range(a.shape[0]):
        s += np.float64(a[i]) * np.float64(b[i])
    return s


@njit(**_REDUCE)
def _row_weighted_sums(g, w, x, mean):
    """(sum g * w, sum g * w * (x - mean)) in float64 (mean a float64), in one pass."""
    s = 0.0
    d = 0.0
    for i in range(g.shape[0]):
        v = np.float64(g[i] * w[i])
        s += v
        d += v * (np.float64(x[i]) - mean)
    return s, d


@njit(**_REDUCE)
def _row_squared_deviation(x, mean):
    """sum (x - mean)^2 in float64 (mean a float64)."""
    s = 0.0
    for i in range(x.shape[0]):
        d = np.float64(x[i]) - mean
        s += d * d
    return s


# -- softmax and log_softmax --------------------------------------------------------------------

@njit(**_JIT)
def _exp_shifted(x, m, out):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i] - m)


@njit(**_JIT)
def softmax_rows(x, out, lse, lo, hi):
    """out[r] = exp(x[r] - max) / sum(exp(x[r] - max)) for rows lo..hi-1 of x [R, C]; lse [R]
    (or an empty array: not wanted) gets max + log(sum), the row's log-sum-exp."""
    want_lse = lse.shape[0] > 0
    for r in range(lo, hi):
        xr, yr = x[r], out[r]
        m = _row_max(xr)
        _exp_shifted(xr, m, yr)
        s = _row_sum(yr)
        scale = x.dtype.type(1.0 / s)
        for i in range(yr.shape[0]):
            yr[i] = yr[i] * scale
        if want_lse:
            lse[r] = m + np.log(s)


@njit(**_JIT)
def log_softmax_rows(x, out, lo, hi):
    """out[r] = x[r] - max - log(sum(exp(x[r] - max))) for rows lo..hi-1 (torch's order)."""
    for r in range(lo, hi):
        xr, yr = x[r], out[r]
        m = _row_max(xr)
        _exp_shifted(xr, m, yr)
        log_s = x.dtype.type(np.log(_row_sum(yr)))
        for i in range(yr.shape[0]):
            yr[i] = (xr[i] - m) - log_s


@njit(**_JIT)
def softmax_backward_rows(g, y, out, lo, hi):
    """out[r] = y[r] * (g[r] - sum(g[r] * y[r])) (y the softmax)."""
    for r in range(lo, hi):
        gr, yr, dr = g[r], y[r], out[r]
        s = g.dtype.type(_row_dot(gr, yr))
        for i in range(dr.shape[0]):
            dr[i] = yr[i] * (gr[i] - s)


@njit(**_JIT)
def log_softmax_backward_rows(g, y, out, lo, hi):
    """out[r] = g[r] - exp(y[r]) * sum(g[r]) (y the log_softmax)."""
    for r in range(lo, hi):
        gr, yr, dr = g[r], y[r], out[r]
        s = g.dtype.type(_row_sum(gr))
        for i in range(dr.shape[0]):
            dr[i] = gr[i] - vexp(yr[i]) * s


# -- layer_norm ---------------------------------------------------------------------------------

@njit(**_JIT)
def layer_norm_rows(x, w, b, eps, out, mean, rstd, lo, hi):
    """out[r] = (x[r] - mean) * rstd * w + b, rstd = 1 / sqrt(biased var + eps), for rows lo..hi-1
    of x [R, C]; w, b [C] or empty (none); mean [R] and rstd [R] kept for the backward (torch's
    saved statistics). (x - mean) * rstd, not x * rstd - mean * rstd: a row of equal values
    (C = 1) gives exactly 0, as torch's, where the latter left rounding noise of |x| * rstd * eps."""
    n = x.shape[1]
    has_w, has_b = w.shape[0] > 0, b.shape[0] > 0
    for r in range(lo, hi):
        xr, yr = x[r], out[r]
        mu = _row_sum(xr) / n
        var = _row_squared_deviation(xr, mu) / n
        rs = 1.0 / np.sqrt(var + eps)
        mean[r], rstd[r] = mu, rs
        m, scale = mean[r], rstd[r]
        if has_w and has_b:
            for i in range(n):
                yr[i] = (xr[i] - m) * scale * w[i] + b[i]
        elif has_w:
            for i in range(n):
                yr[i] = (xr[i] - m) * scale * w[i]
        elif has_b:
            for i in range(n):
                yr[i] = (xr[i] - m) * scale + b[i]
        else:
            for i in range(n):
                yr[i] = (xr[i] - m) * scale


@njit(**_JIT)
def _input_grad_row(g, w, x, mu, rs, mg, mgx, dx):
    for i in range(dx.shape[0]):
        dx[i] = rs * (g[i] * w[i] - mg - (x[i] - mu) * rs * mgx)


@njit(**_JIT)
def _add_param_grads_row(g, x, mu, rs, dw, db):
    """dw += g * xhat, db += g (float64 rows of a chunk's partial sums)."""
    m, s = np.float64(mu), np.float64(rs)
    for i in range(dw.shape[0]):
        gi = np.float64(g[i])
        dw[i] += gi * ((np.float64(x[i]) - m) * s)
        db[i] += gi


@njit(**_JIT)
def _add_weight_grad_row(g, x, mu, rs, dw):
    m, s = np.float64(mu), np.float64(rs)
    for i in range(dw.shape[0]):
        dw[i] += np.float64(g[i]) * ((np.float64(x[i]) - m) * s)


@njit(**_JIT)
def _add_bias_grad_row(g, db):
    for i in range(db.shape[0]):
        db[i] += g[i]


@njit(**_JIT)
def layer_norm_backward_rows(g, x, mean, rstd, w, dx, dw, db, lo, hi):
    """Rows lo..hi-1 of layer_norm's backward. With xhat = (x - mean) * rstd and gw = g * w (w
    ones without a weight: exact): dx[r] = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) (empty
    dx: not wanted); dw [C] and db [C] (float64; empty: not wanted) get this chunk's sums of
    g * xhat and g over its rows, which the driver adds across chunks. Each loop is its own small
    function: in one large body LLVM left some scalar (db += g alone 2.5x slower)."""
    n = x.shape[1]
    want_dx, want_dw, want_db = dx.shape[0] > 0, dw.shape[0] > 0, db.shape[0] > 0
    for r in range(lo, hi):
        gr, xr, mu, rs = g[r], x[r], mean[r], rstd[r]
        if want_dx:
            # mean(gw) and mean(gw * xhat) = rstd * sum(gw * (x - mean)) / n, summed in float64
            a, c = _row_weighted_sums(gr, w, xr, np.float64(mu))
            _input_grad_row(gr, w, xr, mu, rs, x.dtype.type(a / n), x.dtype.type(np.float64(rs) * c / n), dx[r])
        if want_dw and want_db:
            _add_param_grads_row(gr, xr, mu, rs, dw, db)
        elif want_dw:
            _add_weight_grad_row(gr, xr, mu, rs, dw)
        elif want_db:
            _add_bias_grad_row(gr, db)


# -- drivers: arrays in, arrays out -------------------------------------------------------------

def takes(a):
    """Whether a (the whole array a row op runs on) goes to these kernels: float32 / float64,
    C-contiguous, not empty, any size (a [16, 30] cross-entropy 25 us against numpy's passes' 32,
    a [32, 12] softmax 8.1 against 12.1: AMD EPYC Zen 4, one thread, load 3, 2026-12-07). The
    caller checks the axis is the last, and keeps a small call off Numba until it is loaded
    (tinygrad_seq/backend_cpu._row_kernels: tuning.ROWS_KERNEL_MIN_ELEMENTS)."""
    return a.dtype.char in "fd" and a.ndim > 0 and a.size > 0 and a.flags.c_contiguous


def _over_rows(op, dtype, rows, cols, task, n_chunks_known=None):
    """task(lo, hi, c) over row ranges of an [rows, cols] array of dtype: one call, or a range
    per thread of the kernels' pool where the split pays on this machine (split_cpu "rows";
    rule: from tuning.ROWS_SPLIT_MIN_ELEMENTS elements). n_chunks_known(n) is told the chunk
    count first (per-chunk partial sums)."""
    def run_one():
        if n_chunks_known is not None:
            n_chunks_known(1)
        task(0, rows, 0)

    def run_split():
        # kernel_threads splits from PARALLEL_MIN_MACS: the element count, raised to it, says "split"
        with kernel_threads(rows, 1, max(rows * cols, tuning.setting("PARALLEL_MIN_MACS"))) as n:
            if n_chunks_known is not None:
                n_chunks_known(n)
            run_chunks(lambda c: task(*chunk_bounds(c, n, rows), c), n)

    if rows < 2 or not splits("rows", op, rows * cols, dtype, run_one, run_split):
        run_one()
    else:
        run_split()


_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32), np.dtype(np.float64): np.empty(0, np.float64)}


def _notice(dtype):
    announce("the row-wise (softmax, layer_norm) CPU kernels", dtype,
             (softmax_rows, log_softmax_rows, layer_norm_rows))


def softmax(x, log=False):
    """softmax (log_softmax when log) over the last axis of x [R, C] (C-contiguous) -> [R, C]."""
    _notice(x.dtype)
    out = np.empty_like(x)
    if log:
        _over_rows("log_softmax", x.dtype, *x.shape, lambda lo, hi, c: log_softmax_rows(x, out, lo, hi))
    else:
        none = _EMPTY[x.dtype]
        _over_rows("softmax", x.dtype, *x.shape, lambda lo, hi, c: softmax_rows(x, out, none, lo, hi))
    return out


def softmax_lse(x):
    """(softmax [R, C], log-sum-exp [R]) of x [R, C]: cross_entropy's forward from logits."""
    _notice(x.dtype)
    out, lse = np.empty_like(x), np.empty(x.shape[0], x.dtype)
    _over_rows("softmax_lse", x.dtype, *x.shape, lambda lo, hi, c: softmax_rows(x, out, lse, lo, hi))
    return out, lse


def softmax_backward(g, y, log=False):
    """The gradient of softmax (log_softmax when log) given its output y [R, C] and the upstream
    g [R, C] (both C-contiguous, one dtype)."""
    _notice(y.dtype)
    out = np.empty_like(y)
    kernel = log_softmax_backward_rows if log else softmax_backward_rows
    _over_rows(kernel.__name__, y.dtype, *y.shape, lambda lo, hi, c: kernel(g, y, out, lo, hi))
    return out


def layer_norm(x, w, b, eps):
    """layer_norm over the last axis of x [R, C]: (y [R, C], mean [R], rstd [R]); w, b [C] or None
    (contiguous, x's dtype)."""
    _notice(x.dtype)
    none = _EMPTY[x.dtype]
    w, b = none if w is None else w, none if b is None else b
    out, mean, rstd = np.empty_like(x), np.empty(x.shape[0], x.dtype), np.empty(x.shape[0], x.dtype)
    _over_rows("layer_norm", x.dtype, *x.shape, lambda lo, hi, c: layer_norm_rows(x, w, b, float(eps), out, mean, rstd, lo, hi))
    return out, mean, rstd


def layer_norm_backward(g, x, mean, rstd, w, want_dx=True, want_dw=False, want_db=False):
    """layer_norm's gradients (dx [R, C], dw [C], db [C]; None where not wanted) from the
    upstream g [R, C], the input x [R, C], the saved mean [R] and rstd [R], and w [C] or None.
    dw and db are sums over rows: each chunk of rows adds into its own float64 row of partial
    sums, added up after the threads finish."""
    _notice(x.dtype)
    R, C = x.shape
    w = np.ones(C, x.dtype) if w is None else w
    dx = np.empty_like(x) if want_dx else np.empty((0, C), x.dtype)
    parts = {}

    def allocate(n):   # a row per chunk; 0 columns: not wanted
        parts["dw"] = np.zeros((n, C if want_dw else 0))
        parts["db"] = np.zeros((n, C if want_db else 0))

    def task(lo, hi, c):
        layer_norm_backward_rows(g, x, mean, rstd, w, dx, parts["dw"][c], parts["db"][c], lo, hi)

    _over_rows("layer_norm_backward", x.dtype, R, C, task, allocate)
    dw = parts["dw"].sum(0).astype(x.dtype) if want_dw else None
    db = parts["db"].sum(0).astype(x.dtype) if want_db else None
    return (dx if want_dx else None), dw, db
