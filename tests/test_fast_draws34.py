"""The compiled gamma / Dirichlet / Poisson / binomial samplers (kernels/sampler_draws_cpu.py over
kernels/stream_words_cpu.py) against the interpreter's loops they replace and against torch 2.13:
the same draws bit for bit, float32 and float64, alpha below 1 and large, Poisson rates below and
above 10, every binomial branch, batched parameters, and the same stream after them (the next
rand / randn, the cached second Box-Muller normal taken before and left after)."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import count_draws
from tinygrad_seq.distributions.torch_gamma import torch_sample_dirichlet, torch_standard_gamma
from tinygrad_seq.torch_stream import TorchStream

DTYPES = ["float32", "float64"]
ALPHAS = [0.0, 1e-30, 1e-4, 0.01, 0.3, 0.999, 1.0, 2.5, 7.0, 100.0, 1e6]
RATES = [0.0, 1e-3, 0.5, 3.0, 9.99, 10.0, 12.5, 50.0, 1000.5, 1e6, 1e9]
# inversion (n p < 10), BTRS (n p >= 10), p > 1/2 (count minus the draw of 1 - p, both ways),
# p 0 and 1, n 0, a non-integer count, a large count
COUNTS = [0., 1., 5., 20., 100., 1000., 12345., 7., 50., 3., 37.5, 1e6, 40., 25.]
PROBS = [0.3, 0.5, 0.01, 0.2, 0.7, 0.99, 0.123456, 1.0, 0.0, 0.9, 0.4, 1e-3, 0.75, 0.6]


def _tiled(lib, values, dtype, reps):
    return lib.tensor(values * reps, dtype=getattr(lib, dtype))


def _draws(make, seed, compiled):
    """make() after seed with a cached normal pending (randn(1) caches the pair's second half),
    then rand(3), randn(1) (the cache), randn(3), by the compiled or the interpreter's path."""
    saved = count_draws.COMPILED_FROM
    count_draws.COMPILED_FROM = 1 if compiled else 10 ** 12
    try:
        ts.manual_seed(seed)
        ts.randn(1)
        value = make(ts)
        return [np.asarray(value.numpy())] + [f(ts).numpy() for f in _AFTER]
    finally:
        count_draws.COMPILED_FROM = saved


_AFTER = (lambda L: L.rand(3), lambda L: L.randn(1), lambda L: L.randn(3))


def _assert_equal(got, want):
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def _same_as_python(make, seed=5):
    _assert_equal(_draws(make, seed, True), _draws(make, seed, False))


def _same_as_torch(make, seed=11):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    torch.randn(1)
    want = [make(torch).numpy()] + [f(torch).numpy() for f in _AFTER]
    _assert_equal(_draws(make, seed, True), want)


def test_twister_runs_as_numpys_and_leaves_the_stream_there():
    from tinygrad_seq.kernels.stream_words_cpu import words_of
    stream, ref = TorchStream(3), TorchStream(3)
    stream.random32(7), ref.random32(7)
    aux, view = np.zeros(3), stream.twister_view()
    words = np.empty(2000, np.uint64)
    words_of(view, aux, words)
    np.testing.assert_array_equal(words, ref.random32(2000))
    assert 624 * aux[2] + view[624] - 7 == 2000   # refills and the position: the words drawn
    np.testing.assert_array_equal(stream.random32(700), ref.random32(700))


def _gamma(L, alpha):
    return torch_standard_gamma(alpha) if L is ts else L._standard_gamma(alpha)


def _dirichlet(L, alpha):
    return torch_sample_dirichlet(alpha) if L is ts else L._sample_dirichlet(alpha)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gamma_and_dirichlet(dtype):
    gamma = lambda L: _gamma(L, _tiled(L, ALPHAS, dtype, 40))   # noqa: E731
    dirichlet = lambda L: _dirichlet(L, _tiled(L, [[0.1, 0.5, 2.0, 30.0, 1.0]], dtype, 60))   # noqa: E731
    _same_as_python(gamma)
    _same_as_python(dirichlet)
    _same_as_torch(gamma)
    _same_as_torch(dirichlet)
    _same_as_torch(lambda L: L.distributions.Beta(_tiled(L, [0.5, 4.0], dtype, 30), _tiled(L, [3.0, 0.2], dtype, 30)).sample())


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson(dtype):
    _same_as_python(lambda L: L.poisson(_tiled(L, RATES, dtype, 40)))
    _same_as_torch(lambda L: L.poisson(_tiled(L, RATES, dtype, 40)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_binomial(dtype):
    make = lambda L: L.binomial(_tiled(L, COUNTS, dtype, 40), _tiled(L, PROBS, dtype, 40))   # noqa: E731
    _same_as_python(make)
    _same_as_torch(make)
    # probabilities at random (each rounded to the dtype first), counts a mix of small and large
    rand_p = lambda L: L.binomial(_tiled(L, [3., 30., 300., 15.5], dtype, 100), (L.arange(400) % 97 / 97.0).to(getattr(L, dtype)))   # noqa: E731
    _same_as_python(rand_p)
    _same_as_torch(rand_p)


def test_small_calls_and_non_finite_parameters_keep_the_interpreters_loop(monkeypatch):
    from tinygrad_seq.kernels import sampler_draws_cpu

    def refuse(*args):
        raise AssertionError("compiled path taken")
    monkeypatch.setattr(sampler_draws_cpu, "poisson", refuse)
    monkeypatch.setattr(sampler_draws_cpu, "standard_gamma", refuse)
    ts.manual_seed(0)
    ts.poisson(ts.full((count_draws.COMPILED_FROM - 1,), 4.0))
    torch_standard_gamma(ts.tensor([1.0, float("inf")] * 8))   # inf: the loop's own answer
