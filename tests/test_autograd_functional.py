"""ts.autograd.functional.jacobian and vjp against torch 2.13 (float64), and the clear error of
the second-order ones."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

X = np.random.default_rng(0).standard_normal((3,))
W = np.random.default_rng(1).standard_normal((2, 3))


def _f(lib):
    w = lib.tensor(W)
    return lambda x: (w @ x).tanh() * x[:2]


def _g(lib):
    return lambda a, b: ((a * b).sum(), a.exp() + b)


def test_jacobian_single_input_and_output():
    want = torch.autograd.functional.jacobian(_f(torch), torch.tensor(X))
    got = ts.autograd.functional.jacobian(_f(ts), ts.tensor(X))
    assert tuple(got.shape) == tuple(want.shape) == (2, 3)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_jacobian_tuples_nest_as_torch():
    want = torch.autograd.functional.jacobian(_g(torch), (torch.tensor(X), torch.tensor(X[::-1].copy())))
    got = ts.autograd.functional.jacobian(_g(ts), (ts.tensor(X), ts.tensor(X[::-1].copy())))
    for row_w, row_g in zip(want, got):
        for w, g in zip(row_w, row_g):
            assert tuple(g.shape) == tuple(w.shape)
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)


def test_vjp_and_unused_inputs():
    v = np.array([0.5, -2.0])
    out_w, g_w = torch.autograd.functional.vjp(_f(torch), torch.tensor(X), torch.tensor(v))
    out_g, g_g = ts.autograd.functional.vjp(_f(ts), ts.tensor(X), ts.tensor(v))
    np.testing.assert_allclose(out_g.numpy(), out_w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_g.numpy(), g_w.numpy(), rtol=1e-12)
    for lib in (torch, ts):
        j = lib.autograd.functional.jacobian(lambda a, b: a * 2, (lib.tensor(X), lib.tensor(X)))
        assert float(j[1].abs().sum()) == 0.0
        with pytest.raises(RuntimeError):
            lib.autograd.functional.jacobian(lambda a, b: a * 2, (lib.tensor(X), lib.tensor(X)), strict=True)


def test_second_order_ones_as_torch():
    for lib in (ts, torch):
        h = lib.autograd.functional.hessian(lambda x: (x ** 3).sum(), lib.tensor(X))
        np.testing.assert_allclose(np.asarray(h.tolist()), np.diag(6 * X))
        with pytest.raises(RuntimeError, match="single element"):
            lib.autograd.functional.hessian(lambda x: x ** 3, lib.tensor(X))
