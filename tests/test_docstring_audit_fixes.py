"""Differences from torch 2.13 found by running torch's docstring examples against tinygrad_seq,
each checked beside torch: masked_scatter broadcasting self with the mask (values and
gradients), asarray's requires_grad, torch's RuntimeError (and message) for operands that do not
broadcast (broadcast_errors.py), outer of non-vectors, t() / flatten() of 0-D and 1-D tensors,
empty_strided's strides, the TypeError of a pooling module given a non-tensor and of
x.repeat_interleave() without repeats."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402

LIBS = (torch, ts)


def _error(fn):
    """(is a RuntimeError, message) of what fn raises, or None when it returns. Our broadcast
    message is torch's followed by every operand's shape ("... dimension 1 (shapes (2, 3) and
    (4,))"): the part compared is torch's."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:   # noqa: BLE001 (the type is what is compared)
        return isinstance(e, RuntimeError), str(e).split(" (shapes ")[0]
    return None


# ---------------------------------------------------------------- masked_scatter
def test_masked_scatter_broadcasts_self_with_mask_as_torch_docstring():
    # torch.Tensor.masked_scatter's own example: self [5] with mask [2, 5] gives [2, 5]
    out = []
    for L in LIBS:
        self = L.tensor([0, 0, 0, 0, 0])
        mask = L.tensor([[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]], dtype=L.bool)
        source = L.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
        out.append(np.asarray(self.masked_scatter(mask, source).numpy()))
    np.testing.assert_array_equal(out[0], [[0, 0, 0, 0, 1], [2, 3, 0, 4, 5]])
    np.testing.assert_array_equal(out[1], out[0])


@pytest.mark.parametrize("self_shape, mask", [
    ((5,), [[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]]),    # self broadcast up to the mask
    ((2, 1), [1, 0, 1]),                           # both broadcast
    ((2, 3), [[1, 0, 1], [0, 1, 1]]),              # same shape
    ((2, 3), [0, 1, 1]),                           # mask broadcast to self
])
def test_masked_scatter_values_and_gradients_match_torch(self_shape, mask):
    res = []
    for L in LIBS:
        x = L.tensor(np.arange(1.0, 1.0 + np.prod(self_shape)).reshape(self_shape), requires_grad=True)
        src = L.tensor(np.arange(10.0, 22.0), requires_grad=True)
        y = x.masked_scatter(L.tensor(mask, dtype=L.bool), src)
        g = L.tensor(np.arange(1.0, 1.0 + np.prod(tuple(y.shape))).reshape(tuple(y.shape)))
        y.backward(g)
        res.append((y.detach().numpy(), x.grad.numpy(), src.grad.numpy(), y.grad_fn.name()))
    for theirs, ours in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(ours, theirs)
    assert res[1][3] == res[0][3] == "MaskedScatterBackward0"


def test_masked_scatter_in_place_cannot_grow_self():
    for L in LIBS:
        mask = L.tensor([[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]], dtype=L.bool)
        with pytest.raises(RuntimeError):
            L.zeros(5).masked_scatter_(mask, L.arange(10.0))
    x = ts.zeros(2, 3)
    x.masked_scatter_(ts.tensor([True, False, True]), ts.arange(10.0))   # the mask broadcasts to self
    np.testing.assert_array_equal(x.numpy(), [[0, 0, 1], [2, 0, 3]])


# ---------------------------------------------------------------- asarray requires_grad
def _asarray_facts(L, source, requires_grad, **kw):
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=source != "plain")
    if source == "computed":
        a = a + 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's one-time note on the None default
        c = L.asarray(a, requires_grad=requires_grad, **kw)
    return (c is a, c.requires_grad, c.is_leaf, c.grad_fn is None, a.requires_grad,
            c.data_ptr() == a.data_ptr() if not kw else None)


@pytest.mark.parametrize("requires_grad", [False, True, None])
@pytest.mark.parametrize("source", ["leaf", "computed", "plain"])
def test_asarray_requires_grad_as_torch(source, requires_grad):
    assert _asarray_facts(ts, source, requires_grad) == _asarray_facts(torch, source, requires_grad)


def test_asarray_requires_grad_false_is_a_detached_alias():
    # torch.asarray's docstring: "Shares memory with tensor 'b', with no grad"
    a = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a + 2
    c = ts.asarray(b, requires_grad=False)
    assert (c.requires_grad, c.grad_fn, c.is_leaf) == (False, None, True)
    c[0] = 7.0   # one memory
    assert b[0].item() == 7.0


@pytest.mark.parametrize("kw", [dict(dtype="float64"), dict(copy=True)])
@pytest.mark.parametrize("requires_grad", [False, None])
def test_asarray_cast_or_copy_keeps_or_drops_the_graph_as_torch(kw, requires_grad):
    facts = []
    for L in LIBS:
        kwl = {k: (getattr(L, v) if k == "dtype" else v) for k, v in kw.items()}
        facts.append(_asarray_facts(L, "leaf", requires_grad, **kwl))
    assert facts[1] == facts[0]


# ---------------------------------------------------------------- broadcast errors
def _calls(L, a, b):
    F = L.nn.functional
    calls = {
        "add": lambda: a + b, "mul": lambda: a * b,
        "eq_op": lambda: a == b, "ne_op": lambda: a != b, "lt_op": lambda: a < b, "le_op": lambda: a <= b,
        "gt_op": lambda: a > b, "ge_op": lambda: a >= b,
        "where": lambda: L.where(a > 0, a, b), "where_condition": lambda: L.where(b > 0, a, a),
        "clamp": lambda: L.clamp(a, b, b), "clamp_min": lambda: L.clamp(a, min=b), "clamp_max": lambda: a.clamp(max=b),
        "and_op": lambda: (a > 0) & (b > 0), "or_op": lambda: (a > 0) | (b > 0),
        "int_remainder": lambda: a.long() % (b.long() + 1), "int_rmod": lambda: (b.long() + 1).__rmod__(a.long()),
        "int_floordiv": lambda: a.long() // (b.long() + 1), "int_fmod": lambda: a.long().fmod(b.long() + 1),
        "cross": lambda: L.cross(L.ones(2, 3), L.ones(4, 3), dim=1),
        "linalg_cross": lambda: L.linalg.cross(L.ones(2, 3), L.ones(4, 3)),
        "cosine_similarity": lambda: F.cosine_similarity(a, b),
        "hinge_embedding_loss": lambda: F.hinge_embedding_loss(a, b),
        "masked_scatter": lambda: a.masked_scatter(L.ones(4, dtype=L.bool), b),
        "heaviside_method": lambda: a.heaviside(b),
    }
    for name in ("eq ne lt le gt ge allclose isclose fmin fmax hypot logaddexp logaddexp2 copysign remainder "
                 "fmod xlogy nextafter heaviside atan2 logical_and logical_or logical_xor").split():
        calls[name] = (lambda name=name: getattr(L, name)(a, b))
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        calls[name] = (lambda name=name: getattr(L, name)(a.long(), b.long()))
    return calls


BROADCAST_CASES = sorted(_calls(ts, None, None))


@pytest.mark.parametrize("op", BROADCAST_CASES)
def test_operands_that_do_not_broadcast_raise_torch_runtime_error(op):
    # torch: RuntimeError "The size of tensor a (3) must match the size of tensor b (4) at
    # non-singleton dimension 1"; numpy's ValueError (IndexError for cosine_similarity) before
    theirs, ours = (_error(_calls(L, L.ones(2, 3), L.ones(4) * 0.5)[op]) for L in LIBS)
    assert theirs is not None and theirs[0]
    assert ours == theirs


def test_broadcasting_operands_still_compute():
    for L in LIBS:
        a, b = L.ones(2, 3), L.ones(3) * 0.5
        assert tuple(L.where(a > 0, a, b).shape) == (2, 3)
        assert tuple((a == b).shape) == (2, 3) and tuple(L.fmin(a, b).shape) == (2, 3)
    res = []
    for L in LIBS:   # cosine_similarity broadcasts before reducing, as torch's (it raised IndexError)
        x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = L.tensor([1.0, 0.0, 2.0], requires_grad=True)
        s = L.nn.functional.cosine_similarity(x, y)
        s.sum().backward()
        res.append((s.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for theirs, ours in zip(*res):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- outer
@pytest.mark.parametrize("case", ["matrix_self", "matrix_vec2", "method", "scalar", "ger"])
def test_outer_of_non_vectors_raises_as_torch(case):
    def call(L):
        return {"matrix_self": lambda: L.outer(L.ones(2, 3), L.ones(4)),
                "matrix_vec2": lambda: L.outer(L.ones(4), L.ones(2, 3)),
                "method": lambda: L.ones(2, 3).outer(L.ones(4)),
                "scalar": lambda: L.outer(L.tensor(1.0), L.ones(4)),
                "ger": lambda: L.ones(2, 3).ger(L.ones(4))}[case]
    theirs, ours = (_error(call(L)) for L in LIBS)
    assert theirs[0] and ours == theirs


def test_outer_of_vectors_unchanged():
    for L in LIBS:
        assert L.outer(L.arange(3.0), L.arange(2.0)).tolist() == [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0]]


# ---------------------------------------------------------------- t() and flatten()
@pytest.mark.parametrize("shape", [(3,), ()])
def test_t_of_0d_and_1d_is_a_new_view_with_tbackward(shape):
    # torch.t's docstring: torch.t(x) of a 1-D x prints grad_fn=<TBackward0>
    res = []
    for L in LIBS:
        x = L.ones(shape).requires_grad_()
        y, z = L.t(x), x.t()
        y.sum().backward()
        w = L.zeros(shape)
        w.t().fill_(5.0)   # a view: the write reaches w
        res.append((y is x, z is x, y.is_leaf, y.grad_fn.name(), tuple(y.shape), x.grad.tolist(), w.tolist()))
    assert res[0][:4] == (False, False, False, "TBackward0")
    assert res[1] == res[0]


@pytest.mark.parametrize("shape, args", [((3,), ()), ((3,), (0, 0)), ((3,), (-1,)), ((2, 3), (1, 1)),
                                         ((2, 3), (0, 0)), ((1, 3), (1,)), ((2, 3), ()), ((2, 3, 4), (1,)),
                                         ((), ())])
def test_flatten_returns_self_where_torch_does(shape, args):
    res = []
    for L in LIBS:
        x = L.ones(shape).requires_grad_()
        y, z = x.flatten(*args), L.flatten(x, *args)
        res.append((y is x, z is x, tuple(y.shape), y.grad_fn.name() if y is not x else None))
    assert res[1] == res[0]


# ---------------------------------------------------------------- empty_strided
@pytest.mark.parametrize("size, stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((2, 3), (0, 1)), ((3,), (2,)),
                                          ((), ()), ((0, 3), (1, 2)), ((2, 1), (1, 5)), ((2, 3), (4, 1)),
                                          ((2, 3, 4), (1, 2, 6))])
def test_empty_strided_keeps_strides(size, stride):
    # torch.empty_strided's docstring: a = torch.empty_strided((2, 3), (1, 2)); a.stride() -> (1, 2)
    res = [(tuple(a.stride()), a.is_contiguous(), tuple(a.shape), a.storage_offset())
           for a in (L.empty_strided(size, stride) for L in LIBS)]
    assert res[1] == res[0]


def test_empty_strided_is_a_usable_leaf():
    a = ts.empty_strided((2, 3), (1, 2), requires_grad=True)
    assert a.requires_grad and a.is_leaf and a.dtype == np.float32
    b = ts.empty_strided((2, 3), (1, 2), dtype=ts.float64)
    b.fill_(1.0)
    b[1, 2] = 5.0
    assert b.dtype == np.float64 and b.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 5.0]]
    assert (b * 2).tolist() == [[2.0, 2.0, 2.0], [2.0, 2.0, 10.0]] and b.contiguous().is_contiguous()


@pytest.mark.parametrize("size, stride", [((2, 3), (1,)), ((2, -1), (1, 1)), ((2, 3), (-1, 1))])
def test_empty_strided_bad_arguments_raise_as_torch(size, stride):
    theirs, ours = (_error(lambda L=L: L.empty_strided(size, stride)) for L in LIBS)
    assert theirs[0] and ours == theirs


# ---------------------------------------------------------------- TypeErrors
@pytest.mark.parametrize("module", ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
                                    "AdaptiveMaxPool1d"])
@pytest.mark.parametrize("value", [[[1.0, 2.0, 3.0, 4.0]], None, 3.0])
def test_pooling_module_of_a_non_tensor_raises_type_error(module, value):
    messages = []
    for L in LIBS:
        with pytest.raises(TypeError) as info:
            getattr(L.nn, module)(2)(value)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_repeat_interleave_without_repeats():
    for L in LIBS:
        with pytest.raises(TypeError):
            L.ones(3).repeat_interleave()
        with pytest.raises(TypeError):
            L.repeat_interleave(L.tensor([1, 2]), dim=0)
    for case in (lambda L: L.repeat_interleave(L.tensor([1.0, 2.0])),      # NotImplementedError
                 lambda L: L.repeat_interleave(L.tensor([[1, 2]])),        # RuntimeError: not 1-D
                 lambda L: L.repeat_interleave(L.tensor([1, -2]))):        # RuntimeError: negative
        theirs, ours = (_error(lambda L=L: case(L)) for L in LIBS)
        assert theirs is not None and ours == theirs
    for L in LIBS:   # torch's one-argument form and the method forms are unchanged
        assert L.repeat_interleave(L.tensor([1, 0, 2])).tolist() == [0, 2, 2]
        assert L.tensor([[1, 2], [3, 4]]).repeat_interleave(2, dim=0).tolist() == [[1, 2], [1, 2], [3, 4], [3, 4]]
        assert L.repeat_interleave(L.tensor([1, 2]), L.tensor([2, 1])).tolist() == [1, 1, 2]
