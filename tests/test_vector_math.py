"""kernels/vector_math_cpu.py: the vectorizable float32 exp and tanh against float64 references
(within about 1 and 2 ulp of the exact value over dense ranges, subnormal results, overflow,
nan, inf, -0.0), and float64 through libm (numpy's values)."""
import numpy as np
import pytest
from numba import njit

from tinygrad_seq.kernels.vector_math_cpu import FASTMATH, vexp, vtanh


@njit(fastmath=FASTMATH, error_model="numpy")
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


@njit(fastmath=FASTMATH, error_model="numpy")
def _tanh_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vtanh(x[i])


def _run(kernel, x):
    out = np.empty_like(x)
    kernel(x, out)
    return out


def _ulps(got, want):
    """|got - want| in float32 ulps of want (want float64), where want is a normal float32."""
    want32 = want.astype(np.float32)
    keep = (np.abs(want) < 3.4e38) & (np.abs(want) > np.finfo(np.float32).tiny)
    return np.abs(got.astype(np.float64) - want)[keep] / np.spacing(np.abs(want32[keep])).astype(np.float64)


def test_float32_exp_within_one_ulp():
    x = np.concatenate([np.linspace(-87.3, 88.7, 400001), np.random.default_rng(0).standard_normal(100000) * 5,
                        np.linspace(-1e-3, 1e-3, 2001)]).astype(np.float32)
    with np.errstate(over="ignore"):
        assert _ulps(_run(_exp_all, x), np.exp(x.astype(np.float64))).max() <= 1.02   # Cephes expf: ~1 ulp


def test_float32_exp_subnormal_overflow_and_special_values():
    x = np.linspace(-104, -87.4, 20001).astype(np.float32)   # subnormal results, then 0
    got = _run(_exp_all, x).astype(np.float64)
    smallest = float(np.finfo(np.float32).smallest_subnormal)
    assert np.abs(got - np.exp(x.astype(np.float64))).max() <= smallest
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.73, 89.0, -104.5, -200.0], np.float32)
    got = _run(_exp_all, special)
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == 0.0
    assert got[3] == 1.0 and got[4] == 1.0 and got[5] == np.inf and got[6] == np.inf
    assert got[7] == 0.0 and got[8] == 0.0


def test_float32_tanh_within_two_ulp_and_special_values():
    x = np.concatenate([np.linspace(-10, 10, 400001), np.linspace(-0.7, 0.7, 100001),
                        np.random.default_rng(1).standard_normal(100000)]).astype(np.float32)
    assert _ulps(_run(_tanh_all, x), np.tanh(x.astype(np.float64))).max() <= 2.0
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 50.0, -50.0], np.float32)
    got = _run(_tanh_all, special)
    assert np.isnan(got[0]) and got[1] == 1.0 and got[2] == -1.0
    assert got[3] == 0.0 and not np.signbit(got[3]) and got[4] == 0.0 and np.signbit(got[4])
    assert got[5] == np.float32(1e-30) and got[6] == np.float32(-1e-30) and got[7] == 1.0 and got[8] == -1.0


@pytest.mark.parametrize("kernel, ref", [(_exp_all, np.exp), (_tanh_all, np.tanh)])
def test_float64_goes_through_libm(kernel, ref):
    x = np.random.default_rng(2).standard_normal(10000) * 10
    np.testing.assert_allclose(_run(kernel, x), ref(x), rtol=4e-16, atol=0)
