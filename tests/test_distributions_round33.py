"""Multinomial, ContinuousBernoulli, Kumaraswamy, FisherSnedecor and VonMises against
torch.distributions, and the KL pairs torch registers for ContinuousBernoulli. Scores (log_prob,
cdf, icdf, entropy, mean, mode, variance) and their gradients are compared with torch's on the same
parameters (float64, and float32 values and dtypes); ContinuousBernoulli, Kumaraswamy and VonMises
draw from torch's stream, so their draws (and the rsample gradients) are compared with torch's
after the same seed; Multinomial and FisherSnedecor draws are not torch's and are checked by the
moments of 20000 draws (and FisherSnedecor's rsample gradient by the derivative of its mean)."""
import math
import zlib

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.distributions as D

from distribution_checks import compare_with_gradients

TD = torch.distributions
rng = np.random.default_rng(33)


def _pos(*shape):
    return rng.random(shape) + 0.5


def _counts(total, shape, k):
    """Count vectors of `total` over k categories, shape + (k,)."""
    draws = rng.integers(0, k, shape + (total,))
    return np.stack([(draws == i).sum(-1) for i in range(k)], -1).astype(float)


# probs on both sides of 1/2 and inside the Taylor region lims = (0.499, 0.501)
_CB_PROBS = np.array([[0.2, 0.4995, 0.5, 0.9], [0.01, 0.3, 0.5008, 0.7], [0.45, 0.55, 0.499, 0.501]])
# float32 0.499 (0.49900001) is on the edge, outside the Taylor region: the closed forms cancel two
# terms of ~250 there, so float32 values carry ~4e-3 of rounding noise from the last ulp of log /
# log1p, which differs between SIMD implementations (torch's SLEEF, numpy's AVX2 and AVX-512
# loops: torch's own float32 variance there is -1.6 on an AVX-512 CPU); float32 is compared elsewhere
_CB_F32_CONDITIONED = ~np.isclose(_CB_PROBS, 0.499)


def _f32_comparable(name, a):
    """a's elements worth comparing in float32 (ContinuousBernoulli: not at the ill-conditioned edge)."""
    return a[..., _CB_F32_CONDITIONED] if name == "ContinuousBernoulli" else a
# name -> (parameters as numpy arrays, constructor (module, *tensors), value sampler for log_prob)
CASES = {
    "Multinomial": ((rng.standard_normal((3, 4)),), lambda M, l: M.Multinomial(5, logits=l),
                    lambda: _counts(5, (2, 3), 4)),
    "MultinomialProbs": ((rng.random((3, 4)) + 0.1,), lambda M, p: M.Multinomial(4, probs=p),
                         lambda: _counts(4, (2, 3), 4)),
    "ContinuousBernoulli": ((_CB_PROBS,), lambda M, p: M.ContinuousBernoulli(probs=p),
                            lambda: rng.random((2, 3, 4))),
    "ContinuousBernoulliLogits": ((np.array([[-3.0, -0.001, 0.0, 0.0025], [0.5, 2.0, -1.2, 4.0]]),),
                                  lambda M, l: M.ContinuousBernoulli(logits=l), lambda: rng.random((2, 4))),
    "Kumaraswamy": ((_pos(3, 4) * 2, _pos(3, 4) * 2), lambda M, a, b: M.Kumaraswamy(a, b),
                    lambda: rng.random((2, 3, 4)) * 0.9 + 0.05),
    "FisherSnedecor": ((np.array([[1.5, 3.0, 5.0, 10.0]] * 3) * _pos(3, 1), np.array([[1.5, 3.0, 6.0, 20.0]] * 3)),
                       lambda M, a, b: M.FisherSnedecor(a, b), lambda: _pos(2, 3, 4) * 2),
    "VonMises": ((rng.standard_normal((3, 4)) * 2, np.array([[0.3, 1.0, 3.7, 3.8], [5.0, 12.0, 0.01, 2.0],
                                                             [40.0, 0.5, 3.75, 7.0]])),
                 lambda M, m, k: M.VonMises(m, k), lambda: rng.standard_normal((2, 3, 4)) * 4),
}
NOT_DEFINED = {   # torch raises NotImplementedError for these (ours does too)
    "Multinomial": {"mode", "cdf", "icdf"}, "MultinomialProbs": {"mode", "cdf", "icdf"},
    "ContinuousBernoulli": {"mode"}, "ContinuousBernoulliLogits": {"mode"},
    "Kumaraswamy": set(), "FisherSnedecor": {"entropy", "cdf", "icdf"},
    "VonMises": {"entropy", "cdf", "icdf"},
}


def _both(name, dtype=np.float64):
    arrays, make, value = CASES[name]
    ours = [ts.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return make(D, *ours), make(TD, *theirs), ours, theirs, value().astype(dtype)


def _outputs(d, dt, what, value):
    if what == "log_prob":
        return d.log_prob(ts.tensor(value)), dt.log_prob(torch.tensor(value))
    if what == "cdf":
        return d.cdf(ts.tensor(value)), dt.cdf(torch.tensor(value))
    if what == "icdf":
        u = rng.random(tuple(dt.batch_shape)).astype(value.dtype)
        return d.icdf(ts.tensor(u)), dt.icdf(torch.tensor(u))
    if what == "entropy":
        return d.entropy(), dt.entropy()
    return getattr(d, what), getattr(dt, what)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"])
def test_scores_and_moments_match_torch_with_gradients(name, what):
    d, dt, ours, theirs, value = _both(name)
    assert d.batch_shape == dt.batch_shape and d.event_shape == dt.event_shape
    if what in NOT_DEFINED[name]:
        with pytest.raises(NotImplementedError):
            _outputs(dt, dt, what, value)
        with pytest.raises(NotImplementedError):
            _outputs(d, d, what, value)
        return
    out, out_t = _outputs(d, dt, what, value)
    if not out_t.requires_grad:   # a parameter returned as is (VonMises' mean)
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
        return
    if name == "ContinuousBernoulli" and what in ("variance", "stddev"):
        # at probs = 0.499 (the edge of lims) the closed form cancels two terms of ~2.5e5 to 1/12: the
        # gradient agrees with torch's to 3e-8 absolute there (1e-17 of the terms), not to 1e-7 relative
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-9)
        w = np.random.default_rng(0).standard_normal(tuple(out.shape))
        (out * ts.tensor(w)).sum().backward()
        (out_t * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-7, atol=1e-7)
        return
    compare_with_gradients(out, out_t, ours, theirs)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "variance", "cdf", "icdf"])
def test_float32_values_and_dtypes_match_torch(name, what):
    if what in NOT_DEFINED[name]:
        return
    d, dt, _, _, value = _both(name, np.float32)
    out, out_t = _outputs(d, dt, what, value)
    assert out.dtype == np.float32 and out_t.dtype == torch.float32
    # ContinuousBernoulli's variance near 1/2 outside lims cancels two terms (~25 at p = 0.45) to 1/12:
    # in float32 both libraries' values are off the float64 one by ~1e-5 (log1p / log rounded differently)
    atol = 5e-5 if name.startswith("ContinuousBernoulli") and what == "variance" else 2e-6
    np.testing.assert_allclose(_f32_comparable(name, out.detach().numpy()), _f32_comparable(name, out_t.detach().numpy()),
                               rtol=2e-5, atol=atol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_matches_torch(name):
    d, dt, _, _, value = _both(name)
    e, et = d.expand((2,) + tuple(d.batch_shape)), dt.expand((2,) + tuple(dt.batch_shape))
    assert type(e) is type(d) and e.batch_shape == et.batch_shape and e.event_shape == et.event_shape
    np.testing.assert_allclose(e.log_prob(ts.tensor(value)).detach().numpy(),
                               et.log_prob(torch.tensor(value)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(e.mean.detach().numpy(), et.mean.detach().numpy(), rtol=1e-10)
    assert tuple(e.sample((3,)).shape) == tuple(et.sample((3,)).shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_support_and_flags_match_torch(name):
    d, dt, _, _, _ = _both(name)
    assert repr(d) == repr(dt)
    assert repr(d.support) == repr(dt.support)
    assert d.has_rsample == dt.has_rsample
    assert d.support.event_dim == dt.support.event_dim and d.support.is_discrete == dt.support.is_discrete
    assert sorted(type(d).arg_constraints) == sorted(type(dt).arg_constraints)


def test_scalar_parameters_give_torchs_shapes():
    for M in (D, TD):
        assert tuple(M.ContinuousBernoulli(0.3).batch_shape) == ()
        assert tuple(M.ContinuousBernoulli(logits=0.3).rsample((4,)).shape) == (4,)
        assert tuple(M.Kumaraswamy(2.0, 3.0).sample((2,)).shape) == (2,)
        assert tuple(M.FisherSnedecor(2.0, 3.0).rsample().shape) == ()
        assert tuple(M.VonMises(0.0, 1.0).sample((3,)).shape) == (3,)
        assert tuple(M.Multinomial(3, probs=torch.ones(4) if M is TD else ts.ones(4)).sample((2,)).shape) == (2, 4)
    assert repr(D.ContinuousBernoulli(logits=0.3)) == repr(TD.ContinuousBernoulli(logits=0.3))
    assert repr(D.VonMises(0.0, 1.0)) == repr(TD.VonMises(0.0, 1.0))


def _error(make):
    try:
        make()
    except (ValueError, NotImplementedError) as e:
        return type(e), str(e)
    return None


@pytest.mark.parametrize("case", [
    lambda M, t: M.Multinomial(3, probs=t([-1.0, 1.0, 1.0])),
    lambda M, t: M.Multinomial(3, probs=t([0.0, 0.0, 0.0])),
    lambda M, t: M.Multinomial(3, logits=t([float("nan"), 1.0, 1.0])),
    lambda M, t: M.Multinomial(t(3.0), probs=t([0.2, 0.8])),
    lambda M, t: M.Multinomial(3, probs=t([0.2, 0.3, 0.5])).log_prob(t([1.0, 1.0, 2.0])),
    lambda M, t: M.Multinomial(3, probs=t([0.2, 0.3, 0.5])).log_prob(t([1.0, 2.0])),
    lambda M, t: M.Multinomial(probs=t([0.2, 0.8]), logits=t([0.2, 0.8])),
    lambda M, t: M.ContinuousBernoulli(probs=t([1.5])),
    lambda M, t: M.ContinuousBernoulli(probs=t([1.5]), validate_args=True),
    lambda M, t: M.ContinuousBernoulli(probs=t([1.5]), validate_args=False),
    lambda M, t: M.ContinuousBernoulli(),
    lambda M, t: M.ContinuousBernoulli(probs=t([0.3])).log_prob(t([1.2])),
    lambda M, t: M.ContinuousBernoulli(probs=t([0.3])).cdf(t([-0.2])),
    lambda M, t: M.Kumaraswamy(t([-1.0]), 1.0),
    lambda M, t: M.Kumaraswamy(t([1.0]), t([0.0])),
    lambda M, t: M.Kumaraswamy(2.0, 3.0).log_prob(t(1.2)),
    lambda M, t: M.FisherSnedecor(t([-1.0]), 1.0),
    lambda M, t: M.FisherSnedecor(t([1.0]), t([2.0])).log_prob(t([-1.0])),
    lambda M, t: M.VonMises(t([0.0]), t([-1.0])),
    lambda M, t: M.VonMises(t([float("nan")]), t([1.0])),
])
def test_validation_errors_are_torchs(case):
    ours, theirs = _error(lambda: case(D, ts.tensor)), _error(lambda: case(TD, torch.tensor))
    assert ours == theirs and theirs is not None or ours is None and theirs is None


def test_continuous_bernoulli_invalid_probs_pass_unchecked_by_default_as_torchs():
    # without an explicit validate_args torch clamps probs into [eps, 1 - eps] before checking
    d, dt = D.ContinuousBernoulli(probs=ts.tensor([1.5])), TD.ContinuousBernoulli(probs=torch.tensor([1.5]))
    np.testing.assert_allclose(d.probs.numpy(), dt.probs.numpy())


@pytest.mark.parametrize("name", ["ContinuousBernoulli", "ContinuousBernoulliLogits", "Kumaraswamy", "VonMises"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_draws_are_torchs_after_the_same_seed(name, dtype):
    arrays, make, _ = CASES[name]
    ts.manual_seed(12)
    torch.manual_seed(12)
    ours = make(D, *[ts.tensor(a.astype(dtype)) for a in arrays]).sample((50,))
    theirs = make(TD, *[torch.tensor(a.astype(dtype)) for a in arrays]).sample((50,))
    assert ours.dtype == np.dtype(dtype) and tuple(ours.shape) == tuple(theirs.shape)
    if dtype == np.float32:
        ours, theirs = _f32_comparable(name, ours.numpy()), _f32_comparable(name, theirs.numpy())
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("name", ["ContinuousBernoulli", "ContinuousBernoulliLogits", "Kumaraswamy"])
def test_rsample_and_its_gradients_are_torchs_after_the_same_seed(name):
    d, dt, ours, theirs, _ = _both(name)
    ts.manual_seed(4)
    torch.manual_seed(4)
    compare_with_gradients(d.rsample((6,)), dt.rsample((6,)), ours, theirs)


def test_fisher_snedecor_draws_have_its_moments_and_its_mean_gradient():
    df1 = ts.tensor([3.0, 6.0, 12.0], dtype=ts.float64, requires_grad=True)
    df2 = ts.tensor([9.0, 12.0, 20.0], dtype=ts.float64, requires_grad=True)
    d = D.FisherSnedecor(df1, df2)
    ts.manual_seed(0)
    draws = d.rsample((20000,))
    assert draws.dtype == np.float64 and tuple(draws.shape) == (20000, 3)
    x = draws.detach().numpy()
    np.testing.assert_allclose(x.mean(0), d.mean.detach().numpy(), rtol=0.03)
    np.testing.assert_allclose(x.var(0), d.variance.detach().numpy(), rtol=0.2)
    # d/d df E[F] = (0, -2 / (df2 - 2)^2): the pathwise gradient's average estimates it
    draws.mean(0).sum().backward()
    np.testing.assert_allclose(df2.grad.numpy(), -2 / (df2.detach().numpy() - 2) ** 2, rtol=0.15)
    np.testing.assert_allclose(df1.grad.numpy(), 0.0, atol=0.03)
    assert D.FisherSnedecor(2.0, 3.0).sample((4,)).dtype == np.float32


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_multinomial_draws_count_total_count_and_have_its_moments(given):
    probs = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    param = probs if given == "probs" else np.log(probs) + 1.0
    d = D.Multinomial(7, **{given: ts.tensor(param)})
    ts.manual_seed(1)
    counts = d.sample((20000,))
    assert counts.dtype == np.float64 and tuple(counts.shape) == (20000, 2, 4)
    c = counts.numpy()
    assert (c.sum(-1) == 7).all() and (c == np.round(c)).all()
    np.testing.assert_allclose(c.mean(0), 7 * probs, atol=0.05)
    np.testing.assert_allclose(c.var(0), 7 * probs * (1 - probs), rtol=0.06)
    assert D.Multinomial(3, probs=ts.ones(4)).sample().dtype == np.float32
    assert tuple(D.Multinomial(0, probs=ts.ones(3)).sample((2,)).numpy().sum(-1)) == (0.0, 0.0)


def test_multinomial_log_prob_with_zero_probabilities_and_without_total_count():
    probs = [[0.0, 0.5, 0.5], [0.2, 0.0, 0.8]]
    value = [[0.0, 2.0, 1.0], [1.0, 0.0, 5.0]]
    for make in (lambda M, t: M.Multinomial(probs=t(probs), validate_args=False),
                 lambda M, t: M.Multinomial(8, logits=t(probs).log())):
        ours = make(D, ts.tensor).log_prob(ts.tensor(value)).numpy()
        theirs = make(TD, torch.tensor).log_prob(torch.tensor(value)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert np.isfinite(ours).all()


def test_multinomial_entropy_after_expand_is_the_unexpanded_one():
    d = D.Multinomial(4, probs=ts.tensor([0.2, 0.3, 0.5]))
    e = d.expand((2,))
    np.testing.assert_allclose(e.entropy().numpy(), np.broadcast_to(d.entropy().numpy(), (2,)), rtol=1e-6)


def test_von_mises_density_integrates_to_one_and_draws_have_its_circular_moments():
    loc, kappa = 0.7, np.array([0.2, 1.0, 3.74, 3.76, 10.0])
    d = D.VonMises(ts.tensor(loc, dtype=ts.float64), ts.tensor(kappa))
    grid = np.linspace(-math.pi, math.pi, 20001)
    density = d.log_prob(ts.tensor(grid[:, None])).exp().numpy()
    integral = ((density[1:] + density[:-1]) / 2 * np.diff(grid)[:, None]).sum(0)   # the trapezoid rule
    np.testing.assert_allclose(integral, 1.0, rtol=2e-6)   # I0 approximated to ~1e-7
    ts.manual_seed(2)
    x = d.sample((20000,)).numpy()
    assert ((x >= -math.pi) & (x < math.pi)).all()
    resultant = np.exp(1j * x).mean(0)
    np.testing.assert_allclose(np.angle(resultant), loc, atol=0.1)
    np.testing.assert_allclose(1 - np.abs(resultant), d.variance.numpy(), atol=0.02)


def test_von_mises_tiny_concentration_samples_without_hanging():
    for M, t in ((D, ts.tensor), (TD, torch.tensor)):
        x = M.VonMises(t([0.0, 1.0]), t([1e-6, 1e-8])).sample((100,))
        assert tuple(x.shape) == (100, 2) and float(x.abs().max()) <= math.pi


# KL: every pair torch registers involving ContinuousBernoulli
def _kl_families(r):
    pos = lambda: r.random(3) + 0.5   # noqa: E731
    low = r.random(3) * 0.3 + 0.05
    return {
        "ContinuousBernoulli": ((np.array([0.2, 0.4995, 0.8]),), lambda M, p: M.ContinuousBernoulli(probs=p)),
        "Beta": ((pos() * 2, pos() * 2), lambda M, a, b: M.Beta(a, b)),
        "Exponential": ((pos(),), lambda M, x: M.Exponential(x)),
        "Gamma": ((pos() * 2, pos()), lambda M, a, b: M.Gamma(a, b)),
        "Gumbel": ((r.standard_normal(3), pos()), lambda M, m, s: M.Gumbel(m, s)),
        "Laplace": ((r.standard_normal(3), pos()), lambda M, m, s: M.Laplace(m, s)),
        "Normal": ((r.standard_normal(3), pos()), lambda M, m, s: M.Normal(m, s)),
        "Pareto": ((pos(), pos() * 3), lambda M, s, a: M.Pareto(s, a)),
        # inside [0, 1] as a p; as a q, the middle one strictly covers [0, 1] (finite KL), the others do not
        "Uniform": ((low, low + r.random(3) * 0.5 + 0.1), lambda M, lo, hi: M.Uniform(lo, hi)),
        "UniformWide": ((np.array([0.1, -0.5, -0.2]), np.array([2.0, 1.5, 0.9])), lambda M, lo, hi: M.Uniform(lo, hi)),
    }


PAIRS = sorted({(a.__name__, b.__name__) for a, b in TD.kl._KL_REGISTRY
                if "ContinuousBernoulli" in (a.__name__, b.__name__)})


def test_the_pairs_cover_torchs_registry():
    assert len(PAIRS) == 13
    assert all(p in _kl_families(rng) for pair in PAIRS for p in pair)


@pytest.mark.parametrize("p_name,q_name", PAIRS + [("ContinuousBernoulli", "UniformWide")])
def test_kl_matches_torch_with_gradients(p_name, q_name):
    families = _kl_families(np.random.default_rng(zlib.crc32(f"{p_name} {q_name}".encode())))
    (p_args, make_p), (q_args, make_q) = families[p_name], families[q_name]
    ours = [ts.tensor(a, requires_grad=True) for a in p_args]
    theirs = [torch.tensor(a, requires_grad=True) for a in p_args]
    q_ours = [ts.tensor(a, requires_grad=True) for a in q_args]
    q_theirs = [torch.tensor(a, requires_grad=True) for a in q_args]
    kl = D.kl_divergence(make_p(D, *ours), make_q(D, *q_ours))
    kl_t = TD.kl_divergence(make_p(TD, *theirs), make_q(TD, *q_theirs))
    assert tuple(kl.shape) == tuple(kl_t.shape) and kl.dtype == np.float64
    np.testing.assert_allclose(kl.detach().numpy(), kl_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    if kl_t.requires_grad:
        finite = np.isfinite(kl_t.detach().numpy())
        kl.where(ts.tensor(finite), 0.0).sum().backward()
        kl_t.where(torch.tensor(finite), 0.0).sum().backward()
        for a, b in zip(ours + q_ours, theirs + q_theirs):
            if b.grad is None:
                assert a.grad is None or not np.any(a.grad.numpy())
            else:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_continuous_bernoulli_log_normalizer_of_the_natural_parameter_is_torchs():
    x = np.array([-3.0, -0.0015, 0.0, 0.0005, 0.0012, 2.5])
    ours = D.ContinuousBernoulli(probs=0.3)._log_normalizer(ts.tensor(x)).numpy()
    theirs = TD.ContinuousBernoulli(probs=0.3)._log_normalizer(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
