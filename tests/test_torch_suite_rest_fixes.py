"""Differences from torch 2.13 found by porting the remaining parts of PyTorch's
test/test_torch.py (TestTorchDeviceType / TestTorch), each checked beside torch: addcdiv's
deprecated (value first) overload, put_(accumulate=True) on a 0-d tensor, exponential_ / cauchy_
parameter checks, bernoulli(out=), the out= dtype rules of mm / matmul / softmax / log_softmax /
logcumsumexp (refused) and cumsum / cumprod (computed in out's dtype), the memory-overlap
refusals of the index / scatter / put / masked writes and of addcmul / addcdiv / lerp out=,
contiguous(memory_format=channels_last), map_'s broadcast error, index_fill_ with a complex
value, bincount's dtypes and an empty tensor's strides."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402


def _outcome(fn, M):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn(M)
        return "ok", r
    except Exception as e:  # noqa: BLE001
        return "err", e


# 1. deprecated overload addcdiv(input, value, tensor1, tensor2): wrong values (float), no error (int)
def test_addcdiv_deprecated_overload_values():
    out = []
    for M in (torch, ts):
        a, b, c = M.tensor([1., 2.]), M.tensor([3., 4.]), M.tensor([5., 6.])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(M.addcdiv(a, 0.5, b, c).tolist())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6)   # torch: [1.3, 2.3333]


def test_addcdiv_deprecated_overload_integer_refused():
    for M in (torch, ts):
        a, b, c = M.tensor([1, 2]), M.tensor([3, 4]), M.tensor([5, 6])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError):
                M.addcdiv(a, 3, b, c)


# 2. put / put_ with accumulate=True on a 0-d destination raises TypeError
@pytest.mark.parametrize("inplace", [True, False])
def test_put_accumulate_0d_destination(inplace):
    res = []
    for M in (torch, ts):
        d = M.tensor(1.5)
        if inplace:
            r = d.put_(M.tensor([0]), M.tensor([2.0]), accumulate=True)
        else:
            r = M.put(d, M.tensor([0]), M.tensor([2.0]), accumulate=True)
        res.append((tuple(r.shape), r.item()))
    assert res[1] == res[0]   # ((), 3.5)


# 3. exponential_ with lambda <= 0 and cauchy_ with sigma <= 0 are accepted
@pytest.mark.parametrize("fn", [lambda M: M.empty(1).exponential_(-0.5),
                                lambda M: M.empty(1).cauchy_(0.0, 0.0)])
def test_random_fill_parameter_checks(fn):
    assert _outcome(fn, torch)[0] == "err"
    with pytest.raises(RuntimeError):
        fn(ts)


# 4. torch.bernoulli(input, out=...) is refused with TypeError
def test_bernoulli_out():
    for M in (torch, ts):
        M.manual_seed(0)
        p = M.rand(5, 5)
        r = M.bernoulli(M.rand_like(p), out=p)
        assert r is p
        assert bool(((p == 0) | (p == 1)).all())


# 5. out= dtype rules differ from torch's
@pytest.mark.parametrize("fn", [
    lambda M: M.mm(M.ones(2, 2, dtype=M.float64), M.ones(2, 2, dtype=M.float64), out=M.zeros(2, 2)),
    lambda M: M.matmul(M.ones(2, 2, dtype=M.float64), M.ones(2, 2, dtype=M.float64), out=M.zeros(2, 2)),
    lambda M: M.softmax(M.ones(2, 2, dtype=M.float64), 1, out=M.zeros(2, 2)),
    lambda M: M.log_softmax(M.ones(2, 2, dtype=M.float64), 1, out=M.zeros(2, 2)),
    lambda M: M.logcumsumexp(M.ones(2, 2, dtype=M.float64), 1, out=M.zeros(2, 2)),
])
def test_out_dtype_mismatch_refused(fn):
    assert _outcome(fn, torch)[0] == "err"
    with pytest.raises(RuntimeError):
        fn(ts)


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_cumulative_out_casts_to_out_dtype(op):
    x = np.array([[1.5, -2.25], [3.0, 0.5]])
    res = []
    for M in (torch, ts):
        o = M.zeros(2, 2, dtype=M.int64)
        getattr(M, op)(M.tensor(x), 1, out=o)
        res.append((str(o.dtype), o.tolist()))
    assert res[1][1] == res[0][1] and res[1][0].endswith("int64")


# 6. memory-overlap refusals ("unsupported operation ... single memory location") missing
OVERLAP = [
    lambda M: (lambda i: i.index_add_(0, i, i.clone()))(M.tensor([2, 1, 0])),
    lambda M: (lambda i: i.index_copy_(0, i, i.clone()))(M.tensor([2, 1, 0])),
    lambda M: (lambda i: i.index_fill_(0, i, 0))(M.tensor([2, 1, 0])),
    lambda M: (lambda x: x[:-1].__ilshift__(x[1:]))(M.tensor([1, 2, 3])),
    lambda M: (lambda y: y.put_(M.tensor([2, 1, 0]), y[:3]))(M.rand(6)),
    lambda M: (lambda i: i.put_(i, i.clone()))(M.tensor([2, 1, 0])),
    lambda M: (lambda y: y.index_put_((M.tensor([2, 1, 0]),), y[:3]))(M.rand(6)),
    lambda M: (lambda m: m[1:].masked_fill_(m[:-1], False))(M.tensor([True, False, True, True, False, False])),
    lambda M: (lambda s: s.scatter_(0, M.tensor([2, 1, 0]), s))(M.rand(3)),
    lambda M: (lambda d: M.addcmul(d[1:10], d[10:19], d[10:19], out=d[0:9]))(M.rand(20)),
    lambda M: (lambda d: M.lerp(d[1:10], d[10:19], 0.5, out=d[0:9]))(M.rand(20)),
]


@pytest.mark.parametrize("fn", OVERLAP)
def test_memory_overlap_refused(fn):
    assert _outcome(fn, torch)[0] == "err"
    with pytest.raises(RuntimeError, match="single memory location|unsupported operation"):
        fn(ts)


# 7. contiguous(memory_format=channels_last) keeps the row-major layout
def test_contiguous_channels_last_strides():
    res = []
    for M in (torch, ts):
        x = M.arange(48.).view(4, 3, 2, 2).contiguous(memory_format=M.channels_last)
        y = x.permute(0, 1, 3, 2).permute(0, 1, 3, 2)
        res.append((x.stride(), x.is_contiguous(memory_format=M.channels_last),
                    y.is_contiguous(memory_format=M.channels_last)))
    assert res[1] == res[0]   # ((12, 1, 6, 3), True, True)


# 8. map_ with a non-broadcastable argument raises numpy's ValueError, not torch's RuntimeError
def test_map_non_broadcastable_error_class():
    assert _outcome(lambda M: M.zeros(1).map_(M.ones(4), lambda a, b: a + b), torch)[0] == "err"
    with pytest.raises(RuntimeError):
        ts.zeros(1).map_(ts.ones(4), lambda a, b: a + b)


# 9. index_fill_ with a complex value: TypeError (float/int) or silently accepted (bool)
@pytest.mark.parametrize("dt", ["float32", "int64", "bool"])
def test_index_fill_complex_value_refused(dt):
    fn = lambda M: M.tensor([[1, 2], [4, 5]], dtype=getattr(M, dt)).index_fill_(1, M.tensor([0]), 1 + 1j)
    assert _outcome(fn, torch)[0] == "err"
    with pytest.raises(RuntimeError):
        fn(ts)


# 10. bincount of an empty input with weights: torch gives int64 zeros
def test_bincount_empty_with_weights_dtype():
    res = [M.bincount(M.tensor([], dtype=M.long), M.tensor([]), minlength=3) for M in (torch, ts)]
    assert str(res[1].dtype).split(".")[-1] == str(res[0].dtype).split(".")[-1]   # int64


# 11. strides of an empty tensor are all 0 (torch: the contiguous strides)
def test_empty_tensor_strides():
    assert ts.empty(0, 1, 2, 0).stride() == torch.empty(0, 1, 2, 0).stride()   # (2, 2, 1, 1)


# ---- beyond the findings: torch's messages and the neighbouring cases
def _same_error(fn):
    """fn raises on both libraries: ours an instance of torch's class (RuntimeError, ...), with
    torch's message (its 'Triggered internally' tail cut)."""
    (kind_t, theirs), (kind_o, ours) = _outcome(fn, torch), _outcome(fn, ts)
    assert kind_t == kind_o == "err"
    assert isinstance(ours, type(theirs))
    assert str(ours) == str(theirs).split(" (Triggered internally")[0]


@pytest.mark.parametrize("fn", [
    lambda M: M.addcdiv(M.tensor([1, 2]), 3, M.tensor([3, 4]), M.tensor([5, 6])),
    lambda M: M.empty(1).exponential_(-0.5),
    lambda M: M.empty(1).exponential_(0),
    lambda M: M.empty(1).exponential_(float("nan")),
    lambda M: M.empty(1).cauchy_(0.0, -1e-7),
    lambda M: M.mm(M.ones(2, 2, dtype=M.float64), M.ones(2, 2, dtype=M.float64), out=M.zeros(2, 2)),
    lambda M: M.mm(M.ones(2, 2, dtype=M.int64), M.ones(2, 2, dtype=M.int64), out=M.zeros(2, 2)),
    lambda M: M.bmm(M.ones(2, 2, 2, dtype=M.float64), M.ones(2, 2, 2, dtype=M.float64), out=M.zeros(2, 2, 2)),
    lambda M: M.matmul(M.ones(2, dtype=M.float64), M.ones(2, dtype=M.float64), out=M.zeros(())),
    lambda M: M.matmul(M.ones(2, 2, 2, dtype=M.float64), M.ones(2, dtype=M.float64), out=M.zeros(2, 2)),
    lambda M: M.matmul(M.ones(2, dtype=M.float64), M.ones(2, 2, dtype=M.float64), out=M.zeros(2)),
    lambda M: M.softmax(M.ones(2, 2), 1, dtype=M.float64, out=M.zeros(2, 2)),
    lambda M: M.softmax(M.ones(2, 2, dtype=M.int64), 1, out=M.zeros(2, 2)),
    lambda M: M.logcumsumexp(M.ones(2, 2, dtype=M.int64), 1, out=M.zeros(2, 2)),
    lambda M: M.cumsum(M.ones(2), 0, dtype=M.float32, out=M.zeros(2, dtype=M.int64)),
    lambda M: M.cumprod(M.ones(2), 0, out=M.zeros(2, dtype=M.bool)),
    lambda M: M.sum(M.ones(2), 0, dtype=M.float32, out=M.zeros((), dtype=M.int64)),
    lambda M: M.zeros(1).map_(M.ones(4), lambda a, b: a + b),
    lambda M: M.zeros(2, 3).map_(M.ones(2), lambda a, b: a + b),
    lambda M: M.tensor([1., 2.]).index_fill_(0, M.tensor([0]), 1 + 1j),
    lambda M: M.bincount(M.tensor([1]), M.tensor([2., 3.])),
    lambda M: M.ones(2, 3).contiguous(memory_format=M.channels_last),
    lambda M: M.ones(2, 3, 2, 2).contiguous(memory_format=M.channels_last_3d),
])
def test_messages_are_torchs(fn):
    _same_error(fn)


# the writes torch allows although an operand shares self's memory, and the ones it also refuses
OVERLAP_MORE = [
    (lambda M: (lambda i: i[1:].index_add_(0, i[:2], M.tensor([1, 1])))(M.tensor([0, 1, 0])), False),
    (lambda M: (lambda x: x.index_fill_(0, M.tensor([0]), x[1]))(M.rand(3)), True),
    (lambda M: (lambda y: y.put_(M.tensor([2, 1, 0]), y))(M.rand(3)), False),
    (lambda M: (lambda i: i.put_(i, i.clone(), accumulate=True))(M.tensor([2, 1, 0])), False),
    (lambda M: (lambda y: y.index_put_((M.tensor([2, 1, 0]),), y))(M.rand(3)), False),
    (lambda M: (lambda y: y.index_put_((M.tensor([2, 1, 0]),), y[:3], accumulate=True))(M.rand(6)), False),
    (lambda M: (lambda y: y.index_put_((M.tensor([2, 1, 0]),), y[0]))(M.rand(6)), False),
    (lambda M: (lambda i: i.index_put_((i,), i.clone()))(M.tensor([2, 1, 0])), False),
    (lambda M: (lambda m: m.index_put_((m,), M.tensor(False)))(M.tensor([True, False])), True),
    (lambda M: (lambda m: m[1:].index_put_((m[:-1],), M.tensor(False)))(M.tensor([True, False, True])), False),
    (lambda M: (lambda m: m.masked_fill_(m, False))(M.tensor([True, False, True])), True),
    (lambda M: (lambda x: x.masked_fill_(M.tensor([True, False, True]), x[0]))(M.rand(3)), True),
    (lambda M: (lambda s: s[:3].scatter_(0, M.tensor([2, 1, 0]), s[1:]))(M.rand(4)), False),
    (lambda M: (lambda i: i.scatter_(0, i, 5))(M.tensor([2, 1, 0])), False),
    (lambda M: (lambda s: s.scatter_add_(0, M.tensor([2, 1, 0]), s))(M.rand(3)), False),
    (lambda M: (lambda i: i.scatter_add_(0, i, i.clone()))(M.tensor([2, 1, 0])), False),
    (lambda M: (lambda s: s.scatter_reduce_(0, M.tensor([2, 1, 0]), s, "sum"))(M.rand(3)), False),
    (lambda M: (lambda x: x[:-1].__irshift__(x[1:]))(M.tensor([1, 2, 3])), False),
    (lambda M: (lambda d: M.addcmul(d, d, d, out=d))(M.rand(3)), True),
    (lambda M: (lambda d: M.addcdiv(d[10:19], d[10:19], d[1:10], out=d[0:9]))(M.rand(20)), False),
    (lambda M: (lambda d: M.lerp(d[10:19], d[10:19], d[1:10], out=d[0:9]))(M.rand(20)), False),
    (lambda M: (lambda d: M.addcdiv(d[10:19], d[10:19], d[10:19], out=d[0:9]))(M.rand(20)), True),
]


@pytest.mark.parametrize("fn,allowed", OVERLAP_MORE)
def test_memory_overlap_like_torch(fn, allowed):
    assert (_outcome(fn, torch)[0] == "ok") == allowed
    if allowed:
        assert _outcome(fn, ts)[0] == "ok"
    else:
        with pytest.raises(RuntimeError, match="some elements of the input tensor and the written-to tensor"):
            fn(ts)


def test_addcdiv_addcmul_value_first_forms():
    res = []
    for M in (torch, ts):
        a, b, c = M.tensor([1., 2.]), M.tensor([3., 4.]), M.tensor([5., 6.])
        i, j, k = M.tensor([1, 2]), M.tensor([3, 4]), M.tensor([5, 6])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res.append([a.addcdiv(0.5, b, c).tolist(), a.clone().addcdiv_(0.5, b, c).tolist(),
                        M.addcdiv(a, 0.5, b, c, out=M.empty(2)).tolist(), M.addcmul(a, 0.5, b, c).tolist(),
                        M.addcmul(i, 2.5, j, k).tolist(), i.clone().addcmul_(0.5, j, k).tolist()])
    np.testing.assert_allclose(np.concatenate([np.ravel(x) for x in res[1]]),
                               np.concatenate([np.ravel(x) for x in res[0]]), rtol=1e-6)


def test_addcdiv_value_first_warns():
    a, b, c = ts.tensor([1., 2.]), ts.tensor([3., 4.]), ts.tensor([5., 6.])
    with pytest.warns(UserWarning, match="This overload of addcdiv is deprecated"):
        ts.addcdiv(a, 0.5, b, c)


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_0d_destination_values(accumulate):
    res = [M.tensor(1.5).put_(M.tensor([-1, 0]), M.tensor([2.0, 4.0]), accumulate=accumulate).item()
           for M in (torch, ts)]
    assert res[1] == res[0]


def test_bernoulli_out_draws_as_torch():
    """out= of torch's dtype (cast from the draws), resized silently, and for a transposed out the
    draws in its memory order."""
    for make_out in (lambda M: M.zeros(3, 4, dtype=M.float64), lambda M: M.zeros(3, 4, dtype=M.bool),
                     lambda M: M.zeros(4, 3).t(), lambda M: M.zeros(5)):
        res = []
        for M in (torch, ts):
            M.manual_seed(0)
            p = M.rand(3, 4)
            with warnings.catch_warnings():
                warnings.simplefilter("error")   # no resize warning, as torch's resize_as_
                r = M.bernoulli(p, out=make_out(M))
            res.append((str(r.dtype).split(".")[-1], tuple(r.shape), r.tolist()))
        assert res[1] == res[0]
    for M in (torch, ts):
        with pytest.raises(TypeError):
            M.bernoulli(M.rand(2), 0.5, out=M.zeros(2))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            M.bernoulli(M.rand(2, requires_grad=True), out=M.zeros(2))


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("out_dtype", ["float32", "int32", "float64"])
def test_cumulative_out_dtypes(op, out_dtype):
    res = []
    for M in (torch, ts):
        o = M.zeros(2, 2, dtype=getattr(M, out_dtype))
        getattr(M, op)(M.tensor([[1.5, -2.25], [3.0, 0.5]], dtype=M.float64), 0, out=o)
        res.append(o.tolist())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-6)


def test_out_of_the_right_dtype_still_written():
    for M in (torch, ts):
        o = M.zeros(2, 2, dtype=M.float64)
        assert M.mm(M.ones(2, 2, dtype=M.float64), M.ones(2, 2, dtype=M.float64), out=o) is o
        assert o.tolist() == [[2.0, 2.0], [2.0, 2.0]]
        o = M.zeros(2, 2, dtype=M.float64)
        M.softmax(M.ones(2, 2), 1, dtype=M.float64, out=o)
        assert o.tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_contiguous_channels_last_keeps_values_and_gradient():
    res = []
    for M in (torch, ts):
        x = M.arange(48.).view(4, 3, 2, 2).requires_grad_()
        y = x.contiguous(memory_format=M.channels_last)
        (y * M.arange(48.).view(4, 3, 2, 2)).sum().backward()
        z = M.arange(6.).view(1, 3, 2, 1).contiguous(memory_format=M.channels_last)
        already = y.detach().contiguous(memory_format=M.channels_last)
        res.append((y.tolist(), x.grad.tolist(), z.stride(), already.stride(), y.detach().contiguous().stride()))
    assert res[1] == res[0]


def test_bincount_weight_dtypes():
    for w_dtype in ("float32", "float64", "float16", "int32", "bool"):
        res = []
        for M in (torch, ts):
            w = M.tensor([1, 0, 1], dtype=getattr(M, w_dtype))
            full = M.bincount(M.tensor([0, 2, 2]), w)
            empty = M.bincount(M.tensor([], dtype=M.long), M.tensor([], dtype=getattr(M, w_dtype)), minlength=2)
            res.append((str(full.dtype).split(".")[-1], full.tolist(), str(empty.dtype).split(".")[-1],
                        empty.tolist()))
        assert res[1] == res[0]


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 1, 2, 0)])
def test_empty_tensor_strides_of_creation(shape):
    for make in ("empty", "zeros", "ones"):
        assert getattr(ts, make)(*shape).stride() == getattr(torch, make)(*shape).stride()
    assert ts.empty(*shape).stride(-1) == torch.empty(*shape).stride(-1)
    assert ts.empty(3, 4)[:, 4:].stride() == torch.empty(3, 4)[:, 4:].stride()   # a view keeps its strides
