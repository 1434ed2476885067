"""autograd.gradgradcheck: second derivatives against finite differences of the first, as torch's."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.gradcheck import GradcheckError

torch = pytest.importorskip("torch")

R = np.random.default_rng(0)


def _pair(shape):
    values = R.standard_normal(shape)
    return ts.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


def test_smooth_functions_pass_as_in_torch():
    (xs, xt), (ys, yt) = _pair((3, 4)), _pair((4, 2))
    assert ts.autograd.gradgradcheck(lambda a, b: (a.tanh() @ b).sigmoid(), (xs, ys))
    assert torch.autograd.gradgradcheck(lambda a, b: (a.tanh() @ b).sigmoid(), (xt, yt))


def test_lstm_cell_second_derivatives():
    cell = ts.nn.LSTMCell(3, 4).double()
    (xs, _), (hs, _), (cs, _) = _pair((2, 3)), _pair((2, 4)), _pair((2, 4))
    assert ts.autograd.gradgradcheck(lambda x, h, c: cell(x, (h, c)), (xs, hs, cs))


def test_given_grad_outputs_and_an_input_without_grad():
    (xs, xt) = _pair((3,))
    ws = ts.tensor(R.standard_normal(3))
    go = ts.tensor(R.standard_normal(3), requires_grad=True)
    assert ts.autograd.gradgradcheck(lambda x, w: x.exp() * w, (xs, ws), (go,))


def _wrong_double_backward(lib):
    """x ** 3 as lib's custom Function whose backward is right to first order but detaches x: its
    second derivative is wrong."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    return Cube.apply


def test_a_wrong_double_backward_fails_in_both():
    xs, xt = _pair((3,))
    ours, theirs = _wrong_double_backward(ts), _wrong_double_backward(torch)
    assert ts.autograd.gradcheck(ours, (xs,))
    assert torch.autograd.gradcheck(theirs, (xt,))
    assert ts.autograd.gradgradcheck(ours, (xs,), raise_exception=False) is False
    assert torch.autograd.gradgradcheck(theirs, (xt,), raise_exception=False) is False
    with pytest.raises(GradcheckError):
        ts.autograd.gradgradcheck(ours, (xs,))


def test_torch_options_accepted_and_unknown_rejected():
    xs, _ = _pair((2,))
    assert ts.autograd.gradgradcheck(lambda x: x.sin(), (xs,), gen_non_contig_grad_outputs=True,
                                     check_rev_over_rev=True, nondet_tol=0.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ts.autograd.gradgradcheck(lambda x: x.sin(), (xs,), bogus=1)
