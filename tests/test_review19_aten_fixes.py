"""Findings of the review of 7cd484c..40ce044 against torch 2.13: histogram edges, embedding_bag with
include_last_offset, float16 norms, out= resizing, empty LU, frobenius / nuclear norm dims, range of
0-d tensors, the *_copy functions' out=, multilabel_margin_loss's 0-d target, observer zero points
and the ATen dropouts' RuntimeError; each compared with torch directly."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


@pytest.fixture(autouse=True)
def _quiet():
    """torch.range / lu / nuclear_norm / frobenius_norm warn that they are deprecated (as ours)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ------------------------------------------------------------------ 1. histogram edges are torch's linspace
@pytest.mark.parametrize("x,bins,rng", [
    (np.linspace(0, 0.3, 31).astype(np.float32), 3, (0.0, 0.3)),
    (np.linspace(0, 1, 101), 10, (0.0, 1.0)),
    (np.linspace(-1, 0.7, 171).astype(np.float32), 17, None),
    (np.linspace(-2.5, 3.3, 59), 29, None),
])
def test_histogram_values_on_edges_land_in_torchs_bin(x, bins, rng):
    ht, et = torch.histogram(torch.tensor(x), bins, range=rng)
    ho, eo = ts.histogram(ts.tensor(x), bins, range=rng)
    assert eo.dtype == x.dtype
    np.testing.assert_array_equal(_np(eo), et.numpy())
    np.testing.assert_array_equal(_np(ho), ht.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram_edges_bit_equal_over_many_ranges(dtype):
    """float64 too: torch's kernel rounds each start + step i once (an FMA)."""
    rng = np.random.default_rng(0)
    for _ in range(80):
        lo = rng.standard_normal() * rng.choice([1, 100, 1e-3])
        hi = lo + abs(rng.standard_normal()) * rng.choice([1, 10, 1e-2])
        bins = int(rng.integers(1, 60))
        x = np.linspace(lo, hi, 3 * bins + 1).astype(dtype)
        ht, et = torch.histogram(torch.tensor(x), bins, range=(float(lo), float(hi)))
        ho, eo = ts.histogram(ts.tensor(x), bins, range=(float(lo), float(hi)))
        np.testing.assert_array_equal(_np(eo), et.numpy())
        np.testing.assert_array_equal(_np(ho), ht.numpy())


def test_histogram_weighted_counts_on_edges():
    x = (np.round(np.random.default_rng(0).standard_normal(1000) * 4) / 4).astype(np.float32)
    w = np.abs(x)
    ht, _ = torch.histogram(torch.tensor(x), 10, weight=torch.tensor(w))
    ho, _ = ts.histogram(ts.tensor(x), 10, weight=ts.tensor(w))
    np.testing.assert_allclose(_np(ho), ht.numpy(), rtol=1e-5)


def test_histogramdd_edges_are_torch_linspace():
    pts = np.random.default_rng(1).integers(0, 7, (200, 2)).astype(np.float32) / 7
    ht, et = torch.histogramdd(torch.tensor(pts), [3, 7])
    ho, eo = ts.histogramdd(ts.tensor(pts), [3, 7])
    for a, b in zip(eo, et):
        np.testing.assert_array_equal(_np(a), b.numpy())
    np.testing.assert_array_equal(_np(ho), ht.numpy())


# ------------------------------------------------------------------ 2-3. embedding_bag with include_last_offset
_W = np.arange(14.0).reshape(7, 2)
_IDX, _OFF = np.array([0, 2, 5, 1, 1, 4, 6]), np.array([0, 3, 3, 5])   # 4 and 6 come after offsets[-1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_include_last_offset_values(dtype, mode, padding_idx):
    """torch's fast kernel (float32 / float16 sum and mean, no padding_idx) ends the last bag at
    offsets[-1] (mean still divides by the count to the input's end); its other kernels keep the
    trailing indices in the last bag."""
    W = _W.astype(dtype)
    t = torch.nn.functional.embedding_bag(torch.tensor(_IDX), torch.tensor(W), torch.tensor(_OFF), mode=mode,
                                          include_last_offset=True, padding_idx=padding_idx)
    o = ts.nn.functional.embedding_bag(ts.tensor(_IDX), ts.tensor(W), ts.tensor(_OFF), mode=mode,
                                       include_last_offset=True, padding_idx=padding_idx)
    assert o.dtype == dtype and tuple(o.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(o).astype(np.float64), t.numpy().astype(np.float64), rtol=1e-3)


def test_embedding_bag_include_last_offset_findings_case():
    W = np.arange(14.0, dtype=np.float32).reshape(7, 2)
    idx, off = np.array([0, 2, 5, 1, 1, 4, 3]), np.array([0, 3, 3, 5])
    for mode in ("sum", "mean", "max"):
        t = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(W), torch.tensor(off), mode=mode,
                                              include_last_offset=True)
        o = ts.nn.functional.embedding_bag(ts.tensor(idx), ts.tensor(W), ts.tensor(off), mode=mode,
                                           include_last_offset=True)
        np.testing.assert_allclose(_np(o), t.numpy())
    t = torch.embedding_bag(torch.tensor(W), torch.tensor(idx), torch.tensor(off), False, 0, False, None, True)[0]
    o = ts.embedding_bag(ts.tensor(W), ts.tensor(idx), ts.tensor(off), False, 0, False, None, True)[0]
    np.testing.assert_allclose(_np(o), t.numpy())


@pytest.mark.parametrize("mode,padding_idx,psw", [("sum", 2, False), ("sum", None, True), ("sum", 2, True),
                                                   ("mean", 2, False), ("max", None, False)])
def test_embedding_bag_include_last_offset_gradients(mode, padding_idx, psw):
    """float64 (torch's kernels that keep the trailing indices, whose gradient is well defined)."""
    g = np.arange(6.0).reshape(3, 2) + 1
    w_psw = np.arange(1.0, 8.0)
    grads = []
    for lib in (torch, ts):
        W = lib.tensor(_W, requires_grad=True)
        weights = lib.tensor(w_psw, requires_grad=True) if psw else None
        out = lib.nn.functional.embedding_bag(lib.tensor(_IDX), W, lib.tensor(_OFF), mode=mode,
                                              include_last_offset=True, padding_idx=padding_idx,
                                              per_sample_weights=weights)
        out.backward(lib.tensor(g))
        grads.append((_np(out), _np(W.grad), None if weights is None else _np(weights.grad)))
    (ot, gt, pt), (oo, go, po) = grads
    np.testing.assert_allclose(oo, ot)
    np.testing.assert_allclose(go, gt)
    if psw:
        np.testing.assert_allclose(po, pt)


def test_embedding_bag_fast_path_gradient_of_kept_rows():
    """float32 sum: the members before offsets[-1] get their bag's gradient (torch leaves the
    dropped rows' gradient uninitialised, so only the kept rows are compared)."""
    g = np.arange(6.0, dtype=np.float32).reshape(3, 2) + 1
    grads = []
    for lib in (torch, ts):
        W = lib.tensor(_W.astype(np.float32), requires_grad=True)
        lib.nn.functional.embedding_bag(lib.tensor(_IDX), W, lib.tensor(_OFF), mode="sum",
                                        include_last_offset=True).backward(lib.tensor(g))
        grads.append(_np(W.grad))
    kept = [0, 1, 2, 5]   # the rows indexed before offsets[-1]
    np.testing.assert_allclose(grads[1][kept], grads[0][kept])
    np.testing.assert_array_equal(grads[1][[4, 6]], 0.0)   # ours: the dropped rows take no part


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("include_last_offset", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_bag_bookkeeping_as_torch(dtype, mode, include_last_offset, padding_idx):
    W = _W.astype(dtype)
    t = torch.embedding_bag(torch.tensor(W), torch.tensor(_IDX), torch.tensor(_OFF), False, mode, False, None,
                            include_last_offset, padding_idx)
    o = ts.embedding_bag(ts.tensor(W), ts.tensor(_IDX), ts.tensor(_OFF), False, mode, False, None,
                         include_last_offset, padding_idx)
    assert [tuple(a.shape) for a in o] == [tuple(a.shape) for a in t]
    for a, b in zip(o[1:], t[1:]):
        assert a.dtype == np.int64
        np.testing.assert_array_equal(_np(a), b.numpy())
    np.testing.assert_allclose(_np(o[0]).astype(np.float64), t[0].numpy().astype(np.float64), rtol=1e-3)


# ------------------------------------------------------------------ 4. float16 norms
@pytest.mark.parametrize("p", [3, 0.5, -1, -2, 0, 2, "fro", 1, float("inf")])
def test_float16_norm_orders(p):
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -7.0]], np.float16)
    xt, xo = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t, o = xt.norm(p), xo.norm(p)
    assert o.dtype == np.float16
    np.testing.assert_allclose(float(o), float(t), rtol=2e-3)
    if p != 0:
        t.backward()
        o.backward()
        assert xo.grad.dtype == np.float16
        np.testing.assert_allclose(_np(xo.grad).astype(np.float64), xt.grad.numpy().astype(np.float64),
                                   rtol=5e-3, atol=1e-3)
    if not isinstance(p, str):
        t = torch.linalg.vector_norm(torch.tensor(x), p, dim=1)
        o = ts.linalg.vector_norm(ts.tensor(x), p, dim=1)
        assert o.dtype == np.float16
        np.testing.assert_allclose(_np(o).astype(np.float64), t.numpy().astype(np.float64), rtol=2e-3)


def test_float16_two_norm_accumulates_in_float32():
    """300^2 overflows float16; torch's vector norm accumulates in float32 and rounds once."""
    x = np.array([300.0, 300.0], np.float16)
    for got, want in ((ts.tensor(x).norm(), torch.tensor(x).norm()),
                      (ts.linalg.vector_norm(ts.tensor(x)), torch.linalg.vector_norm(torch.tensor(x))),
                      (ts.tensor(x).norm(3), torch.tensor(x).norm(3))):
        assert got.dtype == np.float16
        assert float(got) == float(want)


def test_float16_matrix_norms_as_torch():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -7.0]], np.float16)
    for ord in ("fro", 1, -1, float("inf")):
        t = torch.linalg.matrix_norm(torch.tensor(x), ord)
        o = ts.linalg.matrix_norm(ts.tensor(x), ord)
        assert o.dtype == np.float16 and float(o) == float(t)
    for ord in ("nuc", 2):   # these need an SVD, which torch refuses in float16
        with pytest.raises(RuntimeError, match="Low precision"):
            torch.linalg.matrix_norm(torch.tensor(x), ord)
        with pytest.raises(RuntimeError, match="Low precision"):
            ts.linalg.matrix_norm(ts.tensor(x), ord)


# ------------------------------------------------------------------ 5. out= resized
@pytest.mark.parametrize("make", [
    lambda L, o: L.range(0, 3, out=o),
    lambda L, o: L.range(0.5, 2, 0.25, out=o),
    lambda L, o: L.frobenius_norm(L.ones(2, 2), (0, 1), out=o),
    lambda L, o: L.frobenius_norm(L.ones(2, 3), 1, out=o),
    lambda L, o: L.nuclear_norm(L.ones(2, 2), out=o),
    lambda L, o: L.nuclear_norm(L.ones(2, 2, 2), out=o),
])
@pytest.mark.parametrize("out_shape", [(0,), (2, 3)])
def test_out_is_resized(make, out_shape):
    ot, oo = torch.empty(out_shape), ts.empty(*out_shape)
    rt, ro = make(torch, ot), make(ts, oo)
    assert ro is oo
    assert tuple(oo.shape) == tuple(ot.shape) == tuple(rt.shape)
    np.testing.assert_allclose(_np(oo), ot.numpy(), rtol=1e-6)


def test_range_out_dtype_rules():
    ot, oo = torch.empty(0, dtype=torch.int64), ts.empty(0, dtype=ts.int64)
    torch.range(0, 3, out=ot)
    ts.range(0, 3, out=oo)
    assert oo.dtype == np.int64
    np.testing.assert_array_equal(_np(oo), ot.numpy())
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="does not match dtype of out"):
            lib.range(0, 3, dtype=lib.float32, out=lib.empty(0, dtype=lib.int64))


def test_norm_out_of_another_dtype_is_refused():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError):
            lib.frobenius_norm(lib.ones(2, 2), (0, 1), out=lib.empty(0, dtype=lib.float64))
        with pytest.raises(RuntimeError):
            lib.nuclear_norm(lib.ones(2, 2), out=lib.empty(0, dtype=lib.float64))


# ------------------------------------------------------------------ 6. lu of empty matrices
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (3, 0), (0, 3), (2, 3, 0), (0, 2, 2)])
def test_lu_of_empty_matrices(shape):
    at = torch.zeros(shape, requires_grad=True)
    ao = ts.zeros(*shape, requires_grad=True)
    LUt, pt, it = torch.lu(at, get_infos=True)
    LUo, po, io = ts.lu(ao, get_infos=True)
    assert [tuple(a.shape) for a in (LUo, po, io)] == [tuple(a.shape) for a in (LUt, pt, it)]
    assert po.dtype == np.int32 and io.dtype == np.int32
    unpacked_t, unpacked_o = torch.lu_unpack(LUt, pt), ts.lu_unpack(LUo, po)
    for a, b in zip(unpacked_o, unpacked_t):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(_np(a), b.detach().numpy())
    LUt.sum().backward()
    LUo.sum().backward()
    assert tuple(ao.grad.shape) == tuple(at.grad.shape)


# ------------------------------------------------------------------ 7-8. frobenius_norm / nuclear_norm dims
@pytest.mark.parametrize("keepdim", [False, True])
def test_frobenius_norm_empty_dim_reduces_all(keepdim):
    a = np.arange(12.0).reshape(3, 4)
    t = torch.frobenius_norm(torch.tensor(a), (), keepdim)
    o = ts.frobenius_norm(ts.tensor(a), (), keepdim)
    assert tuple(o.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(o), t.numpy())


def test_frobenius_norm_int_dim_and_too_many_dims():
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(_np(ts.frobenius_norm(ts.tensor(a), 1)), torch.frobenius_norm(torch.tensor(a), 1))
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="Expected at most 2 dimensions"):
            lib.frobenius_norm(lib.ones(2, 3, 4), (0, 1, 2))


@pytest.mark.parametrize("shape", [(2, 3, 3), (2, 2, 3, 4), (3, 5)])
def test_nuclear_norm_without_dim_is_per_matrix(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    for keepdim in (False, True):
        t = torch.nuclear_norm(torch.tensor(a), keepdim)
        o = ts.nuclear_norm(ts.tensor(a), keepdim)
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(_np(o), t.numpy(), rtol=1e-10)


def test_nuclear_norm_of_a_vector_is_refused():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            lib.nuclear_norm(lib.ones(3))


# ------------------------------------------------------------------ 9. range of 0-d tensors
@pytest.mark.parametrize("args", [(0, 3), (0.5, 3.0, 0.5), (True, 3)])
def test_range_takes_0d_tensors(args):
    t = torch.range(*(torch.tensor(a) for a in args))
    o = ts.range(*(ts.tensor(a) for a in args))
    assert o.dtype == np.float32
    np.testing.assert_array_equal(_np(o), t.numpy())


def test_range_refuses_a_1d_tensor():
    for lib in (torch, ts):
        with pytest.raises(TypeError, match="must be Number, not Tensor"):
            lib.range(lib.tensor([0]), 3)


# ------------------------------------------------------------------ 10. the *_copy functions take out=
@pytest.mark.parametrize("name,args", [
    ("view_copy", ((12,),)), ("permute_copy", ((1, 0),)), ("t_copy", ()), ("transpose_copy", (0, 1)),
    ("select_copy", (0, 1)), ("diagonal_copy", ()), ("unsqueeze_copy", (0,)), ("squeeze_copy", ()),
    ("detach_copy", ()), ("expand_copy", ((2, 3, 4),)), ("alias_copy", ()), ("as_strided_copy", ((2, 2), (1, 1))),
    ("slice_copy", (0, 0, 2)), ("narrow_copy", (1, 1, 2)),
])
def test_view_copy_out(name, args):
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for out_shape in ((0,), (5,)):
        ot, oo = torch.empty(out_shape), ts.empty(*out_shape)
        rt = getattr(torch, name)(torch.tensor(a), *args, out=ot)
        ro = getattr(ts, name)(ts.tensor(a), *args, out=oo)
        assert ro is oo
        assert tuple(oo.shape) == tuple(rt.shape)
        np.testing.assert_array_equal(_np(oo), ot.numpy())
    for lib in (torch, ts):   # (torch's narrow_copy words it "Expected self.dtype() == output.dtype() ...")
        with pytest.raises(RuntimeError, match="dtype"):
            getattr(lib, name)(lib.tensor(a), *args, out=lib.empty(0, dtype=lib.float64))


def test_list_copy_out():
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    outs = {lib: [lib.empty(0) for _ in range(3)] for lib in (torch, ts)}
    assert torch.unbind_copy(torch.tensor(a), out=outs[torch]) is None
    assert ts.unbind_copy(ts.tensor(a), out=outs[ts]) is None
    for o, t in zip(outs[ts], outs[torch]):
        np.testing.assert_array_equal(_np(o), t.numpy())
    # split_copy copies into out as it is (cast, broadcast), never resized
    outs = {lib: [lib.empty(2, 4), lib.empty(2, 4, dtype=lib.float64)] for lib in (torch, ts)}
    torch.split_copy(torch.tensor(a), 2, out=outs[torch])
    ts.split_copy(ts.tensor(a), 2, out=outs[ts])
    for o, t in zip(outs[ts], outs[torch]):
        assert o.dtype == t.numpy().dtype
        np.testing.assert_array_equal(_np(o), t.numpy())
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="expected an out= argument of size 2, got size 1"):
            lib.split_copy(lib.tensor(a), 2, out=[lib.empty(2, 4)])


def test_copy_out_of_a_grad_input_is_written():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    ot, oo = torch.empty(0), ts.empty(0)
    torch.t_copy(torch.tensor(a, requires_grad=True), out=ot)
    ts.t_copy(ts.tensor(a, requires_grad=True), out=oo)
    np.testing.assert_array_equal(_np(oo), ot.detach().numpy())


# ------------------------------------------------------------------ 11. multilabel_margin_loss, 0-d
@pytest.mark.parametrize("x,target", [(0.5, 3), (0.5, 1), (0.5, -2), (0.5, 0), (0.5, -1), (0.5, [0]), ([0.5], 0)])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_multilabel_margin_loss_one_class(x, target, reduction):
    results = []
    for lib in (torch, ts):
        xi = lib.tensor(x, requires_grad=True)
        try:
            loss = lib.nn.functional.multilabel_margin_loss(xi, lib.tensor(target), reduction=reduction)
        except RuntimeError as e:
            results.append(str(e))
            continue
        loss.sum().backward()
        results.append((tuple(loss.shape), float(loss), _np(xi.grad).tolist()))
    assert results[1] == results[0]


def test_multilabel_margin_loss_float_target_message():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
            lib.nn.functional.multilabel_margin_loss(lib.tensor(0.5), lib.tensor(0.0))


# ------------------------------------------------------------------ 12. observer zero points, ATen dropouts
@pytest.mark.parametrize("cls,kwargs", [
    ("MinMaxObserver", {}),
    ("MinMaxObserver", dict(dtype="qint8", qscheme="per_tensor_symmetric")),
    ("MinMaxObserver", dict(dtype="quint8", qscheme="per_tensor_symmetric")),
    ("PerChannelMinMaxObserver", {}),
    ("PerChannelMinMaxObserver", dict(dtype="qint8", qscheme="per_channel_symmetric")),
])
def test_observer_zero_point_dtype(cls, kwargs):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    got = []
    for lib in (torch, ts):
        kw = {k: getattr(lib, v) for k, v in kwargs.items()}
        obs = getattr(lib.ao.quantization, cls)(**kw)
        before = obs.calculate_qparams()
        obs(lib.tensor(x))
        after = obs.calculate_qparams()
        got.append([(str(t.dtype).split(".")[-1], tuple(t.shape)) for t in before + after])
        got[-1].append(_np(after[1]).tolist())
    assert got[1] == got[0]


@pytest.mark.parametrize("fn", ["dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout",
                                "dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_"])
@pytest.mark.parametrize("p", [1.5, -0.1])
@pytest.mark.parametrize("train", [True, False])
def test_aten_dropout_bad_p_is_runtime_error(fn, p, train):
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1") as info:
            getattr(lib, fn)(lib.ones(2, 3), p, train)
        assert not isinstance(info.value, ValueError)


@pytest.mark.parametrize("fn", ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d"])
def test_functional_dropout_bad_p_stays_value_error(fn):
    for lib in (torch, ts):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            getattr(lib.nn.functional, fn)(lib.ones(2, 3, 4), 1.5, True)
