"""kernels/libm_cpu.py: the C library's log / log1p / cos / sin / tan compiled, bit for bit
math.*'s (torch's float64 random transforms call libm; numpy's SIMD loops differ by an ulp on
AVX-512 machines), and the float64 draws through it (exponential_, cauchy_, geometric_, randn,
multinomial's exponential race over more than 4096 weights) equal torch's."""
import math

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq.kernels import libm_cpu


@pytest.mark.parametrize("name", sorted(libm_cpu.KERNELS))
def test_compiled_libm_is_math_bit_for_bit(name):
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.random(3000), rng.random(500) * 1e-9, rng.standard_normal(3000) * 50])
    values = values[values > 0] if name == "log" else values[values > -1] if name == "log1p" else values
    want = np.array([getattr(math, name)(v) for v in values.tolist()])
    np.testing.assert_array_equal(libm_cpu.apply(name, values), want)
    assert libm_cpu.libm_matches(name)


DRAWS = {
    "exponential_": lambda L: L.empty(6000, dtype=L.float64).exponential_(),
    "cauchy_": lambda L: L.empty(6000, dtype=L.float64).cauchy_(),
    "geometric_": lambda L: L.empty(6000, dtype=L.float64).geometric_(0.3),
    "randn float64": lambda L: L.randn(6000, dtype=L.float64),
    "multinomial 8 x 1000": lambda L: L.multinomial(L.rand(8, 1000), 3),
    "multinomial one sample": lambda L: L.multinomial(L.rand(8, 1000), 1),
}


@pytest.mark.parametrize("draw", list(DRAWS))
def test_long_float64_draws_and_the_stream_after_them_are_torchs(draw):
    got, want = [], []
    for L, into in ((ts, got), (torch, want)):
        L.manual_seed(3)
        into += [DRAWS[draw](L).numpy(), L.rand(4).numpy()]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
