"""Differential-fuzzer findings, checked against torch: masking backwards select (an inf or nan
upstream gradient gives 0 where the mask drops it, not inf * 0 = nan), flip copies, in-place ops
on an expand that repeats nothing, and small edge cases (0-d flip / max(dim), empty argmax, cat's
empty inputs, view() / reshape() with no shape)."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import backend_cpu
from tinygrad_seq.internal_overlap import check_no_internal_overlap

torch = pytest.importorskip("torch")
from torch_compare import on_both  # noqa: E402

INF, NAN = float("inf"), float("nan")


def _grads(M, make, xs, gout, others=()):
    """Gradients of inputs xs (and others) of y = make(M, *inputs) for upstream gradient gout."""
    x = M.tensor(xs, dtype=M.float64, requires_grad=True)
    o = [M.tensor(v, dtype=M.float64, requires_grad=True) for v in others]
    make(M, x, *o).backward(M.tensor(gout, dtype=M.float64))
    return [t.grad.numpy() for t in (x, *o)]


def _same(make, xs, gout, others=()):
    want, got = _grads(torch, make, xs, gout, others), _grads(ts, make, xs, gout, others)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)   # nan where torch has nan, inf where torch has inf


# ------------------------------------------------------------------ masking backwards
XS = [NAN, -1.0, 0.0, 0.5, 1.0, 2.0]
GOUT = [1.0, INF, NAN, -INF, NAN, INF]


@pytest.mark.parametrize("name,make", [
    ("relu", lambda M, x: x.relu()),
    ("clamp", lambda M, x: x.clamp(0, 1)),
    ("clamp_min", lambda M, x: x.clamp(min=0)),
    ("clamp_max", lambda M, x: x.clamp(max=0.5)),
    ("clamp_", lambda M, x: (x * 1).clamp_(0, 1)),
    ("relu_", lambda M, x: (x * 1).relu_()),
    ("F.relu", lambda M, x: (torch.nn.functional if M is torch else ts.nn.functional).relu(x)),
])
def test_masking_backward_selects(name, make):
    _same(make, XS, GOUT)


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_minimum_backward_selects_and_splits_ties(fn):
    other = [1.0, NAN, 0.0, 0.5, 3.0, 2.0]   # nan on either side, ties (0 and 0.5 and 2), both orders
    _same(lambda M, x, b: getattr(M, fn)(x, b), XS, GOUT, (other,))


def test_maximum_backward_broadcasts():
    _same(lambda M, x, b: M.maximum(x, b), [[-1.0, 2.0, 0.0]], [[INF, 1.0, NAN], [2.0, -INF, 1.0]], ([[0.0], [1.0]],))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masking_backward_large_arrays_take_the_kernel_path(dtype):
    # 64 x 256: backend_cpu.zero_where's Numba pass; a transposed g takes np.where
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 256)).astype(dtype)
    g = rng.standard_normal((64, 256)).astype(dtype)
    g[0, :4] = [INF, NAN, -INF, NAN]
    x[0, :4] = [-1.0, -1.0, 1.0, 1.0]
    for gg in (g, np.ascontiguousarray(g.T).T):
        tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
        tx.relu().backward(torch.tensor(gg))
        sx.relu().backward(ts.tensor(gg))
        np.testing.assert_array_equal(sx.grad.numpy(), tx.grad.numpy())
        assert sx.grad.numpy().dtype == dtype


def test_zero_where_matches_numpy_where():
    rng = np.random.default_rng(1)
    g = rng.standard_normal((40, 50)).astype(np.float32)
    g[::7, ::3] = INF
    drop = rng.random((40, 50)) < 0.5
    for args in ((drop, g), (drop[:1], g[:1]), (drop[:, :1], g), (np.asarray(True), np.asarray(np.float32(NAN)))):
        out = backend_cpu.zero_where(*args)
        np.testing.assert_array_equal(out, np.where(args[0], np.float32(0), args[1]))
        assert out.dtype == np.float32


# ------------------------------------------------------------------ flip copies
@pytest.mark.parametrize("shape,dims", [((1, 2), (0,)), ((1,), (0,)), ((2, 1), (1,)), ((3, 2), (0,)),
                                        ((), (0,)), ((), (-1,))])
def test_flip_is_a_copy(shape, dims):
    out = []
    for M in (torch, ts):
        x = M.arange(1.0, 1.0 + int(np.prod(shape))).reshape(shape)
        y = x.flip(dims)
        y.mul_(10)
        out.append((x.numpy().copy(), y.numpy().copy()))
    for (tx, ty), (sx, sy) in zip(out[:1], out[1:]):
        np.testing.assert_array_equal(sx, tx)
        np.testing.assert_array_equal(sy, ty)


def test_flip_0d_bad_dims_raise():
    with pytest.raises(IndexError):
        ts.tensor(2.0).flip(1)
    with pytest.raises(RuntimeError):
        ts.tensor(2.0).flip(0, -1)
    with pytest.raises(RuntimeError):
        ts.ones(2).flip(0, 0)


# ------------------------------------------------------------------ in-place on expand
@pytest.mark.parametrize("make", [
    lambda M, x: x.expand(3),
    lambda M, x: x.expand(1, 3),
    lambda M, x: x.unsqueeze(0).expand(1, -1),
    lambda M, x: x.unsqueeze(1).expand(3, 1),
])
def test_inplace_on_expand_without_repeats_writes_the_source(make):
    out = []
    for M in (torch, ts):
        x = M.tensor([1.0, 2.0, 3.0])
        y = make(M, x)
        y.add_(1)
        out.append((x.numpy().copy(), y.numpy().copy()))
    np.testing.assert_array_equal(out[1][0], out[0][0])
    np.testing.assert_array_equal(out[1][1], out[0][1])


def test_expand_with_repeats_is_still_a_broadcast_view():
    x = ts.tensor([[1.0], [2.0]], requires_grad=True)
    y = x.expand(2, 3)
    np.testing.assert_array_equal(y.numpy(), torch.tensor([[1.0], [2.0]]).expand(2, 3).numpy())
    (y * ts.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[6.0], [6.0]])


def test_repeat_of_empty_is_writable():
    for M in (torch, ts):
        x = M.zeros(0, 3).repeat(2, 1)
        x.zero_()
        assert tuple(x.shape) == (0, 3)


def test_internal_overlap_check_is_torchs():
    check_no_internal_overlap(np.broadcast_to(np.ones(3), (1, 3)))     # stride 0, size 1: no repeat
    check_no_internal_overlap(np.broadcast_to(np.ones(()), (3,))[2:])  # one element of a repeat
    check_no_internal_overlap(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        check_no_internal_overlap(np.broadcast_to(np.ones((2, 1)), (2, 3)))
    with pytest.raises(RuntimeError):
        torch.tensor([[1.0], [2.0]]).expand(2, 3).add_(1)


# ------------------------------------------------------------------ edge cases
@pytest.mark.parametrize("fn", ["argmax", "argmin"])
def test_arg_reductions_of_empty_raise_index_error(fn):
    for make in (lambda M: getattr(M.zeros(2, 0), fn)(1), lambda M: getattr(M.zeros(0), fn)()):
        for M in (torch, ts):
            with pytest.raises(IndexError):
                make(M)
    for M in (torch, ts):   # a non-empty reduced dim of an empty tensor is fine
        assert tuple(getattr(M.zeros(2, 0), fn)(0).shape) == (0,)


def test_view_without_shape_is_a_type_error():
    # reshape() stays permissive: the library's own x.reshape(*shape) calls pass an empty shape
    for M in (torch, ts):
        with pytest.raises(TypeError):
            M.tensor(2.0).view()
    assert ts.tensor(2.0).reshape(()).shape == () and ts.tensor([2.0]).view(()).shape == ()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cat_gives_empty_grad_to_empty_inputs(dtype):
    out = []
    for M in (torch, ts):
        a = M.ones(2, 2, requires_grad=True)
        e = M.zeros(0, dtype=getattr(M, dtype), requires_grad=True)
        y = M.cat([e, a, e])
        (y * 3).sum().backward()
        out.append((str(y.dtype).split(".")[-1], e.grad.numpy(), a.grad.numpy()))
    assert out[0][0] == out[1][0]   # the empty input's dtype takes part in the promotion
    np.testing.assert_array_equal(out[1][1], out[0][1])
    np.testing.assert_array_equal(out[1][2], out[0][2])
    assert tuple(ts.cat([ts.zeros(0), ts.zeros(0)]).shape) == (0,)


@pytest.mark.parametrize("fn", ["max", "min"])
def test_max_dim_of_0d_is_not_a_view(fn):
    for M in (torch, ts):
        x = M.tensor(2.0, requires_grad=True)
        m = getattr(x, fn)(-1, keepdim=True)[0]
        m.detach_()
        assert float(m) == 2.0 and not m.requires_grad
        v = getattr(x, fn)(0)[0]
        v.backward()
        assert float(x.grad) == 1.0


_on_both = on_both


@pytest.mark.parametrize("op", ["zero_", "fill_", "fill_tensor"])
def test_fill_in_graph_overwrites_inf_and_names_its_node(op):
    def f(M):
        a = M.tensor([1., 2.], dtype=M.float64, requires_grad=True)
        v = M.tensor(3., dtype=M.float64, requires_grad=True)
        b = a.masked_fill(M.tensor([True, False]), float("-inf"))
        {"zero_": lambda: b.zero_(), "fill_": lambda: b.fill_(0.5), "fill_tensor": lambda: b.fill_(v)}[op]()
        (b * M.tensor([2., 5.], dtype=M.float64)).sum().backward()
        return (b.detach().numpy(), a.grad.numpy(), None if v.grad is None else v.grad.numpy(),
                b.grad_fn.name())
    t, s = _on_both(f)
    for u, w in zip(t[:3], s[:3]):
        assert (u is None) == (w is None)
        if u is not None:
            np.testing.assert_array_equal(w, u)
    assert s[3] == t[3]


def test_inplace_on_repeating_expand_is_runtime_error():
    def f(M):
        x = M.tensor([[1.], [2.]])
        x.expand(2, 3).add_(1)
        return x
    t, s = _on_both(f)
    assert t is RuntimeError and isinstance(s, type) and issubclass(s, RuntimeError), (t, s)
