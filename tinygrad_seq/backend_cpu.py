"""The "cpu" array backend: numpy. backend_cuda.py mirrors these names on numba device arrays.
Every engine op is written against this small set, so a new device is one new module."""
import math
import sys

import numpy as np
from .memory_formats import laid_as_torch_cat

name = "cpu"
ndarray = np.ndarray

# creation and transfer
def asarray(data, dtype=None):
    return np.asarray(data, dtype=dtype)

def to_host(a):
    return a

def zeros(shape, dtype):
    return np.zeros(shape, dtype)

def ones(shape, dtype):
    return np.ones(shape, dtype)

def full(shape, value, dtype):
    return np.full(shape, value, dtype)

def copy(a):
    return np.array(a, copy=True)

def astype(a, dtype):
    if a.dtype.kind in "fc" and np.dtype(dtype).kind in "iub":   # nan / inf to an integer: torch is silent
        with np.errstate(invalid="ignore", over="ignore"):
            return a.astype(dtype)
    return a.astype(dtype)

def ascontiguous(a):
    return np.ascontiguousarray(a)

# elementwise, numpy broadcasting


def _quiet(ufunc):
    # x / 0, log(0), sqrt(-1), exp overflow: inf or nan as torch gives them, without numpy's
    # RuntimeWarning (torch is silent; a PyTorch program dividing by a zero mask count printed
    # warnings here). About 1 us a call for the errstate.
    def call(*args, **kwargs):
        with np.errstate(all="ignore"):
            return ufunc(*args, **kwargs)
    call.__name__ = call.__qualname__ = ufunc.__name__
    return call


add, sub, mul, neg = np.add, np.subtract, np.multiply, np.negative
div, power, log, sqrt = _quiet(np.divide), _quiet(np.power), _quiet(np.log), _quiet(np.sqrt)
maximum, minimum, where = np.maximum, np.minimum, np.where
abs = np.abs
_numpy_exp = _quiet(np.exp)

_elementwise = None   # kernels.elementwise_cpu, bound on first use (it imports numba)
_tuning = None        # kernels.tuning (no numba)


def elementwise_kernels(a, *more):
    """kernels.elementwise_cpu when its one-pass kernels take a (and more, each of a's shape and
    dtype): C-contiguous float32 / float64 numpy arrays of tuning.ELEMENTWISE_MIN_SIZE elements
    or more; else None (numpy's path: other dtypes, strided views, small arrays, where numpy's
    call costs less than a kernel's dispatch)."""
    global _elementwise, _tuning
    if type(a) is not np.ndarray or a.dtype.char not in "fd" or not a.flags.c_contiguous:
        return None
    for b in more:
        if type(b) is not np.ndarray or b.dtype != a.dtype or b.shape != a.shape or not b.flags.c_contiguous:
            return None
    if _tuning is None:
        from .kernels import tuning as _tuning
    if a.size < _tuning.setting("ELEMENTWISE_MIN_SIZE"):
        return None
    if _elementwise is None:   # (loads Numba: 0.5 s once)
        from .kernels import elementwise_cpu as _elementwise
    return _elementwise


def kernel_layout(a):
    """(v, undo): v = a for the one-pass kernels, undo = the axes that give the result a's layout
    (None: v is a). A float array of 1024+ elements that is not C-contiguous (a transpose, or an
    LSTM cell's gate slice of [B, 4H]) is taken in the order of its strides, as torch's and
    numpy's unary ops lay out their results: a dense permutation as it is, a view with gaps
    copied once in that order (sigmoid of a [32, 256] gate slice: 90 us on numpy's path, 13 with
    the copy; AMD EPYC, 2026-12-05)."""
    if (type(a) is not np.ndarray or a.flags.c_contiguous or a.dtype.char not in "fd" or not a.ndim
            or a.size < 1024):
        return a, None
    if 0 in a.strides:   # an expanded input: torch's result is C-contiguous
        return np.ascontiguousarray(a), None
    order = np.argsort([-s for s in a.strides], kind="stable")
    v = a.transpose(order)
    if not v.flags.c_contiguous:
        v = np.ascontiguousarray(v)
    return v, np.argsort(order)


def _unary_kernel(a, name, numpy_op):
    """numpy_op(a), or the kernel `name` of kernels.elementwise_cpu in a's layout."""
    v, undo = kernel_layout(a)
    k = elementwise_kernels(v)
    if k is None:
        return numpy_op(a)
    out = getattr(k, name)(v)
    return out if undo is None else out.transpose(undo)


def exp(a):
    return _unary_kernel(a, "exp", _numpy_exp)


def tanh(a):
    return _unary_kernel(a, "tanh", np.tanh)


def sign(a):
    """np.sign, but 0 at nan (torch's sign / sgn, and so abs's gradient there)."""
    out = np.sign(a)
    # any nan: the min of -1 / 0 / 1 / nan values is nan (one pass, no mask: 1.9 against 2.7 us at 1K)
    if out.dtype.kind == "f" and out.size and math.isnan(np.minimum.reduce(out, axis=None)):
        out = np.where(out != out, out.dtype.type(0), out)
    return out


gt, ge, lt, le, eq, ne = np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal
logical_not, logical_and, logical_or, logical_xor = np.logical_not, np.logical_and, np.logical_or, np.logical_xor
sin, cos = np.sin, np.cos
log1p, expm1 = _quiet(np.log1p), _quiet(np.expm1)
floor, ceil, rint, trunc = np.floor, np.ceil, np.rint, np.trunc
floor_divide, remainder = _quiet(np.floor_divide), _quiet(np.remainder)

def _numpy_sigmoid(a):   # split on sign so exp never overflows: 1/(1+e^-x) = e^x/(1+e^x); float16 as torch's
    if a.dtype == np.float16:   # in float32, rounded once (half_opmath.py)
        return _numpy_sigmoid(a.astype(np.float32)).astype(np.float16)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)

def sigmoid(a):
    return _unary_kernel(a, "sigmoid", _numpy_sigmoid)

def dense_grad(g, y):
    """g as a C-contiguous array when it is a strided or broadcast view of y's shape and dtype
    (sum().backward()'s expanded ones): one copy, then the kernel's one pass."""
    if (type(g) is np.ndarray and type(y) is np.ndarray and g.shape == y.shape and g.dtype == y.dtype
            and y.dtype.char in "fd" and y.flags.c_contiguous and not g.flags.c_contiguous):
        return np.ascontiguousarray(g)
    return g

def sigmoid_backward(g, y):
    """g * y (1 - y): sigmoid's gradient from its output y (float16 rounded at each step, as
    torch's; its tanh_backward computes float16 in float32)."""
    g = dense_grad(g, y)
    k = elementwise_kernels(g, y)
    return mul(mul(g, sub(1, y)), y) if k is None else k.sigmoid_backward(g, y)

def relu_backward(g, y):
    """g where y > 0 else 0 (torch's threshold_backward), y relu's output: one pass on the
    kernels' path (the mask and the select were two; 870 against 398 us for torch's at
    [1600, 512] float32)."""
    g = dense_grad(g, y)
    k = elementwise_kernels(g, y)
    return zero_where(le(y, 0), g) if k is None else k.relu_backward(g, y)

def tanh_backward(g, y):
    """g * (1 - y^2): tanh's gradient from its output y (float16 in float32)."""
    if y.dtype == np.float16:
        return tanh_backward(np.asarray(g, np.float32), y.astype(np.float32)).astype(np.float16)
    g = dense_grad(g, y)
    k = elementwise_kernels(g, y)
    return mul(g, sub(1, mul(y, y))) if k is None else k.tanh_backward(g, y)

def relu(a):
    k = elementwise_kernels(a)
    return np.maximum(a, 0) if k is None else k.relu(a)

def clip(a, lo, hi):
    return np.clip(a, lo, hi)

_zero_where_into = None   # kernels.mask_grads_cpu's, bound on first use (it imports numba)


def zero_where(drop, g):
    """0 where drop (bool) else g: torch's masked gradients (relu, clamp, maximum), where an inf or
    nan of g at a dropped place gives 0 (g * mask gives nan there). Same-shape contiguous float
    arrays of 1024+ elements take one Numba pass (np.where branches per element: 70 against 4 us
    at [64, 256] float32, a random mask); the rest np.where."""
    global _zero_where_into
    if (g.size >= 1024 and drop.shape == g.shape and g.dtype.char in "fd" and drop.dtype.char == "?"
            and g.flags.c_contiguous and drop.flags.c_contiguous):
        if _zero_where_into is None:   # (loads Numba, which the recurrent kernels load anyway: 0.5 s once)
            from .kernels.mask_grads_cpu import zero_where_into as _zero_where_into
        out = np.empty_like(g)
        _zero_where_into(drop.reshape(-1), g.reshape(-1), out.reshape(-1))
        return out
    g = np.asarray(g)
    return np.where(drop, g.dtype.type(0), g)

# reductions (backend_cpu_reduce.py: numpy's, with torch's accumulation and result layout)
from . import backend_cpu_reduce as _reduce  # noqa: E402
WIDE_ACCUMULATION_COUNT, argmax, cumprod, cumsum, max, sum = (
    _reduce.WIDE_ACCUMULATION_COUNT, _reduce.argmax, _reduce.cumprod, _reduce.cumsum, _reduce.max, _reduce.sum)

def argsort(a, axis):
    """Indices that sort a along axis (stable, int64)."""
    return np.argsort(a, axis=axis, kind="stable")

# shape and indexing
def reshape(a, shape):
    return a.reshape(shape)   # the method: np.reshape's dispatch costs ~1 us

def transpose(a, axes):
    return np.transpose(a, axes)

def broadcast_to(a, shape):
    return np.broadcast_to(a, shape)

def getitem(a, idx):
    out = a[idx]
    if type(out) is not np.ndarray:   # an integer per axis: numpy gives a scalar, we want the
        out = a[idx + (Ellipsis,)]    # 0-d view, so writes through it reach a (torch's views)
    return out

def index_add(shape, dtype, idx, g, advanced):
    """zeros(shape) with g added at a[idx] (duplicates in advanced indices accumulate)."""
    out = np.zeros(shape, dtype)
    if advanced:
        rows = idx[0] if type(idx) is tuple and len(idx) == 1 else idx
        if type(rows) is np.ndarray and rows.dtype.kind in "iu" and len(shape):   # whole rows: one pass (add_at.py)
            from tinygrad_seq.add_at import add_rows
            add_rows(out, 0, rows.reshape(-1), np.reshape(g, (rows.size,) + tuple(shape[1:])))
        else:
            np.add.at(out, idx, g)
    else:
        out[idx] = g
    return out

def concatenate(arrays, axis):
    return laid_as_torch_cat(np.concatenate(arrays, axis=axis), arrays)

def stack(arrays, axis):
    if axis == 0 and arrays[0].ndim < 4:   # (no channels-last layout to keep) np.array joins equal
        return np.array(arrays)            # shapes in C: 2.4 us for 16 rows, np.stack 7.5
    return laid_as_torch_cat(np.stack(arrays, axis=axis), arrays)

def split(a, sizes, axis):
    return np.split(a, np.cumsum(sizes)[:-1], axis=axis)

def matmul(a, b):
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1 and b.shape[-2] == 1:
        # an inner dimension of 1 is an outer product (attention's backward makes batched ones,
        # (B, S, 1) @ (B, 1, 2H)); numpy's matmul runs those through a generic loop, 4x slower
        # than the broadcast multiply (478 vs 121 us at (32, 20, 1) @ (32, 1, 512))
        return np.multiply(a, b, order="C")  # C-ordered, as np.matmul returns
    if a.ndim >= 2 and b.ndim >= 2 and a.size * b.shape[-1] > _gemm_cpu.NUMPY_SINGLE_THREAD_MACS:
        # products numpy would thread stay off numpy's BLAS threads, which would spin next to the
        # recurrent kernels' Numba pool: that slowed a 2-thread seq2seq step 1.5x (gemm_cpu)
        return _gemm_cpu.matmul(a, b)
    return np.matmul(a, b)


class _LazyGemm:
    """kernels.gemm_cpu, imported on the first large product (it imports numba); until then its
    NUMPY_SINGLE_THREAD_MACS, the same number."""
    NUMPY_SINGLE_THREAD_MACS = 65536 * 4

    def matmul(self, a, b):
        global _gemm_cpu
        from .kernels import gemm_cpu
        _gemm_cpu = gemm_cpu
        return gemm_cpu.matmul(a, b)


_gemm_cpu = _LazyGemm()

# fused, numerically stable (max subtracted); a row all -inf (attention over padding only) gives
# nan as torch's does, without numpy's "invalid value" warning from -inf - -inf
def _softmax_input(a):
    """a as the softmaxes take it: C-contiguous (torch's softmax output is, whatever the input's
    layout; a transposed input's result kept its layout here, so .view(-1) of it failed) and
    float16 computed in float32, rounded once at the end, as torch's."""
    if type(a) is np.ndarray and a.ndim and not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return a.astype(np.float32) if a.dtype == np.float16 else a


def log_softmax(a, axis):
    a, half = _softmax_input(a), a.dtype == np.float16
    rows = _row_kernels(a, axis)
    if rows is not None:
        out = rows.softmax(a.reshape(-1, a.shape[-1]), log=True).reshape(a.shape)
        return out.astype(np.float16) if half else out
    with np.errstate(invalid="ignore"):   # the ufuncs' reduce: np.max / np.sum's wrappers cost 3 us each
        s = a - np.maximum.reduce(a, axis=axis, keepdims=True)
    out = s - np.log(np.add.reduce(np.exp(s), axis=axis, keepdims=True))
    return out.astype(np.float16) if half else out

def softmax(a, axis):
    a, half = _softmax_input(a), a.dtype == np.float16
    rows = _row_kernels(a, axis)
    if rows is not None:
        out = rows.softmax(a.reshape(-1, a.shape[-1])).reshape(a.shape)
        return out.astype(np.float16) if half else out
    with np.errstate(invalid="ignore"):
        e = np.exp(a - np.maximum.reduce(a, axis=axis, keepdims=True))
    out = e / np.add.reduce(e, axis=axis, keepdims=True)
    return out.astype(np.float16) if half else out

def softmax_backward(g, y, axis):
    """softmax's gradient from its output y: y * (g - sum(g * y, axis)); float16 in float32."""
    rows = _row_kernels(y, axis, g)
    if rows is not None:
        return rows.softmax_backward(g.reshape(-1, y.shape[-1]), y.reshape(-1, y.shape[-1])).reshape(y.shape)
    if y.dtype == np.float16:
        return softmax_backward(np.asarray(g, np.float32), y.astype(np.float32), axis).astype(np.float16)
    return y * (g - sum(g * y, axis=axis, keepdims=True))

def log_softmax_backward(g, y, axis):
    """log_softmax's gradient from its output y: g - exp(y) * sum(g, axis); float16 in float32."""
    rows = _row_kernels(y, axis, g)
    if rows is not None:
        return rows.softmax_backward(g.reshape(-1, y.shape[-1]), y.reshape(-1, y.shape[-1]), log=True).reshape(y.shape)
    if y.dtype == np.float16:
        return log_softmax_backward(np.asarray(g, np.float32), y.astype(np.float32), axis).astype(np.float16)
    return g - exp(y) * sum(g, axis=axis, keepdims=True)

_rows_cpu = None   # kernels.rows_cpu, bound on first use (it imports numba)
_tuning = None     # kernels.tuning, bound on first use (an import statement a call cost 1 us)


def _bind_tuning():
    global _tuning
    from .kernels import tuning
    _tuning = tuning
    return tuning



def _row_kernels(a, axis, g=None):
    """kernels.rows_cpu when a row op of a over axis runs there (the last axis of a C-contiguous
    float32 / float64 array, of tuning.ROWS_KERNEL_MIN_ELEMENTS+ elements until Numba is loaded or
    while that setting is forced; g, a gradient, of a's shape, dtype and layout too), else None:
    numpy's passes, as for other dtypes and layouts."""
    global _rows_cpu
    if (a.ndim == 0 or axis % a.ndim != a.ndim - 1 or a.dtype.char not in "fd" or not a.flags.c_contiguous
            or (g is not None and (type(g) is not np.ndarray or g.shape != a.shape or g.dtype != a.dtype
                                   or not g.flags.c_contiguous))):
        return None
    tuning = _tuning or _bind_tuning()
    if _rows_cpu is None:
        if not a.size or (a.size < tuning.setting("ROWS_KERNEL_MIN_ELEMENTS") and "numba" not in sys.modules):
            return None   # (Numba stays unloaded for small calls; once loaded, the kernels win at any size)
        from .kernels import rows_cpu as _rows_cpu
    if not _rows_cpu.takes(a):
        return None
    if a.size < tuning.setting("ROWS_KERNEL_MIN_ELEMENTS") and tuning.is_forced("ROWS_KERNEL_MIN_ELEMENTS"):
        return None   # TINYGRAD_SEQ_TUNE_ROWS_KERNEL_MIN_ELEMENTS holds at every size
    return _rows_cpu

# in place
def iadd(a, b):
    a += b
    return a

def imul(a, b):
    a *= b
    return a

def fill(a, value):
    a.fill(value)
    return a

def setitem(a, idx, v):
    try:
        a[idx] = v
    except (ValueError, OverflowError):   # v does not fit the region, or the dtype: torch's RuntimeError and text
        from .setitem_errors import setitem_mismatch
        raise setitem_mismatch(a, idx, np.shape(v)) from None
    return a


def copy_into(dst, src):
    np.copyto(dst, src)
    return dst

# gathers and scatters used by losses and embeddings
def pick(a, idx):
    """a (N, C), idx (N,) int -> a[n, idx[n]] (N,)."""
    return a[np.arange(a.shape[0]), idx]

def pick_backward(shape, idx, g):
    """zeros(shape) with g[n] placed at [n, idx[n]] (the adjoint of pick)."""
    out = np.zeros(shape, g.dtype)
    out[np.arange(shape[0]), idx] = g
    return out

def take_rows(w, idx):
    """w (num, dim), idx int (any shape) -> idx.shape + (dim,)."""
    return w[idx]

def index_add_rows(shape, idx, g, skip_row=None):
    """zeros(shape) with each row g[...] added at row idx[...] (repeats accumulate); row
    skip_row (an embedding's padding_idx) stays zero."""
    out = np.zeros(shape, g.dtype)
    from tinygrad_seq.add_at import add_rows   # repeats accumulating in one pass
    add_rows(out, 0, idx.reshape(-1), g.reshape(-1, shape[1]))
    if skip_row is not None:
        out[skip_row] = 0
    return out

def _along(index, dim):
    """index's positions along dim as a full index (np.ogrid's open grid, built without its 20 us)."""
    nd = index.ndim
    grid = [np.arange(s).reshape((1,) * k + (s,) + (1,) * (nd - k - 1)) for k, s in enumerate(index.shape)]
    grid[dim] = index
    return tuple(grid)

def gather(a, dim, index):
    """torch.gather: a's other dims cut to index's sizes, then numpy's take_along_axis; row-major,
    as torch's (numpy's follows the index's layout: a permuted index gave a permuted result)."""
    if a.ndim == 1 and index.ndim == 1:   # (a fancy index: a new contiguous array, 1 us)
        return a[index]
    dim %= a.ndim or 1   # (this module's max is the array one)
    cut = tuple(slice(None) if k == dim else slice(0, s) for k, s in enumerate(index.shape))
    return _reduce.row_major(np.take_along_axis(a[cut], index, axis=dim))

def scatter(out, dim, index, src):
    """out[index along dim] = src[:index.shape] (in place, returns out)."""
    out[_along(index, dim)] = src[tuple(slice(0, s) for s in index.shape)]
    return out

def scatter_add(out, dim, index, src):
    """out[index along dim] += src[:index.shape], repeats accumulating (in place, returns out)."""
    from tinygrad_seq.add_at import scatter_add as by_kernel   # repeats accumulating in one pass
    return by_kernel(out, dim, index, src, lambda a: _scatter_add_at(a, dim, index, src))


def _scatter_add_at(out, dim, index, src):
    np.add.at(out, _along(index, dim), src[tuple(slice(0, s) for s in index.shape)])
    return out

def may_share_memory(a, b):
    """Whether two arrays may overlap in memory (autograd's in-place check)."""
    return np.may_share_memory(a, b)
