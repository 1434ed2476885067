"""Indexing, scatter/gather, sorting and shape ops against torch 2.13 (found by an audit):
descending sorts of unsigned / minimum integers and nan, take_along_dim broadcasting, index
conversions and dtype rules of item assignment, list-of-sequences and uint8 indices, Python bools
in an index, error types, 0-d inputs, and the names that were missing (scatter_reduce,
searchsorted, tril_indices, block_diag, ...)."""
import warnings
import numpy as np
import pytest
import torch
import tinygrad_seq as ts

pytestmark = pytest.mark.filterwarnings("ignore")


def npy(t):
    return t.detach().numpy() if isinstance(t, (torch.Tensor, ts.Tensor)) else np.asarray(t)


def assert_same(a, b):
    assert tuple(a.shape) == tuple(b.shape), (tuple(a.shape), tuple(b.shape))
    assert str(a.dtype).replace("torch.", "") == str(b.dtype), (a.dtype, b.dtype)
    np.testing.assert_allclose(npy(a).astype(float), npy(b).astype(float), equal_nan=True)


def err_type(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001
        return e
    return None


# 1. names torch has that tinygrad_seq lacks (AttributeError "does not have ... yet")
MISSING = {
    "scatter_reduce": lambda T: T.zeros(3).scatter_reduce(0, T.tensor([0, 0, 2]), T.tensor([1., 2., 3.]), "amax", include_self=False),
    "scatter_reduce_": lambda T: T.zeros(3).scatter_reduce_(0, T.tensor([0, 0, 2]), T.tensor([1., 2., 3.]), "sum"),
    "searchsorted": lambda T: T.searchsorted(T.tensor([1., 3., 5.]), T.tensor([2., 5.]), right=True),
    "bucketize": lambda T: T.bucketize(T.tensor([2., 5.]), T.tensor([1., 3., 5.])),
    "Tensor.stride": lambda T: T.zeros(2, 3).t().stride(),
    "tril_indices": lambda T: T.tril_indices(3, 3, -1),
    "triu_indices": lambda T: T.triu_indices(3, 4, 1),
    "Tensor.tril_": lambda T: T.ones(3, 3).tril_(),
    "Tensor.triu_": lambda T: T.ones(3, 3).triu_(1),
    "take": lambda T: T.take(T.arange(6.).reshape(2, 3), T.tensor([0, 5, -1])),
    "Tensor.put_": lambda T: T.zeros(2, 2).put_(T.tensor([0, 3]), T.tensor([1., 2.]), accumulate=True),
    "masked_scatter": lambda T: T.zeros(3).masked_scatter(T.tensor([True, False, True]), T.tensor([1., 2., 3.])),
    "unique_consecutive": lambda T: T.unique_consecutive(T.tensor([1, 1, 2, 1]), return_counts=True, return_inverse=True),
    "rot90": lambda T: T.rot90(T.arange(6.).reshape(2, 3), 1, (0, 1)),
    "diag_embed": lambda T: T.diag_embed(T.tensor([[1., 2.], [3., 4.]])),
    "block_diag": lambda T: T.block_diag(T.ones(1, 2), T.ones(2, 1)),
    "cartesian_prod": lambda T: T.cartesian_prod(T.tensor([1, 2]), T.tensor([3, 4])),
    "combinations": lambda T: T.combinations(T.tensor([1, 2, 3])),
    "dstack": lambda T: T.dstack([T.tensor([1, 2]), T.tensor([3, 4])]),
    "column_stack": lambda T: T.column_stack([T.tensor([1, 2]), T.tensor([[3], [4]])]),
    "as_strided": lambda T: T.arange(6.).as_strided((2, 2), (1, 2)),
    "Tensor.mH": lambda T: T.ones(2, 3).mH,
    "Tensor.H": lambda T: T.ones(2, 3).H,
    "Tensor.adjoint": lambda T: T.ones(2, 3).adjoint(),
    "broadcast_shapes": lambda T: T.broadcast_shapes((2, 1), (3,)),
    "split_with_sizes": lambda T: T.arange(5).split_with_sizes([2, 3]),
    "msort": lambda T: T.msort(T.tensor([[2., 1.], [0., 3.]])),
    "diagflat": lambda T: T.diagflat(T.tensor([1., 2.])),
}


@pytest.mark.parametrize("name", list(MISSING))
def test_01_missing_names(name):
    expected = MISSING[name](torch)
    got = MISSING[name](ts)
    if isinstance(expected, torch.Tensor):
        assert_same(expected, got)


def test_02_take_along_dim_does_not_broadcast():
    # torch broadcasts index and input in the non-`dim` dimensions; ts behaves like gather
    x = np.arange(20.).reshape(4, 5)
    idx = np.array([[0], [1], [2]])
    exp = torch.take_along_dim(torch.tensor(x), torch.tensor(idx), dim=0)        # [3, 5]
    got = ts.take_along_dim(ts.tensor(x), ts.tensor(idx), dim=0)                 # ts: [3, 1]
    assert_same(exp, got)


def test_03_setitem_float_tensor_into_int_tensor():
    # torch's item assignment converts (copy_ semantics); ts raises RuntimeError
    def f(T):
        x = T.zeros(3, 4, dtype=T.int64)
        x[0] = T.tensor([1.7, -2.7, 3.2, 4.9])
        x[1, :2] = T.tensor(5.9)
        return x
    assert_same(f(torch), f(ts))


def test_03b_setitem_float_tensor_into_bool_tensor():
    def f(T):
        x = T.zeros(3, dtype=T.bool)
        x[:] = T.tensor([0.0, 2.0, 0.3])
        return x
    assert_same(f(torch), f(ts))


def test_04_list_of_index_sequences_is_a_tuple_index():
    # torch 2.13 still reads x[[rows, cols]] as x[rows, cols] (with a deprecation warning);
    # ts reads it as one 2-D index tensor: silently a [2, 2, 4] result instead of [2]
    x = np.arange(12).reshape(3, 4)
    exp = torch.tensor(x)[[torch.tensor([0, 1]), torch.tensor([1, 2])]]
    got = ts.tensor(x)[[ts.tensor([0, 1]), ts.tensor([1, 2])]]
    assert_same(exp, got)


def test_05_uint8_mask_index():
    # torch treats a uint8 tensor index as a mask (deprecated, still so in 2.13); ts as integer indices
    x = np.arange(6.).reshape(3, 2)
    m = [1, 0, 1]
    exp = torch.tensor(x)[torch.tensor(m, dtype=torch.uint8)]
    got = ts.tensor(x)[ts.tensor(m, dtype=ts.uint8)]
    assert_same(exp, got)


def test_06_sort_descending_nan_first():
    # torch orders NaN as the largest value: first in descending sort / topk / argsort
    v = [2., float("nan"), 1., 3.]
    e, g = torch.tensor(v).sort(descending=True), ts.tensor(v).sort(descending=True)
    assert_same(e.values, g.values)
    assert_same(e.indices, g.indices)


def test_06b_topk_nan():
    v = [1., float("nan"), 3.]
    e, g = torch.tensor(v).topk(2), ts.tensor(v).topk(2)
    assert_same(e.values, g.values)
    assert_same(e.indices, g.indices)


@pytest.mark.parametrize("fn", ["hstack", "vstack", "row_stack"])
def test_07_hstack_vstack_of_0d_tensors(fn):
    exp = getattr(torch, fn)([torch.tensor(1.), torch.tensor(2.)])
    got = getattr(ts, fn)([ts.tensor(1.), ts.tensor(2.)])
    assert_same(exp, got)


def test_08_masked_select_broadcasts_input_to_mask():
    m = [[True, False], [True, True]]
    exp = torch.tensor([1., 2.]).masked_select(torch.tensor(m))
    got = ts.tensor([1., 2.]).masked_select(ts.tensor(m))
    assert_same(exp, got)


def test_09_gather_sparse_grad_keyword():
    x = np.arange(6.).reshape(2, 3)
    exp = torch.gather(torch.tensor(x), 1, torch.tensor([[2], [0]]), sparse_grad=False)
    got = ts.gather(ts.tensor(x), 1, ts.tensor([[2], [0]]), sparse_grad=False)
    assert_same(exp, got)


ERRS = {
    "gather index out of range": lambda T: T.zeros(2, 3).gather(1, T.tensor([[3]])),
    "gather index too large": lambda T: T.zeros(2, 3).gather(1, T.zeros(3, 1, dtype=T.int64)),
    "gather float index": lambda T: T.zeros(2, 3).gather(1, T.zeros(2, 1)),
    "scatter index out of range": lambda T: T.zeros(2, 3).scatter(1, T.tensor([[3]]), 1.0),
    "index_add_ source shape": lambda T: T.zeros(3, 2).index_add_(0, T.tensor([0, 0]), T.ones(2, 3)),
    "masked_fill 1-d value": lambda T: T.zeros(3).masked_fill(T.tensor([True, False, True]), T.ones(3)),
    "setitem shape mismatch": lambda T: T.zeros(3, 4).__setitem__(0, T.ones(3)),
    "mask setitem count": lambda T: T.zeros(3).__setitem__(T.tensor([True, True, True]), T.ones(2)),
    "repeat too few sizes": lambda T: T.zeros(2, 3).repeat(2),
    "repeat_interleave wrong len": lambda T: T.zeros(3).repeat_interleave(T.tensor([1, 2])),
    "unfold too big": lambda T: T.zeros(3).unfold(0, 4, 1),
    "narrow out of range": lambda T: T.zeros(3).narrow(0, 2, 2),
    "fliplr 1-d": lambda T: T.zeros(3).fliplr(),
    "t() of 3-d": lambda T: T.zeros(2, 3, 4).t(),
    "mT of 1-d": lambda T: T.zeros(3).mT,
    "tril of 1-d": lambda T: T.zeros(3).tril(),
    "broadcast_tensors": lambda T: T.broadcast_tensors(T.zeros(2), T.zeros(3)),
    "kthvalue k out of range": lambda T: T.zeros(2, 5).kthvalue(6),
    "where float condition": lambda T: T.where(T.tensor([1., 0.]), 1.0, 0.0),
    "index_select on 0-d": lambda T: T.tensor(5.0).index_select(0, T.tensor([0, 0])),
}


@pytest.mark.parametrize("case", list(ERRS))
def test_10_error_types(case):
    e_t, e_s = err_type(lambda: ERRS[case](torch)), err_type(lambda: ERRS[case](ts))
    assert e_t is not None
    assert isinstance(e_s, type(e_t)), f"torch {type(e_t).__name__}, ts {type(e_s).__name__}: {e_s}"


ZERO_D = {
    "gather": lambda T: T.tensor(1.0).gather(0, T.tensor(0)),
    "scatter": lambda T: T.tensor(1.0).scatter(0, T.tensor(0), T.tensor(5.0)),
    "topk": lambda T: T.tensor(2.0).topk(1).values,
}


@pytest.mark.parametrize("op", list(ZERO_D))
def test_11_zero_dim_gather_scatter_topk(op):
    assert_same(ZERO_D[op](torch), ZERO_D[op](ts))


def test_12_python_bool_in_index_tuple():
    # x[True, 1, 2, 3]: True adds a dim; ts counts it as consuming one and checks 3 against a
    # missing dimension
    exp = torch.arange(24.).reshape(2, 3, 4)[True, 1, 2, 3]
    got = ts.arange(24.).reshape(2, 3, 4)[True, 1, 2, 3]
    assert_same(exp, got)


def test_12b_python_bool_with_advanced_index():
    exp = torch.zeros(2, 3, 4)[True, 1, :, [3]]
    got = ts.zeros(2, 3, 4)[True, 1, :, [3]]
    assert_same(exp, got)


MISSING_ERR = {
    "index_select negative index": lambda T: T.zeros(3, 2).index_select(0, T.tensor([-1])),
    "flatten start after end": lambda T: T.zeros(2, 3).flatten(1, 0),
    "expand -1 in a new leading dim": lambda T: T.zeros(3).expand(-1, 3),
    "scatter src of another dtype": lambda T: T.zeros(2, 3).scatter(1, T.tensor([[0], [2]]), T.ones(2, 1, dtype=T.float64)),
    "advanced setitem of another dtype": lambda T: T.zeros(3).__setitem__([0, 1], T.tensor([3, 4])),
}


@pytest.mark.parametrize("case", list(MISSING_ERR))
def test_13_missing_errors(case):
    e_t, e_s = err_type(lambda: MISSING_ERR[case](torch)), err_type(lambda: MISSING_ERR[case](ts))
    assert e_t is not None
    assert e_s is not None and isinstance(e_s, type(e_t)), f"torch raises {type(e_t).__name__}, ts: {e_s!r}"


def test_14_where_uint8_condition():
    exp = torch.where(torch.tensor([1, 0], dtype=torch.uint8), 1.0, 0.0)
    got = ts.where(ts.tensor([1, 0], dtype=ts.uint8), 1.0, 0.0)
    assert_same(exp, got)


@pytest.mark.parametrize("dtype,vals", [("uint8", [3, 0, 200, 1]), ("int8", [3, -128, 5]), ("int64", [3, -2**63, 5])])
def test_15_descending_sort_topk_of_unsigned_or_min_int(dtype, vals):
    # argsort(descending=True) sorts the negated key: uint8 0 stays 0 and 1 wraps to 255,
    # int min negates to itself -> silently wrong order
    e = torch.tensor(vals, dtype=getattr(torch, dtype)).sort(descending=True)
    g = ts.tensor(vals, dtype=getattr(ts, dtype)).sort(descending=True)
    assert_same(e.values, g.values)
    assert_same(e.indices, g.indices)


def test_15b_topk_uint8():
    e = torch.tensor([3, 0, 200, 1], dtype=torch.uint8).topk(2)
    g = ts.tensor([3, 0, 200, 1], dtype=ts.uint8).topk(2)
    assert_same(e.values, g.values)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients(reduce, include_self):
    base = np.array([[1.0, -2.0, 3.0, 0.5], [2.0, 2.0, -1.0, 4.0]])
    src = np.array([[2.0, 0.0, 3.0, 1.0, -3.0], [2.0, 5.0, 2.0, -1.0, 0.5]])
    index = np.array([[0, 2, 2, 1, 0], [3, 3, 1, 1, 1]])
    got = []
    for lib in (torch, ts):
        a = lib.tensor(base, requires_grad=True)
        s = lib.tensor(src[:, :4].copy(), requires_grad=True)
        out = a.scatter_reduce(1, lib.tensor(index[:, :4]), s, reduce, include_self=include_self)
        (out * lib.tensor(np.arange(1.0, 9.0).reshape(2, 4))).sum().backward()
        got.append((npy(out), npy(a.grad), npy(s.grad)))
    for x, y in zip(*got):
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12)


def test_scatter_reduce_in_place_and_integer_mean():
    for lib in (torch, ts):
        x = lib.tensor([10, 20, 30])
        x.scatter_reduce_(0, lib.tensor([0, 0, 2]), lib.tensor([1, 4, 7]), "mean")
        assert x.tolist() == [5, 20, 18]
