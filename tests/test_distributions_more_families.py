"""The further ts.distributions families against torch.distributions, float64: Gamma, Chi2,
StudentT, Beta, Dirichlet, Exponential, Laplace, LogNormal, Gumbel, Poisson, NegativeBinomial,
MultivariateNormal, MixtureSameFamily, TransformedDistribution with transforms, and their KL pairs.
Scores (log_prob, cdf, icdf, entropy, mean, mode, variance) and their gradients are compared with
torch's on the same parameters; draws that come from torch's stream (Laplace, Exponential, Gumbel,
LogNormal, MultivariateNormal) are compared draw for draw after the same seed; the gamma-based draws
by their moments, and the gamma draw's gradient by the identity it must satisfy."""
import math

import numpy as np
import pytest
import torch
from scipy import special as sp

import tinygrad_seq as ts
import tinygrad_seq.distributions as D
from tinygrad_seq.distributions import transforms as T

from distribution_checks import compare_with_gradients

TD = torch.distributions
TT = torch.distributions.transforms
rng = np.random.default_rng(7)


def _pos(*shape):
    return rng.random(shape) + 0.5


# name -> (parameters as numpy arrays, constructor taking the library's distributions module and
# the parameters as tensors, a value sampler for log_prob)
CASES = {
    "Gamma": ((_pos(3, 1) * 2, _pos(4)), lambda M, a, b: M.Gamma(a, b), lambda: _pos(2, 3, 4)),
    "Chi2": ((_pos(3, 4) * 3,), lambda M, k: M.Chi2(k), lambda: _pos(3, 4)),
    "StudentT": ((_pos(3, 4) * 3, rng.standard_normal((3, 4)), _pos(3, 4)), lambda M, df, m, s: M.StudentT(df, m, s),
                 lambda: rng.standard_normal((2, 3, 4))),
    "Beta": ((_pos(3, 4) * 2, _pos(3, 4)), lambda M, a, b: M.Beta(a, b), lambda: rng.random((3, 4)) * 0.9 + 0.05),
    "Dirichlet": ((_pos(3, 4) * 2,), lambda M, c: M.Dirichlet(c),
                  lambda: (lambda u: u / u.sum(-1, keepdims=True))(rng.random((2, 3, 4)) + 0.1)),
    "Exponential": ((_pos(3, 4),), lambda M, r: M.Exponential(r), lambda: _pos(2, 3, 4)),
    "Laplace": ((rng.standard_normal((3, 4)), _pos(3, 4)), lambda M, m, s: M.Laplace(m, s),
                lambda: rng.standard_normal((2, 3, 4))),
    "LogNormal": ((rng.standard_normal((3, 4)) * 0.3, _pos(3, 4) * 0.5), lambda M, m, s: M.LogNormal(m, s),
                  lambda: _pos(2, 3, 4)),
    "Gumbel": ((rng.standard_normal((3, 4)), _pos(3, 4)), lambda M, m, s: M.Gumbel(m, s),
               lambda: rng.standard_normal((2, 3, 4))),
    "Poisson": ((_pos(3, 4) * 3,), lambda M, r: M.Poisson(r), lambda: rng.integers(0, 6, (2, 3, 4)).astype(float)),
    "NegativeBinomial": ((_pos(3, 4) * 3, rng.standard_normal((3, 4))), lambda M, n, l: M.NegativeBinomial(n, logits=l),
                         lambda: rng.integers(0, 6, (2, 3, 4)).astype(float)),
}
PROPERTIES = {"mean", "mode", "variance", "stddev"}
NO_MODE = {"StudentT": set(), "Gumbel": set()}


def _both(name):
    arrays, make, value = CASES[name]
    ours = [ts.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return make(D, *ours), make(TD, *theirs), ours, theirs, value()


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "mode", "variance"])
def test_scores_and_moments_match_torch(name, what):
    d, dt, ours, theirs, value = _both(name)
    assert d.batch_shape == dt.batch_shape and d.event_shape == dt.event_shape
    if what == "log_prob":
        out, out_t = d.log_prob(ts.tensor(value)), dt.log_prob(torch.tensor(value))
    elif what == "entropy":
        if name in ("Poisson", "NegativeBinomial"):
            with pytest.raises(NotImplementedError):
                d.entropy()
            return
        out, out_t = d.entropy(), dt.entropy()
    else:
        out, out_t = getattr(d, what), getattr(dt, what)
        if not out_t.requires_grad:
            np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-9)
            return
    compare_with_gradients(out, out_t, ours, theirs)


@pytest.mark.parametrize("name,value", [("Gamma", lambda: _pos(3, 4)), ("Exponential", lambda: _pos(3, 4)),
                                        ("Laplace", lambda: rng.standard_normal((3, 4))),
                                        ("LogNormal", lambda: _pos(3, 4))])
def test_cdf_matches_torch(name, value):
    d, dt, ours, theirs, _ = _both(name)
    v = value()
    out, out_t = d.cdf(ts.tensor(v)), dt.cdf(torch.tensor(v))
    if name == "Gamma":   # the incomplete gamma has no derivative in its first argument (torch's neither)
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-9)
    else:
        compare_with_gradients(out, out_t, ours, theirs)


@pytest.mark.parametrize("name", ["Exponential", "Laplace", "LogNormal"])
def test_icdf_matches_torch(name):
    d, dt, ours, theirs, _ = _both(name)
    u = rng.random((3, 4)) * 0.9 + 0.05
    compare_with_gradients(d.icdf(ts.tensor(u)), dt.icdf(torch.tensor(u)), ours, theirs)


@pytest.mark.parametrize("name", ["Exponential", "Laplace", "LogNormal", "Gumbel"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_draws_are_torchs_after_the_same_seed(name, dtype):
    arrays, make, _ = CASES[name]
    ts.manual_seed(11)
    torch.manual_seed(11)
    ours = make(D, *[ts.tensor(a.astype(dtype)) for a in arrays]).rsample((5,))
    theirs = make(TD, *[torch.tensor(a.astype(dtype)) for a in arrays]).rsample((5,))
    assert ours.dtype == np.dtype(dtype) and tuple(ours.shape) == tuple(theirs.shape) == (5, 3, 4)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 0)


def test_scalar_parameters_give_an_empty_batch_shape():
    for M in (D, TD):
        assert tuple(M.Laplace(0.0, 1.0).batch_shape) == ()
        assert tuple(M.Gumbel(0.0, 2.0).sample((3,)).shape) == (3,)
        assert tuple(M.Gamma(2.0, 1.0).sample().shape) == ()
        assert tuple(M.Beta(2.0, 3.0).sample((2,)).shape) == (2,)
        assert tuple(M.Exponential(1.5).rsample((4,)).shape) == (4,)


@pytest.mark.parametrize("name", ["Gamma", "Chi2", "StudentT", "Beta", "Dirichlet", "Poisson", "NegativeBinomial"])
def test_draws_have_the_distributions_moments(name):
    arrays, make, _ = CASES[name]
    d = make(D, *[ts.tensor(a) for a in arrays])
    ts.manual_seed(0)
    draws = d.sample((40000,)).numpy()
    assert draws.shape == (40000,) + tuple(d.batch_shape) + tuple(d.event_shape)
    mean = d.mean.detach().numpy()
    spread = np.sqrt(np.where(np.isfinite(d.variance.detach().numpy()), d.variance.detach().numpy(), 1.0))
    if name == "StudentT":   # heavy tails: the median instead
        np.testing.assert_allclose(np.median(draws, 0), arrays[1], atol=0.05)
        return
    np.testing.assert_allclose(draws.mean(0), mean, atol=float(5 * spread.max() / np.sqrt(40000)))
    np.testing.assert_allclose(draws.var(0), d.variance.detach().numpy(), rtol=0.1)


def test_gamma_rsample_gradient_is_the_implicit_reparameterisation():
    # x(a) with its noise fixed keeps P(a, x(a)) = u constant: dP/da + p(x; a) dx/da = 0
    alpha = ts.tensor([0.3, 1.0, 2.5, 7.0, 40.0], dtype=ts.float64, requires_grad=True)
    ts.manual_seed(3)
    x = D.Gamma(alpha, 1.0).rsample()
    x.sum().backward()
    a, xv, g = alpha.detach().numpy(), x.detach().numpy(), alpha.grad.numpy()
    h = 1e-6
    dP = (sp.gammainc(a + h, xv) - sp.gammainc(a - h, xv)) / (2 * h)
    density = np.exp((a - 1) * np.log(xv) - xv - sp.gammaln(a))
    np.testing.assert_allclose(dP + density * g, 0, atol=1e-6)
    # into the rate: x = g / rate exactly
    rate = ts.tensor([2.0], dtype=ts.float32, requires_grad=True)
    ts.manual_seed(3)
    y = D.Gamma(ts.tensor([3.0]), rate).rsample()
    y.backward()
    np.testing.assert_allclose(rate.grad.numpy(), -y.detach().numpy() / 2.0, rtol=1e-6)


def test_dirichlet_and_beta_rsample_carry_gradients():
    c = ts.tensor([[1.5, 2.0, 0.7]], requires_grad=True)
    ts.manual_seed(1)
    z = D.Dirichlet(c).rsample((4,))
    assert tuple(z.shape) == (4, 1, 3)
    np.testing.assert_allclose(z.sum(-1).detach().numpy(), 1.0, rtol=1e-6)
    (z[..., 0]).sum().backward()
    assert c.grad is not None and np.isfinite(c.grad.numpy()).all()
    b = ts.tensor([2.0, 3.0], requires_grad=True)
    D.Beta(b, ts.tensor([1.0, 1.0])).rsample().sum().backward()
    assert b.grad is not None and np.isfinite(b.grad.numpy()).all()


# ----------------------------------------------------------------------------- MultivariateNormal

def _spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("form", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_matches_torch(form):
    loc = rng.standard_normal((2, 3))
    cov = _spd(3, (2,))
    matrix = np.linalg.cholesky(cov) if form == "scale_tril" else cov
    ours = [ts.tensor(loc, requires_grad=True), ts.tensor(matrix, requires_grad=True)]
    theirs = [torch.tensor(loc, requires_grad=True), torch.tensor(matrix, requires_grad=True)]
    d = D.MultivariateNormal(ours[0], **{form: ours[1]})
    dt = TD.MultivariateNormal(theirs[0], **{form: theirs[1]})
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    value = rng.standard_normal((4, 2, 3))
    out = d.log_prob(ts.tensor(value)) + d.entropy() + d.variance.sum(-1)
    out_t = dt.log_prob(torch.tensor(value)) + dt.entropy() + dt.variance.sum(-1)
    compare_with_gradients(out, out_t, ours, theirs)
    for lazy in ("covariance_matrix", "precision_matrix", "scale_tril"):
        np.testing.assert_allclose(getattr(d, lazy).detach().numpy(), getattr(dt, lazy).detach().numpy(), rtol=1e-9)
    ts.manual_seed(5)
    torch.manual_seed(5)
    np.testing.assert_allclose(d.rsample((3,)).detach().numpy(), dt.rsample((3,)).detach().numpy(), rtol=1e-10)


def test_multivariate_normal_broadcasts_a_shared_matrix_and_checks_its_arguments():
    loc = rng.standard_normal((5, 2))
    tril = np.linalg.cholesky(_spd(2))
    d = D.MultivariateNormal(ts.tensor(loc), scale_tril=ts.tensor(tril))
    dt = TD.MultivariateNormal(torch.tensor(loc), scale_tril=torch.tensor(tril))
    v = rng.standard_normal((3, 5, 2))
    np.testing.assert_allclose(d.log_prob(ts.tensor(v)).numpy(), dt.log_prob(torch.tensor(v)).numpy(), rtol=1e-10)
    assert tuple(d.expand((4, 5)).sample().shape) == (4, 5, 2)
    for M, t in ((D, ts.tensor), (TD, torch.tensor)):
        with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
            M.MultivariateNormal(t(loc))
        with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
            M.MultivariateNormal(t(1.0), t(np.eye(1)))
        with pytest.raises(ValueError, match="covariance_matrix"):   # not positive definite
            M.MultivariateNormal(t(np.zeros(2)), t(np.array([[1.0, 2.0], [2.0, 1.0]])))
        with pytest.raises(ValueError, match="scale_tril"):          # not lower triangular
            M.MultivariateNormal(t(np.zeros(2)), scale_tril=t(np.array([[1.0, 1.0], [0.0, 1.0]])))


# ----------------------------------------------------------------------------- MixtureSameFamily

@pytest.mark.parametrize("event", ["scalar", "vector"])
def test_mixture_same_family_matches_torch(event):
    logits = rng.standard_normal((3, 4))
    mu = rng.standard_normal((3, 4, 2) if event == "vector" else (3, 4))
    sigma = rng.random(mu.shape) + 0.5
    ours = [ts.tensor(a, requires_grad=True) for a in (logits, mu, sigma)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (logits, mu, sigma)]

    def build(M, lg, m, s):
        comp = M.Normal(m, s) if event == "scalar" else M.Independent(M.Normal(m, s), 1)
        return M.MixtureSameFamily(M.Categorical(logits=lg), comp)

    d, dt = build(D, *ours), build(TD, *theirs)
    assert d.batch_shape == dt.batch_shape == (3,) and d.event_shape == dt.event_shape
    value = rng.standard_normal((5, 3) + tuple(d.event_shape))
    out = d.log_prob(ts.tensor(value)).sum() + d.mean.sum() + d.variance.sum()
    out_t = dt.log_prob(torch.tensor(value)).sum() + dt.mean.sum() + dt.variance.sum()
    compare_with_gradients(out, out_t, ours, theirs)
    if event == "scalar":
        np.testing.assert_allclose(d.cdf(ts.tensor(value)).detach().numpy(), dt.cdf(torch.tensor(value)).detach().numpy(),
                                   rtol=1e-10)
    ts.manual_seed(2)
    draws = d.sample((20000,)).numpy()
    assert draws.shape == (20000, 3) + tuple(d.event_shape)
    np.testing.assert_allclose(draws.mean(0), d.mean.detach().numpy(), atol=0.06)


def test_mixture_same_family_shape_errors_match_torch():
    for M, t in ((D, ts.tensor), (TD, torch.tensor)):
        with pytest.raises(ValueError, match="does not equal `component_distribution.batch_shape"):
            M.MixtureSameFamily(M.Categorical(logits=t(np.zeros(3))), M.Normal(t(np.zeros(4)), t(np.ones(4))))
        with pytest.raises(ValueError, match="instance of torch.distributions.Categorical"):
            M.MixtureSameFamily(M.Normal(t(np.zeros(4)), t(np.ones(4))), M.Normal(t(np.zeros(4)), t(np.ones(4))))


# ----------------------------------------------------------------------------- transforms

def test_tanh_squashed_gaussian_policy_matches_torch():
    mu, log_std = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)) * 0.3
    ours = [ts.tensor(mu, requires_grad=True), ts.tensor(log_std, requires_grad=True)]
    theirs = [torch.tensor(mu, requires_grad=True), torch.tensor(log_std, requires_grad=True)]
    ts.manual_seed(4)
    torch.manual_seed(4)
    d = D.TransformedDistribution(D.Normal(ours[0], ours[1].exp()), [T.TanhTransform(cache_size=1)])
    dt = TD.TransformedDistribution(TD.Normal(theirs[0], theirs[1].exp()), [TT.TanhTransform(cache_size=1)])
    a, at = d.rsample(), dt.rsample()
    out = a.sum(-1) + d.log_prob(a).sum(-1)
    out_t = at.sum(-1) + dt.log_prob(at).sum(-1)
    compare_with_gradients(out, out_t, ours, theirs)


@pytest.mark.parametrize("build", [
    lambda M, X: [X.ExpTransform()],
    lambda M, X: [X.AffineTransform(1.5, -2.0), X.SigmoidTransform()],
    lambda M, X: [X.PowerTransform(2.0), X.AffineTransform(0.5, 3.0)],
    lambda M, X: [X.ExpTransform().inv, X.AffineTransform(0.0, 2.0)],
])
def test_transformed_distribution_scores_match_torch(build):
    low, high = 0.5, 2.0
    v = rng.random((4,)) * 1.2 + 0.6
    ours = M_ours = D.TransformedDistribution(D.Uniform(ts.tensor(np.full(4, low)), ts.tensor(np.full(4, high))),
                                              build(D, T))
    theirs = TD.TransformedDistribution(TD.Uniform(torch.tensor(np.full(4, low)), torch.tensor(np.full(4, high))),
                                        build(TD, TT), validate_args=False)
    M_ours._validate_args = False
    y = ours.rsample((3,))
    assert tuple(y.shape) == (3, 4) and ours.batch_shape == theirs.batch_shape
    yt = torch.tensor(y.numpy())
    np.testing.assert_allclose(ours.log_prob(y).numpy(), theirs.log_prob(yt).numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.cdf(y).numpy(), theirs.cdf(yt).numpy(), rtol=1e-9)
    assert repr(ours.support) == repr(theirs.support)
    del v


def test_transform_objects_behave_as_torchs():
    t, tt = T.ExpTransform(), TT.ExpTransform()
    assert t.inv.inv is t and t == T.ExpTransform() and t.inv == T.ExpTransform().inv
    assert repr(t.inv) == repr(tt.inv) and repr(t.domain) == repr(tt.domain) and repr(t.codomain) == repr(tt.codomain)
    c = T.ComposeTransform([T.AffineTransform(0.0, 2.0, event_dim=1), T.ExpTransform()])
    ct = TT.ComposeTransform([TT.AffineTransform(0.0, 2.0, event_dim=1), TT.ExpTransform()])
    x = rng.standard_normal((3, 2))
    np.testing.assert_allclose(c(ts.tensor(x)).numpy(), ct(torch.tensor(x)).numpy())
    np.testing.assert_allclose(c.log_abs_det_jacobian(ts.tensor(x), c(ts.tensor(x))).numpy(),
                               ct.log_abs_det_jacobian(torch.tensor(x), ct(torch.tensor(x))).numpy())
    assert c.domain.event_dim == ct.domain.event_dim == 1
    np.testing.assert_allclose(c.inv(c(ts.tensor(x))).numpy(), x, rtol=1e-12)
    s = T.SoftmaxTransform()
    np.testing.assert_allclose(s(ts.tensor(x)).numpy(), TT.SoftmaxTransform()(torch.tensor(x)).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


# ----------------------------------------------------------------------------- KL

KL_PAIRS = ["Gamma", "Beta", "Dirichlet", "Exponential", "Laplace", "Gumbel", "Poisson", "LogNormal"]


@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_between_two_of_a_family_matches_torch(name):
    p, pt, ours, theirs, _ = _both(name)
    arrays, make, _ = CASES[name]
    q_arrays = [a * 1.3 + 0.1 if a.min() > 0 else a + 0.4 for a in arrays]
    q, qt = make(D, *[ts.tensor(a) for a in q_arrays]), make(TD, *[torch.tensor(a) for a in q_arrays])
    compare_with_gradients(D.kl_divergence(p, q), TD.kl_divergence(pt, qt), ours, theirs)


def test_kl_of_mixed_pairs_and_multivariate_normals_match_torch():
    loc, scale = rng.standard_normal(4), rng.random(4) + 0.5
    for p, q in (("Normal", "Laplace"), ("Laplace", "Normal")):
        ours = getattr(D, p)(ts.tensor(loc), ts.tensor(scale)), getattr(D, q)(ts.tensor(loc * 0.5), ts.tensor(scale + 1))
        theirs = (getattr(TD, p)(torch.tensor(loc), torch.tensor(scale)),
                  getattr(TD, q)(torch.tensor(loc * 0.5), torch.tensor(scale + 1)))
        np.testing.assert_allclose(D.kl_divergence(*ours).numpy(), TD.kl_divergence(*theirs).numpy(), rtol=1e-10)
    l1, l2 = np.linalg.cholesky(_spd(3, (2,))), np.linalg.cholesky(_spd(3))
    m1, m2 = rng.standard_normal((2, 3)), rng.standard_normal(3)
    ours = D.kl_divergence(D.MultivariateNormal(ts.tensor(m1), scale_tril=ts.tensor(l1)),
                           D.MultivariateNormal(ts.tensor(m2), scale_tril=ts.tensor(l2)))
    theirs = TD.kl_divergence(TD.MultivariateNormal(torch.tensor(m1), scale_tril=torch.tensor(l1)),
                              TD.MultivariateNormal(torch.tensor(m2), scale_tril=torch.tensor(l2)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    assert math.isfinite(float(ours.sum()))


def test_validation_errors_match_torchs_kind():
    for M, t in ((D, ts.tensor), (TD, torch.tensor)):
        with pytest.raises(ValueError, match="concentration"):
            M.Gamma(t([-1.0]), t([1.0]))
        with pytest.raises(ValueError, match="rate"):
            M.Poisson(t([-1.0]))
        with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
            M.NegativeBinomial(t([2.0]))
        with pytest.raises(ValueError, match="support"):
            M.Beta(t([2.0]), t([2.0])).log_prob(t([1.5]))
        with pytest.raises(ValueError, match="`concentration` parameter must be at least one-dimensional"):
            M.Dirichlet(t(1.0))


def test_module_paths_are_torchs():
    import importlib
    for module, name in (("gamma", "Gamma"), ("chi2", "Chi2"), ("studentT", "StudentT"), ("beta", "Beta"),
                         ("dirichlet", "Dirichlet"), ("exponential", "Exponential"), ("laplace", "Laplace"),
                         ("log_normal", "LogNormal"), ("gumbel", "Gumbel"), ("poisson", "Poisson"),
                         ("negative_binomial", "NegativeBinomial"), ("binomial", "Binomial"),
                         ("geometric", "Geometric"), ("multivariate_normal", "MultivariateNormal"),
                         ("lowrank_multivariate_normal", "LowRankMultivariateNormal"),
                         ("mixture_same_family", "MixtureSameFamily"), ("relaxed_categorical", "RelaxedOneHotCategorical"),
                         ("relaxed_bernoulli", "RelaxedBernoulli"), ("transformed_distribution", "TransformedDistribution"),
                         ("transforms", "TanhTransform")):
        ours = getattr(importlib.import_module(f"tinygrad_seq.distributions.{module}"), name)
        assert hasattr(importlib.import_module(f"torch.distributions.{module}"), name)
        assert ours is getattr(D, name, ours)


def test_draws_stay_inside_the_support_as_torchs():
    # a Beta / Dirichlet share that rounds to 1, or a Gamma draw that underflows after the rate,
    # would score inf: torch's samplers keep them inside
    ts.manual_seed(0)
    for conc in (0.01, 0.1):
        x = D.Beta(ts.tensor([conc] * 2000), ts.tensor([conc] * 2000)).rsample()
        assert (x.numpy() < 1).all() and (x.numpy() > 0).all()
        assert np.isfinite(D.Beta(ts.tensor(conc), ts.tensor(conc)).log_prob(x).numpy()).all()
    g = D.Gamma(ts.tensor([0.01] * 1000), ts.tensor([1e10] * 1000))
    draws = g.rsample()
    assert draws.numpy().min() >= np.finfo(np.float32).tiny and np.isfinite(g.log_prob(draws).numpy()).all()


def test_gumbel_of_0d_tensors_draws_in_their_dtype_as_torch():
    ts.manual_seed(4)
    torch.manual_seed(4)
    ours = D.Gumbel(ts.tensor(0.5, dtype=ts.float64), ts.tensor(2.0, dtype=ts.float64)).sample((3,))
    theirs = TD.Gumbel(torch.tensor(0.5, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64)).sample((3,))
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_gamma_scores_in_the_rates_dtype_and_refuses_float16_draws():
    for M, L in ((D, ts), (TD, torch)):
        g = M.Gamma(L.tensor([2.0]), L.tensor([1.0]))
        assert str(g.log_prob(L.tensor([1.5], dtype=L.float64)).dtype).replace("torch.", "") == "float32"
        with pytest.raises(NotImplementedError, match="gamma_cpu"):
            M.Gamma(L.tensor([2.0], dtype=L.float16), L.tensor([1.0], dtype=L.float16)).sample()


def test_transform_sign_and_shapes_as_torchs():
    for X in (T, TT):
        with pytest.raises(NotImplementedError):
            X.SoftmaxTransform().sign
        with pytest.raises(ValueError, match="Too few dimensions on input"):
            X.SoftmaxTransform().forward_shape(())
        c = X.ComposeTransform([X.ExpTransform(), X.AffineTransform(1.0, 2.0)])
        assert c.inv.inv is c and c.sign == 1
