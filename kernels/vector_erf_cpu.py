"""erf for @njit loops that LLVM can vectorize (the exact GELU's factor), beside
vector_math_cpu's exp and tanh.

``verf`` dispatches on the scalar type when called from @njit code: float32 gets Cephes erff
(|x| < 1: x T(x^2); beyond: 1 - e^(-x^2) / |x| P(1/x^2), P for |x| < 2 and R above), within 2 ulp
of the correctly rounded value, built on vector_math_cpu.exp_f32, with both branches computed and
one selected so that a loop stays branch-free; float64 gets libm's erf (as torch's float64 path).
nan in gives nan out, erf(+-inf) = +-1, -0.0 stays -0.0. Called from Python it is math.erf per
element.
"""
import math

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from .vector_math_cpu import FASTMATH, exp_f32

_F = np.float32
# erf(x) = x T(x^2) for |x| < 1 (Cephes erff's coefficients, highest power first)
_T0, _T1, _T2 = _F(7.853861353153693e-5), _F(-8.010193625184903e-4), _F(5.188327685732524e-3)
_T3, _T4 = _F(-2.685381193529856e-2), _F(1.128358514861418e-1)
_T5, _T6 = _F(-3.761262582423300e-1), _F(1.128379165726710e+0)
# erfc(a) = e^(-a^2) / a P(1/a^2) for 1 <= a < 2
_P0, _P1, _P2 = _F(2.326819970068386e-2), _F(-1.387039388740657e-1), _F(3.687424674597105e-1)
_P3, _P4, _P5 = _F(-5.824733027278666e-1), _F(6.210004621745983e-1), _F(-4.944515323274145e-1)
_P6, _P7, _P8 = _F(3.404879937665872e-1), _F(-2.741127028184656e-1), _F(5.638259427386472e-1)
# ... and R(1/a^2) from 2 on (e^(-a^2) is 0 past a = 10.2: erf is then +-1)
_R0, _R1, _R2 = _F(-1.047766399936249e+1), _F(1.297719955372516e+1), _F(-7.495518717768503e+0)
_R3, _R4, _R5 = _F(2.921019019210786e+0), _F(-1.015265279202700e+0), _F(4.218463358204948e-1)
_R6, _R7 = _F(-2.820767439740514e-1), _F(5.641895067754075e-1)
_ONE, _TWO = _F(1.0), _F(2.0)


@register_jitable(fastmath=FASTMATH, error_model="numpy")
def erfc_tail_f32(a, e):
    """erfc(a) for a >= 1 given e = e^(-a^2) (a caller that has it, the GELU's backward, passes
    its own); a = inf gives 0."""
    q = _ONE / a
    z = q * q
    p = ((((((((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4) * z + _P5) * z + _P6) * z + _P7) * z + _P8)
    r = (((((((_R0 * z + _R1) * z + _R2) * z + _R3) * z + _R4) * z + _R5) * z + _R6) * z + _R7)
    return e * q * (p if a < _TWO else r)


@register_jitable(fastmath=FASTMATH, error_model="numpy")
def erf_with_f32(x, e):
    """erf(x) given e = e^(-x^2)."""
    a = abs(x)
    z = x * x
    small = ((((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4) * z + _T5) * z + _T6) * x
    big = _ONE - erfc_tail_f32(max(a, _ONE), e)
    big = big if x >= 0 else -big
    return small if a < _ONE or x != x else big


@register_jitable(fastmath=FASTMATH, error_model="numpy")
def erf_f32(x):
    return erf_with_f32(x, exp_f32(-(x * x)))


def verf(x):
    return np.vectorize(math.erf, otypes=[np.asarray(x).dtype])(x)


@overload(verf, jit_options=dict(fastmath=FASTMATH, error_model="numpy"))
def _verf_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: erf_f32(x)
    if isinstance(x, types.Float):
        return lambda x: math.erf(x)
    return None
