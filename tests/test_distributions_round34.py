"""Wishart, LKJCholesky, the corr_cholesky constraint and CorrCholeskyTransform against
torch.distributions: shapes, argument errors and warnings, constraints, log_prob / entropy / mean /
mode / variance and their gradients (float64), and samples after the same seed (both draw torch's
gamma, Dirichlet and normal numbers, so the samples agree to rounding and the stream after them is
the same)."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.distributions as D

from distribution_checks import compare_with_gradients

TD = torch.distributions
rng = np.random.default_rng(34)
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])


def _spd(*batch, p=3):
    a = rng.standard_normal(batch + (p, p))
    return a @ np.swapaxes(a, -1, -2) + p * np.eye(p)


def _pair(array, grad=False, dtype=np.float64):
    array = np.asarray(array, dtype)
    return ts.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def _wishart(module, df, kind, matrix):
    return module.Wishart(df, **{kind: matrix})


def _same_draws(make, sample_shape, seed=3, rtol=1e-5, atol=1e-6):
    """make(module) for each library, sampled after manual_seed(seed); the samples and the next
    randn draws (the streams stay in step) agree."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        theirs, after_t = make(TD).sample(sample_shape), torch.randn(5)
        ts.manual_seed(seed)
        ours, after = make(D).sample(sample_shape), ts.randn(5)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_array_equal(after.numpy(), after_t.numpy())
    return ours


# ------------------------------------------------------------------------------------ Wishart
@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("df", [4.5, np.array([3.5, 2.2]), np.array([[6.0], [2.5]])])
def test_wishart_samples_are_torchs(kind, df):
    matrix = _spd(2) if kind != "scale_tril" else np.linalg.cholesky(_spd())
    matrix = matrix.astype(np.float32)

    def make(M):
        lib = ts if M is D else torch
        d = lib.tensor(np.asarray(df, np.float32)) if isinstance(df, np.ndarray) else df
        return _wishart(M, d, kind, lib.tensor(matrix))
    for shape in [(), (2,)]:
        _same_draws(make, shape, rtol=1e-4, atol=1e-5)


def test_wishart_shapes_expand_and_constraints():
    w = D.Wishart(ts.tensor([4.0, 5.0]), covariance_matrix=ts.tensor(COV))
    wt = TD.Wishart(torch.tensor([4.0, 5.0]), covariance_matrix=torch.tensor(COV))
    assert w.batch_shape == wt.batch_shape and w.event_shape == wt.event_shape
    assert set(w.arg_constraints) == set(wt.arg_constraints)
    assert repr(w.arg_constraints["df"]) == repr(wt.arg_constraints["df"]) == "GreaterThan(lower_bound=2)"
    assert w.support is D.constraints.positive_definite and w.has_rsample and not hasattr(w, "cdf_")
    e, et = w.expand((3, 2)), wt.expand((3, 2))
    assert e.batch_shape == et.batch_shape and tuple(e.df.shape) == tuple(et.df.shape)
    assert tuple(e.covariance_matrix.shape) == tuple(et.covariance_matrix.shape) == (3, 2, 3, 3)
    with pytest.warns(UserWarning, match="Singular sample detected"):
        assert tuple(e.sample((4,)).shape) == (4, 3, 2, 3, 3)
    np.testing.assert_allclose(e.log_prob(ts.tensor(COV)).numpy(), et.log_prob(torch.tensor(COV)).numpy())
    assert repr(w) == repr(wt) == "Wishart(covariance_matrix: torch.Size([2, 3, 3]), df: torch.Size([2]))"
    for name in ("scale_tril", "precision_matrix", "covariance_matrix"):
        np.testing.assert_allclose(getattr(w, name).numpy(), getattr(wt, name).numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_scores_and_gradients(kind):
    base = _spd(2)
    matrix = np.linalg.cholesky(base) if kind == "scale_tril" else base
    value = _spd(3, 1)
    for score in ("log_prob", "entropy", "mean", "variance", "mode"):
        df, df_t = _pair([3.5, 6.0], grad=True)
        m, m_t = _pair(matrix, grad=True)
        w, wt = _wishart(D, df, kind, m), _wishart(TD, df_t, kind, m_t)
        if score == "log_prob":
            out, out_t = w.log_prob(ts.tensor(value)), wt.log_prob(torch.tensor(value))
        elif score == "entropy":
            out, out_t = w.entropy(), wt.entropy()
        else:
            out, out_t = getattr(w, score), getattr(wt, score)
        if score == "mode":   # df 3.5 <= p + 1: nan in the first batch, as torch's
            assert np.isnan(out.detach().numpy()[0]).all() and np.isnan(out_t.detach().numpy()[0]).all()
            out, out_t = out[1], out_t[1]
        compare_with_gradients(out, out_t, [df, m], [df_t, m_t], rtol=1e-9)


@pytest.mark.parametrize("sample_shape", [(), (3,)])
def test_wishart_rsample_gradients(sample_shape):
    """Through the draws into the scale (exact) and df (the implicit gamma gradient; torch's
    _standard_gamma_grad is an approximation of it). torch's own backward fails for a non-empty
    sample_shape (its correction pass changes the mask it indexed with in place), so there its
    second Bartlett draw (the one rsample returns) stands in."""
    tril = np.linalg.cholesky(_spd(2))
    grads = []
    for lib, M in ((ts, D), (torch, TD)):
        df = lib.tensor(np.array([4.5, 7.0]), requires_grad=True)
        L = lib.tensor(tril, requires_grad=True)
        lib.manual_seed(11)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = M.Wishart(df, scale_tril=L)
            if lib is torch and sample_shape:
                w._bartlett_sampling(sample_shape)
                x = w._bartlett_sampling(sample_shape)
            else:
                x = w.rsample(sample_shape)
        (x * lib.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
        grads.append((x.detach().numpy(), L.grad.numpy(), df.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-9)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-9)
    np.testing.assert_allclose(grads[0][2], grads[1][2], rtol=1e-3)


@pytest.mark.parametrize("batch", [(), (2,)])
def test_wishart_kl_is_torchs_bregman_divergence(batch):
    """torch's only KL for Wishart pairs, the exponential-family one: its value (its df term summed
    over the batch, as torch's) and gradients into q (p's natural parameters are detached there)."""
    c1, c2, df1 = _spd(*batch), _spd(*batch), np.full(batch, 4.5) + (np.arange(batch[0]) if batch else 0)
    out = []
    for lib, M in ((ts, D), (torch, TD)):
        leaves = [lib.tensor(c2, requires_grad=True), lib.tensor(df1 + 1.3, requires_grad=True)]
        kl = M.kl_divergence(M.Wishart(lib.tensor(df1), covariance_matrix=lib.tensor(c1)),
                             M.Wishart(leaves[1], covariance_matrix=leaves[0]))
        out.append((kl, leaves))
    compare_with_gradients(out[0][0], out[1][0], out[0][1], out[1][1], rtol=1e-10)


def test_wishart_warns_as_torch():
    cov = ts.tensor(COV)
    with pytest.warns(UserWarning, match="Low df values detected"):
        D.Wishart(2.5, covariance_matrix=cov)
    with pytest.warns(UserWarning, match="Singular sample detected"):   # torch's inverted check
        D.Wishart(5.0, covariance_matrix=cov).sample()


def test_wishart_errors():
    cov = ts.tensor(COV)
    with pytest.raises(AssertionError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.Wishart(4.0)
    with pytest.raises(AssertionError, match="Exactly one"):
        D.Wishart(4.0, covariance_matrix=cov, scale_tril=cov)
    with pytest.raises(ValueError, match="scale_tril must be at least two-dimensional"):
        D.Wishart(4.0, covariance_matrix=ts.ones(3))
    with pytest.raises(ValueError, match=r"Value of df=2 expected to be greater than ndim - 1 = 2\."):
        D.Wishart(2, covariance_matrix=cov)
    with pytest.raises(ValueError, match=r"Value of df=tensor\(\[5\., 1\.\]\) expected"):
        D.Wishart(ts.tensor([5.0, 1.0]), covariance_matrix=cov)
    with pytest.raises(ValueError, match="covariance_matrix.*PositiveDefinite"):
        D.Wishart(4.0, covariance_matrix=ts.tensor(-COV))
    with pytest.raises(ValueError, match="scale_tril.*LowerCholesky"):
        D.Wishart(4.0, scale_tril=ts.tensor(COV))
    with pytest.raises(RuntimeError):
        D.Wishart(ts.tensor([4.0, 5.0, 6.0]), covariance_matrix=ts.tensor(_spd(2)))
    w = D.Wishart(4.0, covariance_matrix=cov)
    with pytest.raises(ValueError, match="PositiveDefinite"):
        w.log_prob(-cov)
    with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
        w.log_prob(ts.eye(2))


# ------------------------------------------------------------------------------------ LKJCholesky
@pytest.mark.parametrize("dim", [2, 3, 5])
@pytest.mark.parametrize("conc", [0.5, 1.0, 3.0, np.array([0.3, 2.0]), np.array([[1.5], [0.8]])])
def test_lkj_samples_are_torchs(dim, conc):
    def make(M):
        lib = ts if M is D else torch
        c = lib.tensor(np.asarray(conc, np.float32)) if isinstance(conc, np.ndarray) else conc
        return M.LKJCholesky(dim, c)
    for shape in [(), (4,)]:
        # float32: a diagonal sqrt(1 - |row|^2) near 0 magnifies the rounding of the row's norm
        sample = _same_draws(make, shape, seed=7, atol=1e-4)
        assert D.constraints.corr_cholesky.check(sample).all().item()


def test_lkj_float64_samples_and_scores():
    conc, conc_t = _pair([0.7, 1.0, 2.5], grad=True)
    lkj, lkj_t = D.LKJCholesky(4, conc), TD.LKJCholesky(4, conc_t)
    assert lkj.batch_shape == lkj_t.batch_shape and lkj.event_shape == lkj_t.event_shape
    torch.manual_seed(2)
    value_t = lkj_t.sample((2,))
    ts.manual_seed(2)
    value = lkj.sample((2,))
    np.testing.assert_allclose(value.numpy(), value_t.numpy(), rtol=1e-12, atol=1e-14)
    assert value.dtype == np.float64 and not value.requires_grad
    compare_with_gradients(lkj.log_prob(value), lkj_t.log_prob(value_t), [conc], [conc_t], rtol=1e-10)


def test_lkj_shapes_expand_and_errors():
    lkj, lkj_t = D.LKJCholesky(3), TD.LKJCholesky(3)
    assert lkj.batch_shape == lkj_t.batch_shape == () and lkj.concentration.dtype == np.float32
    assert lkj.support is D.constraints.corr_cholesky and not lkj.has_rsample
    assert repr(lkj.arg_constraints["concentration"]) == "GreaterThan(lower_bound=0.0)"
    e = D.LKJCholesky(3, ts.tensor([1.0, 2.0])).expand((4, 2))
    et = TD.LKJCholesky(3, torch.tensor([1.0, 2.0])).expand((4, 2))
    assert e.batch_shape == et.batch_shape and e._beta.batch_shape == et._beta.batch_shape == (4, 2, 3)
    _same_draws(lambda M: M.LKJCholesky(3, (ts if M is D else torch).tensor([1.0, 2.0])).expand((4, 2)), (2,))
    with pytest.raises(ValueError, match=r"Expected dim to be an integer greater than or equal to 2\. Found dim=1\."):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, -1.0)
    with pytest.raises(ValueError, match="CorrCholesky"):
        lkj.log_prob(ts.tensor(COV))
    with pytest.raises(NotImplementedError):
        lkj.mean
    with pytest.raises(NotImplementedError):
        lkj.rsample()


# ------------------------------------------------------------------------- constraint, transform
def test_corr_cholesky_constraint():
    torch.manual_seed(0)
    good = TD.LKJCholesky(3, 1.0).sample((4,))
    cases = [good.numpy(), COV.astype(np.float32), np.linalg.cholesky(COV).astype(np.float32),
             np.eye(3, dtype=np.float32)[None].repeat(2, 0), np.eye(3)]
    for case in cases:
        ours = D.constraints.corr_cholesky.check(ts.tensor(case))
        theirs = TD.constraints.corr_cholesky.check(torch.tensor(case))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert D.constraints.corr_cholesky.event_dim == 2 and repr(D.constraints.corr_cholesky) == "CorrCholesky()"


@pytest.mark.parametrize("n", [1, 3, 6])
def test_corr_cholesky_transform(n):
    x = rng.standard_normal((2, n)) * 1.5
    xs, xt = _pair(x, grad=True)
    t, tt = D.transforms.CorrCholeskyTransform(), TD.transforms.CorrCholeskyTransform()
    assert t.bijective and t.domain is D.constraints.real_vector and t.codomain is D.constraints.corr_cholesky
    y, yt = t(xs), tt(xt)
    compare_with_gradients(y, yt, [xs], [xt], rtol=1e-10)
    xs, xt = _pair(x, grad=True)
    y, yt = t(xs), tt(xt)
    compare_with_gradients(t.log_abs_det_jacobian(xs, y), tt.log_abs_det_jacobian(xt, yt), [xs], [xt], rtol=1e-9)
    ys, yt = _pair(yt.detach().numpy(), grad=True)
    compare_with_gradients(t.inv(ys), tt.inv(yt), [ys], [yt], rtol=1e-7)
    assert tuple(t.forward_shape((5, n))) == tuple(tt.forward_shape((5, n)))
    assert tuple(t.inverse_shape((5, 4, 4))) == tuple(tt.inverse_shape((5, 4, 4))) == (5, 6)


def test_corr_cholesky_transform_errors():
    t = D.transforms.CorrCholeskyTransform()
    for call, args, message in [(t.forward_shape, ((),), "Too few dimensions on input"),
                                (t.forward_shape, ((4,),), "Input is not a flattened lower-diagonal number"),
                                (t.inverse_shape, ((3,),), "Too few dimensions on input"),
                                (t.inverse_shape, ((3, 4),), "Input is not square")]:
        with pytest.raises(ValueError, match=message):
            call(*args)
    with pytest.raises(ValueError, match="cannot be expressed as the lower triangular part"):
        t(ts.zeros(2, 5))
