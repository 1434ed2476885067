"""Shape ops and scatter / gather as PyTorch's test/test_shape_ops.py and
test/test_scatter_gather_ops.py check them, each against torch: numpy-integer dims, out= of
nonzero / diag, flip / roll / unfold / trace edge cases, empty and uint8 indices, scatter_reduce's
bool rules, "max" / "min" names and double backward."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _np(t):
    return np.asarray(t.detach().numpy())


def _outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001
        return None, e


# 1. numpy integer dims are refused (ops._norm_axes: isinstance(axis, int))
@pytest.mark.parametrize("name", ["movedim", "narrow", "roll", "rot90", "unfold", "gather",
                                  "select", "unbind", "sum", "transpose"])
def test_numpy_int_dim(name):
    i = np.int64
    calls = {
        "movedim": lambda L, x: x.movedim(i(0), i(2)),
        "narrow": lambda L, x: x.narrow(i(1), i(1), i(2)),
        "roll": lambda L, x: x.roll(i(1), i(1)),
        "rot90": lambda L, x: x.rot90(i(1), [i(0), i(1)]),
        "unfold": lambda L, x: x.unfold(i(2), i(2), i(1)),
        "gather": lambda L, x: x.gather(i(2), L.zeros(2, 3, 1, dtype=L.long)),
        "select": lambda L, x: x.select(i(1), i(1)),
        "unbind": lambda L, x: x.unbind(i(1))[0],
        "sum": lambda L, x: x.sum(i(0)),
        "transpose": lambda L, x: x.transpose(i(0), 1),
    }
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    want = calls[name](torch, torch.tensor(a))
    got = calls[name](ts, ts.tensor(a))
    np.testing.assert_array_equal(_np(got), want.numpy())


# 2. torch.nonzero(..., out=) is not accepted (functions.nonzero)
def test_nonzero_out():
    a = np.array([[0, 1.5], [2, 0]], dtype=np.float32)
    o_t = torch.empty([], dtype=torch.long)
    torch.nonzero(torch.tensor(a), out=o_t)
    o = ts.empty([], dtype=ts.long)
    r = ts.nonzero(ts.tensor(a), out=o)
    assert r is o
    np.testing.assert_array_equal(_np(o), o_t.numpy())


def test_nonzero_out_errors_are_runtime_errors():
    t = ts.randn(3, 3)
    with pytest.raises(RuntimeError):   # torch: "nonzero does not support the out kwarg when as_tuple is True"
        ts.nonzero(t, as_tuple=True, out=ts.empty(27, 3, dtype=ts.long))
    with pytest.raises(RuntimeError):   # torch: "Expected out tensor to have scalar type Long"
        ts.nonzero(t, out=ts.empty([], dtype=ts.float32))


# 3. torch.diag(..., out=) is not accepted (functions.diag)
def test_diag_out():
    a = np.random.RandomState(0).rand(5, 5).astype(np.float32)
    o_t = torch.tensor(())
    torch.diag(torch.tensor(a), out=o_t)
    o = ts.tensor(())
    r = ts.diag(ts.tensor(a), out=o)
    assert r is o
    np.testing.assert_array_equal(_np(o), o_t.numpy())


# 4. flip of a 0-d tensor gives shape (1,) instead of () (tensor_shape.ShapeOps.flip)
def test_flip_0d_shape():
    assert tuple(torch.tensor(1.0).flip(0).shape) == ()
    assert tuple(ts.tensor(1.0).flip(0).shape) == ()


# 5. t.flip() with no dims is accepted; torch raises TypeError
def test_flip_without_dims_raises():
    with pytest.raises(TypeError):
        torch.zeros(2, 2).flip()
    with pytest.raises(TypeError):
        ts.zeros(2, 2).flip()


# 6. unfold with size 0 raises; torch gives empty windows (shape_copies.unfold)
@pytest.mark.parametrize("shape,args", [((), (0, 0, 1)), ((), (0, 0, 2)), ((2, 7, 5), (2, 0, 1)),
                                        ((7,), (0, 0, 3))])
def test_unfold_size_zero(shape, args):
    want = torch.zeros(shape).unfold(*args)
    got = ts.zeros(shape).unfold(*args)
    assert tuple(got.shape) == tuple(want.shape)


# 7. an empty index of another rank / shape: torch does nothing (scatter) or returns an
# empty result (gather); ours raises (index_scatter_writes.scatter_args, ShapeOps.gather)
@pytest.mark.parametrize("op", ["scatter", "scatter_add", "scatter_reduce", "scatter_reduce_amax",
                                "scatter_2d_empty", "gather"])
def test_empty_index(op):
    def call(L):
        s = L.tensor(np.arange(15.0, dtype=np.float32).reshape(3, 5))
        e = L.zeros(0, dtype=L.long)
        src = L.ones(2, 2)
        return {
            "scatter": lambda: s.scatter(1, e, src),
            "scatter_add": lambda: s.scatter_add(0, e, src),
            "scatter_reduce": lambda: s.scatter_reduce(0, e, src, "sum"),
            "scatter_reduce_amax": lambda: s.scatter_reduce(0, e, src, "amax", include_self=False),
            "scatter_2d_empty": lambda: s.scatter(1, L.zeros(0, 5, dtype=L.long), src),
            "gather": lambda: L.gather(s, 1, e),
        }[op]()
    want = call(torch)
    got = call(ts)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(_np(got), want.numpy())


# 8. scatter_reduce amax / amin of bool with include_self=False crash with
# ValueError "Invalid integer data type 'b'" (scatter_reduce_op._identity uses np.iinfo(bool))
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_bool_amax_amin(reduce):
    def call(L):
        return L.zeros(1, 3, dtype=L.bool).scatter_reduce(
            1, L.tensor([[0, 0, 2]]), L.tensor([[True, False, True]]), reduce, include_self=False)
    np.testing.assert_array_equal(_np(call(ts)), call(torch).numpy())


# 9. scatter_reduce "mean" of bool: torch raises NotImplementedError, ours computes
def test_scatter_reduce_bool_mean_raises():
    def call(L):
        return L.zeros(1, 3, dtype=L.bool).scatter_reduce(
            1, L.tensor([[0, 0, 2]]), L.tensor([[True, False, True]]), "mean")
    with pytest.raises(NotImplementedError):
        call(torch)
    with pytest.raises(NotImplementedError):
        call(ts)


# 10. a uint8 index to gather / scatter / scatter_add is used as indices; torch raises
# RuntimeError "Expected dtype int32/int64 for index" (kind "iu" accepted in scatter_args / gather)
@pytest.mark.parametrize("op", ["gather", "scatter", "scatter_add", "scatter_reduce"])
def test_uint8_index_refused(op):
    def call(L):
        s = L.zeros(3, 5)
        i = L.zeros(3, 2, dtype=L.uint8)
        return {"gather": lambda: L.gather(s, 1, i),
                "scatter": lambda: s.scatter(1, i, 1.0),
                "scatter_add": lambda: s.scatter_add(1, i, L.ones(3, 2)),
                "scatter_reduce": lambda: s.scatter_reduce(1, i, L.ones(3, 2), "sum")}[op]()
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(ts)


# 11. scatter(reduce="sum" / "mean") raises ValueError; torch raises RuntimeError
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_scatter_bad_reduce_is_runtime_error(reduce):
    def call(L):
        return L.zeros(3, 5).scatter(1, L.zeros(3, 2, dtype=L.long), L.ones(3, 2), reduce=reduce)
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(ts)


# 12. scatter_reduce takes "max" / "min" in torch 2.13 (as amax / amin); ours raises
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_reduce_max_min_names(reduce):
    def call(L):
        s = L.tensor(np.arange(15.0, dtype=np.float32).reshape(3, 5))
        return s.scatter_reduce(1, L.tensor([[0, 0], [1, 1], [2, 3]]),
                                L.tensor([[100.0, -100.0], [7.0, -7.0], [50.0, 50.0]]), reduce)
    np.testing.assert_array_equal(_np(call(ts)), call(torch).numpy())


# 13. double backward through scatter_reduce raises "not supported" (not in the README's list)
@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "amax"])
def test_scatter_reduce_double_backward(reduce):
    rng = np.random.RandomState(0)
    x = rng.randn(4, 6)
    src = rng.randn(4, 3)
    idx = rng.randint(0, 6, size=(4, 3))

    def go(L):
        a = L.tensor(x, requires_grad=True)
        b = L.tensor(src, requires_grad=True)
        y = (a.scatter_reduce(1, L.tensor(idx), b, reduce) ** 2).sum()
        ga, gb = L.autograd.grad(y, [a, b], create_graph=True)
        ((ga * ga).sum() + (gb * gb).sum()).backward()
        return a.grad, b.grad
    wa, wb = go(torch)
    ga, gb = go(ts)
    np.testing.assert_allclose(_np(ga), wa.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(_np(gb), wb.numpy(), rtol=1e-10, atol=1e-10)


# 14. roll of a 0-d tensor with dims=0: torch IndexError, ours returns (shape_copies.roll)
def test_roll_0d_with_dim_raises():
    with pytest.raises(IndexError):
        torch.roll(torch.tensor(1.0), 1, 0)
    with pytest.raises(IndexError):
        ts.roll(ts.tensor(1.0), 1, 0)


# 15. trace of a bool matrix: torch NotImplementedError, ours returns an int64 (tensor_more.trace)
def test_trace_bool_raises():
    with pytest.raises(NotImplementedError):
        torch.tensor([[True, False], [True, True]]).trace()
    with pytest.raises(NotImplementedError):
        ts.tensor([[True, False], [True, True]]).trace()


# 16. narrow_copy with a dim out of range: torch RuntimeError, ours IndexError only
def test_narrow_copy_dim_out_of_range_error_type():
    with pytest.raises(RuntimeError):
        torch.zeros(3, 4, 5).narrow_copy(3, 0, 1)
    with pytest.raises(RuntimeError):
        ts.zeros(3, 4, 5).narrow_copy(3, 0, 1)


# ---------------------------------------------------------------- beyond the audit's findings
def _same_outcome(call):
    """call(L) on torch and on ours: equal values, or the same error class."""
    want, want_err = _outcome(lambda: call(torch))
    got, got_err = _outcome(lambda: call(ts))
    if want_err is not None:
        assert isinstance(got_err, type(want_err)), (want_err, got_err)
        return
    assert got_err is None, got_err
    assert _np(got).shape == want.numpy().shape and _np(got).dtype == want.numpy().dtype
    np.testing.assert_array_equal(_np(got), want.numpy())


@pytest.mark.parametrize("name", ["sum_bool", "sum_np_bool", "sum_bool_first", "sum_bool_second", "transpose_bool",
                                  "movedim_bool", "roll_bool", "flip_bool", "unsqueeze_bool", "softmax_bool",
                                  "sum_float", "sum_0d", "mean_0d", "select_0d", "transpose_0d", "movedim_0d",
                                  "mean_np", "softmax_np", "squeeze_np", "unsqueeze_np", "cumsum_np",
                                  "narrow_copy_np", "moveaxis_np", "roll_np_lists", "sum_np_list"])
def test_dim_arguments_as_torch(name):
    i = np.int64
    calls = {
        "sum_bool": lambda L, x: x.sum(True),
        "sum_np_bool": lambda L, x: x.sum(np.bool_(True)),
        "sum_bool_first": lambda L, x: x.sum((True,)),
        "sum_bool_second": lambda L, x: x.sum((0, True)),   # torch's parser reads the first only
        "transpose_bool": lambda L, x: x.transpose(True, 0),
        "movedim_bool": lambda L, x: x.movedim(True, 0),
        "roll_bool": lambda L, x: x.roll(1, True),
        "flip_bool": lambda L, x: x.flip(True),
        "unsqueeze_bool": lambda L, x: x.unsqueeze(True),
        "softmax_bool": lambda L, x: x.softmax(True),
        "sum_float": lambda L, x: x.sum(1.0),
        "sum_0d": lambda L, x: x.sum(L.tensor(1)),
        "mean_0d": lambda L, x: x.mean(L.tensor(0)),
        "select_0d": lambda L, x: x.select(L.tensor(1), L.tensor(0)),
        "transpose_0d": lambda L, x: x.transpose(L.tensor(1), 0),
        "movedim_0d": lambda L, x: x.movedim(L.tensor(0), 1),
        "mean_np": lambda L, x: x.mean(i(0)),
        "softmax_np": lambda L, x: x.softmax(i(1)) * 0,   # (rounding aside: the dim is what is tested)
        "squeeze_np": lambda L, x: x.reshape(1, 2, 3).squeeze(i(0)),
        "unsqueeze_np": lambda L, x: x.unsqueeze(i(1)),
        "cumsum_np": lambda L, x: x.cumsum(i(1)),
        "narrow_copy_np": lambda L, x: x.narrow_copy(i(1), i(0), i(2)),
        "moveaxis_np": lambda L, x: x.moveaxis(i(0), i(1)),
        "roll_np_lists": lambda L, x: x.roll([i(1)], [i(1)]),
        "sum_np_list": lambda L, x: x.sum([i(0), 1]),
    }
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    _same_outcome(lambda L: calls[name](L, L.tensor(a)))


@pytest.mark.parametrize("name", ["scatter_bad_dim", "gather_bad_dim", "gather_0d_self", "gather_uint8", "scatter_uint8",
                                  "scatter_value", "scatter_multiply", "scatter_bad_reduce", "scatter_src_dtype",
                                  "scatter_reduce_bool_mean", "scatter_0d_self", "gather_3d_index",
                                  "gather_int32", "scatter_int32", "scatter_add_int32", "scatter_reduce_int32",
                                  "index_add_uint8", "scatter_reduce_bool_sum", "scatter_reduce_bool_prod"])
def test_index_edge_cases_as_torch(name):
    def call(L):
        s = L.tensor(np.arange(15.0, dtype=np.float32).reshape(3, 5))
        e = L.zeros(0, dtype=L.long)
        i32 = L.tensor([[0, 1], [2, 3], [4, 4]], dtype=L.int32)
        b = L.tensor(np.arange(15).reshape(3, 5) % 2 == 0)
        bi = L.tensor([[0, 0], [1, 2], [3, 3]])
        return {
            "scatter_bad_dim": lambda: s.scatter(5, e, L.ones(2)),
            "gather_bad_dim": lambda: s.gather(5, e),
            "gather_0d_self": lambda: L.tensor(1.0).gather(0, e),
            "gather_uint8": lambda: s.gather(1, L.zeros(0, 2, dtype=L.uint8)),
            "scatter_uint8": lambda: s.scatter(1, L.zeros(0, dtype=L.uint8), 1.0),
            "scatter_value": lambda: s.scatter(1, e, 1.0),
            "scatter_multiply": lambda: s.scatter(1, e, L.ones(2), reduce="multiply"),
            "scatter_bad_reduce": lambda: s.scatter(1, e, L.ones(2), reduce="sum"),
            "scatter_src_dtype": lambda: s.scatter(1, e, L.ones(2, dtype=L.long)),
            "scatter_reduce_bool_mean": lambda: b.scatter_reduce(1, e, L.ones(2, dtype=L.bool), "mean"),
            "scatter_0d_self": lambda: L.tensor(1.0).scatter(0, e, L.ones(2)),
            "gather_3d_index": lambda: s.gather(0, L.zeros(0, 10, 2, dtype=L.long)),
            "gather_int32": lambda: s.gather(1, i32),
            "scatter_int32": lambda: s.scatter(1, i32, -1.0),
            "scatter_add_int32": lambda: s.scatter_add(1, i32, L.ones(3, 2)),
            "scatter_reduce_int32": lambda: s.scatter_reduce(1, i32, L.ones(3, 2), "amin"),
            "index_add_uint8": lambda: s.index_add(1, L.tensor([0, 1], dtype=L.uint8), L.ones(3, 2)),
            "scatter_reduce_bool_sum": lambda: b.scatter_reduce(1, bi, L.ones(3, 2, dtype=L.bool), "sum"),
            "scatter_reduce_bool_prod": lambda: b.scatter_reduce(1, bi, L.zeros(3, 2, dtype=L.bool), "prod",
                                                                 include_self=False),
        }[name]()
    _same_outcome(call)


def test_empty_gather_gradient_is_zero():
    a = ts.tensor(np.ones((3, 5)), requires_grad=True)
    a.gather(1, ts.zeros(0, dtype=ts.long)).sum().backward()
    np.testing.assert_array_equal(_np(a.grad), np.zeros((3, 5)))


@pytest.mark.parametrize("shape,args", [((7,), (0, 0, 0)), ((3,), (0, -1, 1)), ((7,), (0, 8, 1)), ((), (0, 2, 1)),
                                        ((0,), (0, 0, 1)), ((0,), (0, 1, 1)), ((2, 0), (1, 0, 2))])
def test_unfold_checks_as_torch(shape, args):
    want, want_err = _outcome(lambda: torch.zeros(shape).unfold(*args))
    got, got_err = _outcome(lambda: ts.zeros(shape).unfold(*args))
    if want_err is not None:
        assert isinstance(got_err, RuntimeError) and str(want_err) in str(got_err)
    else:
        assert tuple(got.shape) == tuple(want.shape)


@pytest.mark.parametrize("name", ["flip_empty_dims", "flip_0d_dim_1", "flip_0d_no_dims", "roll_0d_no_dims",
                                  "roll_0d_minus_one", "narrow_copy_below", "narrow_copy_0d", "trace_int",
                                  "trace_uint8"])
def test_shape_edge_cases_as_torch(name):
    calls = {
        "flip_empty_dims": lambda L: L.ones(2, 3).flip(()),
        "flip_0d_dim_1": lambda L: L.tensor(1.0).flip(1),
        "flip_0d_no_dims": lambda L: L.tensor(1.0).flip([]),
        "roll_0d_no_dims": lambda L: L.roll(L.tensor(1.0), 1),
        "roll_0d_minus_one": lambda L: L.roll(L.tensor(1.0), 1, -1),
        "narrow_copy_below": lambda L: L.zeros(3, 4, 5).narrow_copy(-4, 0, 1),
        "narrow_copy_0d": lambda L: L.tensor(1.0).narrow_copy(0, 0, 1),
        "trace_int": lambda L: L.tensor([[1, 2], [3, 4]]).trace(),
        "trace_uint8": lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.uint8).trace(),
    }
    _same_outcome(calls[name])


@pytest.mark.parametrize("name", ["nonzero_int32_out", "nonzero_not_tensor", "diag_out_dtype", "diag_1d_out"])
def test_nonzero_diag_out_more(name):
    t = np.array([[0, 1.5, 0], [2, 0, 3]], dtype=np.float32)
    calls = {
        "nonzero_int32_out": lambda L: L.nonzero(L.tensor(t), out=L.empty(0, dtype=L.int32)),
        "nonzero_not_tensor": lambda L: L.nonzero(L.tensor(t), out=3),
        "diag_out_dtype": lambda L: L.diag(L.tensor(t[:, :2]), out=L.empty(0, dtype=L.float64)),
        "diag_1d_out": lambda L: L.diag(L.tensor(t[1]), 1, out=L.empty(0)),
    }
    _same_outcome(calls[name])


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("needs", ["both", "self", "src"])
def test_scatter_reduce_double_backward_modes(reduce, include_self, needs):
    rng = np.random.RandomState(1)
    x = np.round(rng.randn(4, 6) * 2) / 2   # ties for amax / amin, a zero for prod
    src = np.round(rng.randn(4, 3) * 2) / 2
    x[0, 0], src[1, 1] = 0.0, 0.0
    src[src == 0] = 0.5
    src[1, 1] = 0.0   # a single zero at its position
    idx = rng.randint(0, 3, size=(4, 3))

    def go(L):
        a = L.tensor(x, requires_grad=needs != "src")
        b = L.tensor(src, requires_grad=needs != "self")
        y = (a.scatter_reduce(1, L.tensor(idx), b, reduce, include_self=include_self) ** 2 * (a + 3)).sum()
        inputs = [t for t in (a, b) if t.requires_grad]
        grads = L.autograd.grad(y, inputs, create_graph=True)
        sum((g * g).sum() for g in grads).backward()
        return [g.detach() for g in grads] + [t.grad for t in inputs]
    for w, g in zip(go(torch), go(ts)):
        np.testing.assert_allclose(_np(g), w.numpy(), rtol=1e-10, atol=1e-10)


def test_scatter_reduce_double_backward_two_zeros_refused():
    """torch's double backward refuses two zeros of src at one prod position; ours too (a RuntimeError)."""
    a = ts.tensor(np.ones((2, 3)), requires_grad=True)
    b = ts.tensor(np.zeros((2, 2)), requires_grad=True)
    y = (a.scatter_reduce(1, ts.zeros(2, 2, dtype=ts.long), b, "prod") ** 2).sum()
    ga, gb = ts.autograd.grad(y, [a, b], create_graph=True)
    with pytest.raises(RuntimeError):
        (gb * gb).sum().backward()


def test_scatter_reduce_double_backward_src_wider_than_index():
    """src wider than index (torch's own backward refuses it): the part index never reads gets 0, in
    both orders, and the rest matches the narrow src's."""
    rng = np.random.RandomState(2)
    x, src, idx = rng.randn(3, 4), rng.randn(3, 5), rng.randint(0, 4, size=(3, 2))

    def go(s):
        a, b = ts.tensor(x, requires_grad=True), ts.tensor(s, requires_grad=True)
        y = (a.scatter_reduce(1, ts.tensor(idx), b, "amax") ** 2 * a).sum()
        ga, gb = ts.autograd.grad(y, [a, b], create_graph=True)
        ((ga * ga).sum() + (gb * gb).sum()).backward()
        return _np(gb), _np(b.grad)
    wide, narrow = go(src), go(np.ascontiguousarray(src[:, :2]))
    for w, n in zip(wide, narrow):
        np.testing.assert_array_equal(w[:, 2:], 0.0)
        np.testing.assert_allclose(w[:, :2], n, rtol=1e-12)


def test_logsumexp_takes_a_numpy_integer_dim():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    for dim in (np.int64(1), (np.int64(1), 0)):
        want = torch.from_numpy(x).logsumexp(dim).numpy()
        np.testing.assert_allclose(ts.from_numpy(x).logsumexp(dim).numpy(), want, rtol=1e-6)
