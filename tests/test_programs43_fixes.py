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


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size,scale", [((5, 7), None), ((2, 3), None), (None, (1.7, 0.6)), (None, (2.0, 1.3))])
def test_bicubic_interpolate_matches_torch(align_corners, size, scale):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    outs = []
    for m in (tg, torch):
        t = m.tensor(x, requires_grad=True)
        y = m.nn.functional.interpolate(t, size=size, scale_factor=scale, mode="bicubic", align_corners=align_corners)
        (y * m.tensor(np.arange(y.numel()).reshape(tuple(y.shape)) % 7)).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12, atol=1e-12)
    assert outs[0][2] == outs[1][2] == "UpsampleBicubic2DBackward0"


@pytest.mark.parametrize("align_corners", [False, True])
def test_trilinear_interpolate_matches_torch(align_corners):
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 4, 5)).astype(np.float32)
    outs = []
    for m in (tg, torch):
        t = m.tensor(x, requires_grad=True)
        y = m.nn.functional.interpolate(t, size=(5, 2, 9), mode="trilinear", align_corners=align_corners)
        (y * y).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-5)
    assert outs[0][2] == outs[1][2] == "UpsampleTrilinear3DBackward0"
    up = tg.nn.Upsample(scale_factor=2, mode="trilinear")(tg.tensor(x))
    assert tuple(up.shape) == (1, 2, 6, 8, 10)


def test_bicubic_double_backward_and_unsupported():
    x = tg.tensor(np.random.default_rng(2).standard_normal((1, 1, 3, 3)), requires_grad=True)
    g, = tg.autograd.grad((tg.nn.functional.interpolate(x, size=(5, 4), mode="bicubic") ** 2).sum(), x,
                          create_graph=True)
    g.sum().backward()   # second order through the recomposed resampling
    assert x.grad is not None
    with pytest.raises(NotImplementedError, match="uint8"):
        tg.nn.functional.interpolate(tg.zeros(1, 1, 3, 3, dtype=tg.uint8), size=5, mode="bicubic")
    with pytest.raises(NotImplementedError, match="needs 5D input"):
        tg.nn.functional.interpolate(tg.zeros(1, 1, 3, 3), size=5, mode="trilinear")
