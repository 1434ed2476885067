"""Cases ported from PyTorch's test/test_numpy_interop.py and the Tensor-method tests of
test/test_torch.py, each compared with torch 2.13 in the same process: .grad assignment checks,
apply_ / map_, from_numpy / as_tensor / tensor of unusual numpy arrays, clone's memory formats,
is_contiguous(memory_format=), new_empty_strided, index_add / index_copy / index_fill / take / put_
argument checks and overlap refusals, masked_fill_ on an expand, bernoulli, repeat_interleave and
the error classes torch raises."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

MODS = [torch, ts]


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    return None


# 1. grad assignment is not validated
@pytest.mark.parametrize("make", [
    lambda M: M.zeros(4),                       # wrong shape
    lambda M: M.zeros(3, dtype=M.float64),      # wrong dtype
    lambda M: M.zeros(3, dtype=M.int64),        # integer dtype
])
def test_grad_assignment_refused(make):
    for M in MODS:
        p = M.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError):
            p.grad = make(M)


def test_grad_assignment_non_tensor_refused():
    for M in MODS:
        p = M.zeros(3, requires_grad=True)
        with pytest.raises(TypeError):
            p.grad = [1.0, 2.0, 3.0]
        with pytest.raises(TypeError):
            p.grad = np.zeros(3, dtype=np.float32)


# 2. apply_ on a non-contiguous view writes into a copy
def test_apply_noncontiguous_view_writes_base():
    out = []
    for M in MODS:
        x = M.arange(6.).view(2, 3)
        x.t().apply_(lambda v: -v - 1)
        y = M.arange(6.).view(2, 3)
        y[:, ::2].apply_(lambda v: 100)
        out.append((x.tolist(), y.tolist()))
    assert out[0] == out[1]


def test_apply_requires_grad_refused():
    for M in MODS:
        with pytest.raises(RuntimeError):
            M.ones(2, requires_grad=True).apply_(lambda v: v)


# 3. numpy integer scalars as dim / int arguments
@pytest.mark.parametrize("npt", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("op", [
    lambda M, d: M.ones(2, 3).sum(d),
    lambda M, d: M.ones(2, 3).mean(d),
    lambda M, d: M.ones(2, 3, 4).transpose(d, 0),
    lambda M, d: M.arange(6.).view(2, 3).softmax(d),
    lambda M, d: M.arange(6.).view(2, 3).argmax(d),
    lambda M, d: M.arange(6.).view(2, 3).max(d)[0],
    lambda M, d: M.arange(6.).view(2, 3).narrow(d, 0, 2),
    lambda M, d: M.ones(2, 1, 3).squeeze(d),
    lambda M, d: M.ones(2, 3, 4).flatten(d),
    lambda M, d: M.arange(6.).view(2, 3).index_select(d, M.tensor([0])),
])
def test_numpy_int_as_dim(npt, op):
    res = [np.asarray(op(M, npt(1)).tolist()) for M in MODS]
    np.testing.assert_allclose(res[1], res[0], rtol=1e-6)   # softmax: within a float32 ulp of torch's


def test_diag_numpy_uint8_offset():
    res = [M.ones(5).diag(np.uint8(3)).tolist() for M in MODS]
    assert res[0] == res[1]


# 4. as_tensor of a numpy integer scalar keeps its dtype
@pytest.mark.parametrize("npt", [np.int32, np.int16, np.int8, np.uint8])
def test_as_tensor_numpy_int_scalar_dtype(npt):
    assert str(torch.as_tensor(npt(42)).dtype).replace("torch.", "") == np.dtype(npt).name
    assert np.dtype(ts.as_tensor(npt(42)).dtype) == np.dtype(npt)


# 5. from_numpy with strides that are not a multiple of the element size
def test_from_numpy_ill_sized_strides():
    for M in MODS:
        x = np.array([3.0, 5.0, 8.0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x.strides = (3,)
        with pytest.raises(ValueError):
            M.from_numpy(x)


# 6. non-native byte order is refused
@pytest.mark.parametrize("ctor", ["from_numpy", "as_tensor", "tensor"])
def test_non_native_byte_order_refused(ctor):
    for M in MODS:
        with pytest.raises(ValueError):
            getattr(M, ctor)(np.arange(4., dtype=">f8"))


# 7. from_numpy of a non-writable array warns (and the tensor is writable, as torch's)
def test_from_numpy_non_writable_warns():
    from tinygrad_seq import numpy_interop
    numpy_interop._not_writable_warned = False   # torch's warning comes once a process
    for M in MODS:
        arr = np.zeros(5)
        arr.flags["WRITEABLE"] = False
        with pytest.warns(UserWarning):
            M.from_numpy(arr)


def test_from_numpy_non_writable_inplace():
    res = []
    for M in MODS:
        arr = np.zeros(2)
        arr.flags["WRITEABLE"] = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = M.from_numpy(arr)
        t.add_(1)
        res.append(t.tolist())
    assert res[0] == res[1]


# 8. torch.tensor of a negative-stride array raises ValueError
def test_tensor_negative_strides_refused():
    for M in MODS:
        with pytest.raises(ValueError):
            M.tensor(np.arange(4.)[::-1])


# 9. clone layouts
def test_clone_contiguous_format_is_contiguous():
    for M in MODS:
        y = M.ones(2, 3, 4).permute(2, 0, 1).clone(memory_format=M.contiguous_format)
        assert y.is_contiguous()
        assert tuple(y.stride()) == (6, 3, 1)


def test_clone_of_expanded_is_contiguous():
    for M in MODS:
        y = M.ones(2, 1, 3).expand(2, 4, 3).clone()
        assert y.is_contiguous()
        assert tuple(y.stride()) == (12, 3, 1)


# 10. index_add of an integer tensor with a fractional alpha computes
def test_index_add_int_fractional_alpha():
    res = [M.zeros(3, dtype=M.int64).index_add(0, M.tensor([1]), M.ones(1, dtype=M.int64), alpha=1.5).tolist()
           for M in MODS]
    assert res[0] == res[1] == [0, 1, 0]


# 11. masked_fill_ on an expanded tensor fills (with torch's deprecation warning)
def test_masked_fill_expanded():
    res = []
    for M in MODS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = M.zeros(1).expand(3).masked_fill_(M.tensor([True, False, True]), 1)
        res.append(x.tolist())
    assert res[0] == res[1]


# 12. is_contiguous(memory_format=channels_last)
def test_is_contiguous_channels_last():
    for M in MODS:
        assert M.ones(2, 3, 4, 5).is_contiguous(memory_format=M.channels_last) is False


# 13. new_empty_strided honours the strides
def test_new_empty_strided_strides():
    for M in MODS:
        assert tuple(M.ones(2).new_empty_strided((2, 3), (1, 2)).stride()) == (1, 2)


# 14. torch.repeat_interleave(int32 repeats) is int32
def test_repeat_interleave_repeats_only_dtype():
    assert torch.repeat_interleave(torch.tensor([1, 2], dtype=torch.int32)).dtype == torch.int32
    assert np.dtype(ts.repeat_interleave(ts.tensor([1, 2], dtype=ts.int32)).dtype) == np.int32


# 15. nonzero(out=)
def test_nonzero_out():
    res = []
    for M in MODS:
        o = M.empty(0, dtype=M.int64)
        M.nonzero(M.tensor([0, 1, 1]), out=o)
        res.append(o.tolist())
    assert res[0] == res[1]


# 16. bernoulli: nan probability refused, result requires grad like its input
def test_bernoulli_nan_refused():
    for M in MODS:
        with pytest.raises(RuntimeError):
            M.bernoulli(M.tensor([float("nan")]))


def test_bernoulli_requires_grad():
    for M in MODS:
        assert M.bernoulli(M.ones(2, requires_grad=True)).requires_grad


# 17. error classes
@pytest.mark.parametrize("fn,exc", [
    (lambda M: M.zeros(3, 2).index_copy(0, M.tensor([1]), M.ones(2, 2)), IndexError),
    (lambda M: M.zeros(3).index_copy(0, M.tensor([[1]]), M.ones(1)), IndexError),
    (lambda M: M.zeros(3).index_add(0, M.tensor([1.]), M.ones(1)), RuntimeError),
    (lambda M: M.zeros(3).index_fill(0, M.tensor([1.]), 1), IndexError),
    (lambda M: M.arange(12.).put_(M.tensor([0, 1]), M.tensor([7.])), IndexError),
    (lambda M: M.arange(3).repeat_interleave(-1), RuntimeError),
    (lambda M: M.arange(3).repeat_interleave(M.tensor([1, -1, 1])), RuntimeError),
    (lambda M: M.arange(3).repeat_interleave(M.tensor([[1, 1, 1]])), RuntimeError),
    (lambda M: M.ones(2).repeat(), TypeError),
    (lambda M: M.broadcast_tensors([M.ones(3, 1), M.zeros(1, 4)]), TypeError),
    (lambda M: M.tensor([[np.random.random(size=(3)), np.random.random()]]), TypeError),
])
def test_error_classes(fn, exc):
    for M in MODS:
        with pytest.raises(exc):
            fn(M)


# 18. accepted where torch refuses
@pytest.mark.parametrize("fn", [
    lambda M: M.zeros(3).index_copy(0, M.tensor([1], dtype=M.int32), M.ones(1)),
    lambda M: M.zeros(3).index_fill(0, M.tensor([1], dtype=M.int32), 1),
    lambda M: M.take(M.arange(4.), M.tensor([1], dtype=M.int32)),
    lambda M: M.arange(4.).put_(M.tensor([1], dtype=M.int32), M.tensor([7.])),
    lambda M: M.zeros(3).index_fill(0, M.tensor([1]), M.tensor([1.])),
    lambda M: M.zeros(3).index_fill(0, M.tensor([[1]]), 1),
    lambda M: (lambda x: x[1:].copy_(x[:-1]))(M.arange(4.)),
    lambda M: (lambda x: x.index_add_(0, M.tensor([0, 1]), x[1:3]))(M.arange(4.)),
    lambda M: (lambda x: x.index_copy_(0, M.tensor([0, 1]), x[1:3]))(M.arange(4.)),
    lambda M: (lambda x: M.take(x, M.tensor([1, 0]), out=x[:2]))(M.arange(4.)),
    lambda M: M.ones(2).requires_grad_(1),
    lambda M: [1, 2] in M.tensor([[1, 2]]),
    lambda M: M.bernoulli(M.tensor([0, 1])),
])
def test_refused_as_torch(fn):
    for M in MODS:
        with pytest.raises((RuntimeError, TypeError, IndexError, NotImplementedError)):
            fn(M)


# 19. from_numpy of an offset view: storage_offset 0 (the storage starts at the array's data)
def test_from_numpy_offset_view_storage_offset():
    x = np.linspace(1, 125, 125).reshape(5, 5, 5)[1]
    assert torch.from_numpy(x).storage_offset() == 0
    assert ts.from_numpy(x).storage_offset() == 0


# 20. int32 tensor + 0-d int64 ndarray follows numpy's promotion (int64), as torch's
# (torch hands an ndarray operand to numpy, NEP 50: a 0-d array is no weak scalar; the operand
# conversion, tensor_math.MathOps._other, is not changed yet)
@pytest.mark.xfail(strict=True, reason="an ndarray operand promotes as a torch 0-d tensor here, not as numpy")
def test_int32_tensor_plus_0d_ndarray():
    t_res = torch.tensor([1, 2], dtype=torch.int32) + np.array(1)
    o_res = ts.tensor([1, 2], dtype=ts.int32) + np.array(1)
    assert t_res.dtype == torch.int64
    assert np.dtype(o_res.dtype) == np.int64


# ------------------------------------------------------------------ details of the fixes above
def test_grad_assignment_messages():
    p = ts.zeros(3, requires_grad=True)
    tp = torch.zeros(3, requires_grad=True)
    for make in (lambda M: M.zeros(4), lambda M: M.zeros(3, dtype=M.float64), lambda M: M.zeros(3, dtype=M.int64),
                 lambda M: [1.0], lambda M: np.zeros(3)):
        with pytest.raises(Exception) as theirs:
            tp.grad = make(torch)
        with pytest.raises(type(theirs.value)) as ours:
            p.grad = make(ts)
        assert str(ours.value) == str(theirs.value)


def test_grad_assignment_accepted():
    p = ts.zeros(3, requires_grad=True)
    p.grad = ts.ones(3)
    p.grad = ts.ones(1).expand(3)
    p.grad = None
    p.grad = ts.ones(3)
    del p.grad
    assert p.grad is None
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]


def test_apply_map_keep_version_and_refuse_grad():
    for M in MODS:
        x = M.arange(6.).view(2, 3)
        x.t().apply_(lambda v: v + 1)
        x.t().map_(M.ones(3, 2), lambda a, b: a + b)
        assert x._version == 0 and x.tolist() == [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
        with pytest.raises(RuntimeError, match="map_"):
            M.ones(2, requires_grad=True).map_(M.ones(2), lambda a, b: a)


def test_from_numpy_shares_and_checks_messages():
    x = np.arange(4.)
    t = ts.from_numpy(x[1:])
    t[0] = -1
    assert x[1] == -1 and t[1:].storage_offset() == 1
    with pytest.raises(ValueError) as theirs:
        torch.tensor(np.arange(4.)[::-1])
    with pytest.raises(ValueError) as ours:
        ts.tensor(np.arange(4.)[::-1])
    assert str(ours.value) == str(theirs.value)


def test_clone_layouts_as_torch():
    cases = [lambda M: M.ones(2, 3, 4)[:, ::2], lambda M: M.ones(2, 3, 4).transpose(0, 2)[::2],
             lambda M: M.ones(4, 3).t()[:, 1:], lambda M: M.ones(2, 3, 4, 5).permute(0, 2, 3, 1)]
    for make in cases:
        assert make(ts).clone().stride() == make(torch).clone().stride()
    for make in (lambda M: M.ones(2, 3, 4, 5), lambda M: M.ones(2, 3, 4, 5).permute(0, 2, 3, 1)):
        ours = make(ts).clone(memory_format=ts.channels_last)
        assert ours.stride() == make(torch).clone(memory_format=torch.channels_last).stride()
        assert ours.is_contiguous(memory_format=ts.channels_last)
    x = ts.ones(2, 3, requires_grad=True)
    x.t().clone(memory_format=ts.contiguous_format).sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("shape", [(2, 1, 1, 1), (2, 3, 1, 1), (2, 3, 4)])
def test_is_contiguous_channels_last_shapes(shape):
    assert ts.ones(*shape).is_contiguous(memory_format=ts.channels_last) == \
        torch.ones(*shape).is_contiguous(memory_format=torch.channels_last)


def test_index_add_integer_alpha_truncates():
    for alpha in (2.7, -1.5):
        res = [M.zeros(3, dtype=M.int64).index_add(0, M.tensor([1]), M.full((1,), 3), alpha=alpha).tolist()
               for M in MODS]
        assert res[0] == res[1]


def test_masked_fill_expanded_warns():
    for M in MODS:
        with pytest.warns(UserWarning, match="masked_fill_ on expanded tensors is deprecated"):
            M.zeros(1, 3).expand(2, 3).masked_fill_(M.tensor([True, False, True]), 5)


@pytest.mark.parametrize("fn", [
    lambda M: (lambda x: x.copy_(x))(M.arange(4.)),
    lambda M: (lambda x: x[:2].copy_(x[2:]))(M.arange(4.)),
    lambda M: M.zeros(3).index_add(0, M.tensor([1], dtype=M.int32), M.ones(1)),
])
def test_overlap_and_index_accepted_as_torch(fn):
    res = [fn(M).tolist() for M in MODS]
    assert res[0] == res[1]


def test_bernoulli_graph_and_messages():
    for M in MODS:
        a = M.full((2,), 0.5, requires_grad=True)
        M.bernoulli(a).sum().backward()
        assert a.grad.tolist() == [0.0, 0.0]
        assert M.bernoulli(a).grad_fn.name() == "BernoulliBackward0"
        with pytest.raises(RuntimeError, match="but got p=nan"):
            M.bernoulli(M.ones(2), p=float("nan"))
        assert M.bernoulli(M.ones(2, dtype=M.int64), 0.5).dtype == M.int64


@pytest.mark.parametrize("fn", [
    lambda M: M.zeros(3).index_copy(0, M.tensor([1], dtype=M.int32), M.ones(1)),
    lambda M: M.take(M.arange(4.), M.tensor([1], dtype=M.int32)),
    lambda M: M.zeros(3).index_fill(0, M.tensor([1]), M.tensor([1.])),
    lambda M: (lambda x: x[1:].copy_(x[:-1]))(M.arange(4.)),
    lambda M: (lambda x: M.take(x, M.tensor([1, 0]), out=x))(M.arange(2.)),
    lambda M: M.ones(2).requires_grad_(None),
    lambda M: "a" in M.ones(2),
    lambda M: M.repeat_interleave(M.tensor([1, 2], dtype=M.int16)),
])
def test_refusal_messages_as_torch(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as ours:
        fn(ts)
    assert str(ours.value) == str(theirs.value)
