"""Cases ported from PyTorch's test/test_namedtuple_return_api.py, test/test_type_info.py and the
functional-utility tests of test/test_nn.py, each compared with torch 2.13 in the same process:
ts.return_types (structseq classes, the *_out variants of out= results), out= tuples of slogdet /
histogram / triangular_solve / lu_unpack, finfo / iinfo (equality, resolution, complex dtypes,
argument types), F.normalize(out=), cosine_similarity's and cosine_embedding_loss's gradients,
soft_margin_loss past exp's range, Flatten / unflatten of a 0-d tensor, float pad widths and
interpolate sizes."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as tF

torch = pytest.importorskip("torch")
F = torch.nn.functional


# ------------------------------------------------------------------ ts.return_types
def test_return_types_namespace():
    x = np.random.RandomState(0).randn(4, 5).astype(np.float32)
    assert isinstance(torch.max(torch.tensor(x), 1), torch.return_types.max)
    r = ts.max(ts.tensor(x), 1)
    assert isinstance(r, ts.return_types.max)
    # constructible from a sequence, as torch's structseq
    for name in ("max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "aminmax", "slogdet", "qr", "svd"):
        rt = getattr(ts.return_types, name)
        n = getattr(torch.return_types, name).n_fields
        assert type(rt([ts.randn(()) for _ in range(n)])) is rt


@pytest.mark.parametrize("name", ["max", "max_out", "sort", "aminmax", "aminmax_out", "slogdet_out", "svd", "frexp",
                                  "histogram", "histogramdd", "triangular_solve", "lu_unpack_out", "linalg_qr",
                                  "linalg_lstsq_out", "nanmedian", "cummin_out", "_lu_with_info"])
def test_return_type_fields_and_repr_as_torch(name):
    theirs, ours = getattr(torch.return_types, name), getattr(ts.return_types, name)
    n = theirs.n_fields
    assert (ours.n_fields, ours.n_sequence_fields, ours.n_unnamed_fields) == \
        (theirs.n_fields, theirs.n_sequence_fields, theirs.n_unnamed_fields)
    assert repr(ours(list(range(n)))) == repr(theirs(list(range(n))))
    assert ours(range(n)) == tuple(range(n)) and ours.__name__ == theirs.__name__


def test_return_type_constructor_errors_as_torch():
    for lib in (torch, ts):
        with pytest.raises(TypeError, match="constructor requires a sequence"):
            lib.return_types.max(1)
    with pytest.raises(TypeError) as theirs:
        torch.return_types.max([1])
    with pytest.raises(TypeError) as ours:
        ts.return_types.max([1])
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(AttributeError):
        ts.return_types.histogramdd_out   # torch has none either
    assert not hasattr(torch.return_types, "histogramdd_out")


def test_results_of_ops_are_their_return_types():
    x = ts.tensor(np.random.RandomState(1).randn(3, 4))
    for result, name in ((x.sort(1), "sort"), (x.topk(2), "topk"), (x.kthvalue(2), "kthvalue"),
                         (x.median(1), "median"), (x.cummax(0), "cummax"), (x.aminmax(), "aminmax"),
                         (ts.frexp(x), "frexp"), (ts.linalg.qr(x), "linalg_qr"), (x.mode(1), "mode"),
                         (ts.histogram(x.reshape(-1), bins=3), "histogram")):
        assert type(result) is getattr(ts.return_types, name)


def test_return_types_pickle_and_copy():
    r = ts.tensor([[1., 3.], [2., 0.]]).max(0)
    for back in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r), copy.copy(r)):
        assert type(back) is ts.return_types.max
        np.testing.assert_array_equal(back.values.numpy(), [2., 3.])
        np.testing.assert_array_equal(back.indices.numpy(), [1, 0])


def test_out_variant_return_type_repr():
    for lib in (torch, ts):
        a = lib.arange(6.).reshape(2, 3)
        r = lib.max(a, 1, out=(lib.empty(2), lib.empty(2, dtype=lib.long)))
        if lib is torch:
            expected = repr(r)
        else:
            got = repr(r)
    assert expected.startswith("torch.return_types.max_out(")
    assert got == expected
    assert isinstance(r, ts.return_types.max_out)


def test_linalg_out_result_is_its_out_variant():
    for lib in (torch, ts):
        r = lib.linalg.slogdet(lib.eye(2), out=(lib.empty(()), lib.empty(())))
        assert type(r).__name__ == "linalg_slogdet_out"


# ------------------------------------------------------------------ out= tuples of named-tuple ops
def _named_tuple_out(lib, op):
    A = lib.tensor([[2., 1.], [1., 3.]])
    if op == "slogdet":
        outs = (lib.empty(()), lib.empty(()))
        return lib.slogdet(A, out=outs), outs
    if op == "histogram":
        outs = (lib.empty(2), lib.empty(3))
        return lib.histogram(lib.tensor([1., 2., 1.]), bins=2, out=outs), outs
    if op == "triangular_solve":
        outs = (lib.empty(2, 1), lib.empty(2, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.triangular_solve(lib.ones(2, 1), A.triu(), out=outs), outs
    LU = lib.tensor([[3., 1.], [0.5, 2.]])
    piv = lib.tensor([2, 2], dtype=lib.int32)
    outs = (lib.empty(2, 2), lib.empty(2, 2), lib.empty(2, 2))
    return lib.lu_unpack(LU, piv, out=outs), outs


@pytest.mark.parametrize("op", ["slogdet", "histogram", "triangular_solve", "lu_unpack"])
def test_named_tuple_out_accepted(op):
    rt, _ = _named_tuple_out(torch, op)
    ro, oo = _named_tuple_out(ts, op)
    assert type(ro).__name__ == type(rt).__name__ == f"{op}_out"
    for a, b, o in zip(rt, ro, oo):
        assert b is o
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6)


def test_named_tuple_out_of_another_dtype_refused():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float"):
            lib.slogdet(lib.eye(2), out=(lib.empty((), dtype=lib.float64), lib.empty(())))


# ------------------------------------------------------------------ finfo / iinfo
def test_finfo_iinfo_equality():
    assert torch.finfo(torch.float32) == torch.finfo(torch.float32)
    assert ts.finfo(ts.float32) == ts.finfo(ts.float32)
    assert ts.finfo(ts.float64) != ts.finfo(ts.float32)
    assert ts.iinfo(ts.int32) == ts.iinfo(ts.int32)
    assert ts.iinfo(ts.uint8) != ts.iinfo(ts.int8)
    # torch's compare the dtype described: complex64's limits are float32's
    assert torch.finfo(torch.complex64) == torch.finfo(torch.float32)
    assert ts.finfo(ts.complex64) == ts.finfo(ts.float32)
    assert ts.finfo(ts.float16) != ts.finfo(ts.bfloat16)
    assert ts.finfo(float) == ts.finfo(ts.float64) and ts.iinfo(int) == ts.iinfo(ts.int64)
    assert ts.finfo(ts.float32) != ts.iinfo(ts.int32)
    old = ts.get_default_dtype()
    ts.set_default_dtype(ts.float64)
    try:
        assert ts.finfo(ts.float64) == ts.finfo()
    finally:
        ts.set_default_dtype(old)


def test_finfo_iinfo_unhashable_as_torch():
    for info in (torch.finfo(torch.float32), torch.iinfo(torch.int32), ts.finfo(ts.float32), ts.iinfo(ts.int32)):
        with pytest.raises(TypeError, match="unhashable"):
            hash(info)


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "bfloat16"])
def test_finfo_resolution(name):
    t, o = torch.finfo(getattr(torch, name)), ts.finfo(getattr(ts, name))
    assert o.resolution == t.resolution and type(o.resolution) is float
    assert repr(o) == repr(t)


@pytest.mark.parametrize("name", ["complex32", "complex64", "complex128"])
def test_finfo_complex(name):
    t = torch.finfo(getattr(torch, name))
    o = ts.finfo(getattr(ts, name))
    fields = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    assert [getattr(o, f) for f in fields] == [getattr(t, f) for f in fields]
    assert repr(o) == repr(t)


@pytest.mark.parametrize("arg", [None, "float32", np.float32, 3, "tensor"])
@pytest.mark.parametrize("fn", ["finfo", "iinfo"])
def test_type_info_bad_argument(fn, arg):
    with pytest.raises(TypeError) as theirs:
        getattr(torch, fn)(torch.zeros(2) if arg == "tensor" else arg)
    with pytest.raises(TypeError) as ours:
        getattr(ts, fn)(ts.zeros(2) if arg == "tensor" else arg)
    assert str(ours.value) == str(theirs.value)   # "...must be torch.dtype, not NoneType"


def test_finfo_without_argument_is_the_default_dtype():
    assert ts.finfo().eps == torch.finfo().eps
    assert ts.finfo().dtype == "float32"


# ------------------------------------------------------------------ F.normalize(out=)
def test_normalize_out():
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    expected = F.normalize(torch.tensor(x), dim=1).numpy()
    out = ts.zeros(3, 4)
    r = tF.normalize(ts.tensor(x), dim=1, out=out)
    assert r is out
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_normalize_out_refused_with_grad():
    for lib, fn in ((torch, F), (ts, tF)):
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            fn.normalize(lib.ones(2, 3, requires_grad=True), out=lib.zeros(2, 3))


# ------------------------------------------------------------------ cosine_similarity / cosine_embedding_loss
@pytest.mark.parametrize("use_module", [False, True])
@pytest.mark.parametrize("scale", [1e-5, 1.0])
def test_cosine_similarity_grad_below_eps(use_module, scale):
    r = np.random.RandomState(0)
    a = r.randn(3, 4) * scale
    b = r.randn(3, 4) * scale
    g = r.randn(3)
    results = []
    for lib, fn in ((torch, F), (ts, tF)):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.nn.CosineSimilarity(dim=1, eps=1e-3)(x, y) if use_module else fn.cosine_similarity(x, y, dim=1, eps=1e-3)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_cosine_embedding_loss_grad_at_margin():
    b = np.random.RandomState(0).randn(2, 3)
    grads = []
    for lib, fn in ((torch, F), (ts, tF)):
        x1 = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
        x2 = lib.tensor(b, requires_grad=True)
        fn.cosine_embedding_loss(x1, x2, lib.tensor([1, -1])).backward()
        grads.append(x1.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)


@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
def test_cosine_embedding_loss_matches_torch(margin):
    r = np.random.RandomState(2)
    a, b, t = r.randn(5, 4), r.randn(5, 4), np.array([1, -1, 1, -1, 0])
    results = []
    for lib, fn in ((torch, F), (ts, tF)):
        x1, x2 = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        loss = fn.cosine_embedding_loss(x1, x2, lib.tensor(t), margin=margin, reduction="sum")
        loss.backward()
        results.append((loss.item(), x1.grad.numpy(), x2.grad.numpy()))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)


# ------------------------------------------------------------------ soft_margin_loss
def test_soft_margin_loss_overflow_as_torch():
    vals = []
    for lib, fn in ((torch, F), (ts, tF)):
        x = lib.tensor([100., -100., 50.], requires_grad=True)
        out = fn.soft_margin_loss(x, lib.tensor([-1., 1., -1.]), reduction="none")
        out.sum().backward()
        vals.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(vals[1][0], vals[0][0])   # [inf, inf, 50]
    np.testing.assert_array_equal(np.isnan(vals[1][1]), np.isnan(vals[0][1]))


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float64"), ("float64", "float32")])
def test_soft_margin_loss_matches_torch(dtypes):
    r = np.random.RandomState(3)
    a, t = r.randn(6) * 5, np.sign(r.randn(6))
    results = []
    for lib, fn in ((torch, F), (ts, tF)):
        x = lib.tensor(a, dtype=getattr(lib, dtypes[0]), requires_grad=True)
        loss = fn.soft_margin_loss(x, lib.tensor(t, dtype=getattr(lib, dtypes[1])))
        loss.backward()
        assert str(loss.dtype).endswith(dtypes[0])
        results.append((loss.item(), x.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)


# ------------------------------------------------------------------ Flatten / unflatten
def test_flatten_unflatten_0d():
    with pytest.raises(IndexError):
        torch.nn.Flatten()(torch.tensor(1.))
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        ts.nn.Flatten()(ts.tensor(1.))
    for lib in (torch, ts):
        assert lib.nn.Flatten(0)(lib.tensor(1.)).shape == (1,)
        assert lib.tensor(1.).flatten(-1, 0).shape == (1,)
        with pytest.raises(RuntimeError, match="unflatten got an unexpected error"):
            lib.tensor(1.).unflatten(0, (1,))
        with pytest.raises(RuntimeError, match="unflatten got an unexpected error"):
            lib.nn.Unflatten(0, (1,))(lib.tensor(1.))


@pytest.mark.parametrize("sizes", [(2, 2), (-1, 2), (-1, 3), (3,), (), (1, -1, 1)])
def test_unflatten_sizes_as_torch(sizes):
    try:
        expected = torch.zeros(3, 4).unflatten(0, sizes).shape
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e).split("\n")[0][:40].replace("[", r"\[")):
            ts.zeros(3, 4).unflatten(0, sizes)
        return
    assert ts.zeros(3, 4).unflatten(0, sizes).shape == tuple(expected)
    assert ts.nn.Unflatten(0, sizes)(ts.zeros(3, 4)).shape == tuple(expected)


# ------------------------------------------------------------------ float pad widths / interpolate sizes
@pytest.mark.parametrize("widths", [(1.0, 2), (1, 2.5), (True, 2), (None, 1)])
@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_pad_non_int_widths_refused(widths, mode):
    with pytest.raises(TypeError) as theirs:
        F.pad(torch.zeros(2, 3), widths, mode=mode)
    with pytest.raises(TypeError, match="must be tuple of ints, but found element of type"):
        tF.pad(ts.zeros(2, 3), widths, mode=mode)
    assert "pad()" in str(theirs.value)


def test_pad_int_like_widths_taken():
    for widths in ((np.int64(1), 2), [1, 2]):
        np.testing.assert_array_equal(tF.pad(ts.ones(2, 3), widths).numpy(), F.pad(torch.ones(2, 3), widths).numpy())
    assert tF.pad(ts.ones(2, 3), (ts.tensor(1), 2)).shape == F.pad(torch.ones(2, 3), (torch.tensor(1), 2)).shape


@pytest.mark.parametrize("size", [3.0, True, (3.0,)])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_interpolate_non_int_size_refused(size, mode):
    with pytest.raises(TypeError):
        F.interpolate(torch.zeros(1, 2, 5), size=size, mode=mode)
    with pytest.raises(TypeError):
        tF.interpolate(ts.zeros(1, 2, 5), size=size, mode=mode)


def test_interpolate_int_like_size_taken():
    for size in (3, np.int64(3), [3]):
        assert tF.interpolate(ts.zeros(1, 2, 5), size=size).shape == F.interpolate(torch.zeros(1, 2, 5), size=size).shape
