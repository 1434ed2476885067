"""Findings of programs round 16 (Tacotron2, JoeyNMT, TFT, N-BEATS, WaveRNN pieces, Transformer-XL)
against torch 2.13: a convolution's backward reads its input's memory, so an untracked write
through .data after the layer ran is seen (Tacotron2's parse_output), a tracked one refused."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

X0 = np.random.RandomState(0).randn(2, 3, 5)


def _data_write_after_use(lib, make, reshape=None):
    """NVIDIA Tacotron2's parse_output pattern: a layer consumes `y`, then the program writes
    y.data in place (outputs[0].data.masked_fill_(mask, 0.0)) before backward."""
    x = lib.tensor(X0, requires_grad=True)
    y = x * 2
    m = make(lib)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape))))
    z = m(y)
    mask = np.zeros((2, 3, 5), bool)
    mask[1, :, 3:] = True
    y.data.masked_fill_(lib.from_numpy(mask), 0.0)     # untracked write, seen by torch's backward
    (z * z).sum().backward()
    return [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in m.parameters()]


def test_conv1d_weight_grad_sees_data_write_tacotron2_parse_output():
    mk = lambda lib: lib.nn.Conv1d(3, 4, 5, padding=2).double()
    a, b = _data_write_after_use(torch, mk), _data_write_after_use(ts, mk)
    np.testing.assert_allclose(b[1], a[1], rtol=1e-9, atol=1e-9)   # conv weight grad


@pytest.mark.parametrize("padding", [0, 2])
def test_conv2d_weight_grad_sees_data_write(padding):
    def run(lib):
        x = lib.tensor(np.arange(18.0).reshape(1, 2, 3, 3), requires_grad=True)
        y = x * 2
        w = lib.tensor(np.ones((1, 2, 2, 2)), requires_grad=True)
        z = lib.nn.functional.conv2d(y, w, padding=padding)
        y.data.mul_(-1)
        z.sum().backward()
        return w.grad.numpy()
    np.testing.assert_allclose(run(ts), run(torch))


def test_conv1d_input_written_in_place_after_use_raises():
    for lib in (torch, ts):
        x = lib.ones(1, 2, 5, dtype=lib.float64, requires_grad=True)
        y = x * 2
        w = lib.ones(3, 2, 3, dtype=lib.float64, requires_grad=True)
        z = lib.nn.functional.conv1d(y, w, padding=1)
        y.mul_(3)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_layer_norm_grads_see_data_write():
    def run(lib):
        x = lib.tensor(X0, requires_grad=True)
        y = x * 1
        m = lib.nn.LayerNorm(5).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(np.linspace(0.5, 2.0, 5)))
        z = m(y)
        y.data.mul_(2)
        (z * lib.tensor(np.linspace(-1.0, 1.0, 30).reshape(2, 3, 5))).sum().backward()
        return x.grad.numpy(), m.weight.grad.numpy(), m.bias.grad.numpy()
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
