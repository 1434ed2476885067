"""Tensor.diagonal is a view of its input on the CPU, as torch's: writes through it reach the
input, autograd records them as torch does (CopySlices), and torch.diag / diagonal_copy stay
copies. Checked against torch 2.13."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _both(fn):
    return [fn(lib) for lib in (ts, torch)]


def _np(t):
    return np.asarray(t.detach().numpy())


@pytest.mark.parametrize("offset,dims", [(0, (0, 1)), (1, (0, 1)), (-1, (0, 1)), (1, (1, 2)), (0, (2, 0)), (5, (0, 1))])
def test_a_write_through_the_diagonal_reaches_the_input(offset, dims):
    def run(lib):
        x = lib.arange(24.).reshape(2, 3, 4)
        x.diagonal(offset, *dims).fill_(-1)
        y = lib.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)   # of a non-contiguous input too
        y.diagonal(offset, *dims).mul_(10)
        return _np(x), _np(y)
    (ours_x, ours_y), (theirs_x, theirs_y) = _both(run)
    np.testing.assert_array_equal(ours_x, theirs_x)
    np.testing.assert_array_equal(ours_y, theirs_y)


def test_the_write_is_differentiated_as_torch_does():
    def run(lib):
        lib.manual_seed(0)
        w = lib.randn(3, 3, requires_grad=True)
        K = w @ w.T
        K.diagonal().add_(lib.tensor([1., 2., 3.]))   # jitter on a covariance's diagonal
        d = K.diagonal()
        loss = (K * lib.arange(9.).reshape(3, 3)).sum() + (d ** 2).sum()
        loss.backward()
        return _np(K), _np(w.grad), K.grad_fn.name(), d.grad_fn.name()
    ours, theirs = _both(run)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    assert ours[2:] == theirs[2:]


def test_a_view_of_a_leaf_refuses_the_write_and_copies_stay_copies():
    for lib in (ts, torch):
        leaf = lib.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            leaf.diagonal().zero_()
        x = lib.arange(4.).reshape(2, 2)
        lib.diag(x).fill_(7)
        lib.diagonal_copy(x).fill_(7)
        assert _np(x).tolist() == [[0, 1], [2, 3]]
        x.diagonal()[0] = 5   # an index write into the view
        assert _np(x).tolist() == [[5, 1], [2, 3]]


def test_the_diagonals_gradient():
    def run(lib):
        x = lib.arange(24., dtype=lib.float64).reshape(2, 3, 4).requires_grad_()
        d = x.diagonal(1, 1, 2)
        (d * d).sum().backward()
        return _np(x.grad), tuple(d.shape), d.grad_fn.name()
    ours, theirs = _both(run)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


def test_double_backward_through_the_diagonal():
    def run(lib):
        x = lib.tensor([[1., 2], [3, 4]], dtype=lib.float64, requires_grad=True)
        h = lib.autograd.functional.hessian(lambda x: (x.diagonal() ** 3).sum(), x).reshape(4, 4)
        g, = lib.autograd.grad((x @ x).trace(), x, create_graph=True)
        g.sum().backward()
        c, = lib.autograd.grad(x.diagonal(), x, lib.ones(2, dtype=lib.float64), create_graph=True)
        return _np(h), _np(x.grad), c.requires_grad   # a linear op's gradient: a constant
    ours, theirs = _both(run)
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])
    assert ours[2] is theirs[2] is False
