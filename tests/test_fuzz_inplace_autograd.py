"""In-place writes and autograd, checked against torch 2.13: findings of the op-chain differential
fuzzer (detach_() of an intermediate, fill_ / zero_ of 0-d op results, writes to saved 0-d
tensors, refused in-place ops, writes after an in-place op that saved its result, in-place ops on
split / chunk / unbind outputs) and their neighbours."""
import numpy as np
import pytest


torch = pytest.importorskip("torch")
from torch_compare import on_both  # noqa: E402


_both = on_both


def _same(t, s):
    if isinstance(t, type) or isinstance(s, type):
        assert isinstance(t, type) and isinstance(s, type) and issubclass(s, t), (t, s)
        return
    assert (t is None) == (s is None), (t, s)
    if t is not None:
        np.testing.assert_allclose(s.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


def _raises_both(f):
    t, s = _both(f)
    assert t is RuntimeError
    assert isinstance(s, type) and issubclass(s, RuntimeError), f"no error: {s}"


# ------------------------------------------------------------------ detach_()
def test_detach_inplace_keeps_graph_of_earlier_consumers():
    def f(M):
        w = M.tensor([0.5], dtype=M.float64, requires_grad=True)
        h, outs = M.tensor([1.0], dtype=M.float64), []
        for _ in range(3):
            h = (h * w).tanh()
            outs.append(h)
        loss = M.stack(outs).sum()
        h.detach_()
        loss.backward()
        return w.grad
    _same(*_both(f))


def test_detach_inplace_after_add_consumer():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 2
        c = b + 1
        b.detach_()
        c.sum().backward()
        return a.grad
    _same(*_both(f))


def test_detach_inplace_tensor_is_a_leaf_for_later_ops():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 2
        c = b + 1
        b.detach_()
        assert b.is_leaf and not b.requires_grad and b.grad_fn is None
        e = b * 3                        # made after: b is a constant
        (c * e).sum().backward()
        return a.grad
    _same(*_both(f))


def test_detach_inplace_then_rebased_by_grad_write():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 2
        c = b.exp()                      # saves its output, not b: no error
        b.detach_()
        b.add_(a)
        (c + b).sum().backward()
        return a.grad
    _same(*_both(f))


def test_detach_inplace_of_saved_tensor_raises_at_backward():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 2
        c = b * b                        # saves b
        b.detach_()
        c.sum().backward()
    _raises_both(f)


def test_detach_inplace_view_of_detached_base_keeps_its_graph():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 2
        v = b[0]
        b.detach_()
        (v * v).backward()
        return a.grad
    _same(*_both(f))


def test_detach_inplace_keeps_retained_grad():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 2
        b.retain_grad()
        c = b * 1
        b.detach_()
        c.sum().backward()
        return M.cat([a.grad, b.grad])
    _same(*_both(f))


def test_detach_inplace_of_saved_leaf_gives_it_no_grad():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        w = M.tensor([3., 4.], dtype=M.float64, requires_grad=True)
        c = a * w
        a.detach_()
        c.sum().backward()
        assert a.grad is None
        return w.grad
    _same(*_both(f))


# ------------------------------------------------------------------ fill_ / zero_ of 0-d op results
@pytest.mark.parametrize("make", ["sum", "mean", "exp", "mul", "select"])
@pytest.mark.parametrize("op", ["zero_", "fill_", "fill_tensor"])
def test_fill_zero_on_0d_op_result(make, op):
    def f(M):
        x = M.tensor([1.0, 2.0])
        s = {"sum": lambda: x.sum(), "mean": lambda: x.mean(0), "exp": lambda: x[0].exp(),
             "mul": lambda: x.sum() * 2, "select": lambda: x[0] * 1}[make]()
        alias = s.detach()               # shares the memory: sees the write
        {"zero_": lambda: s.zero_(), "fill_": lambda: s.fill_(7.0),
         "fill_tensor": lambda: s.fill_(M.tensor(-2.0))}[op]()
        return M.stack([s, alias])
    _same(*_both(f))


# ------------------------------------------------------------------ writes to saved 0-d tensors
@pytest.mark.parametrize("unary,inplace", [("exp", "add_"), ("exp", "clamp_"), ("exp", "zero_"),
                                           ("sqrt", "relu_"), ("sqrt", "mul_"), ("exp", "fill_")])
def test_inplace_on_saved_0d_output_raises(unary, inplace):
    def f(M):
        a = M.tensor(0.5, dtype=M.float64, requires_grad=True)
        b = getattr(a, unary)()          # exp / sqrt save their output
        {"add_": lambda: b.add_(1), "clamp_": lambda: b.clamp_(0, 1), "zero_": lambda: b.zero_(),
         "relu_": lambda: b.relu_(), "mul_": lambda: b.mul_(2), "fill_": lambda: b.fill_(3.0)}[inplace]()
        b.backward()
    _raises_both(f)


@pytest.mark.parametrize("through", ["itself", "detach"])
def test_inplace_on_saved_0d_input_raises(through):
    def f(M):
        a = M.tensor(0.5, dtype=M.float64, requires_grad=True)
        c = M.tensor(0.9, dtype=M.float64) * 1      # a 0-d op result
        loss = a * c                                  # saves c
        {"itself": lambda: c, "detach": lambda: c.detach(), "data": lambda: c.data}[through]().clamp_(1.3, 3.3)
        loss.backward()
    _raises_both(f)


def test_saved_0d_unwritten_still_differentiates():
    def f(M):
        a = M.tensor(0.5, dtype=M.float64, requires_grad=True)
        c = M.tensor(0.9, dtype=M.float64) * 1
        loss = a * c
        c.item(), c.numpy()                          # reads are no writes
        d = (c + 1).add_(1)                          # nor is a write to another tensor
        (loss * d).backward()
        return a.grad
    _same(*_both(f))


# ------------------------------------------------------------------ refused in-place ops
def test_refused_inplace_on_leaf_view_does_not_poison_backward():
    def f(M):
        x = M.tensor([[-1.281], [0.716]], dtype=M.float64, requires_grad=True)
        c = x.clamp(-0.29, 0.21)                 # saves x
        with pytest.raises(RuntimeError):   # the refusal itself, on both sides
            x.unsqueeze(0).relu_()               # refused: a view of a leaf that requires grad
        c.sum().backward()
        return x.grad
    _same(*_both(f))


def test_refused_inplace_does_not_count_as_a_write():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = a * 1
        c = b * b                                # saves b
        v0 = b._version
        with pytest.raises(RuntimeError):   # the refusal itself, on both sides
            b.add_(M.ones(3, dtype=M.float64))   # refused: the shapes do not fit
        assert b._version == v0
        c.sum().backward()
        return a.grad
    _same(*_both(f))


def test_refused_inplace_outside_graph_does_not_count_as_a_write():
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        b = M.tensor([3., 4.], dtype=M.float64)
        c = a * b                                # saves b
        with pytest.raises(RuntimeError):   # the refusal itself, on both sides
            b.mul_(M.ones(3, dtype=M.float64))
        c.sum().backward()
        return a.grad
    _same(*_both(f))


# ------------------------------------------------------------------ ops that save their result
@pytest.mark.parametrize("first", ["relu_", "sigmoid_", "tanh_", "exp_"])
def test_write_after_inplace_op_that_saved_its_result_raises(first):
    def f(M):
        a = M.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=M.float64, requires_grad=True)
        b = a * 1
        getattr(b, first)()
        b[0] = 1.0                   # overwrites what that backward needs
        b.sum().backward()
    _raises_both(f)


@pytest.mark.parametrize("first", ["relu_", "sigmoid_", "tanh_", "exp_"])
def test_inplace_op_that_saved_its_result_differentiates(first):
    def f(M):
        a = M.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=M.float64, requires_grad=True)
        b = a * 1
        getattr(b, first)()
        (b * b).sum().backward()
        return a.grad
    _same(*_both(f))


def test_second_inplace_op_after_relu_raises():
    def f(M):
        a = M.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=M.float64, requires_grad=True)
        b = a * 1
        b.relu_()
        b.mul_(2)
        b.sum().backward()
    _raises_both(f)


# ------------------------------------------------------------------ outputs of split / chunk / unbind
@pytest.mark.parametrize("fn", ["split", "split_sizes", "chunk", "unbind", "piece_of_piece", "view_of_piece"])
def test_inplace_on_multi_view_output_raises(fn):
    def f(M):
        a = M.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        b = a * 2
        p = {"split": lambda: b.split(1)[1], "split_sizes": lambda: b.split([1, 1])[0],
             "chunk": lambda: b.chunk(2)[0], "unbind": lambda: b.unbind(0)[1],
             "piece_of_piece": lambda: b.split(1)[0][0], "view_of_piece": lambda: b.split(1)[0].view(2)}[fn]()
        p.mul_(2)
    _raises_both(f)


@pytest.mark.parametrize("case", ["no_grad", "no_grad_base", "detached", "plain_view"])
def test_inplace_on_multi_view_output_allowed(case):
    def f(M):
        a = M.tensor([[1., 2.], [3., 4.]], dtype=M.float64, requires_grad=True)
        b = a * 2
        if case == "no_grad":
            p = b.split(1)[0]
            with M.no_grad():
                p.mul_(2)
            return b.detach()
        if case == "no_grad_base":
            x = M.ones(4, dtype=M.float64)
            x.split(2)[0].mul_(2)
            return x
        if case == "detached":
            p = b.split(1)[0].detach()
            p.mul_(2)
            return b.detach()
        b[0].mul_(3)                     # a plain view: recorded on its base
        b.sum().backward()
        return a.grad
    _same(*_both(f))
