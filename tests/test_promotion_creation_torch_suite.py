"""Differences found by porting torch's own test/test_type_promotion.py and
test_tensor_creation_ops.py, each checked beside torch 2.13: augmented bitwise assignment in place,
a Python int that wraps into a 0-d integer tensor's dtype, torch's 0-d promotion rule for fmod /
trunc division / fmin, the kernels torch has no bool (or integer) form of, Boolean alpha, bitwise
ops of floats, out= dtypes, numpy array operands, and the argument checks of the constructors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402


def _dt(d):
    return str(d).replace("torch.", "")


def _raises_like(fn, exc):
    """fn(torch) and fn(ts) both raise exc (ours may be a subclass of it)."""
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(ts)


# augmented bitwise assignment writes into the tensor: its aliases and the base of a view see it
@pytest.mark.parametrize("op", ["ior", "iand", "ixor", "ilshift", "irshift"])
def test_augmented_bitwise_assign_in_place(op):
    def run(T):
        x = T.tensor([1, 2, 3])
        alias = x
        view = x[:2]
        o = T.tensor([1, 1])
        if op == "ior":
            view |= o
        if op == "iand":
            view &= o
        if op == "ixor":
            view ^= o
        if op == "ilshift":
            view <<= o
        if op == "irshift":
            view >>= o
        return alias.tolist()
    assert run(ts) == run(torch)


def test_bool_mask_ior_in_place():
    def run(T):
        m = T.tensor([True, False, False])
        alias = m
        m |= T.tensor([False, True, False])
        return alias.tolist(), m is alias
    assert run(ts) == run(torch)


# a 0-d integer tensor with an out-of-range Python int: the int wraps into the tensor's dtype
@pytest.mark.parametrize("expr", ["-2 - t", "-2 < t", "300 | t", "T.mul(t, 300)", "T.mul(t, -1)", "t | -2",
                                  "t < -2", "t + 1000", "t - 300"])
def test_0d_uint8_with_out_of_range_python_int(expr):
    def run(T):
        t = T.tensor(4, dtype=T.uint8)
        r = eval(expr)
        return _dt(r.dtype), r.item()
    assert run(ts) == run(torch)


# xlogy(int tensor, number) computes in float from the number's value
@pytest.mark.parametrize("s", [-2, 300])
def test_xlogy_int_tensor_scalar(s):
    a = torch.xlogy(torch.tensor([1, 2, 3], dtype=torch.uint8), s)
    b = ts.xlogy(ts.tensor([1, 2, 3], dtype=ts.uint8), s)
    assert _dt(b.dtype) == _dt(a.dtype)
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, equal_nan=True)


# torch's 0-d rule: a 0-d tensor does not widen a dimensioned one of its category
@pytest.mark.parametrize("fn", [lambda T, a, b: T.fmod(a, b), lambda T, a, b: T.div(a, b, rounding_mode="trunc"),
                                lambda T, a, b: T.fmin(a, b), lambda T, a, b: T.fmax(a, b)])
def test_int_vs_0d_int_promotion(fn):
    def run(T):
        return _dt(fn(T, T.tensor([5, 7], dtype=T.uint8), T.tensor(2, dtype=T.int8)).dtype)
    assert run(ts) == run(torch) == "uint8"


def test_trunc_division_of_int64_is_exact():
    def run(T):
        return T.div(T.tensor([2 ** 40 + 1, -(2 ** 40 + 1), -7, 7]), T.tensor([3, 3, 2, -2]),
                     rounding_mode="trunc").tolist()
    assert run(ts) == run(torch)


# kernels torch has no bool (or, lerp, integer) form of: NotImplementedError
@pytest.mark.parametrize("expr", ["a % a", "a // a", "a ** a", "T.fmod(a, a)", "T.div(a, a, rounding_mode='trunc')",
                                  "T.div(a, a, rounding_mode='floor')", "a << a", "a >> a", "T.remainder(a, True)",
                                  "T.clamp(a, min=True)", "T.clamp(a, max=True)",
                                  "T.lerp(T.tensor([1, 2]), T.tensor([3, 4]), 0.5)",
                                  "T.lerp(T.tensor([1, 2]), T.tensor([3, 4]), T.tensor([1, 2]))",
                                  "T.pow(a, T.tensor(True))"])
def test_bool_int_ops_not_implemented(expr):
    def run(T):
        a = T.tensor([True, True])
        return eval(expr)
    _raises_like(run, NotImplementedError)


@pytest.mark.parametrize("expr", ["a % 2", "T.fmod(a, 2)", "a // 2", "a ** 2", "T.clamp(a, min=0)", "a >> 1"])
def test_bool_with_int_number_promotes(expr):
    def run(T):
        a = T.tensor([True, False])
        r = eval(expr)
        return _dt(r.dtype), r.tolist()
    assert run(ts) == run(torch)


@pytest.mark.parametrize("exponent", [True, False])
def test_pow_bool_tensor_bool_scalar_dtype(exponent):
    a = torch.pow(torch.tensor([True, False]), exponent)
    b = ts.pow(ts.tensor([True, False]), exponent)
    assert (_dt(b.dtype), b.tolist()) == (_dt(a.dtype), a.tolist())


# add / sub alpha with bools
@pytest.mark.parametrize("alpha", [3, 0, True])
def test_add_bool_alpha_int_stays_bool(alpha):
    a = torch.add(torch.tensor([True, False]), torch.tensor([True, False]), alpha=alpha)
    b = ts.add(ts.tensor([True, False]), ts.tensor([True, False]), alpha=alpha)
    assert _dt(b.dtype) == _dt(a.dtype) == "bool"
    assert b.tolist() == a.tolist()


@pytest.mark.parametrize("fn", [lambda T: T.add(1, 1, alpha=True),
                                lambda T: T.sub(T.tensor([1, 2], dtype=T.uint8), T.tensor([1, 2], dtype=T.uint8),
                                                alpha=True),
                                lambda T: T.add(T.tensor([1., 2.]), T.tensor([1., 2.]), alpha=False),
                                lambda T: T.add(T.tensor([True]), 1, alpha=True)])
def test_boolean_alpha_only_for_bool_results(fn):
    _raises_like(fn, RuntimeError)
    with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
        fn(ts)


# bitwise ops on float tensors: torch has no kernel (NotImplementedError)
@pytest.mark.parametrize("expr", ["x & 1", "x | x", "T.bitwise_xor(x, 1)", "x << 1", "x >> 1", "True | x"])
def test_bitwise_float_error_type(expr):
    def run(T):
        x = T.tensor([1.0, 2.0])
        return eval(expr)
    _raises_like(run, NotImplementedError)


# unary ops that keep the input's dtype refuse an out= of another dtype
@pytest.mark.parametrize("name", ["neg", "abs", "floor", "ceil", "trunc", "round", "sign", "frac"])
def test_neg_out_other_float_dtype_raises(name):
    _raises_like(lambda T: getattr(T, name)(T.ones(4, dtype=T.float32), out=T.ones(4, dtype=T.float64)),
                 RuntimeError)
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        getattr(ts, name)(ts.ones(4, dtype=ts.float32), out=ts.ones(4, dtype=ts.float64))


def test_promoting_unary_out_casts():
    a = torch.exp(torch.ones(4), out=torch.ones(4, dtype=torch.float64))
    b = ts.exp(ts.ones(4), out=ts.ones(4, dtype=ts.float64))
    assert _dt(b.dtype) == _dt(a.dtype)


# tensor + numpy integer array: the array is a tensor of its own dtype, then promotion
@pytest.mark.parametrize("td,nd", [("int8", np.int8), ("int32", np.int32), ("int16", np.uint8),
                                   ("float32", np.float64), ("int8", np.float64)])
def test_tensor_plus_numpy_int_array_dtype(td, nd):
    a = torch.tensor([1], dtype=getattr(torch, td)) + np.array([1], dtype=nd)
    b = ts.tensor([1], dtype=getattr(ts, td)) + np.array([1], dtype=nd)
    assert _dt(b.dtype) == _dt(a.dtype)


# full_like / new_full with values an integer dtype cannot hold
@pytest.mark.parametrize("fn", [lambda T: T.full_like(T.zeros(2, dtype=T.int32), float("inf")),
                                lambda T: T.full_like(T.zeros(2, dtype=T.int32), float("nan")),
                                lambda T: T.full_like(T.zeros(2, dtype=T.int32), 1e10),
                                lambda T: T.full_like(T.zeros(2, dtype=T.uint8), -1.0),
                                lambda T: T.full((2,), 255.5, dtype=T.uint8),
                                lambda T: T.zeros(2, dtype=T.int16).new_full((3,), float("inf")),
                                lambda T: T.zeros(2, dtype=T.int32).new_full((2,), float("nan"))])
def test_full_like_new_full_overflow_raises(fn):
    _raises_like(fn, RuntimeError)


def test_full_like_in_range_float_truncates():
    assert ts.full_like(ts.zeros(2, dtype=ts.int32), 3.7).tolist() == \
        torch.full_like(torch.zeros(2, dtype=torch.int32), 3.7).tolist()


# range functions compute in out='s dtype
def test_linspace_out_float64_precision():
    o1 = torch.empty(2, dtype=torch.float64)
    torch.linspace(0, 1, 4, out=o1)
    o2 = ts.empty(2, dtype=ts.float64)
    ts.linspace(0, 1, 4, out=o2)
    np.testing.assert_allclose(o2.numpy(), o1.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", [lambda T, o: T.logspace(0, 1, 3, out=o), lambda T, o: T.arange(0, 1, 0.1, out=o)])
def test_range_out_float64_precision(fn):
    a, b = fn(torch, torch.empty(2, dtype=torch.float64)), fn(ts, ts.empty(2, dtype=ts.float64))
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-15)


def test_linspace_dtype_other_than_out_raises():
    _raises_like(lambda T: T.linspace(0, 1, 4, dtype=T.float32, out=T.empty(2, dtype=T.float64)), RuntimeError)


# randperm / randint argument checks
@pytest.mark.parametrize("fn", [lambda T: T.randperm(300, dtype=T.uint8), lambda T: T.randperm(257, dtype=T.uint8),
                                lambda T: T.randperm(-1), lambda T: T.randperm(3000, dtype=T.float16),
                                lambda T: T.randint(300, (3,), dtype=T.uint8),
                                lambda T: T.randint(-2, 5, (3,), dtype=T.uint8),
                                lambda T: T.randint(5, (3,), dtype=T.bool),
                                lambda T: T.randint(-129, 5, (3,), dtype=T.int8),
                                lambda T: T.randint(0, 70000, (3,), dtype=T.float16)])
def test_randperm_randint_out_of_dtype_range_raise(fn):
    _raises_like(fn, RuntimeError)


@pytest.mark.parametrize("fn", [lambda T: T.randperm(256, dtype=T.uint8), lambda T: T.randint(256, (3,), dtype=T.uint8),
                                lambda T: T.randint(-128, 128, (3,), dtype=T.int8),
                                lambda T: T.randint(2, (3,), dtype=T.bool),
                                lambda T: T.randint(0, 2 ** 24 + 1, (3,), dtype=T.float32)])
def test_randperm_randint_at_dtype_limits(fn):
    assert _dt(fn(ts).dtype) == _dt(fn(torch).dtype)


def test_randperm_bool_not_implemented():
    _raises_like(lambda T: T.randperm(5, dtype=T.bool), NotImplementedError)


# tril_indices / triu_indices argument checks
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row,col", [(-1, 3), (3, -1)])
def test_tri_indices_negative_row(name, row, col):
    _raises_like(lambda T: getattr(T, name)(row, col), RuntimeError)


def test_tri_indices_float_dtype_not_implemented():
    _raises_like(lambda T: T.tril_indices(3, 3, dtype=T.float32), NotImplementedError)


# meshgrid / cartesian_prod argument checks
@pytest.mark.parametrize("fn", [lambda T: T.meshgrid(T.arange(3), T.arange(2.), indexing="ij"),
                                lambda T: T.meshgrid(T.ones(2, 2), T.ones(3), indexing="ij"),
                                lambda T: T.meshgrid(indexing="ij"),
                                lambda T: T.meshgrid(T.ones(2), T.ones(3), indexing="foo"),
                                lambda T: T.cartesian_prod(T.tensor([1, 2]), T.tensor([4.5, 5.])),
                                lambda T: T.cartesian_prod()])
def test_meshgrid_checks(fn):
    _raises_like(fn, RuntimeError)


def test_meshgrid_of_0d_and_1d():
    a = torch.meshgrid(torch.ones(()), torch.arange(3.), indexing="ij")
    b = ts.meshgrid(ts.ones(()), ts.arange(3.), indexing="ij")
    assert [tuple(t.shape) for t in b] == [tuple(t.shape) for t in a]


# constructors' error types
@pytest.mark.parametrize("fn", [lambda T: T.arange(0, float("inf"), dtype=T.int64),
                                lambda T: T.arange(float("nan"), dtype=T.int32),
                                lambda T: T.logspace(0, 1, -1),
                                lambda T: T.tensor(float("nan"), dtype=T.int64),
                                lambda T: T.tensor([1, float("nan")], dtype=T.int32),
                                lambda T: T.tensor(1e30, dtype=T.int64),
                                lambda T: T.zeros(3).fill_(T.tensor([2.]))])
def test_creation_error_types_runtime(fn):
    _raises_like(fn, RuntimeError)


def test_tensor_float_data_into_int_truncates():
    assert ts.tensor([2.5, 3], dtype=ts.int64).tolist() == torch.tensor([2.5, 3], dtype=torch.int64).tolist()


def test_cat_out_cast_error_is_typeerror():
    _raises_like(lambda T: T.cat([T.tensor([1., 0.]), T.tensor([1., 3.])], out=T.empty(4, dtype=T.int64)), TypeError)


def test_from_numpy_negative_stride_raises():
    _raises_like(lambda T: T.from_numpy(np.arange(6.)[::-1]), ValueError)
    _raises_like(lambda T: T.from_numpy(np.arange(6.).reshape(2, 3)[:, ::-1]), ValueError)
