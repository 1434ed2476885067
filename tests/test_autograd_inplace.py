"""The autograd engine's in-place rules, as PyTorch's: a grad-requiring leaf refuses an in-place
op, an op on a non-leaf is recorded, and backward raises when an array a node saved was written
after the node was made (also through a view, or a view that is gone by then); writes nothing
saved are fine. The record of writes is tinygrad_seq/writes.py."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import Tensor


def leaf(*shape, seed=0, dtype=np.float64):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


# ------------------------------------------------------------------ in-place rules
def test_inplace_on_leaf_requiring_grad_raises():
    x = leaf(3)
    for op in (lambda: x.add_(1.0), lambda: x.mul_(2.0), lambda: x.zero_(), lambda: x.fill_(1.0),
               lambda: x.copy_(np.ones(3)), lambda: x.clamp_(0, 1), lambda: x.sub_(1.0), lambda: x.div_(2.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    with ts.no_grad():
        x.add_(1.0)  # fine under no_grad (optimizer updates)


def test_modifying_saved_tensor_raises_at_backward():
    x = leaf(3)
    y = x * 2
    z = y * y           # Mul saves y
    with ts.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_modifying_saved_constant_raises_at_backward():
    x = leaf(3)
    w = Tensor(np.ones(3))
    z = (x * w).sum()
    w.mul_(3.0)
    with pytest.raises(RuntimeError, match="inplace"):
        z.backward()


def test_inplace_on_non_leaf_is_differentiable_like_torch():
    a = np.random.default_rng(0).standard_normal(4)
    x, tx = leaf(4), torch.tensor(a, requires_grad=True)
    x = Tensor(a, requires_grad=True)
    for t in (x, tx):
        y = t * 2
        y.mul_(3.0)
        y.add_(t)
        y.sub_(t * t, alpha=2)
        y.div_(4.0)
        y.clamp_(-1.0, 1.0)
        (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_inplace_with_grad_requiring_operand():
    a = np.random.default_rng(1).standard_normal(3)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    outs = []
    for t, mod in ((x, ts), (tx, torch)):
        buf = mod.zeros(3, dtype=t.dtype if mod is torch else np.float64)
        buf.add_(t * t)
        buf.mul_(2.0)
        buf.copy_(t.exp() + t)
        buf.mul_(t)
        assert buf.requires_grad
        buf.sum().backward()
        outs.append(buf)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_inplace_after_use_keeps_the_earlier_node_as_torch():
    # torch keeps the pre-modification node for earlier consumers (y + 1 saved nothing of y)
    x = leaf(3)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    grads = []
    for X in (x, tx):
        y = X * 2
        z = y + 1          # uses y before the in-place op
        y.mul_(3.0)
        (z + y).sum().backward()
        grads.append(X.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_inplace_on_a_saved_tensor_still_raises():
    x = leaf(3)
    y = x * 2
    z = y * y          # saves y
    y.mul_(3.0)
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()


def test_inplace_without_grad_is_plain():
    t = Tensor(np.zeros(3))
    t.add_(1.0).mul_(4.0).sub_(1.0).div_(3.0)
    np.testing.assert_allclose(t.numpy(), np.ones(3))
    t.zero_()
    assert t.numpy().sum() == 0
    t += 2.0
    t *= 2.0
    t -= 1.0
    np.testing.assert_allclose(t.numpy(), np.full(3, 3.0))


def test_optimizer_style_update_between_forward_and_backward_raises():
    # an update that bumps _version directly (as optim and nn do) counts as an in-place write
    w = leaf(3)
    x = Tensor(np.ones(3), requires_grad=True)
    loss = (x * w).sum()   # Mul saves w for x's gradient
    with ts.no_grad():
        w.array -= 0.1
        w._version += 1
    with pytest.raises(RuntimeError, match="inplace"):
        loss.backward()


def test_inplace_on_a_view_of_a_saved_array_raises():
    x = leaf(2, 3)
    y = x * 2
    z = (y * y).sum()      # saves y
    v = y.reshape(-1)      # shares y's memory
    with ts.no_grad():
        v[0] = 5.0
    with pytest.raises(RuntimeError, match="inplace"):
        z.backward()


def test_inplace_on_unsaved_tensor_is_fine():
    x = leaf(3)
    y = x + 1              # Add saves nothing
    z = y.sum()
    with ts.no_grad():
        x.add_(1.0)
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))


def test_inplace_on_saved_output_raises():
    x = leaf(3)
    y = x.exp()            # Exp saves its output
    with ts.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_a_write_through_a_temporary_view_is_caught_and_other_rows_are_not():
    # b[1].mul_(2) wrote through a view that was gone by backward: its weak reference died and
    # the write went unseen (torch raises); writes are now kept as byte ranges of b's memory
    for L in (torch, ts):
        buf = L.zeros(4, 3, dtype=L.float64) * 1.0
        x = L.ones(2, 3, dtype=L.float64, requires_grad=True)
        z = buf[0:2] * x
        buf[1].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
    buf = ts.zeros(4, 3, dtype=ts.float64) * 1.0   # a row the node did not save: no error, as
    x = ts.ones(2, 3, dtype=ts.float64, requires_grad=True)   # our check is by overlap
    z = buf[0:2] * x
    buf[3].add_(1)
    z.sum().backward()
    assert x.grad.numpy().tolist() == [[0.0] * 3] * 2


def test_a_long_loop_of_in_place_writes_gives_the_out_of_place_gradient():
    w0 = np.eye(4) * 0.9 + 0.01
    grads = []
    for in_place in (True, False):
        w = ts.tensor(w0, requires_grad=True)
        h = ts.ones(1, 4, dtype=ts.float64)
        for _ in range(3000):
            h = h @ w + 0.01
            h = h.relu_() if in_place else h.relu()
        h.sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
