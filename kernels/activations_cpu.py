"""Scalar activations and the small dense product shared by the fused CPU kernels.

``fast_tanh`` / ``fast_sigmoid`` dispatch on the scalar type when called from @njit code:
float32 gets a clamped rational (Eigen's ptanh_float, 13/6 odd/even polynomials) that is
accurate to a few float32 ulp and vectorizes (one division, no libm call); float64 gets libm
``tanh`` / ``exp`` so float64 results stay within ~1e-15 of numpy. Called from Python they
are plain numpy.

Numba's on-disk cache keys a function on its own source file only: after editing this file,
delete ``kernels/__pycache__`` so the cell kernels that inline these helpers recompile.
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import overload, register_jitable

_JIT = dict(cache=True, fastmath=True, error_model="numpy")

# tanh(x) rounds to +-1 in float32 beyond this point
_CLAMP = np.float32(7.90531110763549805)
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


def fast_tanh(x):
    return np.tanh(x)


def fast_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@register_jitable(fastmath=True, error_model="numpy")
def _tanh_f32(x):
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
    return x * p / q


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


# A step's product runs as a plain loop (no BLAS call) up to 4 rows or this many multiply-adds:
# measured here, OpenBLAS pays a few microseconds of dispatch and thread hand-off per call, and
# below these sizes the single-threaded loop was as fast or faster (B=1 H=512: 68 vs 94 us).
_SMALL_ROWS = 4
_SMALL_PRODUCT = 1 << 18


@njit(**_JIT)
def matmul_into(a, b, out):
    """out[M, N] = a[M, K] @ b[K, N]; all three C-contiguous, same float dtype."""
    m_rows, k_dim = a.shape
    n_cols = b.shape[1]
    if m_rows > _SMALL_ROWS and m_rows * k_dim * n_cols > _SMALL_PRODUCT:
        np.dot(a, b, out)
        return
    for m in range(m_rows):
        o = out[m]
        o[:] = 0
        k = 0
        # four rows of b per pass over out: one load/store of out per four multiply-adds
        while k + 4 <= k_dim:
            s0 = a[m, k]
            s1 = a[m, k + 1]
            s2 = a[m, k + 2]
            s3 = a[m, k + 3]
            b0 = b[k]
            b1 = b[k + 1]
            b2 = b[k + 2]
            b3 = b[k + 3]
            for n in range(n_cols):
                o[n] += s0 * b0[n] + s1 * b1[n] + s2 * b2[n] + s3 * b3[n]
            k += 4
        while k < k_dim:
            s0 = a[m, k]
            b0 = b[k]
            for n in range(n_cols):
                o[n] += s0 * b0[n]
            k += 1


@njit(**_JIT)
def matmul_nt_into(a, b, out):
    """out[M, N] = a[M, K] @ b[N, K]^T; all three C-contiguous, same float dtype. b is a weight
    matrix in its stored layout (no transposed copy per call)."""
    m_rows, k_dim = a.shape
    n_cols = b.shape[0]
    if m_rows > _SMALL_ROWS and m_rows * k_dim * n_cols > _SMALL_PRODUCT:
        np.dot(a, b.T, out)
        return
    zero = out.dtype.type(0)
    for m in range(m_rows):
        x = a[m]
        o = out[m]
        n = 0
        # four dot products per pass over x: x is loaded once per four rows of b
        while n + 4 <= n_cols:
            b0 = b[n]
            b1 = b[n + 1]
            b2 = b[n + 2]
            b3 = b[n + 3]
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            for k in range(k_dim):
                xk = x[k]
                s0 += xk * b0[k]
                s1 += xk * b1[k]
                s2 += xk * b2[k]
                s3 += xk * b3[k]
            o[n] = s0
            o[n + 1] = s1
            o[n + 2] = s2
            o[n + 3] = s3
            n += 4
        while n < n_cols:
            b0 = b[n]
            s0 = zero
            for k in range(k_dim):
                s0 += x[k] * b0[k]
            o[n] = s0
            n += 1


@njit(**_JIT)
def column_sums_into(g, out):
    """out[N] += g[R, N].sum(0), row by row so the pass is contiguous."""
    for r in range(g.shape[0]):
        row = g[r]
        for n in range(g.shape[1]):
            out[n] += row[n]
