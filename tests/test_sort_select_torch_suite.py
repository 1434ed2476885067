"""Differences from torch 2.13 found by porting PyTorch's test/test_sort_and_select.py and
test_reductions.py: searchsorted / bucketize (out=, sorter checks, nan boundaries), mode (nan,
tie index on long rows, empty dim), median / nanmedian gradients over ties, unique(dim=) of
empty tensors, unique_consecutive of an empty dim, logcumsumexp accumulation and dtypes."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

nan = float("nan")
MIXED = np.array([[1, nan, 3, 2, 2], [nan, nan, 1, 1, 0], [4, 4, 4, 1, 1], [2, 2, 1, 1, nan]], np.float32)


def _same(a, b):
    a, b = a.detach().numpy(), b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (a.tolist(), b.tolist())


def test_searchsorted_bucketize_take_out():
    for L in (torch, ts):
        seq, v = L.tensor([1., 3, 3, 5, 7]), L.tensor([[3., 6, 9], [0, 5, 8]])
        o = L.empty(2, 3, dtype=L.long)
        L.searchsorted(seq, v, right=True, out=o)
        o2 = L.empty(2, 3, dtype=L.int32)
        L.bucketize(v, seq, out_int32=True, out=o2)
        if L is torch:
            ref, ref2 = o, o2
    _same(ref, o)
    _same(ref2, o2)


@pytest.mark.parametrize("sorter, msg", [([1., 0, 2], "long dtype"), ([1, 0], "same size"), ([1, 0, 3], "out of range")])
def test_searchsorted_sorter_validation(sorter, msg):
    for L in (torch, ts):
        with pytest.raises(RuntimeError, match=msg):
            L.searchsorted(L.tensor([5., 1, 7]), L.tensor([2.]), sorter=L.tensor(sorter))


def test_searchsorted_nan_in_boundaries():
    res = []
    for L in (torch, ts):
        seq, v = L.tensor([1., 2, nan]), L.tensor([0.5, 1.5, 2.5, nan])
        res.append((L.searchsorted(seq, v), L.searchsorted(seq, v, right=True), L.bucketize(v, seq)))
    for a, b in zip(*res):
        _same(a, b)   # torch: [0, 1, 3, 3] for both sides


def test_mode_dim_with_nan():
    tv, ti = torch.mode(torch.tensor(MIXED), 0)
    ov, oi = ts.mode(ts.tensor(MIXED), 0)
    _same(tv, ov)
    _same(ti, oi)


def test_mode_index_among_ties_long_rows():
    big = np.random.default_rng(5).integers(0, 5, (3, 400)).astype(np.float32)
    tv, ti = torch.mode(torch.tensor(big), 1)
    ov, oi = ts.mode(ts.tensor(big), 1)
    _same(tv, ov)
    _same(ti, oi)


def test_mode_long_rows_with_nan():
    rows = np.random.default_rng(1).integers(0, 4, (6, 70)).astype(np.float32)
    rows[np.random.default_rng(2).random(rows.shape) < 0.2] = nan
    tv, ti = torch.mode(torch.tensor(rows), 1)
    ov, oi = ts.mode(ts.tensor(rows), 1)
    _same(tv, ov)
    _same(ti, oi)


@pytest.mark.parametrize("shape, dim", [((0,), 0), ((2, 0), 1), ((0,), -1)])
def test_mode_empty_dim_raises_indexerror(shape, dim):
    with pytest.raises(IndexError, match="to have non-zero size"):
        torch.zeros(shape).mode(dim)
    with pytest.raises(IndexError, match="to have non-zero size"):
        ts.zeros(shape).mode(dim)


@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_full_median_grad_spread_over_ties(fn):
    grads = []
    for L in (torch, ts):
        x = L.tensor(MIXED, requires_grad=True)
        getattr(L, fn)(x).backward()
        grads.append(x.grad)
    _same(*grads)


def test_nanmedian_full_grad_spread_over_ties_without_nan():
    grads = []
    for L in (torch, ts):
        x = L.tensor([[1., 2, 2], [2, 3, 2]], requires_grad=True)
        L.nanmedian(x).backward()
        grads.append(x.grad)
    _same(*grads)   # torch: 0.25 on each of the four 2s


@pytest.mark.parametrize("shape, dim", [((5, 0, 0), 1), ((5, 0, 5), 2)])
def test_unique_dim_ill_formed_empty_raises(shape, dim):
    with pytest.raises(RuntimeError, match="unique cannot be applied"):
        torch.unique(torch.empty(shape), return_inverse=True, return_counts=True, dim=dim)
    with pytest.raises(RuntimeError, match="unique cannot be applied"):
        ts.unique(ts.empty(shape), return_inverse=True, return_counts=True, dim=dim)


def test_unique_consecutive_dim_empty():
    t = torch.unique_consecutive(torch.zeros(0, 3), dim=0, return_inverse=True, return_counts=True)
    o = ts.unique_consecutive(ts.zeros(0, 3), dim=0, return_inverse=True, return_counts=True)
    for a, b in zip(t, o):
        _same(a, b)


def test_logcumsumexp_float32_accumulation():
    want = torch.logcumsumexp(torch.zeros(100000), 0)[-1].item()
    got = ts.logcumsumexp(ts.zeros(100000), 0)[-1].item()
    assert abs(got - want) <= 1e-5 * abs(want), (got, want)


@pytest.mark.parametrize("case", ["logcumsumexp_long", "median_bool", "median_bool_dim"])
def test_missing_kernels_raise_notimplemented(case):
    def run(m):
        if case == "logcumsumexp_long":
            return m.logcumsumexp(m.tensor([1, 2]), 0)
        if case == "median_bool":
            return m.tensor([True, False, True]).median()
        return m.tensor([True, False, True]).median(0)
    with pytest.raises(NotImplementedError):
        run(torch)
    with pytest.raises(NotImplementedError):
        run(ts)
