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


# ------------------------------------------------------------ round 42: a second op-chain fuzzer
def test_scatter_reduce_amax_amin_first_call_in_a_process():
    import subprocess
    import sys
    code = ("import tinygrad_seq as ts\n"
            "for r in ('amax', 'amin'):\n"
            "    out = ts.zeros(1, 3).scatter_reduce(1, ts.tensor([[0, 1, 1]]), ts.tensor([[1., 3., 2.]]), r)\n"
            "    print(r, out.tolist())\n")
    for _ in range(2):   # the second process loads the kernel from Numba's cache: the failing path
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        assert "amax [[1.0, 3.0, 0.0]]" in res.stdout and "amin [[0.0, 0.0, 0.0]]" in res.stdout


def test_repeat_and_tile_of_a_0d_reduction():
    for L in (torch, ts):
        assert tuple(L.tensor([1., 2.]).sum().repeat(()).shape) == ()
        y = L.tensor(0.17, requires_grad=True).exp().tile((1,))
        y.index_put_((L.tensor([0]),), L.tensor([1.0]), accumulate=True)
        assert abs(y.item() - (np.exp(0.17) + 1)) < 1e-6


def test_index_fill_casts_a_0d_value_to_selfs_dtype():
    for make in (lambda L: L.zeros(3, dtype=L.float64).index_fill(0, L.tensor([1]), L.tensor(2.0)),
                 lambda L: L.zeros(3, dtype=L.float16).index_fill_(0, L.tensor([1]), L.tensor(2.0)),
                 lambda L: L.tensor([1, 2, 3], dtype=L.int32).index_fill(0, L.tensor([0]), L.tensor(2.7))):
        a, b = make(torch), make(ts)
        assert a.tolist() == b.tolist() and str(a.dtype).split(".")[-1] == str(b.dtype)


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_by_a_number_keeps_nothing_a_later_write_is_no_error(op):
    for L in (torch, ts):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        a = x * 1
        y = getattr(L, op)(a, 1.5)
        a.mul_(2)
        y.sum().backward()
        assert x.grad.tolist() == [1., 1., 1.]


def test_unsafe_split_pieces_are_not_tracked_views():
    for L in (torch, ts):
        x = L.arange(6., requires_grad=True)
        b = x * 1
        p = b.unsafe_chunk(2)
        assert [q.grad_fn.name() for q in p] == ["UnsafeSplitBackward0"] * 2 and p[0]._base is None
        p[0].mul_(2)   # no multi-output-view error; the memory is b's, as torch's
        assert b.tolist()[:3] == [0.0, 2.0, 4.0]
        (b * 1).sum().backward()
        assert x.grad.tolist() == [1.0] * 6
        leaf = L.arange(4., requires_grad=True)
        leaf.unsafe_split(2)[0].clamp_(0, 1)   # torch's: no view-of-a-leaf error
        assert [q.grad_fn.name() for q in leaf.unsafe_split_with_sizes([1, 3])] == ["UnsafeSplitWithSizesBackward0"] * 2


@pytest.mark.parametrize("op", ["amin0", "min", "aminmax"])
def test_a_write_to_mins_result_raises_as_torchs(op):
    """torch's min() / amin / aminmax nodes keep their result (here composed as -max(-x): checked
    the same); min(dim)'s keeps only the indices (a write to its values is no error, both)."""
    for L in (torch, ts):
        x = L.tensor([[1., -2.], [3., 0.5]], requires_grad=True)
        f = {"amin0": lambda a: a.amin(0), "min": lambda a: a.min(), "aminmax": lambda a: L.aminmax(a, dim=0).min}[op]
        y = f(x * 1)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y * 1.5).sum().backward()
        y = f(x * 1)   # unwritten: backward as before
        y.sum().backward()
        v = (x * 1).min(1).values
        v.mul_(2)
        (v * 1.5).sum().backward()
