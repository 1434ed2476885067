"""Round 41 (2026-12-07): an autograd-API fuzzer and an nn.functional chain fuzzer beside torch 2.13."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _inc(L):
    class Inc(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return Inc


def test_mark_dirty_returns_the_input_with_its_history_moved():
    out = []
    for L in (torch, ts):
        Inc = _inc(L)
        a = L.tensor([1., 2.], requires_grad=True)
        y = a * 1
        z = y * 3                   # used before the in-place Function: its node sees the old y
        b = Inc.apply(y)
        assert b is y and b.grad_fn.name() == "IncBackward"
        (b.sum() + z.sum()).backward()
        out.append((a.grad.tolist(), y._version, y.tolist()))
    assert out[0] == out[1]


def test_mark_dirty_checks_as_torch():
    for L in (torch, ts):
        Inc = _inc(L)
        a = L.tensor([1., 2.], requires_grad=True)
        y = a * 1
        w = y * y                   # saves y
        Inc.apply(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            w.sum().backward()
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
            Inc.apply(L.tensor([1.], requires_grad=True))
        with L.no_grad():
            c = L.tensor([1.])
            assert Inc.apply(c) is c and c.tolist() == [2.0]


def test_a_function_with_only_vjp():
    grads = []
    for L in (torch, ts):
        class Exp(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.exp()

            @staticmethod
            def vjp(ctx, g):
                x, = ctx.saved_tensors
                return g * x.exp()
        x = L.tensor([0., 1.], dtype=L.float64, requires_grad=True)
        Exp.apply(x).sum().backward()
        grads.append(x.grad.numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_gumbel_softmax_of_a_0d_logit():
    for hard in (True, False):
        ts.manual_seed(0)
        y = ts.nn.functional.gumbel_softmax(ts.tensor(0.7, dtype=ts.float64, requires_grad=True), hard=hard, dim=0)
        assert y.shape == () and y.item() == 1.0
        y.backward()


def test_unfold_of_a_kernel_wider_than_the_input_raises_torchs_error():
    def run(L):
        L.nn.functional.unfold(L.ones(1, 1, 2, 4), (1, 3), dilation=(1, 2), padding=0, stride=2)
    with pytest.raises(RuntimeError) as theirs:
        run(torch)
    with pytest.raises(RuntimeError) as ours:
        run(ts)
    assert str(ours.value) == str(theirs.value)
    x = ts.arange(16.).reshape(1, 1, 4, 4)   # and a fitting one as before
    np.testing.assert_array_equal(ts.nn.functional.unfold(x, 2, stride=2).numpy(),
                                  torch.nn.functional.unfold(torch.arange(16.).reshape(1, 1, 4, 4), 2, stride=2).numpy())


def test_functional_batch_norm_momentum_is_a_float_argument():
    for training in (False, True):
        for L in (torch, ts):
            with pytest.raises(TypeError, match=r"argument 'momentum' \(position 7\) must be float, not NoneType"):
                L.nn.functional.batch_norm(L.ones(2, 3), L.zeros(3), L.ones(3), training=training, momentum=None)
    rm = ts.zeros(3)
    ts.nn.functional.batch_norm(ts.tensor([[1., 2., 3.], [3., 4., 5.]]), rm, ts.ones(3), training=True,
                                momentum=ts.tensor(0.5))
    assert rm.tolist() == [1.0, 1.5, 2.0]


def test_item_assignment_of_a_value_the_dtype_cannot_hold():
    for L in (torch, ts):
        for run in (lambda: L.zeros(3, dtype=L.int64).__setitem__(0, float("nan")),
                    lambda: L.zeros(4, dtype=L.int64).__setitem__(L.tensor([0, 1]), float("nan"))):
            with pytest.raises(RuntimeError, match="value cannot be converted to type int64_t without overflow"):
                run()


@pytest.mark.parametrize("name", ["copysign", "hypot", "atan2", "xlogy", "fmax", "logaddexp"])
def test_binary_host_functions_keep_torchs_saved_operands(name):
    """A write to an operand torch's node does not keep is no error (copysign keeps its first
    operand only where its gradient is needed, hypot each operand for its own gradient)."""
    for which in ("a", "z"):
        for write in ("a", "z"):
            got = []
            for L in (torch, ts):
                a = L.tensor([.3, -.5], dtype=L.float64, requires_grad=(which == "a")) * 1
                z = L.tensor([.4, .45], dtype=L.float64, requires_grad=(which == "z")) * 1
                y = getattr(L, name)(a, z)
                (a if write == "a" else z).mul_(1.0)
                try:
                    g, = L.autograd.grad(y.sum(), a if which == "a" else z)
                    got.append(np.round(g.numpy(), 9).tolist())
                except RuntimeError as e:
                    got.append("modified by an inplace operation" in str(e))
            assert got[0] == got[1], (which, write, got)
