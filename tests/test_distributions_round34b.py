"""The rest of torch.distributions against torch: ExponentialFamily (the class tree, Bregman entropy
and KL), InverseGamma, GeneralizedPareto, LogisticNormal, the new transforms (Softplus,
StickBreaking, LowerCholesky, PositiveDefinite, Independent, Reshape, Cat, Stack,
CumulativeDistribution), the new constraints and the biject_to / transform_to registries: values,
gradients (float64), shapes, errors, and samples after the same seed."""

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.distributions as D

from distribution_checks import compare_with_gradients

TD = torch.distributions
C, TC = D.constraints, TD.constraints
rng = np.random.default_rng(342)


def _pair(array, grad=False, dtype=np.float64):
    array = np.asarray(array, dtype)
    return ts.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def _close(ours, theirs, rtol=1e-9, atol=1e-12):
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def _raises_same(make_ours, make_theirs):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as theirs:
        make_theirs()
    with pytest.raises(type(theirs.value)) as ours:
        make_ours()
    assert str(ours.value) == str(theirs.value)


def test_every_torch_name_is_here():
    assert [n for n in TD.__all__ if not hasattr(D, n)] == []
    assert [n for n in dir(TC) if not n.startswith("_") and n not in ("Any", "Callable", "torch")
            and not hasattr(C, n)] == []
    assert [n for n in TD.transforms.__all__ if not hasattr(D.transforms, n)] == []


# ---------------------------------------------------------------- constraints

def test_matrix_constraints_match_torch():
    a = rng.standard_normal((3, 4, 4))
    cases = [a, a @ np.swapaxes(a, -1, -2), np.tril(a), rng.standard_normal((2, 3, 4)),
             -(a @ np.swapaxes(a, -1, -2)), np.zeros((2, 3, 3))]
    for name in ("lower_triangular", "lower_cholesky", "square", "symmetric", "positive_semidefinite",
                 "positive_definite"):
        ours, theirs = getattr(C, name), getattr(TC, name)
        assert repr(ours) == repr(theirs) and ours.event_dim == theirs.event_dim == 2
        for value in cases:
            got, want = ours.check(ts.tensor(value)), theirs.check(torch.tensor(value))
            assert got.dtype == np.bool_ and tuple(got.shape) == tuple(want.shape)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert issubclass(type(C.positive_definite), type(C.symmetric)) and issubclass(type(C.symmetric), type(C.square))


def test_functor_constraints_match_torch():
    x = rng.standard_normal((3, 5))
    ours, theirs = C.cat([C.positive, C.real, C.unit_interval], 1, [2, 2, 1]), TC.cat([TC.positive, TC.real, TC.unit_interval], 1, [2, 2, 1])
    np.testing.assert_array_equal(ours.check(ts.tensor(x)).numpy(), theirs.check(torch.tensor(x)).numpy())
    assert (ours.event_dim, ours.is_discrete) == (theirs.event_dim, theirs.is_discrete)
    for dim in (0, 1, -1):
        y = rng.standard_normal((3, 3))
        ours = C.stack([C.positive, C.real, C.simplex if dim == 0 else C.boolean], dim)
        theirs = TC.stack([TC.positive, TC.real, TC.simplex if dim == 0 else TC.boolean], dim)
        assert (ours.event_dim, ours.is_discrete) == (theirs.event_dim, theirs.is_discrete)
        if dim:
            np.testing.assert_array_equal(ours.check(ts.tensor(y)).numpy(), theirs.check(torch.tensor(y)).numpy())
    _raises_same(lambda: C.cat([C.real], 3).check(ts.zeros(2)), lambda: TC.cat([TC.real], 3).check(torch.zeros(2)))
    _raises_same(lambda: C.stack([C.real], -3).check(ts.zeros(2, 2)),
                 lambda: TC.stack([TC.real], -3).check(torch.zeros(2, 2)))
    _raises_same(lambda: C.cat([C.real], 0, [1, 2]), lambda: TC.cat([TC.real], 0, [1, 2]))
    _raises_same(lambda: C.stack([1]), lambda: TC.stack([1]))
    counts = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    assert repr(C.multinomial(3)) == repr(TC.multinomial(3)) and C.multinomial(3).is_discrete
    np.testing.assert_array_equal(C.multinomial(3).check(ts.tensor(counts)).numpy(),
                                  TC.multinomial(3).check(torch.tensor(counts)).numpy())
    ours, theirs = C.MixtureSameFamilyConstraint(C.simplex), TC.MixtureSameFamilyConstraint(TC.simplex)
    assert repr(ours) == repr(theirs) and ours.event_dim == 1
    probs = np.array([[0.2, 0.8], [0.5, 0.6]])
    np.testing.assert_array_equal(ours.check(ts.tensor(probs)).numpy(), theirs.check(torch.tensor(probs)).numpy())
    _raises_same(lambda: C.MixtureSameFamilyConstraint(3), lambda: TC.MixtureSameFamilyConstraint(3))
    mix = D.MixtureSameFamily(D.Categorical(logits=ts.zeros(2)), D.Normal(ts.zeros(2), ts.ones(2)))
    assert isinstance(mix.support, C.MixtureSameFamilyConstraint)
    assert isinstance(D.Multinomial(3, ts.ones(2)).support, C.multinomial)


# ---------------------------------------------------------------- transforms

def _transform_pairs():
    pos = rng.uniform(0.5, 2.0, (2, 3))
    return [
        (D.transforms.SoftplusTransform(), TD.transforms.SoftplusTransform(), rng.standard_normal((2, 3)) * 10),
        (D.transforms.StickBreakingTransform(), TD.transforms.StickBreakingTransform(), rng.standard_normal((2, 3))),
        (D.transforms.IndependentTransform(D.transforms.ExpTransform(), 1),
         TD.transforms.IndependentTransform(TD.transforms.ExpTransform(), 1), rng.standard_normal((2, 3))),
        (D.transforms.ReshapeTransform((2, 3), (3, 2)), TD.transforms.ReshapeTransform((2, 3), (3, 2)),
         rng.standard_normal((4, 2, 3))),
        (D.transforms.CatTransform([D.transforms.ExpTransform(), D.transforms.identity_transform,
                                    D.transforms.SigmoidTransform()], -1, [1, 1, 1]),
         TD.transforms.CatTransform([TD.transforms.ExpTransform(), TD.transforms.identity_transform,
                                     TD.transforms.SigmoidTransform()], -1, [1, 1, 1]), rng.standard_normal((2, 3))),
        (D.transforms.CatTransform([D.transforms.ExpTransform(), D.transforms.IndependentTransform(
            D.transforms.SigmoidTransform(), 1)], 0, [1, 1]),
         TD.transforms.CatTransform([TD.transforms.ExpTransform(), TD.transforms.IndependentTransform(
             TD.transforms.SigmoidTransform(), 1)], 0, [1, 1]), rng.standard_normal((2, 3))),
        (D.transforms.CatTransform([D.transforms.IndependentTransform(D.transforms.ExpTransform(), 1),
                                    D.transforms.IndependentTransform(D.transforms.SigmoidTransform(), 1)], -1, [1, 2]),
         TD.transforms.CatTransform([TD.transforms.IndependentTransform(TD.transforms.ExpTransform(), 1),
                                     TD.transforms.IndependentTransform(TD.transforms.SigmoidTransform(), 1)], -1, [1, 2]),
         rng.standard_normal((2, 3))),
        (D.transforms.StackTransform([D.transforms.ExpTransform(), D.transforms.TanhTransform()], 0),
         TD.transforms.StackTransform([TD.transforms.ExpTransform(), TD.transforms.TanhTransform()], 0),
         rng.standard_normal((2, 3))),
        (D.transforms.CumulativeDistributionTransform(D.Normal(ts.tensor(0.5, dtype=ts.float64), 2.0)),
         TD.transforms.CumulativeDistributionTransform(TD.Normal(torch.tensor(0.5, dtype=torch.float64), 2.0)),
         rng.standard_normal((2, 3))),
        (D.transforms.PowerTransform(2.0), TD.transforms.PowerTransform(2.0), pos),   # unchanged: a reference
    ]


@pytest.mark.parametrize("index", range(10))
def test_transforms_match_torch(index):
    ours, theirs, x = _transform_pairs()[index]
    assert (ours.bijective, ours.event_dim) == (theirs.bijective, theirs.event_dim)
    assert repr(ours.domain) == repr(theirs.domain) and repr(ours.codomain) == repr(theirs.codomain)
    xs, xt = _pair(x, grad=True)
    y, yt = ours(xs), theirs(xt)
    compare_with_gradients(y, yt, [xs], [xt], rtol=1e-9)
    xs, xt = _pair(x, grad=True)
    y, yt = ours(xs), theirs(xt)
    ladj, ladj_t = ours.log_abs_det_jacobian(xs, y), theirs.log_abs_det_jacobian(xt, yt)
    if ladj_t.requires_grad:
        compare_with_gradients(ladj, ladj_t, [xs], [xt])
    else:   # ReshapeTransform's zeros
        assert not ladj.requires_grad
        _close(ladj, ladj_t)
    ys, yt = _pair(theirs(torch.tensor(x)).detach().numpy(), grad=True)
    compare_with_gradients(ours.inv(ys), theirs.inv(yt), [ys], [yt], rtol=1e-7)
    shape = tuple(x.shape)
    assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
    out = tuple(theirs.forward_shape(shape))
    assert tuple(ours.inverse_shape(out)) == tuple(theirs.inverse_shape(out))
    assert ours == ours and ours.inv.inv is ours
    try:
        sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign
    else:
        assert int(ours.sign) == int(sign)


def test_matrix_transforms_match_torch():
    x = rng.standard_normal((2, 3, 3))
    for name in ("LowerCholeskyTransform", "PositiveDefiniteTransform"):
        ours, theirs = getattr(D.transforms, name)(), getattr(TD.transforms, name)()
        assert repr(ours.codomain) == repr(theirs.codomain) and ours.bijective is theirs.bijective is False
        xs, xt = _pair(x, grad=True)
        compare_with_gradients(ours(xs), theirs(xt), [xs], [xt])
        ys, yt = _pair(theirs(torch.tensor(x)).numpy(), grad=True)
        compare_with_gradients(ours.inv(ys), theirs.inv(yt), [ys], [yt], rtol=1e-8)
        with pytest.raises(NotImplementedError):
            ours.log_abs_det_jacobian(xs, xs)
        assert ours == getattr(D.transforms, name)() and ours != D.transforms.ExpTransform()


def test_transform_equality_caching_and_errors():
    T = D.transforms
    assert T.SoftplusTransform() == T.SoftplusTransform() and T.StickBreakingTransform() == T.StickBreakingTransform()
    exp = T.ExpTransform()
    ind = T.IndependentTransform(exp, 2)
    assert ind != T.IndependentTransform(exp, 2) and repr(ind) == repr(TD.transforms.IndependentTransform(
        TD.transforms.ExpTransform(), 2))
    cached = T.CatTransform([exp, T.SoftplusTransform()], cache_size=1)
    assert all(t._cache_size == 1 for t in cached.transforms) and cached.with_cache(1) is cached
    x = ts.randn(2)
    y = cached(x)
    assert cached.inv(y) is x
    assert T.StackTransform([exp]).with_cache(1)._cache_size == 1
    assert T.ReshapeTransform((2,), (2, 1)).with_cache(1).out_shape == (2, 1)
    assert T.identity_transform is D.identity_transform and T.identity_transform.parts == []
    _raises_same(lambda: T.ReshapeTransform((2, 3), (5,)), lambda: TD.transforms.ReshapeTransform((2, 3), (5,)))
    _raises_same(lambda: T.ReshapeTransform((2, 3), (6,)).forward_shape((4, 3, 2)),
                 lambda: TD.transforms.ReshapeTransform((2, 3), (6,)).forward_shape((4, 3, 2)))
    _raises_same(lambda: T.ReshapeTransform((2, 3), (6,)).inverse_shape(()),
                 lambda: TD.transforms.ReshapeTransform((2, 3), (6,)).inverse_shape(()))
    _raises_same(lambda: T.CatTransform([exp], 0, [2])(ts.zeros(3)),
                 lambda: TD.transforms.CatTransform([TD.transforms.ExpTransform()], 0, [2])(torch.zeros(3)))
    _raises_same(lambda: T.CatTransform([exp], 2)(ts.zeros(3)),
                 lambda: TD.transforms.CatTransform([TD.transforms.ExpTransform()], 2)(torch.zeros(3)))
    _raises_same(lambda: T.CatTransform([exp], 0, [1, 1]),
                 lambda: TD.transforms.CatTransform([TD.transforms.ExpTransform()], 0, [1, 1]))
    _raises_same(lambda: T.StackTransform([exp])(ts.zeros(3)),
                 lambda: TD.transforms.StackTransform([TD.transforms.ExpTransform()])(torch.zeros(3)))
    _raises_same(lambda: T.StackTransform([exp]).log_abs_det_jacobian(ts.zeros(1), ts.zeros(2)),
                 lambda: TD.transforms.StackTransform([TD.transforms.ExpTransform()]).log_abs_det_jacobian(
                     torch.zeros(1), torch.zeros(2)))
    _raises_same(lambda: T.CatTransform([3]), lambda: TD.transforms.CatTransform([3]))
    _raises_same(lambda: T.IndependentTransform(T.StickBreakingTransform(), 1)(ts.zeros(2)),
                 lambda: TD.transforms.IndependentTransform(TD.transforms.StickBreakingTransform(), 1)(torch.zeros(2)))
    _raises_same(lambda: T.StickBreakingTransform().forward_shape(()),
                 lambda: TD.transforms.StickBreakingTransform().forward_shape(()))


# ---------------------------------------------------------------- biject_to / transform_to

def _registry_constraints(module):
    c = module.constraints
    return [c.real, c.real_vector, c.positive, c.nonnegative, c.greater_than(1.5), c.greater_than_eq(-1.0),
            c.less_than(2.0), c.unit_interval, c.interval(-1.0, 3.0), c.half_open_interval(0.0, 2.0),
            c.simplex, c.lower_cholesky, c.positive_definite, c.positive_semidefinite, c.corr_cholesky,
            c.independent(c.positive, 1), c.cat([c.positive, c.unit_interval], -1, [2, 1]),
            c.stack([c.positive, c.real, c.interval(0.0, 4.0)], -1)]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registries_match_torch(registry):
    ours_reg, theirs_reg = getattr(D, registry), getattr(TD, registry)
    x = rng.standard_normal((4, 3))
    for ours_c, theirs_c in zip(_registry_constraints(D), _registry_constraints(TD)):
        try:
            theirs = theirs_reg(theirs_c)
        except NotImplementedError as err:
            with pytest.raises(NotImplementedError, match=str(err)):
                ours_reg(ours_c)
            continue
        ours = ours_reg(ours_c)
        assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs), theirs_c
        assert ours.bijective == theirs.bijective
        value = x if "Cholesky" not in repr(ours_c) and "Definite" not in repr(ours_c) and \
            "Semidefinite" not in repr(ours_c) else rng.standard_normal((2, 3, 3))
        if "CorrCholesky" in repr(ours_c):
            value = x
        xs, xt = _pair(value, grad=True)
        y, yt = ours(xs), theirs(xt)
        compare_with_gradients(y, yt, [xs], [xt], rtol=1e-9)
        assert bool(ours_c.check(y.detach()).all())
        if theirs.bijective:
            _close(ours.log_abs_det_jacobian(xs.detach(), y.detach()), theirs.log_abs_det_jacobian(xt.detach(), yt.detach()))
    _raises_same(lambda: ours_reg(C.boolean), lambda: theirs_reg(TC.boolean))
    _raises_same(lambda: ours_reg.register(3, lambda c: c), lambda: theirs_reg.register(3, lambda c: c))


def test_registry_register_adds_a_class():
    reg = D.constraint_registry.ConstraintRegistry()

    @reg.register(C.positive)
    def _exp(constraint):
        return D.transforms.ExpTransform()
    assert isinstance(reg(C.greater_than(3.0)), D.transforms.ExpTransform)
    assert D.constraint_registry.biject_to is D.biject_to


# ---------------------------------------------------------------- ExponentialFamily

def test_exponential_family_class_tree_matches_torch():
    for name in TD.__all__:
        theirs = getattr(TD, name)
        if isinstance(theirs, type) and issubclass(theirs, TD.Distribution):
            assert issubclass(getattr(D, name), D.ExponentialFamily) == issubclass(theirs, TD.ExponentialFamily), name
    assert issubclass(D.ExponentialFamily, D.Distribution)


def _families(module, grad):
    def t(a):
        return _pair(a, grad)[0 if module is D else 1]
    loc, scale = t([0.3, -1.0]), t([0.5, 2.0])
    a, b = t([0.7, 2.5]), t([1.5, 0.4])
    return [module.Normal(loc, scale), module.Gamma(a, b), module.Exponential(b), module.Beta(a, b),
            module.Dirichlet(t([[0.7, 2.5, 1.0], [1.5, 0.4, 3.0]])), module.Bernoulli(t([0.2, 0.9])),
            module.ContinuousBernoulli(t([0.2, 0.7]))], [loc, scale, a, b]


def test_bregman_entropy_and_kl_match_torch():
    ours, _ = _families(D, False)
    theirs, _ = _families(TD, False)
    for p, pt in zip(ours, theirs):
        try:
            entropy_t = TD.ExponentialFamily.entropy(pt)
        except NotImplementedError:   # Beta, Dirichlet: no _mean_carrier_measure (torch's too)
            with pytest.raises(NotImplementedError):
                D.ExponentialFamily.entropy(p)
        else:
            _close(D.ExponentialFamily.entropy(p), entropy_t, rtol=1e-8)
        q, qt = p.expand((3, 2)), pt.expand((3, 2))
        kl, klt = D.kl_more._kl_expfamily_expfamily(p, q), TD.kl._kl_expfamily_expfamily(pt, qt)
        _close(kl, klt, atol=1e-10)
        nat, nat_t = p._natural_params, pt._natural_params
        for n, nt in zip(nat, nat_t):
            _close(n, nt)
        _close(p._log_normalizer(*nat), pt._log_normalizer(*nat_t), rtol=1e-9)
    _raises_same(lambda: D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(2.0)),
                 lambda: TD.kl_divergence(TD.Normal(0.0, 1.0), TD.Poisson(2.0)))
    with pytest.raises(NotImplementedError):
        D.Poisson(ts.tensor([2.0])).entropy()


# ---------------------------------------------------------------- InverseGamma

def _same_draws(make, sample_shape, seed=5, rtol=1e-6, atol=1e-7):
    ts.manual_seed(seed)
    torch.manual_seed(seed)
    ours, theirs = make(D).sample(sample_shape), make(TD).sample(sample_shape)
    _close(ours, theirs, rtol=rtol, atol=atol)
    _close(ts.randn(3), torch.randn(3), rtol=1e-6)   # the streams stay in step


def test_inverse_gamma_matches_torch():
    c, ct = _pair([0.7, 1.5, 3.0], grad=True)
    r, rt = _pair([2.0, 0.5, 1.2], grad=True)
    ig, igt = D.InverseGamma(c, r), TD.InverseGamma(ct, rt)
    assert (ig.batch_shape, ig.event_shape) == (igt.batch_shape, igt.event_shape)
    value = np.array([[0.4, 1.0, 3.0], [2.0, 0.1, 0.8]])
    vs, vt = _pair(value)
    compare_with_gradients(ig.log_prob(vs), igt.log_prob(vt), [c, r], [ct, rt], rtol=1e-8)
    # cdf: no derivative of igamma in its first argument (torch's neither), so rate's alone
    r.grad = rt.grad = None
    compare_with_gradients(D.InverseGamma(c.detach(), r).cdf(vs), TD.InverseGamma(ct.detach(), rt).cdf(vt),
                           [r], [rt], rtol=1e-8)
    for name in ("entropy", "mean", "mode", "variance"):
        c.grad = r.grad = ct.grad = rt.grad = None
        out, out_t = (ig.entropy(), igt.entropy()) if name == "entropy" else (getattr(ig, name), getattr(igt, name))
        finite = np.isfinite(out_t.detach().numpy())
        np.testing.assert_array_equal(out.detach().numpy()[~finite], out_t.detach().numpy()[~finite])
        compare_with_gradients(out.where(ts.tensor(finite), 0.0), out_t.where(torch.tensor(finite), 0.0),
                               [c, r], [ct, rt], rtol=1e-9)
    assert ig.expand((2, 3)).batch_shape == (2, 3) and type(ig.expand((2, 3))) is D.InverseGamma
    assert repr(ig.support) == repr(igt.support) and ig.has_rsample
    _raises_same(lambda: D.InverseGamma(ts.tensor([-1.0]), 1.0), lambda: TD.InverseGamma(torch.tensor([-1.0]), 1.0))
    _same_draws(lambda m: m.InverseGamma(*(_pair([0.4, 2.0, 7.5])[0 if m is D else 1], 1.5)), (4,))
    _same_draws(lambda m: m.InverseGamma(torch.tensor([0.8, 3.0], dtype=torch.float32) if m is TD else
                                         ts.tensor([0.8, 3.0]), 0.5), (2, 2))
    ts.manual_seed(1)
    torch.manual_seed(1)
    draw, draw_t = ig.rsample((2,)), igt.rsample((2,))
    c.grad = r.grad = ct.grad = rt.grad = None
    compare_with_gradients(draw, draw_t, [r], [rt], rtol=1e-7)


# ---------------------------------------------------------------- GeneralizedPareto

def test_generalized_pareto_matches_torch():
    torch.set_default_dtype(torch.float64)
    ts.set_default_dtype(ts.float64)
    try:
        loc, loc_t = _pair([0.1, -0.5, 0.0, 1.0], grad=True)
        scale, scale_t = _pair([2.0, 0.5, 1.0, 1.5], grad=True)
        conc, conc_t = _pair([0.4, -0.3, 0.0, 1e-10], grad=True)
        gp, gpt = D.GeneralizedPareto(loc, scale, conc), TD.GeneralizedPareto(loc_t, scale_t, conc_t)
        leaves, leaves_t = [loc, scale, conc], [loc_t, scale_t, conc_t]
        value = np.array([[0.5, 0.2, 0.3, 1.2], [3.0, 1.0, 2.0, 4.0]])
        for name in ("log_prob", "cdf", "log_survival_function", "log_cdf"):
            for t in leaves + leaves_t:
                t.grad = None
            compare_with_gradients(getattr(gp, name)(_pair(value)[0]), getattr(gpt, name)(_pair(value)[1]),
                                   leaves, leaves_t, rtol=1e-8)
        for t in leaves + leaves_t:
            t.grad = None
        compare_with_gradients(gp.icdf(_pair([0.1, 0.5, 0.9, 0.3])[0]), gpt.icdf(_pair([0.1, 0.5, 0.9, 0.3])[1]),
                               leaves, leaves_t, rtol=1e-8)
        for name in ("mean", "variance", "mode", "entropy"):
            out, out_t = (gp.entropy(), gpt.entropy()) if name == "entropy" else (getattr(gp, name), getattr(gpt, name))
            np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
        support, support_t = gp.support, gpt.support
        np.testing.assert_allclose(support.upper_bound.detach().numpy(), support_t.upper_bound.detach().numpy())
        _close(gp.support.check(_pair(value)[0]), gpt.support.check(_pair(value)[1]))
        scalar = D.GeneralizedPareto(0.0, 1.0, 0.5)
        assert scalar.batch_shape == () and scalar.expand((3,)).batch_shape == (3,)
        assert D.GeneralizedPareto(ts.zeros(2), 1.0, 0.1).entropy().shape == (2,)
        _same_draws(lambda m: m.GeneralizedPareto(_pair([0.1, 0.0])[0 if m is D else 1], 2.0,
                                                  _pair([0.4, 0.0])[0 if m is D else 1]), (3,))
    finally:
        torch.set_default_dtype(torch.float32)
        ts.set_default_dtype(ts.float32)
    # torch compares concentration with a float32 zero: another dtype raises
    gp64 = D.GeneralizedPareto(*_pair([0.1])[:1], 1.0, 0.5)
    gp64_t = TD.GeneralizedPareto(*_pair([0.1])[1:], 1.0, 0.5)
    _raises_same(lambda: gp64.log_prob(ts.tensor([1.0], dtype=ts.float64)),
                 lambda: gp64_t.log_prob(torch.tensor([1.0], dtype=torch.float64)))
    _raises_same(lambda: D.GeneralizedPareto(0.0, -1.0, 0.5), lambda: TD.GeneralizedPareto(0.0, -1.0, 0.5))
    ours, theirs = D.GeneralizedPareto(0.0, 1.0, ts.tensor([0.5, 0.0])), TD.GeneralizedPareto(0.0, 1.0, torch.tensor([0.5, 0.0]))
    _close(ours.log_prob(ts.tensor([0.5, 2.0])), theirs.log_prob(torch.tensor([0.5, 2.0])), rtol=1e-6)
    _same_draws(lambda m: m.GeneralizedPareto(0.0, 1.0, ts.tensor([0.5, -0.2]) if m is D else torch.tensor([0.5, -0.2])),
                (2,))


# ---------------------------------------------------------------- LogisticNormal

def test_logistic_normal_matches_torch():
    loc, loc_t = _pair([[0.3, -1.0, 0.2], [0.0, 0.5, 1.0]], grad=True)
    scale, scale_t = _pair([[0.5, 2.0, 1.0], [1.0, 0.3, 0.7]], grad=True)
    ln, lnt = D.LogisticNormal(loc, scale), TD.LogisticNormal(loc_t, scale_t)
    assert (ln.batch_shape, ln.event_shape) == (lnt.batch_shape, lnt.event_shape) == ((2,), (4,))
    value = rng.dirichlet(np.ones(4), size=(5, 2))
    compare_with_gradients(ln.log_prob(_pair(value)[0]), lnt.log_prob(_pair(value)[1]), [loc, scale], [loc_t, scale_t],
                           rtol=1e-8)
    assert ln.loc is loc and ln.scale is scale and repr(ln.support) == repr(lnt.support)
    scalar, scalar_t = D.LogisticNormal(0.2, 1.5), TD.LogisticNormal(0.2, 1.5)
    assert (scalar.batch_shape, scalar.event_shape) == (scalar_t.batch_shape, scalar_t.event_shape)
    wide = ln.expand((3, 2))
    assert type(wide) is D.LogisticNormal and wide.batch_shape == (3, 2) and wide.event_shape == (4,)
    _raises_same(lambda: D.LogisticNormal(ts.zeros(2), -ts.ones(2)), lambda: TD.LogisticNormal(torch.zeros(2), -torch.ones(2)))
    _raises_same(lambda: ln.log_prob(ts.ones(2, 4, dtype=ts.float64)),
                 lambda: lnt.log_prob(torch.ones(2, 4, dtype=torch.float64)))
    _same_draws(lambda m: m.LogisticNormal(_pair([0.3, -1.0, 2.0])[0 if m is D else 1], 0.5), (3,))
    ts.manual_seed(2)
    torch.manual_seed(2)
    compare_with_gradients(ln.rsample((2,)), lnt.rsample((2,)), [loc, scale], [loc_t, scale_t], rtol=1e-7)
