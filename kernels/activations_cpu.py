"""Scalar activations and the small dense product shared by the fused CPU kernels.

``fast_tanh`` / ``fast_sigmoid`` dispatch on the scalar type when called from @njit code:
float32 gets a clamped rational (Eigen's ptanh_float, 13/6 odd/even polynomials) that is
accurate to a few float32 ulp and vectorizes (one division, no libm call); float64 gets libm
``tanh`` / ``exp`` so float64 results stay within ~1e-15 of numpy. Called from Python they
are plain numpy.

Numba's on-disk cache keys a function on its own source file only: after changing what these
helpers compute, bump REVISION, and the line naming it in each kernel file that inlines them
(lstm_cpu, lstm_cell_cpu, gru_cpu, rnn_cpu; the generated cells' source names it itself), so that
their cached machine code is not reused.
"""
import math

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from .cache_load import njit
from .panel_cpu import panel_product

REVISION = 2   # 2: tanh exactly +-1 from |x| = 9.0109, as torch's float32 tanh

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")
# helpers called only from @njit code: no Python or C entry point to build (compile time)
_INNER = dict(_JIT, no_cpython_wrapper=True, no_cfunc_wrapper=True)

# the rational's range: at and beyond it, it gives +-0.99999976 (tanh(7.905) in float32)
_CLAMP = np.float32(7.90531110763549805)
# torch's float32 tanh is +-1 from here: exactly (a saturated unit's derivative 1 - y^2 is 0, as
# torch's, not 4.8e-7; sigmoid's, through tanh(x / 2), 0 beyond |x| = 18.02)
_ONE_AT = np.float32(9.0109)
_A1 = np.float32(4.89352455891786e-03)
_A3 = np.float32(6.37261928875436e-04)
_A5 = np.float32(1.48572235717979e-05)
_A7 = np.float32(5.12229709037114e-08)
_A9 = np.float32(-8.60467152213735e-11)
_A11 = np.float32(2.00018790482477e-13)
_A13 = np.float32(-2.76076847742355e-16)
_B0 = np.float32(4.89352518554385e-03)
_B2 = np.float32(2.26843463243900e-03)
_B4 = np.float32(1.18534705686654e-04)
_B6 = np.float32(1.19825839466702e-06)
_HALF32 = np.float32(0.5)
_ONE, _ZERO = np.float32(1.0), np.float32(0.0)


def fast_tanh(x):
    return np.tanh(x)


def fast_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@register_jitable(fastmath=True, error_model="numpy")
def _tanh_f32(x):
    given = x
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    y = x * p / q
    # y moved to +-1 past _ONE_AT by arithmetic, not a select: fastmath's compares assume no nan,
    # and a nan x must stay nan (1 - y is 2.4e-7 there: the sum rounds to 1 exactly)
    saturated = _ONE if abs(given) >= _ONE_AT else _ZERO
    return y + (math.copysign(_ONE, given) - y) * saturated


@overload(fast_tanh, jit_options=dict(fastmath=True, error_model="numpy"))
def _fast_tanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return _tanh_f32
    if isinstance(x, types.Float):
        return lambda x: math.tanh(x)
    return None


@overload(fast_sigmoid, jit_options=dict(fastmath=True, error_model="numpy"))
def _fast_sigmoid_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        # sigmoid(x) = (1 + tanh(x/2)) / 2: absolute error ~1e-7, same cost as one tanh
        return lambda x: _HALF32 + _HALF32 * _tanh_f32(_HALF32 * x)
    if isinstance(x, types.Float):
        return lambda x: 1.0 / (1.0 + math.exp(-x))
    return None


# rows of a in one block of the step product's register-blocked loop
BLOCK_ROWS = 4


def step_product(a, b, panels, out, blas_rows):
    """out[M, N] = a[M, K] @ b[N, K]^T (a recurrent step's product), in @njit code. With panels
    (b's panels [N/P, K, P], packed once per call: panel_cpu) the register tile on them; with
    panels None (N not a multiple of the panel width, a one-step call, or the BLAS route chosen)
    one BLAS call above blas_rows rows (a calibrated choice, tuning.STEP_BLAS_ROWS), else
    matmul_nt_into. OpenBLAS packs the whole weight matrix on every call, which at a step's few
    rows costs more than the product: measured (AMD EPYC, float32, one thread) M=16, K=256,
    N=1024 took 240 us in OpenBLAS and 179 us in a 4 x 4-blocked loop; at M=1 29 us and 22 us.

    The choice is made on the type of `panels` when the caller compiles, so a kernel compiled
    for panels holds neither the loop nor the BLAS call (matmul_nt_into alone took 1.3 s to
    compile on a first run, against 0.3 s for the tile), and one compiled for None holds no tile."""
    if panels is not None:
        panel_product(a, panels, out)
    elif a.shape[0] > blas_rows:
        np.dot(a, b.T, out)
    else:
        matmul_nt_into(a, b, out)


@overload(step_product, inline="always", jit_options=dict(fastmath=True, error_model="numpy"))
def _step_product_impl(a, b, panels, out, blas_rows):
    if isinstance(panels, types.NoneType):
        def route(a, b, panels, out, blas_rows):
            if a.shape[0] > blas_rows:
                np.dot(a, b.T, out)
            else:
                matmul_nt_into(a, b, out)
        return route
    return lambda a, b, panels, out, blas_rows: panel_product(a, panels, out)


def has_panels(panels):
    """In @njit code: whether a kernel was given panels (a constant where it compiles)."""
    return panels is not None


@overload(has_panels, inline="always")
def _has_panels_impl(panels):
    value = not isinstance(panels, types.NoneType)
    return lambda panels: value


def panels_at(panels, i):
    """In @njit code: panels[i], or None for None (the units split's blocks of panels)."""
    return None if panels is None else panels[i]


@overload(panels_at, inline="always")
def _panels_at_impl(panels, i):
    if isinstance(panels, types.NoneType):
        return lambda panels, i: None
    return lambda panels, i: panels[i]


def loop_product(a, b, panels, out):
    """out[M, N] = a[M, K] @ b[N, K]^T in @njit code (the generated cells' loops): on panels
    (panel_product) when given, else matmul_nt_into; as step_product, the route is chosen by the
    type of `panels` when the caller compiles, so a loop holds only the one it runs."""
    if panels is not None:
        panel_product(a, panels, out)
    else:
        matmul_nt_into(a, b, out)


@overload(loop_product, inline="always", jit_options=dict(fastmath=True, error_model="numpy"))
def _loop_product_impl(a, b, panels, out):
    if isinstance(panels, types.NoneType):
        return lambda a, b, panels, out: matmul_nt_into(a, b, out)
    return lambda a, b, panels, out: panel_product(a, panels, out)


def slice_of(x, lo, hi):
    """In @njit code: x[lo:hi], or None for None (a loop's panels or weights, whichever it got)."""
    return None if x is None else x[lo:hi]


@overload(slice_of, inline="always")
def _slice_of_impl(x, lo, hi):
    if isinstance(x, types.NoneType):
        return lambda x, lo, hi: None
    return lambda x, lo, hi: x[lo:hi]


def block_of(flat, lo, hi, shape):
    """In @njit code: flat[lo:hi].reshape(shape), or None for None (one product's block of the
    backward loops' flat weights or panels)."""
    return None if flat is None else flat[lo:hi].reshape(shape)


@overload(block_of, inline="always")
def _block_of_impl(flat, lo, hi, shape):
    if isinstance(flat, types.NoneType):
        return lambda flat, lo, hi, shape: None
    return lambda flat, lo, hi, shape: flat[lo:hi].reshape(shape)


@njit(**_INNER)
def matmul_nt_into(a, b, out):
    """out[M, N] = a[M, K] @ b[N, K]^T, same float dtype; rows of each contiguous (a may be a
    block of a wider array's columns: the generated backward's dP_p rows), C-contiguous b and out
    run fastest. b is a weight matrix in the layout whose rows run along K (no transposed copy
    per call).

    Blocks of BLOCK_ROWS = 4 rows of a x 2 rows of b, eight dot products over k at once (LLVM
    vectorizes the k loop: each partial sum is one vector register, and eight of them plus the
    loaded vectors fit AVX2's 16 registers; 4 x 4 blocks spilled and ran at 46-50 GFLOP/s
    against 72-78 here, one thread, M=4..16, K=256..512); two or three rows left over run as 2 x 4
    blocks (10 rows a thread: the word LM's batch of 20 on two threads), a last one as one row of
    a x 4 rows of b."""
    m_rows, k_dim = a.shape
    n_cols = b.shape[0]
    zero = out.dtype.type(0)
    m_blocked = m_rows - m_rows % 4
    n = 0
    while n + 2 <= n_cols:
        b0 = b[n]
        b1 = b[n + 1]
        for m in range(0, m_blocked, 4):
            x0 = a[m]
            x1 = a[m + 1]
            x2 = a[m + 2]
            x3 = a[m + 3]
            s00 = s01 = s10 = s11 = zero
            s20 = s21 = s30 = s31 = zero
            for k in range(k_dim):
                w0 = b0[k]
                w1 = b1[k]
                v = x0[k]
                s00 += v * w0
                s01 += v * w1
                v = x1[k]
                s10 += v * w0
                s11 += v * w1
                v = x2[k]
                s20 += v * w0
                s21 += v * w1
                v = x3[k]
                s30 += v * w0
                s31 += v * w1
            out[m, n] = s00
            out[m, n + 1] = s01
            out[m + 1, n] = s10
            out[m + 1, n + 1] = s11
            out[m + 2, n] = s20
            out[m + 2, n + 1] = s21
            out[m + 3, n] = s30
            out[m + 3, n + 1] = s31
        n += 2
    if n < n_cols:  # an odd last row of b, against the blocked rows of a
        b0 = b[n]
        for m in range(m_blocked):
            x0 = a[m]
            s00 = zero
            for k in range(k_dim):
                s00 += x0[k] * b0[k]
            out[m, n] = s00
    if m_rows - m_blocked >= 2:  # two left-over rows: 2 x 4 blocks, as many loads per product
        m = m_blocked
        x0 = a[m]
        x1 = a[m + 1]
        n = 0
        while n + 4 <= n_cols:
            b0 = b[n]
            b1 = b[n + 1]
            b2 = b[n + 2]
            b3 = b[n + 3]
            s00 = s01 = s02 = s03 = zero
            s10 = s11 = s12 = s13 = zero
            for k in range(k_dim):
                v = x0[k]
                u = x1[k]
                w = b0[k]
                s00 += v * w
                s10 += u * w
                w = b1[k]
                s01 += v * w
                s11 += u * w
                w = b2[k]
                s02 += v * w
                s12 += u * w
                w = b3[k]
                s03 += v * w
                s13 += u * w
            out[m, n] = s00
            out[m, n + 1] = s01
            out[m, n + 2] = s02
            out[m, n + 3] = s03
            out[m + 1, n] = s10
            out[m + 1, n + 1] = s11
            out[m + 1, n + 2] = s12
            out[m + 1, n + 3] = s13
            n += 4
        while n < n_cols:
            b0 = b[n]
            s00 = s10 = zero
            for k in range(k_dim):
                s00 += x0[k] * b0[k]
                s10 += x1[k] * b0[k]
            out[m, n] = s00
            out[m + 1, n] = s10
            n += 1
        m_blocked += 2
    for m in range(m_blocked, m_rows):
        x0 = a[m]
        n = 0
        # four dot products per pass over x: x is loaded once per four rows of b
        while n + 4 <= n_cols:
            b0 = b[n]
            b1 = b[n + 1]
            b2 = b[n + 2]
            b3 = b[n + 3]
            s00 = s01 = s02 = s03 = zero
            for k in range(k_dim):
                v = x0[k]
                s00 += v * b0[k]
                s01 += v * b1[k]
                s02 += v * b2[k]
                s03 += v * b3[k]
            out[m, n] = s00
            out[m, n + 1] = s01
            out[m, n + 2] = s02
            out[m, n + 3] = s03
            n += 4
        while n < n_cols:
            b0 = b[n]
            s00 = zero
            for k in range(k_dim):
                s00 += x0[k] * b0[k]
            out[m, n] = s00
            n += 1


@njit(**_INNER)
def copy_into(dst, src):
    """dst[N] = src[N] element by element: an array-to-array slice assignment in @njit code
    compiles a shape-mismatch error path that cost about 0.8 s of compile time per site."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@njit(**_INNER)
def column_sums_into(g, out):
    """out[N] += g[R, N].sum(0), row by row so the pass is contiguous."""
    for r in range(g.shape[0]):
        row = g[r]
        for n in range(g.shape[1]):
            out[n] += row[n]
