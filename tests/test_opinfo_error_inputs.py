"""Findings of the OpInfo audit of error inputs and in-place variants against torch 2.13: dims out
of range raise IndexError (never dim % ndim), argument checks torch makes (frac of integers,
lerp_'s dtypes, sub with a bool, put_'s dtype), int addcmul with a float value, torch's error
types and messages (amin / amax / aminmax / max / min of no elements, narrow of a 0-d tensor,
hsplit by 0, rot90 of a vector, index_add_ / index_copy_ dtypes), unique keeping NaNs apart,
chunk of an empty dim, calls with no Tensor argument, and the version counter of the in-place
view ops. Each compares with real torch."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def raises_like_torch(call):
    """call(torch) and call(ts) both raise, ours an exception of torch's type (ours subclass it);
    returns our exception."""
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(te.type) as oe:
        call(ts)
    return oe.value


# ------------------------------------------------------------------ dims out of range
_DIM_CALLS = {
    "cummax": lambda m, x: m.cummax(x, 2),
    "cummin_neg": lambda m, x: m.cummin(x, -3),
    "median": lambda m, x: x.median(2),
    "scatter": lambda m, x: x.scatter(2, m.tensor([[0, 1]]), 1.0),
    "scatter_add": lambda m, x: x.scatter_add(2, m.tensor([[0, 1]]), x[:1, :2]),
    "index_fill": lambda m, x: x.index_fill(2, m.tensor([0]), 1.0),
    "index_fill_neg": lambda m, x: x.index_fill(-3, m.tensor([0]), 1.0),
    "index_add": lambda m, x: x.index_add(2, m.tensor([0]), x),
    "index_copy": lambda m, x: x.index_copy(2, m.tensor([0]), x),
    "tensor_split": lambda m, x: x.tensor_split(2, 2),
    "tensor_split_indices": lambda m, x: x.tensor_split([1], -3),
}


@pytest.mark.parametrize("name", sorted(_DIM_CALLS))
def test_dim_out_of_range_raises_index_error(name):
    a = np.random.rand(3, 4).astype(np.float32)
    f = _DIM_CALLS[name]
    with pytest.raises(IndexError):
        f(torch, torch.tensor(a))
    with pytest.raises(IndexError, match="Dimension out of range"):
        f(ts, ts.tensor(a))


def test_in_range_negative_dims_still_work():
    a = np.random.rand(3, 4).astype(np.float32)
    for call in (lambda m, x: m.cummax(x, -1).values, lambda m, x: x.median(-2).values,
                 lambda m, x: x.index_fill(-1, m.tensor([0]), 1.0),
                 lambda m, x: x.scatter(-1, m.tensor([[0, 1]]), 1.0)):
        np.testing.assert_allclose(call(ts, ts.tensor(a)).numpy(), call(torch, torch.tensor(a)).numpy())
    assert [p.shape for p in ts.tensor(a).tensor_split(2, -1)] == [(3, 2), (3, 2)]


def test_tensor_split_zero_d_raises():
    raises_like_torch(lambda m: m.tensor(1.0).tensor_split(2))


# ------------------------------------------------------------------ argument checks torch makes
_CHECKS = {
    "frac_long": lambda m: m.ones(3, dtype=m.long).frac(),
    "frac_bool": lambda m: m.ones(3, dtype=m.bool).frac(),
    "frac_long_inplace": lambda m: m.ones(3, dtype=m.long).frac_(),
    "lerp_inplace_double_end": lambda m: m.ones(3).lerp_(m.zeros(3, dtype=m.float64), 0.4),
    "lerp_inplace_double_weight": lambda m: m.ones(3).lerp_(m.zeros(3), m.ones(3, dtype=m.float64)),
    "long_sub_bool": lambda m: m.tensor([1, 4]).sub_(True),
    "long_sub_bool_out_of_place": lambda m: m.tensor([1, 4]).sub(True),
    "free_sub_bool": lambda m: m.sub(m.tensor([1, 4]), True),
    "put_accumulate_dtype": lambda m: m.zeros(3).put_(m.tensor([0]), m.ones(1, dtype=m.float64), True),
    "put_dtype": lambda m: m.zeros(3).put_(m.tensor([0]), m.ones(1, dtype=m.float64)),
    "int_addcdiv": lambda m: m.tensor([1.0, 4.0]).addcdiv(m.tensor([1, 1]), m.tensor([2, 2])),
    "int_addcdiv_inplace": lambda m: m.tensor([1, 4]).addcdiv_(m.tensor([1, 1]), m.tensor([2, 2])),
}


@pytest.mark.parametrize("name", sorted(_CHECKS))
def test_argument_checks_raise_like_torch(name):
    raises_like_torch(_CHECKS[name])


def test_lerp_inplace_same_dtype_and_zero_d_weight_still_work():
    for m in (torch, ts):
        m.ones(3).lerp_(m.zeros(3), 0.4)
    s = ts.ones(3).lerp_(ts.zeros(3), ts.tensor(0.5, dtype=ts.float64))   # a 0-d weight is not checked
    t = torch.ones(3).lerp_(torch.zeros(3), torch.tensor(0.5, dtype=torch.float64))
    np.testing.assert_allclose(s.numpy(), t.numpy())


def test_put_accumulate_same_dtype_still_works():
    s = ts.zeros(3).put_(ts.tensor([0, 0]), ts.ones(2), True)
    t = torch.zeros(3).put_(torch.tensor([0, 0]), torch.ones(2), True)
    np.testing.assert_array_equal(s.numpy(), t.numpy())


def test_frac_float_still_works():
    x = np.array([1.5, -2.25, 3.0], np.float32)
    np.testing.assert_array_equal(ts.tensor(x).frac().numpy(), torch.tensor(x).frac().numpy())


# ------------------------------------------------------------------ int addcmul with a float value
@pytest.mark.parametrize("value", [0.5, 2.5, -0.5, -2.5, 3])
@pytest.mark.parametrize("inplace", [False, True])
def test_int_addcmul_float_value_truncates(value, inplace):
    name = "addcmul_" if inplace else "addcmul"
    t = getattr(torch.tensor([1, 4]), name)(torch.tensor([1, 1]), torch.tensor([3, 3]), value=value)
    s = getattr(ts.tensor([1, 4]), name)(ts.tensor([1, 1]), ts.tensor([3, 3]), value=value)
    assert str(s.dtype) == "int64"
    np.testing.assert_array_equal(s.numpy(), t.numpy())


def test_float_addcmul_value_untouched():
    t = torch.tensor([1.0, 4.0]).addcmul(torch.tensor([1, 1]), torch.tensor([3, 3]), value=0.5)
    s = ts.tensor([1.0, 4.0]).addcmul(ts.tensor([1, 1]), ts.tensor([3, 3]), value=0.5)
    np.testing.assert_array_equal(s.numpy(), t.numpy())


def test_int_addcmul_infinite_value_raises():
    raises_like_torch(lambda m: m.tensor([1, 4]).addcmul(m.tensor([1, 1]), m.tensor([2, 2]), value=float("inf")))


# ------------------------------------------------------------------ error types and messages
@pytest.mark.parametrize("name", ["amin", "amax", "max", "min"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_reduction_of_no_elements_without_dim(name, dtype):
    e = raises_like_torch(lambda m: getattr(m.zeros(5, 0, dtype=getattr(m, dtype)), name)())
    assert isinstance(e, RuntimeError) and f"{name}()" in str(e)


@pytest.mark.parametrize("name", ["amin", "amax"])
def test_reduction_over_an_empty_dim(name):
    e = raises_like_torch(lambda m: getattr(m.zeros(5, 0), name)(-1))
    assert isinstance(e, IndexError) and "dim -1" in str(e)
    e = raises_like_torch(lambda m: getattr(m.zeros(5, 0), name)((0, 1)))
    assert "dim 1" in str(e)
    # reducing a non-empty dim of an empty tensor is fine
    assert tuple(getattr(ts.zeros(5, 0), name)(0).shape) == tuple(getattr(torch.zeros(5, 0), name)(0).shape)


def test_max_over_an_empty_dim():
    e = raises_like_torch(lambda m: m.zeros(5, 0).max(1))
    assert "max()" in str(e)


def test_aminmax_of_no_elements():
    e = raises_like_torch(lambda m: m.aminmax(m.zeros(5, 0)))
    assert isinstance(e, RuntimeError) and "aminmax" in str(e)
    e = raises_like_torch(lambda m: m.zeros(5, 0).aminmax(dim=-1))
    assert "aminmax" in str(e) and "dim 1" in str(e)
    s, t = ts.zeros(5, 0).aminmax(dim=0), torch.zeros(5, 0).aminmax(dim=0)
    assert tuple(s.min.shape) == tuple(t.min.shape) and tuple(s.max.shape) == tuple(t.max.shape)


@pytest.mark.parametrize("name", ["narrow_0d", "hsplit_0", "vsplit_0", "dsplit_0", "rot90_1d", "rot90_0d", "chunk_0d"])
def test_error_type_runtime(name):
    f = {"narrow_0d": lambda m: m.narrow(m.tensor(1.0), 0, 0, 1),
         "hsplit_0": lambda m: m.hsplit(m.ones(5, 5, 5), 0),
         "vsplit_0": lambda m: m.vsplit(m.ones(5, 5, 5), 0),
         "dsplit_0": lambda m: m.dsplit(m.ones(5, 5, 5), 0),
         "rot90_1d": lambda m: m.rot90(m.ones(5)),
         "rot90_0d": lambda m: m.rot90(m.tensor(1.0)),
         "chunk_0d": lambda m: m.tensor(1.0).chunk(2)}[name]
    assert isinstance(raises_like_torch(f), RuntimeError)


@pytest.mark.parametrize("name", ["index_add_", "index_copy_", "index_add", "index_copy"])
def test_index_write_dtype_message_names_the_op(name):
    e = raises_like_torch(lambda m: getattr(m.zeros(3), name)(0, m.tensor([0]), m.ones(1, dtype=m.float64)))
    assert isinstance(e, RuntimeError) and name.rstrip("_") in str(e) and "scatter" not in str(e)


# ------------------------------------------------------------------ unique, chunk
@pytest.mark.parametrize("x", [[1.0, np.nan, np.nan, 2.0], [np.nan, 2.0, np.nan, 1.0, 2.0], [np.nan]])
def test_unique_keeps_each_nan_apart(x):
    x = np.array(x, np.float32)
    s = ts.unique(ts.tensor(x), return_inverse=True, return_counts=True)
    t = torch.unique(torch.tensor(x), return_inverse=True, return_counts=True)
    for o, r in zip(s, t):
        np.testing.assert_array_equal(o.numpy(), r.numpy())


@pytest.mark.parametrize("shape,chunks,dim", [((3, 0), 2, 1), ((3, 0), 3, -1), ((0,), 2, 0), ((0, 4), 5, 0),
                                              ((3, 5), 2, 1), ((3, 1), 4, 1)])
def test_chunk_matches_torch(shape, chunks, dim):
    s, t = ts.zeros(*shape).chunk(chunks, dim), torch.zeros(*shape).chunk(chunks, dim)
    assert [tuple(p.shape) for p in s] == [tuple(p.shape) for p in t]


# ------------------------------------------------------------------ calls with no Tensor argument
@pytest.mark.parametrize("call", ["eq", "maximum", "atan2_tensor_int", "hypot", "fmax", "fmin", "logaddexp",
                                  "atan2_method"])
def test_scalar_other_raises_type_error(call):
    f = {"eq": lambda m: m.eq(2, 3), "maximum": lambda m: m.maximum(m.tensor([1, 2]), 2),
         "atan2_tensor_int": lambda m: m.atan2(m.tensor([1.0, 2.0]), 2),
         "hypot": lambda m: m.tensor([1.0, 2.0]).hypot(2), "fmax": lambda m: m.tensor([1.0, 2.0]).fmax(2.0),
         "fmin": lambda m: m.tensor([1.0, 2.0]).fmin(2), "logaddexp": lambda m: m.tensor([1.0, 2.0]).logaddexp(2),
         "atan2_method": lambda m: m.tensor([1.0, 2.0]).atan2(2)}[call]
    with pytest.raises(TypeError):
        f(torch)
    with pytest.raises(TypeError, match="must be Tensor"):
        f(ts)


def test_scalar_other_where_torch_takes_one():
    for call in (lambda m: m.tensor([1.0, 2.0]).xlogy(2), lambda m: m.tensor([1.0, 2.0]).copysign(-1),
                 lambda m: m.tensor([1.0, 2.0]).atan2(m.tensor(2.0))):
        np.testing.assert_allclose(call(ts).numpy(), call(torch).numpy(), rtol=1e-6)


def test_add_two_python_scalars_returns_tensor():
    s, t = ts.add(2.0, 3.0), torch.add(2.0, 3.0)
    assert isinstance(s, ts.Tensor) and float(s.item()) == float(t.item())


# ------------------------------------------------------------------ in-place view ops bump the version
@pytest.mark.parametrize("name", ["unsqueeze_", "squeeze_", "transpose_", "t_", "as_strided_"])
def test_inplace_view_ops_bump_version(name):
    args = {"unsqueeze_": (0,), "squeeze_": (), "transpose_": (0, 1), "t_": (), "as_strided_": ((1, 2), (1, 1))}[name]
    t = torch.ones(2, 1)
    v = t._version
    getattr(t, name)(*args)
    s = ts.ones(2, 1)
    sv = s._version
    r = getattr(s, name)(*args)
    assert r is s
    assert tuple(s.shape) == tuple(t.shape)
    assert (s._version - sv) == (t._version - v)
