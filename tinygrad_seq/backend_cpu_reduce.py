"""The cpu backend's reductions and scans (backend_cpu imports them into its namespace): numpy's,
with torch's accumulation (long float32 sums and scans in float64) and torch's result layout:
torch allocates a reduction's or a scan's result row-major, where numpy's follows the input's
memory order (x.permute(2, 0, 1).sum(1) came out column-major), and the layout decides the order
in which a random fill after it (dropout, bernoulli_, rand_like) draws."""
import numpy as np


def row_major(out):
    """out laid out as torch lays out a reduction's result: row-major (0-d and 1-d: as they are)."""
    return out if out.ndim < 2 or out.flags.c_contiguous else np.ascontiguousarray(out)


# float32 sums and scans adding at least this many elements per result accumulate in float64:
# numpy adds along an outer (or strided) axis one element at a time, drifting like n * eps
# (0.1 added 100000 times: 9998.56), where torch's cascade sum (and its double scan) stays within
# an ulp; below this, numpy's float32 path is kept (these are on every training step)
WIDE_ACCUMULATION_COUNT = 4096


def _drifts(a, axis):
    """Whether numpy's float32 sum of a over axis adds at least WIDE_ACCUMULATION_COUNT elements per
    result one at a time (every reduction except over a contiguous array's last dims, which numpy
    sums pairwise, as accurately as torch)."""
    if axis is None or len(axis) == a.ndim:   # a.size >= WIDE_ACCUMULATION_COUNT is checked already
        return not a.flags.c_contiguous
    n = 1
    for d in axis:
        n *= a.shape[d]
    if n < WIDE_ACCUMULATION_COUNT:
        return False
    trailing = sorted(d % a.ndim for d in axis) == list(range(a.ndim - len(axis), a.ndim))
    return not (a.flags.c_contiguous and trailing)


# a float32 sum of at least this many (and fewer than WIDE_ACCUMULATION_COUNT) elements along one
# axis that numpy would add one at a time (an outer or strided axis: a bias gradient over T*B rows)
# adds blocks of BLOCK_ROWS first, then the blocks' sums: two short chains instead of one long one
# (0.1 x 4000 rows: 400.0152 one at a time, torch's cascade 400.00006; random (3200, 512): 2.7e-6
# relative error to 3.5e-7). It costs about 1.2x numpy's own sum over the axis ((3200, 512): 188
# against 157 us, AMD EPYC Zen 4, one thread, 2026-12-07; the float64 path takes 2-3x), so shorter
# axes, whose drift stays near 1e-5 relative at most, keep numpy's
BLOCKED_SUM_MIN = 512
BLOCK_ROWS = 64


def _blocked_sum(a, d, keepdims):
    """a's float32 sum over axis d in blocks of BLOCK_ROWS (views: splitting an axis never copies)."""
    n = a.shape[d]
    q = n // BLOCK_ROWS
    lead = (slice(None),) * d
    head = a[lead + (slice(0, q * BLOCK_ROWS),)].reshape(a.shape[:d] + (q, BLOCK_ROWS) + a.shape[d + 1:])
    out = np.add.reduce(np.add.reduce(head, axis=d + 1), axis=d, keepdims=keepdims)
    if q * BLOCK_ROWS < n:
        out += np.add.reduce(a[lead + (slice(q * BLOCK_ROWS, n),)], axis=d, keepdims=keepdims)
    return out


def sum(a, axis=None, keepdims=False):
    if isinstance(axis, int):
        axis = (axis,)
    if a.dtype.char == "f" and a.size >= BLOCKED_SUM_MIN:
        if a.size >= WIDE_ACCUMULATION_COUNT and _drifts(a, axis):
            return row_major(np.add.reduce(a, axis=axis, keepdims=keepdims, dtype=np.float64).astype(np.float32))
        if axis is not None and len(axis) == 1 and a.ndim > 1 and a.shape[axis[0]] >= BLOCKED_SUM_MIN:
            d = axis[0] % a.ndim
            if a.strides[d] != a.itemsize:   # (an axis of adjacent elements numpy sums pairwise: (N, 1) too)
                return row_major(_blocked_sum(a, d, keepdims))
    return row_major(np.add.reduce(a, axis=axis, keepdims=keepdims))   # np.sum's dispatch costs ~1 us

def max(a, axis=None, keepdims=False):
    return row_major(np.maximum.reduce(a, axis=axis, keepdims=keepdims))

def argmax(a, axis=None):
    return row_major(np.argmax(a, axis=axis))

# the scans run under errstate: inf - inf or an overflow is torch's nan / inf without a warning
# (numpy's RuntimeWarning is attributed to numpy, past the filter tinygrad_seq/__init__.py sets)
def cumsum(a, axis):
    with np.errstate(invalid="ignore", over="ignore"):
        if a.dtype == np.float32 and a.ndim:
            # a scan in float64, as torch's CPU cumsum at any length (float32: 0.1 x 100000 ends at
            # 9998.56, x 4000 at 400.0152, x 10 at 1.0000001: a top-p filter at 1.0 dropped a token)
            return np.cumsum(a, axis=axis, dtype=np.float64).astype(np.float32, order="C")
        return np.ascontiguousarray(np.cumsum(a, axis=axis))   # torch's scans: contiguous (numpy's keep a's layout)

def cumprod(a, axis):
    with np.errstate(invalid="ignore", over="ignore"):
        if a.dtype == np.float32 and a.ndim:   # in float64, as torch's (1.1 ** 10 ends at 2.5937431, not ...28)
            return np.cumprod(a, axis=axis, dtype=np.float64).astype(np.float32, order="C")
        return np.ascontiguousarray(np.cumprod(a, axis=axis))
