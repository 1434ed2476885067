"""What a second audit against torch 2.13 found (2026-12-03): errors a PyTorch program catches as
RuntimeError, masked_fill's broadcast, copy_ from a grad-requiring leaf, view of a transposed or
strided view, and the single-layer dropout warning. Each test asserts torch's behaviour next to
ours."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

RAISING = {
    "view of the wrong size": lambda L: L.zeros(2, 3).view(4, -1),
    "reshape of the wrong size": lambda L: L.zeros(2, 3).reshape(5),
    "permute repeating a dim": lambda L: L.zeros(2, 3).permute(0, 0),
    "backward gradient of the wrong shape":
        lambda L: (L.tensor([1.0, 2.0], requires_grad=True) * 2).backward(L.tensor([1.0, 2.0, 3.0])),
    "stack of unequal shapes": lambda L: L.stack([L.tensor([1.0]), L.tensor([1.0, 2.0])]),
    "cat of unequal shapes": lambda L: L.cat([L.zeros(2, 3), L.zeros(2, 4)]),
    "cat of 0-d tensors": lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)]),
    "add_ whose result does not fit": lambda L: L.tensor([1.0]).add_(L.tensor([2.0, 3.0])),
    "item of two elements": lambda L: L.tensor([1.0, 2.0]).item(),
    "expand of a non-1 dim": lambda L: L.zeros(2, 3).expand(3, 3),
    "masked_fill with an integer mask": lambda L: L.tensor([1.0, 2.0]).masked_fill(L.tensor([1, 0]), 0.0),
    "view of a transposed tensor": lambda L: L.arange(6.0).reshape(2, 3).t().view(-1),
    "view of a strided slice": lambda L: L.arange(6.0).reshape(2, 3)[:, 1:].view(4),
}


@pytest.mark.parametrize("name", RAISING)
def test_runtime_errors_as_torch(name):
    with pytest.raises(RuntimeError):
        RAISING[name](torch)
    with pytest.raises(RuntimeError):
        RAISING[name](ts)


def test_views_that_share_memory_still_view():
    t = ts.arange(6.0).reshape(2, 3)
    row = t[1].view(3, 1)
    row.add_(10)
    assert t.numpy()[1].tolist() == [13.0, 14.0, 15.0]
    assert t.t().contiguous().view(-1).shape == (6,) and t.t().t().view(-1).shape == (6,)
    assert (t @ t.t()).view(-1).shape == (4,)   # an op's result views whatever its layout


def test_masked_fill_broadcasts_self_against_the_mask():
    mask = [[True, False], [False, True]]
    theirs = torch.tensor([1.0, 2.0]).masked_fill(torch.tensor(mask), 0.0)
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    ours = x.masked_fill(ts.tensor(mask), 0.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours.sum().backward()
    assert x.grad.numpy().tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="does not fit"):   # in place it cannot grow, as torch's
        ts.tensor([1.0, 2.0]).masked_fill_(ts.tensor(mask), 0.0)


def test_copy_from_a_grad_requiring_leaf_reaches_the_leaf():
    src, src_t = ts.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    dst, dst_t = ts.zeros(2), torch.zeros(2)
    dst.copy_(src)
    dst_t.copy_(src_t)
    (dst * 3).sum().backward()
    (dst_t * 3).sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), src_t.grad.numpy())
    assert dst.grad is None and not dst.is_leaf


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN", "PeepholeLSTM"])
def test_dropout_on_one_layer_warns_as_torch(layer):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(ts.nn, layer)(3, 4, dropout=0.5)
        getattr(ts.nn, layer)(3, 4, num_layers=2, dropout=0.5)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1 and "num_layers greater than 1" in messages[0]
