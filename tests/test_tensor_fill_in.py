"""The thin forms of torch's methods (tensor_fill_in.py, tensor_fill_math.py) against torch 2.13:
values, dtypes, shapes and float64 gradients."""
import math

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
V3 = R.standard_normal((2, 3))
SQ = R.standard_normal((3, 3))
POS = np.abs(A) + 0.5

# name -> (function of (lib, *tensors), input arrays, differentiable)
CASES = {
    "kron": (lambda L, a, b: L.kron(a, b), (A[:2, :3], SQ[:2]), True),
    "kron_1d": (lambda L, a, b: a.kron(b), (A[0], A[1, :2]), True),
    "cross": (lambda L, a, b: L.cross(a, b, dim=1), (V3, V3[::-1].copy()), True),
    "cross_default": (lambda L, a, b: a.cross(b), (V3.T.copy(), V3.T[:, ::-1].copy()), True),
    "cov": (lambda L, a: a.cov(), (A,), True),
    "cov_1d": (lambda L, a: L.cov(a), (A[0],), True),
    "cov_weights": (lambda L, a: a.cov(correction=0, fweights=L.tensor([1, 2, 1, 3]),
                                        aweights=L.tensor([0.5, 1.0, 2.0, 1.0], dtype=L.float64)), (A,), True),
    "corrcoef": (lambda L, a: L.corrcoef(a), (A,), True),
    "matrix_power": (lambda L, a: a.matrix_power(3), (SQ,), True),
    "matrix_power0": (lambda L, a: a.matrix_power(0), (SQ,), False),
    "diag_embed": (lambda L, a: a.diag_embed(), (A,), True),
    "diag_embed_off": (lambda L, a: L.diag_embed(a, offset=-1, dim1=0, dim2=2), (A,), True),
    "diagflat": (lambda L, a: a.diagflat(1), (A[:2, :2],), True),
    "rot90": (lambda L, a: a.rot90(), (A,), True),
    "rot90_k3": (lambda L, a: L.rot90(a, 3, [1, 0]), (A,), True),
    "rot90_k2": (lambda L, a: L.rot90(a, -2), (A,), True),
    "renorm": (lambda L, a: a.renorm(2, 0, 1.0), (A,), True),
    "take": (lambda L, a: a.take(L.tensor([[0, 5], [11, -1]])), (A,), True),
    "put": (lambda L, a, s: a.put(L.tensor([0, 5, -1]), s), (A, A[0, :3]), True),
    "put_acc": (lambda L, a, s: a.put(L.tensor([0, 0, 3]), s, accumulate=True), (A, A[0, :3]), False),
    "masked_scatter": (lambda L, a, s: a.masked_scatter(L.tensor([True, False, True, False]), s), (A, A * 2), True),
    "slice_scatter": (lambda L, a, s: a.slice_scatter(s, dim=1, start=1, end=4, step=2), (A, A[:, :2]), True),
    "select_scatter": (lambda L, a, s: L.select_scatter(a, s, 0, 1), (A, A[0]), True),
    "diagonal_scatter": (lambda L, a, s: a.diagonal_scatter(s, 1), (A, A[0, :3]), True),
    "as_strided": (lambda L, a: a.as_strided((2, 3), (1, 2), 1), (A,), True),
    "quantile": (lambda L, a: a.quantile(0.3), (A,), True),
    "quantile_dim": (lambda L, a: L.quantile(a, L.tensor([0.1, 0.5, 0.9], dtype=L.float64), dim=1, keepdim=True), (A,), True),
    "quantile_lower": (lambda L, a: a.quantile(0.4, dim=0, interpolation="lower"), (A,), True),
    "quantile_mid": (lambda L, a: a.quantile(0.4, dim=0, interpolation="midpoint"), (A,), True),
    "quantile_nearest": (lambda L, a: a.quantile(0.5, dim=1, interpolation="nearest"), (A,), True),
    "nanquantile": (lambda L, a: a.nanquantile(0.5, dim=1), (np.where(A > 1, np.nan, A),), True),
    "quantile_nan": (lambda L, a: a.quantile(0.5, dim=1), (np.where(A > 1, np.nan, A),), False),
    "nanmedian": (lambda L, a: a.nanmedian(), (np.where(A > 1, np.nan, A),), True),
    "nanmedian_dim": (lambda L, a: a.nanmedian(dim=1)[0], (np.where(A > 1, np.nan, A),), True),
    "nanmedian_idx": (lambda L, a: a.nanmedian(dim=1, keepdim=True)[1], (np.where(A > 1, np.nan, A),), False),
    "mode": (lambda L, a: a.mode(1)[0], (np.array([[1., 2, 2, 3, 1], [4, 4, 5, 5, 5]]),), True),
    "mode_idx": (lambda L, a: L.mode(a, 0)[1], (np.array([[1., 2, 2], [1, 3, 2], [4, 3, 3]]),), False),
    "histc": (lambda L, a: a.histc(5), (A,), False),
    "histc_range": (lambda L, a: L.histc(a, bins=4, min=-1, max=1), (A,), False),
    "unique_consecutive": (lambda L, a: L.unique_consecutive(a, return_inverse=True, return_counts=True),
                           (np.array([1., 1, 2, 2, 3, 1, 1]),), False),
    "unique_consecutive_dim": (lambda L, a: a.unique_consecutive(dim=0),
                               (np.array([[1., 2], [1, 2], [3, 4], [1, 2]]),), False),
    "deg2rad": (lambda L, a: a.deg2rad(), (A,), True),
    "rad2deg": (lambda L, a: L.rad2deg(a), (A,), True),
    "float_power": (lambda L, a: a.float().float_power(2), (POS,), False),
    "ldexp": (lambda L, a: a.ldexp(L.tensor([1, 2, 3, 0])), (A,), True),
    "angle": (lambda L, a: a.angle(), (A,), True),
    "heaviside": (lambda L, a: a.heaviside(L.tensor(0.5, dtype=L.float64)), (np.array([-1., 0, 2]),), False),
    "hardshrink": (lambda L, a: a.hardshrink(0.7), (A,), True),
    "addmv": (lambda L, s, m, v: s.addmv(m, v, beta=0.5, alpha=2), (A[0, :3], SQ, A[1, :3]), True),
    "addr": (lambda L, s, a, b: L.addr(s, a, b, alpha=3), (SQ, A[0, :3], A[1, :3]), True),
    "dist": (lambda L, a, b: a.dist(b, 3), (A, A[::-1].copy()), True),
    "vdot": (lambda L, a, b: L.vdot(a, b), (A[0], A[1]), True),
    "lgamma": (lambda L, a: a.lgamma(), (POS,), True),
    "digamma": (lambda L, a: L.digamma(a), (POS,), True),
    "i0": (lambda L, a: a.i0(), (A,), True),
    "sinc": (lambda L, a: a.sinc(), (np.append(A[0], 0.0),), True),
    "copysign": (lambda L, a, b: a.copysign(b), (A, A[::-1].copy()), True),
    "logaddexp2": (lambda L, a, b: L.logaddexp2(a, b), (A, A[::-1].copy()), True),
    "signbit": (lambda L, a: a.signbit(), (A,), False),
    "isposinf": (lambda L, a: a.isposinf(), (np.array([1., math.inf, -math.inf]),), False),
    "isneginf": (lambda L, a: L.isneginf(a), (np.array([1., math.inf, -math.inf]),), False),
    "isreal": (lambda L, a: a.isreal(), (A,), False),
    "fix": (lambda L, a: a.fix(), (A * 3,), True),
    "arcsinh": (lambda L, a: a.arcsinh(), (A,), True),
    "msort": (lambda L, a: a.msort(), (A,), True),
    "sum_to_size": (lambda L, a: a.sum_to_size(1, 4), (A,), True),
    "narrow_copy": (lambda L, a: a.narrow_copy(1, 1, 2), (A,), True),
    "adjoint": (lambda L, a: a.adjoint(), (A,), True),
    "mH": (lambda L, a: a.mH, (A,), True),
    "H": (lambda L, a: a.H, (A,), True),
    "hsplit": (lambda L, a: a.hsplit(2)[1], (A,), True),
    "vsplit": (lambda L, a: L.vsplit(a, [1])[1], (A,), True),
    "split_with_sizes": (lambda L, a: a.split_with_sizes([1, 3], 1)[1], (A,), True),
}


def _run(lib, fn, arrays, grad):
    ts_in = [lib.tensor(a, requires_grad=grad) for a in arrays]
    out = fn(lib, *ts_in)
    outs = out if isinstance(out, tuple) else (out,)
    if grad:
        total = sum((o * lib.tensor(np.linspace(0.5, 1.5, o.numel()).reshape(o.shape))).sum() for o in outs)
        total.backward()
    return outs, [t.grad for t in ts_in]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, arrays, grad = CASES[name]
    (t_out, t_grads), (o_out, o_grads) = _run(torch, fn, arrays, grad), _run(ts, fn, arrays, grad)
    assert len(t_out) == len(o_out)
    for t, o in zip(t_out, o_out):
        assert tuple(t.shape) == tuple(o.shape), name
        assert str(t.dtype).replace("torch.", "") == str(o.dtype), name
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12, equal_nan=True)
    for t, o in zip(t_grads, o_grads):
        assert (t is None) == (o is None), name
        if t is not None:
            np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-9, atol=1e-12)


INPLACE = ["gt_(0.1)", "eq_(0)", "cumsum_(1)", "tril_()", "triu_(1)", "multiply_(2)", "subtract_(1)",
           "true_divide_(4)", "negative_()", "absolute_()", "log2_()", "log10_()", "erf_()", "atan2_(x)",
           "hypot_(x)", "fmod_(0.3)", "frac_()", "sinh_()", "nan_to_num_(0.0)", "logit_(0.1)", "deg2rad_()",
           "copysign_(-1.0)", "lgamma_()", "sinc_()", "fix_()", "xlogy_(x)"]


@pytest.mark.parametrize("call", INPLACE)
def test_inplace_forms(call):
    results = []
    for lib in (torch, ts):
        x = lib.tensor(POS.copy())
        y = lib.tensor(POS.copy())
        ret = eval(f"y.{call}", {"x": x, "y": y})
        assert ret is y
        results.append(y.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10)


def test_inplace_form_in_the_graph_and_on_a_leaf():
    for lib in (torch, ts):
        w = lib.tensor(A.copy(), requires_grad=True)
        with pytest.raises(RuntimeError):
            w.cumsum_(0)
    grads = []
    for lib in (torch, ts):
        w = lib.tensor(A.copy(), requires_grad=True)
        y = w * 2
        y.cumsum_(1)
        y.sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])


def test_predicates_and_storage_queries():
    for lib in (torch, ts):
        x = lib.zeros(3, 4)
        assert x.is_cpu and x.get_device() == -1 and not x.is_conj() and not x.is_inference()
        assert x.stride() == (4, 1) and x.t().stride() == (1, 4) and x.stride(-1) == 1
        assert x[1].storage_offset() == 4 and x.storage_offset() == 0
        assert x.data_ptr() != 0 and x.is_same_size(lib.ones(3, 4)) and not x.is_same_size(lib.ones(4))
        assert lib.tensor([2.0]).is_nonzero() and not lib.tensor(0.0).is_nonzero()
        with pytest.raises(RuntimeError, match="ambiguous"):
            x.is_nonzero()
        with pytest.raises(RuntimeError):
            x.imag
        assert x.real is x or lib is torch
    with pytest.raises(IndexError):
        ts.zeros(2).stride(1)


def test_apply_and_map_in_place():
    for lib in (torch, ts):
        x = lib.tensor([1.0, 2.0, 3.0])
        x.apply_(lambda v: v * 10)
        x.map_(lib.tensor([1.0, 1.0, 2.0]), lambda a, b: a - b)
        assert x.tolist() == [9.0, 19.0, 28.0]


def test_random_fills_have_the_distribution():
    ts.manual_seed(0)
    x = ts.empty(20000, dtype=ts.float64)
    assert abs(x.exponential_(2.0).mean().item() - 0.5) < 0.02
    assert abs(x.geometric_(0.25).mean().item() - 4.0) < 0.15
    assert abs(x.log_normal_(0.0, 0.5).log().std().item() - 0.5) < 0.02
    assert abs(x.cauchy_(1.0, 0.1).median().item() - 1.0) < 0.01


def test_errors_as_torch():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError):
            lib.zeros(3, 4).matrix_power(2)
        with pytest.raises(RuntimeError):
            lib.zeros(4).quantile(1.5)
        with pytest.raises(RuntimeError):
            lib.zeros(3).hsplit(2)
        with pytest.raises(RuntimeError):
            lib.zeros(2, 2).as_strided((3, 3), (1, 1), 0)
        with pytest.raises(RuntimeError):
            lib.zeros(3).sum_to_size(2)
        with pytest.raises(RuntimeError):
            lib.zeros(3).masked_scatter(lib.tensor([True, True, True]), lib.ones(2))
