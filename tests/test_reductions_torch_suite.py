"""Reductions as torch 2.13's own test/test_reductions.py and test_sort_and_select.py check them
(ported findings): float32 accumulation of sums and scans, dim=() / [], keepdim without dim,
dtype= of nansum, the errors torch raises (bool inputs, tuple dims, missing kernels) and out=."""
import numpy as np
import pytest
import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _np(t):
    return np.asarray(t.detach().numpy())


# 1. sum / mean / nansum over an outer (non-innermost) dim of float32 accumulate naively
def test_sum_outer_dim_float32_accuracy():
    for op in ("sum", "mean", "nansum"):
        want = getattr(torch.full((100000, 2), 0.1), op)(0).numpy()
        got = _np(getattr(ts.full((100000, 2), 0.1), op)(0))
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=op)


def test_sum_outer_dims_tuple_float32_accuracy():
    want = torch.full((1000, 100, 2), 0.1).sum((0, 1)).numpy()
    got = _np(ts.full((1000, 100, 2), 0.1).sum((0, 1)))
    np.testing.assert_allclose(got, want, rtol=1e-5)


# 2. cumsum / logcumsumexp of float32 accumulate in float32 (torch's CPU kernel accumulates in double)
def test_cumsum_float32_accumulation():
    want = torch.full((100000,), 0.1).cumsum(0)[-1].item()
    got = ts.full((100000,), 0.1).cumsum(0)[-1].item()
    assert abs(got - want) <= 1e-5 * abs(want), (got, want)


# 3. amax / amin with dim=() or [] reduce every dim in torch; ours returns the input unchanged
@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim,keep", [((), False), ([], False), ((), True)])
def test_amax_amin_empty_dim_reduces_all(op, dim, keep):
    data = [[1.5, -2.0, 3.0], [4.0, 5.5, -6.0]]
    want = getattr(torch.tensor(data), op)(dim, keepdim=keep)
    got = getattr(ts.tensor(data), op)(dim, keepdim=keep)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(_np(got), want.numpy())


def test_logsumexp_empty_dim_list_not_wrong_values():
    # torch raises for dim=[] / (); ours returns x + log(numel), wrong for any reading
    data = [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError):
        torch.logsumexp(torch.tensor(data), [])
    with pytest.raises(RuntimeError):
        ts.logsumexp(ts.tensor(data), [])


# 4. argmax / argmin(keepdim=True) without dim: torch keeps every dim as size 1
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_keepdim_without_dim_shape(op):
    data = [[1.5, -2.0, 3.0], [4.0, 5.5, -6.0]]
    want = getattr(torch.tensor(data), op)(keepdim=True)
    got = getattr(ts.tensor(data), op)(keepdim=True)
    assert tuple(got.shape) == tuple(want.shape) == (1, 1)
    np.testing.assert_array_equal(_np(got), want.numpy())


# 5. nansum(dtype=<int32/int8/uint8/bool>) ignores dtype and returns int64
@pytest.mark.parametrize("dt", ["int32", "int8", "uint8", "bool"])
def test_nansum_integer_dtype_argument(dt):
    want = torch.nansum(torch.tensor([[1, 0, 3], [1, 2, 5]]), dim=0, dtype=getattr(torch, dt))
    got = ts.nansum(ts.tensor([[1, 0, 3], [1, 2, 5]]), dim=0, dtype=getattr(ts, dt))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(got), want.numpy())


# 6. nanmean of integer / bool input raises in torch
@pytest.mark.parametrize("dt", ["int64", "int32", "uint8", "bool"])
def test_nanmean_integer_input_raises(dt):
    with pytest.raises(RuntimeError):
        torch.tensor([1, 0, 1], dtype=getattr(torch, dt)).nanmean()
    with pytest.raises(RuntimeError):
        ts.tensor([1, 0, 1], dtype=getattr(ts, dt)).nanmean()


# 7. argmax / argmin of a bool tensor raise in torch
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_bool_raises(op):
    with pytest.raises(RuntimeError):
        getattr(torch.tensor([True, False]), op)()
    with pytest.raises(RuntimeError):
        getattr(ts.tensor([True, False]), op)()


# 9. out= dtype rules of reductions
def test_sum_float_into_int_out():
    y_t = torch.zeros(3, dtype=torch.int64)
    torch.sum(torch.tensor([[1.5, 2.0, 3.0], [4.0, 5.5, -6.0]]), 0, out=y_t)
    y = ts.zeros(3, dtype=ts.int64)
    ts.sum(ts.tensor([[1.5, 2.0, 3.0], [4.0, 5.5, -6.0]]), 0, out=y)
    np.testing.assert_array_equal(_np(y), y_t.numpy())


def test_all_uint8_into_bool_out():
    o_t = torch.zeros(2, dtype=torch.bool)
    torch.all(torch.tensor([[0, 3], [2, 2]], dtype=torch.uint8), 0, out=o_t)
    o = ts.zeros(2, dtype=ts.bool)
    ts.all(ts.tensor([[0, 3], [2, 2]], dtype=ts.uint8), 0, out=o)
    np.testing.assert_array_equal(_np(o), o_t.numpy())


def test_sum_dtype_mismatching_out_raises():
    with pytest.raises(RuntimeError):
        torch.sum(torch.ones(2, 3), 0, dtype=torch.float32, out=torch.zeros(3, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        ts.sum(ts.ones(2, 3), 0, dtype=ts.float32, out=ts.zeros(3, dtype=ts.float64))


# 10. kernels torch lacks (NotImplementedError)
@pytest.mark.parametrize("case", ["cumsum_bool", "cumprod_bool"])
def test_missing_kernels_raise_notimplemented(case):
    def run(m):
        if case == "cumsum_bool":
            return m.cumsum(m.tensor([1, 0, 2]), 0, dtype=m.bool)
        return m.cumprod(m.tensor([1, 0, 2]), 0, dtype=m.bool)
    with pytest.raises(NotImplementedError):
        run(torch)
    with pytest.raises(NotImplementedError):
        run(ts)


# 11. single-dim reductions given a tuple/list dim (or prod(dim=None)) are torch's TypeError
@pytest.mark.parametrize("case", ["max", "min", "argmax", "argmin", "cumsum", "cumprod", "prod_tuple", "prod_none"])
def test_single_dim_ops_reject_tuple_dim(case):
    def run(m):
        x = m.ones(2, 3)
        if case == "max":
            return m.max(x, dim=(0,))
        if case == "argmax":
            return m.argmax(x, dim=(1,))
        if case == "min":
            return m.min(x, dim=[1])
        if case == "argmin":
            return m.argmin(x, dim=[1])
        if case == "cumprod":
            return m.cumprod(x, dim=(0,))
        if case == "cumsum":
            return m.cumsum(x, dim=(0,))
        if case == "prod_tuple":
            return m.prod(m.tensor(2.5), dim=(0,))
        if case == "prod_none":
            return m.prod(x, dim=None)
    with pytest.raises(TypeError):
        run(torch)
    with pytest.raises(TypeError):
        run(ts)


# 12. norm(p='nuc', dim=int): torch's RuntimeError, ours an internal TypeError
def test_norm_nuc_int_dim_error_type():
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).norm(p="nuc", dim=1)
    with pytest.raises(RuntimeError):
        ts.ones(2, 3).norm(p="nuc", dim=1)


def test_linalg_matrix_norm_int_dim_is_typeerror():
    with pytest.raises(TypeError):
        torch.linalg.matrix_norm(torch.ones(2, 3), dim=1)
    with pytest.raises(TypeError):
        ts.linalg.matrix_norm(ts.ones(2, 3), dim=1)


# sort_and_select findings on topk / kthvalue
def _same(a, b):
    a, b = _np(a), np.asarray(b.numpy())
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (a.tolist(), b.tolist())

def test_topk_bool_dim_is_typeerror():
    with pytest.raises(TypeError):
        torch.randn(10, 2, 10).topk(4, True)
    with pytest.raises(TypeError):
        ts.randn(10, 2, 10).topk(4, True)


def test_kthvalue_out_overlapping_input_raises():
    for L in (torch, ts):
        a = L.randn(10)
        with pytest.raises(RuntimeError, match="unsupported operation"):
            L.kthvalue(a, 5, out=(a, L.empty((), dtype=L.long)))


def test_topk_zero_d_k0():
    tv, ti = torch.tensor(2.0).topk(0)
    ov, oi = ts.tensor(2.0).topk(0)
    _same(ov, tv)   # torch: 0-d values tensor(2.) and indices tensor(0)
    _same(oi, ti)


def test_topk_bool_raises():
    with pytest.raises(RuntimeError, match="bool"):
        torch.tensor([True, False, True]).topk(2)
    with pytest.raises(RuntimeError, match="bool"):
        ts.tensor([True, False, True]).topk(2)


def test_aminmax_refuses_a_tuple_dim_as_torch():
    for M in (torch, ts):
        with pytest.raises(TypeError):
            M.aminmax(M.ones(2, 3), dim=(0,))
