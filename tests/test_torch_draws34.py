"""The gamma-based and count draws beside torch 2.13, draw for draw: torch.poisson / torch.binomial
(count_draws.py), Gamma / Chi2 / StudentT / Beta / Dirichlet / FisherSnedecor / NegativeBinomial /
Poisson / Binomial samples (distributions/torch_gamma.py), in float32 and float64, scalar and
batched parameters, and the stream after them (the next rand / randn, which also reads the cached
normal sample); their documented gradients; cascade_sum's order against torch's sum."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402
from tinygrad_seq.cascade_sum import last_axis_sums  # noqa: E402

DTYPES = ["float32", "float64"]
SEEDS = [0, 7, 1234]


def _both(seed, make):
    """make(lib, tensor_of) drawn under torch and ts after the same seed, then rand(3), randn(3)."""
    out = []
    for lib in (torch, ts):
        lib.manual_seed(seed)
        value = make(lib)
        out.append((value.detach().numpy(), lib.rand(3).numpy(), lib.randn(3).numpy()))
    return out


def _assert_same(seed, make):
    (a, an, ar), (b, bn, br) = _both(seed, make)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(bn, an)
    np.testing.assert_array_equal(br, ar)


def _t(lib, dtype, *values):
    return lib.tensor(values, dtype=getattr(lib, dtype))


RATES = (0.0, 0.3, 2.5, 9.99, 10.0, 37.7, 1000.5, 1e6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_poisson_is_torchs(dtype, seed):
    _assert_same(seed, lambda L: L.poisson(_t(L, dtype, *RATES).repeat(3).reshape(3, 8)))
    _assert_same(seed, lambda L: L.poisson(L.tensor(12.5, dtype=getattr(L, dtype))))   # 0-d, lambda >= 10
    _assert_same(seed, lambda L: L.poisson(L.tensor(0.7, dtype=getattr(L, dtype))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_binomial_is_torchs(dtype, seed):
    # inversion (n p < 10), BTRS (n p >= 10), p > 1/2 (count minus the draw of 1 - p), p 0 and 1, n 0
    n = (0., 1., 5., 20., 100., 1000., 12345., 7., 50., 3.)
    p = (0.3, 0.5, 0.01, 0.2, 0.7, 0.99, 0.123456, 1.0, 0.0, 0.9)
    _assert_same(seed, lambda L: L.binomial(_t(L, dtype, *n).repeat(2), _t(L, dtype, *p).repeat(2)))
    _assert_same(seed, lambda L: L.binomial(L.tensor(40., dtype=getattr(L, dtype)), L.tensor(0.45, dtype=getattr(L, dtype))))


def test_generator_argument_draws_from_that_generator():
    (a, b) = [lib.poisson(lib.full((6,), 14.0), generator=lib.Generator().manual_seed(3)).numpy() for lib in (torch, ts)]
    np.testing.assert_array_equal(b, a)


def _families(dtype):
    t = lambda L, *v: _t(L, dtype, *v)   # noqa: E731
    D = lambda L: L.distributions   # noqa: E731
    return {
        "gamma": lambda L: D(L).Gamma(t(L, 0.3, 1.0, 2.5, 50.0, 0.05), t(L, 1.0, 2.0, 0.5, 3.0, 1.0)).rsample((3,)),
        "gamma_scalar": lambda L: D(L).Gamma(2.0, 3.0).sample((4,)),
        "chi2": lambda L: D(L).Chi2(t(L, 0.5, 3.0, 30.0)).sample((2,)),
        "student_t": lambda L: D(L).StudentT(t(L, 0.7, 3.0, 30.0), t(L, 0., 1., 2.), t(L, 1., 2., 3.)).rsample((4,)),
        "student_t_0d": lambda L: D(L).StudentT(L.tensor(4.0, dtype=getattr(L, dtype))).sample(),
        "beta": lambda L: D(L).Beta(t(L, 2., 0.3, 10.), t(L, 3., 0.2, 1.)).rsample((5,)),
        "beta_numbers": lambda L: D(L).Beta(2., 3.).sample((3,)),
        "dirichlet": lambda L: D(L).Dirichlet(t(L, 0.5, 1., 2., 7., 0.1)).rsample((4,)),
        "dirichlet_k50": lambda L: D(L).Dirichlet(t(L, *([0.7] * 50))).rsample((2,)),
        "fisher": lambda L: D(L).FisherSnedecor(t(L, 2., 5.), t(L, 3., 0.5)).rsample((3,)),
        "negative_binomial": lambda L: D(L).NegativeBinomial(t(L, 3., 50., 0.5), t(L, 0.3, 0.6, 0.9)).sample((4,)),
        "poisson": lambda L: D(L).Poisson(t(L, 0.5, 4., 12., 300.)).sample((3,)),
        "binomial": lambda L: D(L).Binomial(t(L, 10., 100., 1000.), t(L, 0.3, 0.6, 0.02)).sample((3,)),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", sorted(_families("float32")))
def test_distribution_samples_are_torchs(dtype, family):
    for seed in SEEDS:
        _assert_same(seed, _families(dtype)[family])


def test_float32_student_t_of_16_or_more_draws_to_randn_rounding():
    # its normal draws come from randn, whose vectorised float32 Box-Muller torch computes with
    # AVX2 approximations: within float32 rounding; the stream after it is exact
    make = lambda L: L.distributions.StudentT(L.tensor([0.7, 3.0, 30.0])).rsample((7,))   # noqa: E731
    (a, an, ar), (b, bn, br) = _both(0, make)
    np.testing.assert_allclose(b, a, rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(bn, an)
    np.testing.assert_array_equal(br, ar)


def test_gamma_rsample_gradient_is_the_implicit_one():
    # dx/dalpha = -(dP(alpha, x)/dalpha) / p(x; alpha): torch's _standard_gamma_grad approximates it
    alpha = ts.tensor([0.3, 1.0, 2.5, 50.0], dtype=ts.float64, requires_grad=True)
    ts.manual_seed(0)
    x = ts.distributions.Gamma(alpha, 1.0).rsample()
    x.sum().backward()
    expected = torch._standard_gamma_grad(torch.tensor(alpha.detach().numpy()), torch.tensor(x.detach().numpy()))
    np.testing.assert_allclose(alpha.grad.numpy(), expected.numpy(), rtol=5e-3)


def test_dirichlet_rsample_gradient_is_the_pathwise_one_of_its_gamma_draws():
    # x = g / sum(g) with each gamma draw's implicit gradient (torch's _Dirichlet differs: both unbiased)
    from tinygrad_seq.distributions.torch_gamma import StandardGamma, _dirichlet_draws
    values = [0.5, 1.0, 2.0, 7.0]
    weights = ts.tensor([1.0, -2.0, 0.5, 3.0], dtype=ts.float64)
    alpha = ts.tensor(values, dtype=ts.float64, requires_grad=True)
    ts.manual_seed(5)
    x = ts.distributions.Dirichlet(alpha).rsample()
    (x * weights).sum().backward()
    ts.manual_seed(5)
    again = ts.tensor(values, dtype=ts.float64, requires_grad=True)
    shares, host, gamma = _dirichlet_draws(again)
    np.testing.assert_array_equal(shares, x.detach().numpy())
    g = StandardGamma.apply(again, draws=gamma, alpha_host=host)
    ((g / g.sum()) * weights).sum().backward()
    np.testing.assert_allclose(alpha.grad.numpy(), again.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert np.isfinite(alpha.grad.numpy()).all()


def test_beta_and_poisson_gradients():
    c1 = ts.tensor([2.0, 0.5], requires_grad=True)
    ts.manual_seed(1)
    ts.distributions.Beta(c1, ts.tensor([3.0, 0.5])).rsample().sum().backward()
    assert c1.grad is not None and np.isfinite(c1.grad.numpy()).all()
    rate = ts.tensor([3.0, 20.0], requires_grad=True)
    ts.poisson(rate).sum().backward()   # torch's zero gradient
    np.testing.assert_array_equal(rate.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("k", [1, 3, 4, 5, 8, 17, 64, 130, 1000])
def test_cascade_sum_is_torchs(k):
    a = np.random.default_rng(k).gamma(0.3, size=(3, k)) * 10.0 ** np.random.default_rng(k).integers(-8, 8, (3, k))
    np.testing.assert_array_equal(last_axis_sums(a), torch.from_numpy(a).sum(-1, keepdim=True).numpy())


def test_non_contiguous_parameters_draw_in_index_order():
    # torch's serial kernel walks its fresh contiguous result: the parameters' index order
    r = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.7
    _assert_same(2, lambda L: L.poisson(L.tensor(r).t()))
    _assert_same(2, lambda L: L.distributions.Gamma(L.tensor(r).t() + 0.2, 1.0).sample())
