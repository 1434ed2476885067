"""ts.distributions' relaxed distributions (RelaxedOneHotCategorical, RelaxedBernoulli and their
Exp / Logit bases), Binomial, Geometric, LowRankMultivariateNormal, Cauchy, HalfNormal, HalfCauchy,
Weibull and Pareto against torch 2.13, float64: values, gradients, draws after the same seed (all
but Binomial's draw torch's numbers), errors."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.distributions as D

from distribution_checks import compare_with_gradients

TD = torch.distributions
rng = np.random.default_rng(17)


RELAXED = {
    "RelaxedOneHotCategorical": lambda M, L, t, p: M.RelaxedOneHotCategorical(t, logits=p),
    "ExpRelaxedCategorical": lambda M, L, t, p: M.relaxed_categorical.ExpRelaxedCategorical(t, logits=p),
    "RelaxedBernoulli": lambda M, L, t, p: M.RelaxedBernoulli(t, logits=p),
    "LogitRelaxedBernoulli": lambda M, L, t, p: M.relaxed_bernoulli.LogitRelaxedBernoulli(t, logits=p),
}


@pytest.mark.parametrize("name", sorted(RELAXED))
def test_relaxed_distributions_draw_and_score_as_torch(name):
    logits = rng.standard_normal((2, 4))
    temperature = 0.7
    draws, scores, grads = [], [], []
    for M, L in ((D, ts), (TD, torch)):
        p = L.tensor(logits, requires_grad=True)
        t = L.tensor(temperature, dtype=L.float64, requires_grad=True)
        d = RELAXED[name](M, L, t, p)
        L.manual_seed(9)
        x = d.rsample((3,))
        s = d.log_prob(x)
        (s.sum() + x.sum()).backward()
        draws.append(x.detach().numpy())
        scores.append(s.detach().numpy())
        grads.append((p.grad.numpy(), t.grad.numpy()))
        assert tuple(d.expand((5,) + tuple(d.batch_shape)).batch_shape) == (5,) + tuple(d.batch_shape)
    np.testing.assert_allclose(draws[0], draws[1], rtol=1e-10)
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-9)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-8)


def test_geometric_and_binomial_match_torch():
    probs = rng.random(4) * 0.8 + 0.1
    for make, value in ((lambda M, p: M.Geometric(probs=p), rng.integers(0, 5, 4).astype(float)),
                        (lambda M, p: M.Binomial(6, probs=p), rng.integers(0, 7, 4).astype(float))):
        p, pt = ts.tensor(probs, requires_grad=True), torch.tensor(probs, requires_grad=True)
        d, dt = make(D, p), make(TD, pt)
        out = d.log_prob(ts.tensor(value)) + d.entropy() + d.mean + d.variance
        out_t = dt.log_prob(torch.tensor(value)) + dt.entropy() + dt.mean + dt.variance
        compare_with_gradients(out, out_t, [p], [pt])
        np.testing.assert_allclose(d.mode.detach().numpy(), dt.mode.detach().numpy())
    ts.manual_seed(3)
    torch.manual_seed(3)
    np.testing.assert_array_equal(D.Geometric(ts.tensor(probs)).sample((6,)).numpy(),
                                  TD.Geometric(torch.tensor(probs)).sample((6,)).numpy())
    b = D.Binomial(ts.tensor([4.0, 4.0]), probs=ts.tensor([0.3, 0.6]))
    np.testing.assert_array_equal(b.enumerate_support().numpy(),
                                  TD.Binomial(torch.tensor([4.0, 4.0]), probs=torch.tensor([0.3, 0.6])).enumerate_support().numpy())
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        D.Binomial(ts.tensor([3.0, 4.0]), probs=ts.tensor([0.3, 0.6])).entropy()
    ts.manual_seed(0)
    draws = D.Binomial(ts.tensor(8.0), probs=ts.tensor(0.25)).sample((20000,)).numpy()
    assert abs(draws.mean() - 2.0) < 0.05 and draws.min() >= 0 and draws.max() <= 8


def test_low_rank_multivariate_normal_matches_torch():
    loc, w, d = rng.standard_normal((2, 4)), rng.standard_normal((2, 4, 2)), rng.random((2, 4)) + 0.5
    ours = [ts.tensor(a, requires_grad=True) for a in (loc, w, d)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (loc, w, d)]
    m, mt = D.LowRankMultivariateNormal(*ours), TD.LowRankMultivariateNormal(*theirs)
    value = rng.standard_normal((3, 2, 4))
    out = m.log_prob(ts.tensor(value)) + m.entropy() + m.variance.sum(-1)
    out_t = mt.log_prob(torch.tensor(value)) + mt.entropy() + mt.variance.sum(-1)
    compare_with_gradients(out, out_t, ours, theirs)
    for lazy in ("covariance_matrix", "precision_matrix", "scale_tril"):
        np.testing.assert_allclose(getattr(m, lazy).detach().numpy(), getattr(mt, lazy).detach().numpy(), rtol=1e-9)
    ts.manual_seed(6)
    torch.manual_seed(6)
    np.testing.assert_allclose(m.rsample((2,)).detach().numpy(), mt.rsample((2,)).detach().numpy(), rtol=1e-10)
    for M, t in ((D, ts.tensor), (TD, torch.tensor)):
        with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 4 x m"):
            M.LowRankMultivariateNormal(t(loc), t(w[:, :3]), t(d))


FOLDED_AND_TRANSFORMED = {
    "Cauchy": ((rng.standard_normal(3), rng.random(3) + 0.5), lambda: rng.standard_normal(3)),
    "HalfNormal": ((rng.random(3) + 0.5,), lambda: rng.random(3)),
    "HalfCauchy": ((rng.random(3) + 0.5,), lambda: rng.random(3)),
    "Weibull": ((rng.random(3) + 0.5, rng.random(3) + 1.5), lambda: rng.random(3) + 0.2),
    "Pareto": ((rng.random(3) + 0.5, rng.random(3) + 2.5), lambda: rng.random(3) + 1.6),
}


@pytest.mark.parametrize("name", sorted(FOLDED_AND_TRANSFORMED))
def test_cauchy_half_weibull_pareto_match_torch(name):
    args, value = FOLDED_AND_TRANSFORMED[name]
    v = value()
    for what in ("log_prob", "cdf", "entropy", "mean", "variance", "mode"):
        ours = [ts.tensor(a, requires_grad=True) for a in args]
        theirs = [torch.tensor(a, requires_grad=True) for a in args]
        d, dt = getattr(D, name)(*ours), getattr(TD, name)(*theirs)
        if what in ("log_prob", "cdf"):
            out, out_t = getattr(d, what)(ts.tensor(v)), getattr(dt, what)(torch.tensor(v))
        else:
            out, out_t = (d.entropy(), dt.entropy()) if what == "entropy" else (getattr(d, what), getattr(dt, what))
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-9, equal_nan=True)
        if out_t.requires_grad and np.isfinite(out_t.detach().numpy()).all():
            compare_with_gradients(out, out_t, ours, theirs)
    d, dt = getattr(D, name)(*[ts.tensor(a) for a in args]), getattr(TD, name)(*[torch.tensor(a) for a in args])
    assert d.has_rsample == dt.has_rsample and repr(d.support) == repr(dt.support)
    ts.manual_seed(3)
    torch.manual_seed(3)
    np.testing.assert_allclose(d.sample((4,)).numpy(), dt.sample((4,)).numpy(), rtol=1e-10)
    assert tuple(d.expand((2, 3)).batch_shape) == (2, 3)
