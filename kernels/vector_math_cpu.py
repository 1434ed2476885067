"""exp and tanh for @njit loops that LLVM can vectorize: no libm call per element.

numpy's float32 exp / tanh on this project's machines run libm one element at a time (an AMD
EPYC, AVX2, numpy 2.x: np.exp of 819,200 floats 1.45 ms, np.tanh 2.35 ms; torch's Sleef-based
ones on 2 threads 0.59 and 1.4 ms). Numba's math.exp is the same libm call, which LLVM cannot
vectorize (no SVML in llvmlite). Written as polynomials with the exponent set by integer bits,
a loop of them runs 8 lanes at a time: 0.67 ns an element on one thread (prototype
/tmp/s45/proto/var.py, 2026-12-05, AMD EPYC znver2).

``vexp`` / ``vtanh`` dispatch on the scalar type when called from @njit code: float32 gets the
polynomial (exp: Cephes expf, within about 1 ulp of the exact value, subnormal results
and overflow to inf included; tanh: Cephes tanhf, within 2 ulp); float64 gets libm's exp / tanh,
so float64 results equal numpy's. nan in gives nan out. Called from Python they are numpy's.

Kernels that inline these get their fastmath flags from here: only "contract" (fused multiply-
adds), never "nnan" / "ninf" (the nan and inf checks must stay) nor "reassoc" (the polynomials'
order is part of their accuracy).
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload, register_jitable

FASTMATH = {"contract"}   # a set: what Numba takes (not a frozenset); do not change it in place
_F = np.float32
_I = np.int32


@intrinsic
def _i32_as_f32(typingctx, bits):
    """The float32 whose bit pattern is the int32 `bits` (a register move, vectorizable)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return sig, codegen


# exp: x = k ln2 + r, |r| <= ln2 / 2 (ln2 in two parts, Cody-Waite), e^r by Cephes expf's
# polynomial, times 2^k built from exponent bits in two halves (each a normal float) so that
# results down to the smallest subnormal and up to overflow come out right
_LOG2E = _F(1.44269504088896341)
_LN2_HI = _F(0.693359375)
_LN2_LO = _F(-2.12194440e-4)
_E0, _E1, _E2 = _F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3)
_E3, _E4, _E5 = _F(4.1665795894e-2), _F(1.6666665459e-1), _F(5.0000001201e-1)
_EXP_HI = _F(88.8)     # e^88.8 > float32 max: inf
_EXP_LO = _F(-104.0)   # e^-104 < half the smallest subnormal: 0
_ONE, _HALF, _TWO = _F(1.0), _F(0.5), _F(2.0)
_I1, _I23, _I127 = _I(1), _I(23), _I(127)


@register_jitable(fastmath=FASTMATH, error_model="numpy")
def exp_f32(x):
    v = min(max(x, _EXP_LO), _EXP_HI)
    k = np.floor(v * _LOG2E + _HALF)
    r = v - k * _LN2_HI
    r = r - k * _LN2_LO
    p = ((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5
    p = p * (r * r) + r + _ONE
    ki = _I(k)
    k1 = ki >> _I1
    e = p * _i32_as_f32((k1 + _I127) << _I23) * _i32_as_f32((ki - k1 + _I127) << _I23)
    return x if x != x else e


# tanh: Cephes tanhf. |x| < 0.625: x + x^3 P(x^2); beyond, 1 - 2 / (e^(2|x|) + 1) with x's sign
# (e^(2|x|) = inf past 44: 1). Both are computed and one selected, so the loop stays branch-free.
_T0, _T1, _T2 = _F(-5.70498872745e-3), _F(2.06390887954e-2), _F(-5.37397155531e-2)
_T3, _T4 = _F(1.33314422036e-1), _F(-3.33332819422e-1)
_TANH_SMALL = _F(0.625)


@register_jitable(fastmath=FASTMATH, error_model="numpy")
def tanh_f32(x):
    a = abs(x)
    z = x * x
    small = ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4) * z * x + x
    big = _ONE - _TWO / (exp_f32(_TWO * a) + _ONE)
    big = big if x >= 0 else -big
    small = x if z == 0 else small   # -0.0 stays -0.0 (x^3 P + x would round it to +0.0)
    return small if a < _TANH_SMALL or x != x else big


def vexp(x):
    return np.exp(x)


def vtanh(x):
    return np.tanh(x)


@overload(vexp, jit_options=dict(fastmath=FASTMATH, error_model="numpy"))
def _vexp_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: exp_f32(x)
    if isinstance(x, types.Float):
        return lambda x: math.exp(x)
    return None


@overload(vtanh, jit_options=dict(fastmath=FASTMATH, error_model="numpy"))
def _vtanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: tanh_f32(x)
    if isinstance(x, types.Float):
        return lambda x: math.tanh(x)
    return None
