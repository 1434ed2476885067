"""ts.distributions beyond Categorical against torch.distributions: Normal, Bernoulli, Uniform,
OneHotCategorical, Independent, kl_divergence / register_kl, constraints and the Distribution
base (shapes, expand, validation errors, import paths). Values and gradients are compared with
torch in float64; samples come from ts's generator, so they are checked by shape, dtype and
moments, and rsample's gradients against torch's formula on the same noise."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.distributions as D
from tinygrad_seq.distributions import (Bernoulli, Categorical, Distribution, Independent, Normal,
                                        OneHotCategorical, OneHotCategoricalStraightThrough, Uniform,
                                        constraints, kl_divergence, register_kl)

TD = torch.distributions
rng = np.random.default_rng(0)


def _leaves(*arrays):
    """The same float64 arrays as ts and torch leaves that require grad."""
    return ([ts.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def _backward_and_compare(out, out_t, leaves, leaves_t):
    w = rng.standard_normal(tuple(out.shape))
    (out * ts.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for a, b in zip(leaves, leaves_t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- Normal

@pytest.mark.parametrize("method", ["log_prob", "cdf", "icdf", "entropy"])
def test_normal_scores_match_torch_with_gradients(method):
    loc, scale = rng.standard_normal((3, 1)), rng.random(4) + 0.5   # broadcast to (3, 4)
    value = rng.random((2, 3, 4)) if method == "icdf" else rng.standard_normal((2, 3, 4))
    (l, s, v), (lt, st, vt) = _leaves(loc, scale, value)
    d, dt = Normal(l, s), TD.Normal(lt, st)
    assert d.batch_shape == dt.batch_shape == (3, 4) and d.event_shape == ()
    out, out_t = (d.entropy(), dt.entropy()) if method == "entropy" else (getattr(d, method)(v), getattr(dt, method)(vt))
    assert out.shape == tuple(out_t.shape)
    _close(out, out_t)
    if method == "entropy":   # no gradient into loc (None in both)
        _backward_and_compare(out, out_t, (s,), (st,))
        assert l.grad is None and lt.grad is None
    else:
        _backward_and_compare(out, out_t, (l, s, v), (lt, st, vt))
    assert ts.gradcheck(lambda a, b: getattr(Normal(a, b), method)(*(() if method == "entropy" else (v.detach(),))),
                        (ts.tensor(loc, requires_grad=True), ts.tensor(scale, requires_grad=True)))


def test_normal_rsample_is_reparameterised_with_torchs_gradients():
    (l, s), (lt, st) = _leaves(rng.standard_normal(3), rng.random(3) + 0.5)
    d = Normal(l, s)
    assert d.has_rsample and Normal.has_rsample
    z = d.rsample((5, 2))
    assert z.shape == (5, 2, 3) and z.dtype == np.float64 and z.requires_grad
    eps = ((z - l) / s).detach().numpy()   # the noise drawn; torch's formula on the same noise
    zt = lt + torch.tensor(eps) * st
    _close(z, zt)
    _backward_and_compare(z, zt, (l, s), (lt, st))
    assert not d.sample((4,)).requires_grad


def test_normal_moments_shapes_dtypes_and_reproducible_draws():
    d = Normal(ts.tensor([1.0, -2.0]), ts.tensor([0.5, 3.0]))
    draws = d.sample((40000,))
    assert draws.shape == (40000, 2) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.numpy().mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(draws.numpy().std(0), [0.5, 3.0], rtol=0.03)
    scalar = Normal(0.0, 1.0)
    assert scalar.batch_shape == () and scalar.sample().shape == () and scalar.sample().dtype == np.float32
    assert Normal(ts.zeros(2, dtype=ts.float64), 1.0).sample().dtype == np.float64
    ts.manual_seed(5)
    first = d.sample((3,)).numpy()
    ts.manual_seed(5)
    assert (d.sample((3,)).numpy() == first).all()
    dt = TD.Normal(torch.tensor([1.0, -2.0]), torch.tensor([0.5, 3.0]))
    for name in ("mean", "mode", "stddev", "variance"):
        _close(getattr(d, name), getattr(dt, name))
    _close(d.perplexity(), dt.perplexity(), rtol=1e-6)
    e, et = d.expand((4, 2)), dt.expand((4, 2))
    assert e.batch_shape == et.batch_shape and e.sample().shape == (4, 2) and type(e) is Normal
    assert repr(d) == repr(dt) and repr(scalar) == repr(TD.Normal(0.0, 1.0))


# ----------------------------------------------------------------------------- Bernoulli

@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_bernoulli_log_prob_entropy_match_torch_with_gradients(kind):
    param = rng.random((3, 4)) if kind == "probs" else rng.standard_normal((3, 4)) * 3
    if kind == "probs":
        param[0, :2] = [0.0, 1.0]   # clamped as torch's probs_to_logits
    (p,), (pt,) = _leaves(param)
    d, dt = Bernoulli(**{kind: p}), TD.Bernoulli(**{kind: pt})
    value = (rng.random((2, 3, 4)) < 0.5).astype(np.float64)
    out = d.log_prob(ts.tensor(value)).sum(0) + d.entropy()
    out_t = dt.log_prob(torch.tensor(value)).sum(0) + dt.entropy()
    _close(out, out_t)
    _close(d.probs, dt.probs)
    _close(d.logits, dt.logits)
    _backward_and_compare(out, out_t, (p,), (pt,))
    for name in ("mean", "variance", "stddev"):
        _close(getattr(d, name), getattr(dt, name))
    assert d.param_shape == dt.param_shape and repr(d) == repr(dt)


def test_bernoulli_samples_mode_and_support():
    probs = np.array([0.1, 0.5, 0.9, 0.0, 1.0])
    d = Bernoulli(probs=ts.tensor(probs))
    draws = d.sample((20000,))
    assert draws.shape == (20000, 5) and draws.dtype == np.float64   # the parameter's dtype
    assert Bernoulli(probs=ts.tensor([0.3])).sample().dtype == np.float32 and not draws.requires_grad
    np.testing.assert_allclose(draws.numpy().mean(0), probs, atol=0.015)
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0}
    dt = TD.Bernoulli(probs=torch.tensor(probs))
    np.testing.assert_array_equal(d.mode.numpy(), dt.mode.numpy())   # nan at exactly 0.5
    _close(d.enumerate_support(), dt.enumerate_support())
    assert d.enumerate_support(expand=False).shape == tuple(dt.enumerate_support(expand=False).shape)
    assert Bernoulli(logits=0.3).batch_shape == () and Bernoulli(0.3).sample((2,)).shape == (2,)
    e = Bernoulli(logits=ts.zeros(3)).expand((2, 3))
    assert e.batch_shape == (2, 3) and "probs" not in e.__dict__ and e.sample().shape == (2, 3)


# ----------------------------------------------------------------------------- Uniform

def test_uniform_matches_torch_with_gradients_and_draws_in_range():
    low, high = rng.standard_normal(3), rng.standard_normal(3) + 3
    (lo, hi), (lot, hit) = _leaves(low, high)
    d, dt = Uniform(lo, hi), TD.Uniform(lot, hit)
    value = ts.tensor(low + 0.3 * (high - low))
    out = d.log_prob(value) + d.cdf(value) + d.entropy() + d.icdf(ts.tensor([0.2, 0.5, 0.7], dtype=ts.float64)) + d.mean + d.stddev
    out_t = (dt.log_prob(torch.tensor(value.numpy())) + dt.cdf(torch.tensor(value.numpy())) + dt.entropy()
             + dt.icdf(torch.tensor([0.2, 0.5, 0.7], dtype=torch.float64)) + dt.mean + dt.stddev)
    _close(out, out_t)
    _backward_and_compare(out, out_t, (lo, hi), (lot, hit))
    outside = Uniform(lo, hi, validate_args=False).log_prob(ts.tensor(high + 1))
    assert np.isneginf(outside.detach().numpy()).all() and np.isnan(d.mode.detach().numpy()).all()
    z = d.rsample((20000,))
    assert z.shape == (20000, 3) and z.requires_grad
    zn = z.detach().numpy()
    assert (zn >= low).all() and (zn < high).all()
    np.testing.assert_allclose(zn.mean(0), (low + high) / 2, atol=0.05)
    assert repr(d.support) == repr(dt.support) and repr(Uniform.support) == repr(TD.Uniform.support)
    assert Uniform(0.0, 1.0).sample().dtype == np.float32 and Uniform(0.0, 1.0).batch_shape == ()


# ----------------------------------------------------------------------------- OneHotCategorical

@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_one_hot_categorical_matches_torch(kind):
    param = rng.random((2, 4)) + (0.1 if kind == "probs" else -0.5)
    (p,), (pt,) = _leaves(param)
    d, dt = OneHotCategorical(**{kind: p}), TD.OneHotCategorical(**{kind: pt})
    assert d.batch_shape == dt.batch_shape and d.event_shape == dt.event_shape == (4,)
    value = np.eye(4)[rng.integers(0, 4, (3, 2))]
    out = d.log_prob(ts.tensor(value)).sum(0) + d.entropy()
    out_t = dt.log_prob(torch.tensor(value)).sum(0) + dt.entropy()
    _close(out, out_t)
    _backward_and_compare(out, out_t, (p,), (pt,))
    for name in ("mean", "mode", "variance", "probs", "logits"):
        _close(getattr(d, name), getattr(dt, name))
    _close(d.enumerate_support(), dt.enumerate_support())
    assert d.expand((5, 2)).batch_shape == dt.expand((5, 2)).batch_shape and repr(d) == repr(dt)


def test_one_hot_samples_and_straight_through_gradient():
    probs = np.array([0.2, 0.0, 0.5, 0.3])
    draws = OneHotCategorical(probs=ts.tensor(probs)).sample((20000,))
    assert draws.shape == (20000, 4) and draws.dtype == np.float64
    assert OneHotCategorical(logits=ts.zeros(3)).sample().dtype == np.float32
    assert (draws.numpy().sum(-1) == 1).all()
    np.testing.assert_allclose(draws.numpy().mean(0), probs, atol=0.015)
    (p,), (pt,) = _leaves(np.array([0.2, 0.5, 0.3]))
    st = OneHotCategoricalStraightThrough(probs=p)
    z = st.rsample((2,))
    assert st.has_rsample and z.shape == (2, 3) and (z.detach().numpy().sum(-1) == 1).all()
    zt = torch.tensor(z.detach().numpy()) + (TD.OneHotCategorical(probs=pt).probs - pt.detach() / pt.detach().sum())
    _backward_and_compare(z, zt, (p,), (pt,))


# ----------------------------------------------------------------------------- Independent

def test_independent_sums_the_reinterpreted_dimensions():
    (l, s), (lt, st) = _leaves(rng.standard_normal((2, 3, 4)), rng.random((2, 3, 4)) + 0.5)
    d, dt = Independent(Normal(l, s), 2), TD.Independent(TD.Normal(lt, st), 2)
    assert d.batch_shape == dt.batch_shape == (2,) and d.event_shape == dt.event_shape == (3, 4)
    value = rng.standard_normal((5, 2, 3, 4))
    out = d.log_prob(ts.tensor(value)).sum(0) + d.entropy()
    out_t = dt.log_prob(torch.tensor(value)).sum(0) + dt.entropy()
    assert out.shape == (2,)
    _close(out, out_t)
    _backward_and_compare(out, out_t, (l, s), (lt, st))
    assert d.has_rsample and d.rsample((7,)).shape == (7, 2, 3, 4) and repr(d.support) == repr(dt.support)
    e, et = d.expand((6, 2)), dt.expand((6, 2))
    assert e.batch_shape == et.batch_shape and e.event_shape == et.event_shape and e.sample().shape == (6, 2, 3, 4)
    assert repr(d) == repr(dt) and not d.has_enumerate_support
    with pytest.raises(ValueError, match=r"reinterpreted_batch_ndims <= len\(base_distribution.batch_shape\), actual 4 vs 3"):
        Independent(Normal(l, s), 4)
    with pytest.raises(NotImplementedError, match="cartesian product"):
        Independent(Bernoulli(probs=ts.ones(2) / 2), 1).enumerate_support()


# ----------------------------------------------------------------------------- kl_divergence

def _kl_pairs():
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    sa, sb = rng.random((3, 4)) + 0.3, rng.random((3, 4)) + 0.3
    pa, pb = rng.random((3, 4)), rng.random((3, 4))
    pa[0, 0], pb[0, 1], pa[1, 0], pb[1, 1] = 0.0, 0.0, 1.0, 1.0   # the inf / 0 edges
    ca, cb = rng.random((3, 5)), rng.random((3, 5))
    ca[0, 0], cb[1, 1] = 0.0, 0.0
    lo = rng.standard_normal(4)
    hi = lo + rng.random(4) + 0.5
    return [
        ("Normal", (a, sa, b, sb), lambda m, x, y, z, w: m.Normal(x, y), lambda m, x, y, z, w: m.Normal(z, w)),
        ("Bernoulli", (pa, pb), lambda m, x, y: m.Bernoulli(probs=x), lambda m, x, y: m.Bernoulli(probs=y)),
        ("BernoulliLogits", (a, b), lambda m, x, y: m.Bernoulli(logits=x), lambda m, x, y: m.Bernoulli(logits=y)),
        ("Categorical", (ca, cb), lambda m, x, y: m.Categorical(probs=x), lambda m, x, y: m.Categorical(probs=y)),
        ("OneHot", (ca, cb), lambda m, x, y: m.OneHotCategorical(logits=x), lambda m, x, y: m.OneHotCategorical(probs=y)),
        ("Uniform", (lo, hi, lo - 0.5 * np.arange(4) + 0.5, hi + 1),
         lambda m, w, x, y, z: m.Uniform(w, x), lambda m, w, x, y, z: m.Uniform(y, z)),
        ("UniformNormal", (lo, hi, a[0], sa[0]), lambda m, w, x, y, z: m.Uniform(w, x), lambda m, w, x, y, z: m.Normal(y, z)),
        ("NormalUniform", (a[0], sa[0], lo, hi), lambda m, w, x, y, z: m.Normal(w, x), lambda m, w, x, y, z: m.Uniform(y, z)),
        ("Independent", (a, sa, b, sb), lambda m, x, y, z, w: m.Independent(m.Normal(x, y), 1),
         lambda m, x, y, z, w: m.Independent(m.Normal(z, w), 1)),
    ]


@pytest.mark.parametrize("name,arrays,make_p,make_q", _kl_pairs(), ids=[p[0] for p in _kl_pairs()])
def test_kl_divergence_matches_torch_with_gradients(name, arrays, make_p, make_q):
    leaves, leaves_t = _leaves(*arrays)
    kl = kl_divergence(make_p(D, *leaves), make_q(D, *leaves))
    kl_t = TD.kl_divergence(make_p(TD, *leaves_t), make_q(TD, *leaves_t))
    assert kl.shape == tuple(kl_t.shape)
    np.testing.assert_allclose(kl.detach().numpy(), kl_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    finite = np.isfinite(kl_t.detach().numpy())
    if finite.any() and kl_t.requires_grad:
        w = rng.standard_normal(tuple(kl.shape)) * finite
        (kl.where(ts.tensor(finite), 0.0) * ts.tensor(w)).sum().backward()
        (kl_t.where(torch.tensor(finite), 0.0) * torch.tensor(w)).sum().backward()
        for x, y in zip(leaves, leaves_t):
            gx = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
            gy = np.zeros(tuple(y.shape)) if y.grad is None else y.grad.numpy()
            np.testing.assert_allclose(gx, gy, rtol=1e-9, atol=1e-12)


def test_kl_registry_dispatch_and_errors():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Bernoulli and q type Laplace"):
        kl_divergence(Bernoulli(probs=ts.tensor([0.5])), D.Laplace(ts.zeros(1), ts.ones(1)))
    # two exponential families of different kinds: torch's ExponentialFamily fallback refuses
    with pytest.raises(NotImplementedError, match="between different exponential families"):
        kl_divergence(Bernoulli(probs=ts.tensor([0.5])), Normal(ts.zeros(1), ts.ones(1)))
    with pytest.raises(NotImplementedError):
        kl_divergence(Independent(Normal(ts.zeros(2, 2), ts.ones(2, 2)), 1), Independent(Normal(ts.zeros(2, 2), ts.ones(2, 2)), 2))
    with pytest.raises(TypeError, match="Distribution subclass"):
        register_kl(int, Normal)

    class Shifted(Normal):   # a subclass takes its base pair's KL until it registers its own
        pass
    p, q = Shifted(ts.zeros(2), ts.ones(2)), Normal(ts.ones(2), ts.ones(2))
    np.testing.assert_allclose(kl_divergence(p, q).numpy(), [0.5, 0.5], rtol=1e-6)
    register_kl(Shifted, Normal)(lambda p, q: ts.zeros(p.batch_shape))
    assert (kl_divergence(p, q).numpy() == 0).all()
    with pytest.raises(NotImplementedError, match="custom .expand"):
        type("Custom", (Normal,), {"__init__": lambda self, a: Normal.__init__(self, a, 1.0)})(ts.zeros(2)).expand((3, 2))


# ----------------------------------------------------------------------------- validation, constraints

def _first_line(fn):
    try:
        fn()
    except ValueError as e:
        return str(e).splitlines()[0]
    raise AssertionError("no ValueError")


@pytest.mark.parametrize("make", [
    lambda m, t: m.Normal(t.zeros(3), -t.ones(3)),
    lambda m, t: m.Normal(t.tensor([0.0, float("nan")]), 1.0),
    lambda m, t: m.Bernoulli(probs=t.tensor([0.2, 1.5])),
    lambda m, t: m.Uniform(t.ones(2), t.zeros(2)),
    lambda m, t: m.Normal(t.zeros(3), t.ones(3)).log_prob(t.zeros(2)),
    lambda m, t: m.Normal(t.zeros(3), t.ones(3)).log_prob(0.5),
    lambda m, t: m.Bernoulli(probs=t.ones(2) / 2).log_prob(t.tensor([0.0, 0.5])),
    lambda m, t: m.Uniform(0.0, 1.0).log_prob(t.tensor(1.5)),
    lambda m, t: m.OneHotCategorical(logits=t.zeros(3)).log_prob(t.tensor([1.0, 1.0, 0.0])),
    lambda m, t: m.OneHotCategorical(logits=t.zeros(3)).log_prob(t.tensor([1.0, 0.0])),
    lambda m, t: m.Bernoulli(),
], ids=["scale", "loc-nan", "probs", "uniform", "shape", "not-tensor", "support", "uniform-support",
        "one-hot", "event-shape", "neither"])
def test_validation_raises_torchs_value_errors(make):
    assert _first_line(lambda: make(D, ts)) == _first_line(lambda: make(TD, torch))


def test_validate_args_switches():
    d = Normal(ts.zeros(2), -ts.ones(2), validate_args=False)   # no check, as torch's
    assert not np.isfinite(d.log_prob(ts.ones(2)).numpy()).any()
    try:
        Distribution.set_default_validate_args(False)
        assert Uniform(ts.ones(1), ts.zeros(1)).batch_shape == (1,)
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        Uniform(ts.ones(1), ts.zeros(1))
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")
    with pytest.raises(ValueError, match="must all be instances of Number"):
        Normal([0.0, 1.0], 1.0)
    with pytest.warns(FutureWarning, match="sample_n"):
        assert Normal(ts.zeros(2), ts.ones(2)).sample_n(3).shape == (3, 2)


def test_constraints_check_like_torchs():
    values = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, float("nan")], [0.2, 0.3, 0.5]])
    cases = [("real", ()), ("positive", ()), ("nonnegative", ()), ("unit_interval", ()), ("boolean", ()),
             ("simplex", ()), ("real_vector", ()), ("one_hot", ()), ("nonnegative_integer", ()),
             ("greater_than", (0.2,)), ("greater_than_eq", (0.2,)), ("less_than", (0.5,)),
             ("interval", (0.0, 1.0)), ("half_open_interval", (0.0, 1.0)), ("integer_interval", (0, 1))]
    for name, args in cases:
        ours, theirs = getattr(constraints, name), getattr(TD.constraints, name)
        if args:
            ours, theirs = ours(*args), theirs(*args)
        np.testing.assert_array_equal(ours.check(ts.tensor(values)).numpy(), theirs.check(torch.tensor(values)).numpy())
        assert repr(ours) == repr(theirs) and ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete
    dep = constraints.independent(constraints.positive, 1)
    assert dep.event_dim == 1 and constraints.is_dependent(constraints.dependent)
    with pytest.raises(ValueError, match="dependent"):
        constraints.dependent.check(ts.zeros(1))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_constraint'"):
        constraints.no_such_constraint


def test_torch_import_paths_and_missing_names():
    from tinygrad_seq.distributions.bernoulli import Bernoulli as B
    from tinygrad_seq.distributions.distribution import Distribution as Base
    from tinygrad_seq.distributions.kl import kl_divergence as kl
    from tinygrad_seq.distributions.normal import Normal as N
    from tinygrad_seq.distributions.utils import logits_to_probs, probs_to_logits
    assert N is Normal and kl is kl_divergence and B is Bernoulli and Base is Distribution
    assert all(issubclass(c, Distribution) for c in (Normal, Bernoulli, Uniform, Categorical, OneHotCategorical, Independent))
    p = ts.tensor([0.25, 0.5])
    _close(probs_to_logits(p, is_binary=True), TD.utils.probs_to_logits(torch.tensor([0.25, 0.5]), is_binary=True))
    _close(logits_to_probs(ts.zeros(3)), TD.utils.logits_to_probs(torch.zeros(3)))
    for name in ("NoSuchDistribution", "Frechet"):   # names torch.distributions does not have either
        with pytest.raises(AttributeError, match=f"has no attribute '{name}'"):
            getattr(ts.distributions, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Categorical(logits=ts.zeros(3)).support.upper_bound == 2


def test_float32_parameters_keep_float32_everywhere():
    x = rng.standard_normal((2, 3)).astype(np.float32)
    s = (rng.random((2, 3)) + 0.5).astype(np.float32)
    p = rng.random((2, 3)).astype(np.float32)
    pairs = [
        (lambda m, t: m.Normal(t.tensor(x), t.tensor(s)), lambda d, t: d.log_prob(t.tensor(x * 0.5))),
        (lambda m, t: m.Normal(t.tensor(x), t.tensor(s)), lambda d, t: d.cdf(t.tensor(x * 0.5)) + d.entropy()),
        (lambda m, t: m.Normal(t.tensor(x), t.tensor(s)), lambda d, t: d.icdf(t.tensor(p))),
        (lambda m, t: m.Bernoulli(probs=t.tensor(p)), lambda d, t: d.log_prob(t.tensor((p > 0.5).astype(np.float32))) + d.entropy()),
        (lambda m, t: m.Bernoulli(logits=t.tensor(x)), lambda d, t: d.probs),
        (lambda m, t: m.Uniform(t.tensor(x), t.tensor(x + s)), lambda d, t: d.log_prob(t.tensor(x + 0.1 * s)) + d.entropy()),
        (lambda m, t: m.Independent(m.Normal(t.tensor(x), t.tensor(s)), 1), lambda d, t: d.log_prob(t.tensor(x))),
        (lambda m, t: m.Normal(t.tensor(x), t.tensor(s)), lambda d, t: t.distributions.kl_divergence(d, d.expand((2, 3)))),
        (lambda m, t: m.Bernoulli(probs=t.tensor(p)), lambda d, t: t.distributions.kl_divergence(d, type(d)(logits=t.tensor(x)))),
    ]
    for make, score in pairs:
        d, dt = make(D, ts), make(TD, torch)
        ours, theirs = score(d, ts), score(dt, torch)
        assert ours.dtype == np.float32 and theirs.dtype == torch.float32
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6, atol=2e-6)
        draw = d.sample((2,))
        assert draw.dtype == np.float32 and draw.shape == tuple(dt.sample((2,)).shape)
        if d.has_rsample:
            assert d.rsample().dtype == np.float32 and d.rsample().shape == tuple(dt.rsample().shape)


def test_vae_and_reinforce_losses_match_torch():
    """A VAE step (rsample, Independent log_prob, KL to a Normal(0., 1.) prior given as numbers)
    and a REINFORCE step over binary actions, with torch's gradients on the same noise / actions."""
    (mu, log_var, logits), (mu_t, log_var_t, logits_t) = _leaves(rng.standard_normal((4, 3)),
                                                                  rng.standard_normal((4, 3)) * 0.3,
                                                                  rng.standard_normal((4, 5)))
    q = Independent(Normal(mu, (0.5 * log_var).exp()), 1)
    z = q.rsample()
    eps = ((z - mu) / (0.5 * log_var).exp()).detach().numpy()
    q_t = TD.Independent(TD.Normal(mu_t, (0.5 * log_var_t).exp()), 1)
    z_t = mu_t + torch.tensor(eps) * (0.5 * log_var_t).exp()
    loss = (kl_divergence(q.base_dist, Normal(0.0, 1.0)).sum(-1) - q.log_prob(z)).mean()
    loss_t = (TD.kl_divergence(q_t.base_dist, TD.Normal(0.0, 1.0)).sum(-1) - q_t.log_prob(z_t)).mean()
    policy, policy_t = Bernoulli(logits=logits), TD.Bernoulli(logits=logits_t)
    actions = policy.sample()
    reward = rng.standard_normal((4, 5))
    loss = loss - (policy.log_prob(actions) * ts.tensor(reward)).mean()
    loss_t = loss_t - (policy_t.log_prob(torch.tensor(actions.numpy())) * torch.tensor(reward)).mean()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    loss.backward()
    loss_t.backward()
    for a, b in ((mu, mu_t), (log_var, log_var_t), (logits, logits_t)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
