"""torch's CPU order among equal values: sort/argsort (std::sort, and the stable radix sort of long
1-D integers), topk (partial_sort / nth_element, sorted or not), kthvalue (quickselect), median
and nanmedian (ties by index), pack_padded_sequence's sorted_indices, and the contiguous result of
pad_packed_sequence on an unsorted batch. Every case is compared with torch itself."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402
from tinygrad_seq.kernels import sort_cpu, sort_steps  # noqa: E402


def _tied(rng, shape, dtype, nan=False):
    """Values from a few integers (many ties); some nans when asked."""
    x = rng.randint(0, rng.randint(1, 8), size=shape).astype(dtype)
    if nan:
        x[rng.rand(*shape) < 0.15] = np.nan
    return x


@pytest.fixture(params=["interpreted", "compiled"])
def route(request, monkeypatch):
    """Both routes: numpy's argsort with the interpreted port on tied rows, and the compiled port
    on every row."""
    compiled = request.param == "compiled"
    monkeypatch.setattr(sort_steps, "runs_compiled", lambda kind, dtype, work: compiled)
    return request.param


_DTYPES = (np.float32, np.float64, np.int64, np.int32, np.uint8)
_LENGTHS = (2, 3, 16, 17, 40, 200, 1500)   # around insertion sort's 16, past the heap fallback


@pytest.mark.parametrize("dtype", _DTYPES)
def test_sort_and_argsort_ties_match_torch(dtype, route):
    rng = np.random.RandomState(0)
    for n in _LENGTHS:
        for nan in ((False, True) if np.dtype(dtype).kind == "f" else (False,)):
            x = _tied(rng, (n,), dtype, nan)
            for desc in (False, True):
                t = torch.from_numpy(x).sort(descending=desc)
                o = ts.tensor(x).sort(descending=desc)
                assert o.indices.tolist() == t.indices.tolist(), (n, nan, desc)
                np.testing.assert_array_equal(o.values.numpy(), t.values.numpy())
                assert ts.tensor(x).argsort(descending=desc).tolist() == \
                    torch.from_numpy(x).argsort(descending=desc).tolist()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_2d_along_each_dim_matches_torch(dim, route):
    rng = np.random.RandomState(1)
    for shape in ((5, 40), (37, 3), (20, 20)):
        for dtype in (np.float32, np.int64):
            x = _tied(rng, shape, dtype, nan=dtype == np.float32)
            for desc in (False, True):
                t = torch.from_numpy(x).sort(dim, descending=desc).indices
                o = ts.tensor(x).sort(dim, descending=desc).indices
                assert o.tolist() == t.tolist()
                assert o.is_contiguous() and tuple(o.stride()) == tuple(t.stride())


def test_stable_sort_and_msort_match_torch():
    rng = np.random.RandomState(2)
    x = _tied(rng, (50, 3), np.float32, nan=True)
    for desc in (False, True):
        t = torch.from_numpy(x).sort(dim=0, descending=desc, stable=True).indices
        assert ts.tensor(x).sort(dim=0, descending=desc, stable=True).indices.tolist() == t.tolist()
    # msort's gradient lands where its (std::sort) indices say
    xt, xo = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    w = np.arange(150, dtype=np.float32).reshape(50, 3)
    (torch.msort(xt) * torch.from_numpy(w)).nansum().backward()
    (ts.msort(xo) * ts.tensor(w)).nansum().backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


def test_long_1d_integer_ascending_sort_is_torch_radix_sort():
    # torch radix-sorts (stably) 1-D integer tensors of 32768 elements and more, ascending only
    rng = np.random.RandomState(3)
    for n in (32767, 32768):
        x = rng.randint(0, 9, n)
        for desc in (False, True):
            assert np.array_equal(ts.tensor(x).sort(descending=desc).indices.numpy(),
                                  torch.from_numpy(x).sort(descending=desc).indices.numpy())
    x = rng.randint(0, 9, (1, 32768))   # 2-D: std::sort again
    assert np.array_equal(ts.tensor(x).argsort().numpy(), torch.from_numpy(x).argsort().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_topk_ties_match_torch(dtype, route):
    rng = np.random.RandomState(4)
    for n in (1, 5, 17, 64, 130, 700):
        for nan in ((False, True) if np.dtype(dtype).kind == "f" else (False,)):
            x = _tied(rng, (n,), dtype, nan)
            for k in sorted({0, 1, 2, n // 64, n // 3, n - 1, n} - {-1}):
                if not 0 <= k <= n:
                    continue
                for largest in (True, False):
                    for srt in (True, False):
                        t = torch.from_numpy(x).topk(k, largest=largest, sorted=srt)
                        o = ts.tensor(x).topk(k, largest=largest, sorted=srt)
                        assert o.indices.tolist() == t.indices.tolist(), (n, k, largest, srt)
                        assert o.indices.is_contiguous() and tuple(o.indices.stride()) == tuple(t.indices.stride())
                        np.testing.assert_array_equal(o.values.numpy(), t.values.numpy())


@pytest.mark.parametrize("dim", [0, 1])
def test_topk_2d_along_each_dim_matches_torch(dim, route):
    rng = np.random.RandomState(5)
    x = _tied(rng, (70, 90), np.float32, nan=True)
    for k in (1, 3, 40):
        for largest in (True, False):
            for srt in (True, False):
                t = torch.from_numpy(x).topk(k, dim, largest, srt).indices
                o = ts.tensor(x).topk(k, dim, largest, srt).indices
                assert o.tolist() == t.tolist()
                assert tuple(o.stride()) == tuple(t.stride())


def test_topk_audit_case(route):
    a = [[1., 3., 3., 2., 3., 0.], [0., 0., 0., 0., 0., 0.]]
    assert ts.tensor(a).topk(3, dim=1).indices.tolist() == [[2, 4, 1], [3, 5, 4]]


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_kthvalue_ties_match_torch(dtype, route):
    rng = np.random.RandomState(6)
    for shape in ((1,), (7,), (40,), (300,), (6, 33), (33, 6)):
        x = _tied(rng, shape, dtype, nan=dtype == np.float32)
        for dim in range(len(shape)):
            n = shape[dim]
            for k in sorted({1, 2, n // 2, n - 1, n} & set(range(1, n + 1))):
                for keepdim in (False, True):
                    t = torch.from_numpy(x).kthvalue(k, dim, keepdim)
                    o = ts.tensor(x).kthvalue(k, dim, keepdim)
                    assert o.indices.tolist() == t.indices.tolist(), (shape, dim, k)
                    np.testing.assert_array_equal(o.values.numpy(), t.values.numpy())
    t, o = torch.tensor(5.).kthvalue(1), ts.tensor(5.).kthvalue(1)   # 0-d
    assert o.values.shape == () and o.indices.item() == t.indices.item() == 0


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_ties_by_index_match_torch(name, route):
    rng = np.random.RandomState(7)
    for shape in ((4, 31), (31, 4), (3, 5)):
        x = _tied(rng, shape, np.float32, nan=True)
        x[0] = np.nan   # an all-nan row (nanmedian's index is where nth_element leaves it)
        for dim in (0, 1):
            t = getattr(torch.from_numpy(x), name)(dim)
            o = getattr(ts.tensor(x), name)(dim)
            assert o.indices.tolist() == t.indices.tolist()
            np.testing.assert_array_equal(o.values.numpy(), t.values.numpy())


def test_port_interpreted_and_compiled_agree():
    # the same source runs in the interpreter (short rows) and compiled (long ones)
    rng = np.random.RandomState(8)
    keys = rng.randint(0, 4, (3, 300)).astype(np.float64)
    keys[1, ::7] = np.nan
    rows = np.arange(3)
    for desc in (False, True):
        a, b = np.empty(keys.shape, np.int64), np.empty(keys.shape, np.int64)
        sort_steps._sort_rows(keys, rows, desc, a)
        sort_cpu._COMPILED['sort'][0](keys, rows, desc, b)
        np.testing.assert_array_equal(a, b)
    for k in (1, 4, 150):
        a, b = np.empty((3, k), np.int64), np.empty((3, k), np.int64)
        sort_steps._topk_rows(keys, k, True, True, a)
        sort_cpu._COMPILED['topk'][0](keys, k, True, True, b)
        np.testing.assert_array_equal(a, b)
    a, b = np.empty(3, np.int64), np.empty(3, np.int64)
    sort_steps._kthvalue_rows(keys, 100, a)
    sort_cpu._COMPILED['kthvalue'][0](keys, 100, b)
    np.testing.assert_array_equal(a, b)


_BATCH_LENGTHS = np.random.RandomState(0).randint(3, 9, size=32).tolist()   # a batch's lengths, with ties


def test_pack_padded_unsorted_sorted_indices_match_torch(route):
    res = []
    for L in (torch, ts):
        x = L.arange(32 * 8).float().view(32, 8, 1)
        p = L.nn.utils.rnn.pack_padded_sequence(x, _BATCH_LENGTHS, batch_first=True, enforce_sorted=False)
        res.append((p.sorted_indices.tolist(), p.unsorted_indices.tolist(), p.data[:, 0].tolist()))
    assert res[1] == res[0]


def _unsorted_padded(L, batch_first):
    nn = L.nn
    L.manual_seed(0)
    gru = nn.GRU(3, 4, batch_first=batch_first)
    x = L.ones(3, 5, 3) if batch_first else L.ones(5, 3, 3)
    p = nn.utils.rnn.pack_padded_sequence(x, [2, 5, 3], batch_first=batch_first, enforce_sorted=False)
    return nn.utils.rnn.pad_packed_sequence(gru(p)[0], batch_first=batch_first)[0]


@pytest.mark.parametrize("batch_first", [True, False])
def test_pad_packed_unsorted_is_contiguous_and_dropout_draws_torch_mask(batch_first):
    t, o = _unsorted_padded(torch, batch_first), _unsorted_padded(ts, batch_first)
    assert o.is_contiguous() and t.is_contiguous()
    assert tuple(o.stride()) == tuple(t.stride())
    assert tuple(o.view(15, 4).shape) == (15, 4)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert o.grad_fn.name() == t.grad_fn.name()
    masks = []
    for L, u in ((torch, t), (ts, o)):
        L.manual_seed(1)
        masks.append((L.nn.functional.dropout(u, 0.5, True) == 0).numpy())
    np.testing.assert_array_equal(masks[1], masks[0])


def test_pad_packed_sorted_batch_first_stays_a_view_as_torch():
    # an enforce_sorted batch has no reorder: torch returns the transposed (B, T, H) view
    res = []
    for L in (torch, ts):
        p = L.nn.utils.rnn.pack_padded_sequence(L.ones(3, 5, 2), [5, 3, 2], batch_first=True)
        res.append(L.nn.utils.rnn.pad_packed_sequence(p, batch_first=True)[0])
    assert res[1].is_contiguous() == res[0].is_contiguous()
    assert tuple(res[1].stride()) == tuple(res[0].stride())
