"""Dtypes and creation against torch 2.13 (found by an audit): integer min / minimum by a real
min (uint8, the dtype's minimum, bool), dtype=float is float64, integer dtype= of sum / prod /
cumsum, numpy(force=), the missing creation names, out-of-range Python ints wrapping as torch's,
arange / new_* keyword forms, float16 with integers in the host binary ops, index-op result
dtypes, ts.tensor's list inference, bool unary ops, complex arguments refused, keyword
arguments, integer powers with negative exponents, error types, and the errors torch raises."""
import warnings

import numpy as np
import pytest
import torch
import tinygrad_seq as ts

pytestmark = pytest.mark.filterwarnings("ignore")


def dn(d):
    s = str(d).replace("torch.", "")
    return {"float": "float32", "double": "float64", "long": "int64", "int": "int32",
            "half": "float16", "short": "int16"}.get(s, s)


def same(a, b):
    """same dtype, shape and values"""
    assert dn(a.dtype) == dn(b.dtype), (a.dtype, b.dtype)
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(np.asarray(b.detach().numpy(), dtype=np.float64),
                               a.detach().numpy().astype(np.float64))


# 1. integer min via negation: wrong for uint8 containing 0 and for the dtype's minimum
@pytest.mark.parametrize("expr", [
    "m.tensor([3, 0, 200], dtype=m.uint8).min()",
    "m.tensor([3, 0, 200], dtype=m.uint8).amin()",
    "m.tensor([3, 0, 200], dtype=m.uint8).min(0).values",
    "m.tensor([3, 0, 200], dtype=m.uint8).argmin()",
    "m.tensor([3, 0, 200], dtype=m.uint8).aminmax().min",
    "m.minimum(m.tensor([1, 0, 2], dtype=m.uint8), m.tensor([2, 1, 1], dtype=m.uint8))",
    "m.min(m.tensor([3, 0, 200], dtype=m.uint8), m.tensor([1, 1, 1], dtype=m.uint8))",
    "m.minimum(m.tensor([1, 0, 2], dtype=m.uint8), m.tensor([2, 1, 1]))",
    "m.tensor([-128, 5], dtype=m.int8).min()",
    "m.tensor([-2**63, 5]).min()",
    "m.minimum(m.tensor([True, False]), m.tensor([False, False]))",
])
def test_integer_min_and_minimum(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


# 2. dtype=float (Python's float) is float64 in torch, the default dtype here
def test_python_float_dtype_is_float64():
    same(torch.zeros(2, dtype=float), ts.zeros(2, dtype=float))
    same(torch.tensor([1, 2]).to(float), ts.tensor([1, 2]).to(float))


# 3. reductions with an integer dtype= ignore it (numpy's sum widens to int64)
@pytest.mark.parametrize("expr", [
    "m.tensor([1, 2, 3]).sum(dtype=m.int32)",
    "m.sum(m.tensor([1, 2, 3]), dtype=m.int16)",
    "m.tensor([1, 2, 3]).prod(dtype=m.int32)",
    "m.tensor([1, 2, 3]).cumsum(0, dtype=m.int32)",
    "m.tensor([True, True]).sum(dtype=m.int32)",
    "m.tensor([1, 2, 3]).sum(dtype=m.bool)",
])
def test_reduction_integer_dtype_argument(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


# 4. numpy(force=True)
def test_numpy_force():
    t = torch.ones(2, requires_grad=True).numpy(force=True)
    s = ts.ones(2, requires_grad=True).numpy(force=True)
    assert s.dtype == t.dtype and np.array_equal(s, t)


# 5. torch names used by creation code that are missing
@pytest.mark.parametrize("expr", [
    "m.zeros_like(m.ones(2, 3), memory_format=m.preserve_format)",
    "m.ones(2, 3).t().contiguous(memory_format=m.contiguous_format)",
    "m.logspace(0, 2, 3)",
    "m.logspace(0, 3, 4, base=2.0, dtype=m.float64)",
    "m.randint_like(m.ones(2, 3), 5).clamp(0, 0)",
    "m.true_divide(m.tensor([1, 2]), 2)",
    "m.HalfTensor([1, 2])",
    "m.ShortTensor([1, 2])",
    "m.CharTensor([1, 2])",
])
def test_missing_creation_names(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


# 6. an integer tensor with an out-of-range Python int: torch wraps, ts raises OverflowError
@pytest.mark.parametrize("expr", [
    "m.tensor([1, 2, 3], dtype=m.uint8) + (-1)",
    "m.tensor([1, 2, 3], dtype=m.uint8) < -1",
    "m.tensor([1, 2, 3], dtype=m.uint8) / -1",
    "m.tensor([1, 2, 3], dtype=m.uint8) + 300",
    "m.tensor([1, 2, 3], dtype=m.int32) + 2**40",
    "m.tensor([-1], dtype=m.uint8)",
])
def test_integer_tensor_out_of_range_scalar(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


def test_result_type_uint8_negative_scalar():
    assert dn(torch.result_type(torch.tensor([1], dtype=torch.uint8), -1)) == \
        dn(ts.result_type(ts.tensor([1], dtype=ts.uint8), -1))


# 7. arange(end=...) keyword form
def test_arange_end_keyword():
    same(torch.arange(end=4), ts.arange(end=4))


# 8. new_zeros / new_ones / new_empty take size= as keyword
def test_new_zeros_size_keyword():
    same(torch.ones(2, dtype=torch.float64).new_zeros(size=(2, 3)),
         ts.ones(2, dtype=ts.float64).new_zeros(size=(2, 3)))


# 9. float16 with an integer tensor in host binary ops gives float32 (torch: float16)
@pytest.mark.parametrize("fn", ["atan2", "hypot", "fmax", "fmin", "logaddexp", "copysign", "xlogy", "ldexp"])
def test_float16_int_host_binary_ops_dtype(fn):
    def f(m):
        return getattr(m, fn)(m.tensor([1., 0., 2.], dtype=m.float16), m.tensor([2, 1, 1]))
    assert dn(f(torch).dtype) == dn(f(ts).dtype)


def test_nextafter_float32_int_dtype():
    def f(m):
        return m.nextafter(m.tensor([1., 2.]), m.tensor([2, 1]))
    assert dn(f(torch).dtype) == dn(f(ts).dtype)


# 10. result dtypes of unique / searchsorted(out_int32) / bincount(weights float32)
@pytest.mark.parametrize("expr", [
    "m.unique(m.tensor([3, 1, 3], dtype=m.int32))",
    "m.unique(m.tensor([3, 1, 3], dtype=m.uint8))",
    "m.searchsorted(m.tensor([1., 2.]), m.tensor([1.5]), out_int32=True)",
    "m.bincount(m.tensor([0, 1, 1]), weights=m.tensor([1., 2., 3.]))",
    "m.tensor([1, 0], dtype=m.uint8).all()",
    "m.tensor([1, 0], dtype=m.uint8).any()",
])
def test_result_dtypes_of_index_ops(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


# 11. ts.tensor(...) loses the dtype of numpy int scalars / int32 tensors inside a list
@pytest.mark.parametrize("expr", [
    "m.tensor([np.int32(1), np.int32(2)])",
    "m.tensor([np.uint8(1), np.uint8(2)])",
    "m.tensor([np.array([1, 2], dtype=np.int32)])",
    "m.tensor([m.tensor(1, dtype=m.int32)])",
    "m.tensor([1, np.float64(1.5)])",
    "m.tensor([m.tensor(1), 2.5])",
])
def test_tensor_from_list_of_typed_scalars(expr):
    same(eval(expr, {"m": torch, "np": np}), eval(expr, {"m": ts, "np": np}))


# 12. bool tensors: sign/sgn crash, square keeps bool, fill_(0.5) gives False
@pytest.mark.parametrize("expr", [
    "m.tensor([True, False]).sign()",
    "m.sgn(m.tensor([True, False]))",
    "m.square(m.tensor([True, False]))",
    "m.zeros(2, dtype=m.bool).fill_(0.5)",
])
def test_bool_unary(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


# 13. complex arguments silently accepted (README: complex raises an error that says so)
@pytest.mark.parametrize("expr", [
    "m.full((2,), 1 + 1j)",
    "m.tensor([1.5, 2.5]).clamp(1j)",
    "m.arange(1j)",
])
def test_complex_arguments_not_silent(expr):
    # torch gives a complex tensor or raises; ts (no complex dtypes) must raise, not return
    # a silently real (or stray complex) tensor
    with pytest.raises(Exception):
        eval(expr, {"m": ts})


# 14. keyword arguments torch takes that ts lacks
@pytest.mark.parametrize("expr", [
    "m.nansum(m.tensor([1., 2.]), dtype=m.float64)",
    "m.tensor([3., 4.]).norm(dtype=m.float64)",
    "m.zeros(3, out=m.empty(3))",
    "m.tensor([1.], pin_memory=False)",
])
def test_missing_keyword_arguments(expr):
    same(eval(expr, {"m": torch}), eval(expr, {"m": ts}))


# 15. integer pow with a tensor of negative exponents: torch computes, ts raises
def test_int_pow_negative_tensor_exponent():
    same(torch.tensor([1, 2, -1]).pow(torch.tensor([-2, -1, -3])),
         ts.tensor([1, 2, -1]).pow(ts.tensor([-2, -1, -3])))
    same(2 ** -torch.tensor([1, 2]), 2 ** -ts.tensor([1, 2]))


# 16. arange with float arguments and an integer dtype
def test_arange_float_args_int_dtype():
    same(torch.arange(0, 5, 1.5, dtype=torch.int64), ts.arange(0, 5, 1.5, dtype=ts.int64))


# 17. wrong error types
@pytest.mark.parametrize("expr", [
    "m.zeros(-1)", "m.eye(-1)", "m.arange(0, 5, 0)", "m.tensor(None)",
    "m.iinfo(m.float32)", "m.finfo(m.int32)", "m.randint(3, 3, (3,))",
])
def test_error_types(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"m": torch})
    with pytest.raises(Exception) as es:
        eval(expr, {"m": ts})
    assert isinstance(es.value, type(et.value)), (type(et.value), type(es.value))


# 18. missing errors: programs torch rejects run silently (often in another dtype)
@pytest.mark.parametrize("expr", [
    "1 - m.tensor([True, False])",
    "m.tensor([True, False]) - 1",
    "m.tensor([1, 2]).softmax(0)",
    "m.tensor([[1.]]) @ m.tensor([[2.]], dtype=m.float64)",
    "m.nn.Linear(2, 1)(m.ones(1, 2, dtype=m.int64))",
    "m.tensor([1, 2]).norm()",
    "m.rand(2, dtype=m.int64)",
    "m.tensor([m.tensor([1., 2.]), m.tensor([3., 4.])])",
])
def test_missing_errors(expr):
    with pytest.raises(Exception):
        eval(expr, {"m": torch})
    with pytest.raises(Exception):
        eval(expr, {"m": ts})


# 19. set_default_dtype(float16) is refused (torch allows it)
def test_set_default_dtype_float16():
    try:
        torch.set_default_dtype(torch.float16)
        t = torch.tensor([1.5]).dtype
    finally:
        torch.set_default_dtype(torch.float32)
    try:
        ts.set_default_dtype(ts.float16)
        s = ts.tensor([1.5]).dtype
    finally:
        ts.set_default_dtype(ts.float32)
    assert dn(t) == dn(s)


# beyond the audit's list: the same rules at their edges
@pytest.mark.parametrize("expr", [
    "m.tensor([3, 0, 200], dtype=m.uint8).min(0, keepdim=True).indices",
    "m.tensor([[3, 0], [200, 7]], dtype=m.uint8).amin(1, keepdim=True)",
    "m.tensor([[3, 0], [200, 7]], dtype=m.uint8).argmin(1)",
    "m.tensor([True, False]).min()",
    "m.tensor([1, 0, 2], dtype=m.uint8).minimum(m.tensor([2., 1., 1.]))",
    "m.tensor([np.int32(1), 2])",
    "m.tensor([True, np.int32(3)])",
    "m.tensor([m.tensor([1.])])",
    "m.tensor([1, 2, -1, 0, -2]).pow(m.tensor([-2, -1, -3, -1, -2]))",
    "m.tensor([1, 2]).sum(dtype=m.float16)",
    "m.arange(0.5, 5, dtype=m.int64)",
    "m.arange(start=1, end=4)",
    "m.zeros(3, out=m.empty(3, dtype=m.int64))",
    "m.randint_like(m.ones(2), 1, 5).clamp(0, 0)",
    "m.logspace(0, 2, 3, dtype=m.int64)",
    "m.tensor([1, 2, 3], dtype=m.uint8) - 300",
    "m.tensor([1, 2, 3], dtype=m.uint8) * -1",
    "m.bincount(m.tensor([0, 1, 1]), weights=m.tensor([1, 2, 3]))",
])
def test_edges(expr):
    same(eval(expr, {"m": torch, "np": np}), eval(expr, {"m": ts, "np": np}))


def test_float_minimum_keeps_gradients():
    a = ts.tensor([1.0, 3.0, 2.0], requires_grad=True)
    a.minimum(ts.tensor([2.0, 1.0, 2.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 0.0, 0.5])   # a tie splits the gradient, as before


@pytest.mark.parametrize("expr", ["m.zeros()", "m.full(2, 1.5)", "m.zeros(2.0)", "m.iinfo(m.bool)"])
def test_more_type_errors(expr):
    with pytest.raises(TypeError):
        eval(expr, {"m": torch})
    with pytest.raises(TypeError):
        eval(expr, {"m": ts})


def test_set_default_tensor_type():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ts.set_default_tensor_type(ts.DoubleTensor)
            assert ts.tensor([1.5]).dtype == ts.float64
            ts.set_default_tensor_type("torch.FloatTensor")
            assert ts.tensor([1.5]).dtype == ts.float32
        finally:
            ts.set_default_dtype(ts.float32)
    with pytest.raises(TypeError):
        ts.set_default_tensor_type(ts.LongTensor)


def test_names_and_layouts():
    assert repr(ts.preserve_format) == "torch.preserve_format" and repr(ts.strided) == "torch.strided"
    assert ts.is_complex(ts.ones(2)) is False and ts.is_complex(torch.ones(2)) is False
    for M in (torch, ts):   # channels_last needs a 4-D tensor (torch's RuntimeError)
        with pytest.raises(RuntimeError, match="required rank 4"):
            M.ones(2, 3).t().contiguous(memory_format=M.channels_last)


def test_tensor_function_and_constructor_keep_their_rules():
    # ts.tensor follows torch's inference; ts.Tensor(data) keeps API.md's (integer data int64)
    assert ts.tensor([np.int32(1)]).dtype == ts.int32
    assert ts.Tensor([np.int32(1)]).dtype == ts.int64
