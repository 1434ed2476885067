"""Round 43 (2026-12-07): programs that behaved differently beside torch 2.13."""
import numpy as np
import pytest
import torch

import tinygrad_seq as tg


def _run(m, write_input):
    x = m.tensor([0.5, -2.0, 4.0], requires_grad=True)
    xi = x * 1
    y = (2.0 / xi, xi.reciprocal(), 1 / xi)
    if write_input:
        xi.mul_(3)   # reciprocal saves only its result: the input may change after the call
    sum(t.sum() for t in y).backward()
    return x.grad.numpy(), [t.grad_fn.name() for t in y]


@pytest.mark.parametrize("write_input", [False, True])
def test_reciprocal_saves_its_result(write_input):
    ours, names = _run(tg, write_input)
    ref, ref_names = _run(torch, write_input)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    assert names == ref_names == ["MulBackward0", "ReciprocalBackward0", "MulBackward0"]


def test_write_to_reciprocal_result_is_caught():
    x = tg.tensor([0.5, -2.0], requires_grad=True)
    y = x.reciprocal()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_reciprocal_double_backward():
    for m in (tg, torch):
        x = m.tensor([0.5, -2.0, 4.0], dtype=m.float64, requires_grad=True)
        g, = m.autograd.grad((3.0 / x).sum(), x, create_graph=True)
        g2, = m.autograd.grad(g.sum(), x)
        if m is tg:
            ours = g2.numpy()
        else:
            np.testing.assert_allclose(ours, g2.numpy(), rtol=1e-12)
