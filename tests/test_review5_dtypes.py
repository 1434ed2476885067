"""dtype edges found reviewing the dtype audit (each compared with torch 2.13): Python ints out of
an integer dtype's range (torch wraps only negative ones into unsigned dtypes, and refuses them
in where and **), the 0-d promotion rule of the two-operand float functions, cov's weights,
integer log_softmax, mixed-dtype and bool products (matmul, einsum, addmm, addmv, baddbmm,
addbmm, inner, vdot, cross, cdist), arange's sign / bool / narrow-integer rules, bincount's
device, and the fast path of ts.tensor for lists of Python numbers."""

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

pytestmark = pytest.mark.filterwarnings("ignore")


def _same_outcome(ts_call, torch_call):
    """Both raise (ts with one of torch's error types), or both give the same values and dtype."""
    try:
        want = torch_call()
    except Exception as e:   # noqa: BLE001 (the test compares the exception type)
        with pytest.raises(type(e)):
            ts_call()
        return
    got = ts_call()
    assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (got.dtype, want.dtype)
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64), rtol=1e-5)


# ---- 1. ts.tensor with ints outside the dtype: torch wraps negatives into unsigned, refuses the rest
@pytest.mark.parametrize("data,dtype", [([256], "uint8"), (300, "int8"), ([-129], "int8"), ([-256], "uint8"),
                                        ([40000], "int16"), ([2 ** 31], "int32"), ([[1, 2], [3, 256]], "uint8")])
def test_tensor_out_of_range_int_raises_like_torch(data, dtype):
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.tensor(data, dtype=getattr(torch, dtype))
    with pytest.raises(RuntimeError, match="without overflow"):
        ts.tensor(data, dtype=getattr(ts, dtype))


@pytest.mark.parametrize("data", [[-1, -129], [[-1], [-255]], -1, [True, -1], (-3, 4)])
def test_tensor_negative_into_uint8_wraps_like_torch(data):
    assert ts.tensor(data, dtype=ts.uint8).tolist() == torch.tensor(data, dtype=torch.uint8).tolist()


def test_tensor_beyond_int64_is_a_value_error():
    with pytest.raises(ValueError):
        ts.tensor([2 ** 64 - 1], dtype=ts.uint8)


# ---- 2. where and ** refuse what arithmetic wraps
@pytest.mark.parametrize("dtype,value", [("int8", 300), ("int8", -129), ("uint8", -1), ("uint8", 256),
                                         ("uint8", -255), ("int16", 40000)])
def test_where_scalar_like_torch(dtype, value):
    data = [1, 2, 100]
    x, tx = ts.tensor(data, dtype=getattr(ts, dtype)), torch.tensor(data, dtype=getattr(torch, dtype))
    _same_outcome(lambda: x.where(x > 1, value), lambda: tx.where(tx > 1, value))
    _same_outcome(lambda: ts.where(x > 1, value, x), lambda: torch.where(tx > 1, value, tx))


@pytest.mark.parametrize("exponent", [255, 256, 300])
def test_uint8_pow_scalar_like_torch(exponent):
    x, tx = ts.tensor([1, 2, 200], dtype=ts.uint8), torch.tensor([1, 2, 200], dtype=torch.uint8)
    _same_outcome(lambda: x ** exponent, lambda: tx ** exponent)
    _same_outcome(lambda: exponent ** x, lambda: exponent ** tx)   # the scalar base wraps


@pytest.mark.parametrize("op", ["add", "mul", "gt", "eq", "floor_divide", "remainder"])
def test_arithmetic_still_wraps_like_torch(op):
    x, tx = ts.tensor([1, 2, 200], dtype=ts.uint8), torch.tensor([1, 2, 200], dtype=torch.uint8)
    _same_outcome(lambda: getattr(x, op)(300), lambda: getattr(tx, op)(300))


# ---- 3. fills, full, item assignment, masked_fill and clamp convert as torch's
@pytest.mark.parametrize("value", [-1, -255, 255, 300, -300])
def test_uint8_fills_like_torch(value):
    cases = [
        (lambda m: m.zeros(2, dtype=m.uint8).fill_(value)),
        (lambda m: m.full((2,), value, dtype=m.uint8)),
        (lambda m: m.full_like(m.zeros(2, dtype=m.uint8), value)),
        (lambda m: m.zeros(2, dtype=m.uint8).masked_fill(m.tensor([True, False]), value)),
        (lambda m: m.zeros(3, dtype=m.uint8).index_fill(0, m.tensor([1]), value)),
    ]
    for make in cases:
        _same_outcome(lambda: make(ts), lambda: make(torch))


@pytest.mark.parametrize("value", [-1, 300])
@pytest.mark.parametrize("index", [0, "mask", slice(0, 1)])
def test_uint8_setitem_like_torch(value, index):
    def run(m):
        x = m.zeros(3, dtype=m.uint8)
        x[m.tensor([True, False, True]) if index == "mask" else index] = value
        return x
    _same_outcome(lambda: run(ts), lambda: run(torch))


@pytest.mark.parametrize("dtype,value", [("int8", 200), ("int8", -129), ("int8", -128)])
def test_int8_fill_and_setitem_like_torch(dtype, value):
    def fill(m):
        return m.zeros(2, dtype=getattr(m, dtype)).fill_(value)

    def put(m):
        x = m.zeros(2, dtype=getattr(m, dtype))
        x[0] = value
        return x
    _same_outcome(lambda: fill(ts), lambda: fill(torch))
    _same_outcome(lambda: put(ts), lambda: put(torch))


@pytest.mark.parametrize("bounds", [dict(min=-1), dict(max=300), dict(min=1, max=100)])
def test_uint8_clamp_int_bounds_like_torch(bounds):
    x, tx = ts.tensor([1, 2, 200], dtype=ts.uint8), torch.tensor([1, 2, 200], dtype=torch.uint8)
    _same_outcome(lambda: x.clamp(**bounds), lambda: tx.clamp(**bounds))


# ---- 4. two-operand float functions: a 0-d operand does not widen a dimensioned one
@pytest.mark.parametrize("fn", ["atan2", "hypot", "logaddexp", "logaddexp2", "copysign", "xlogy", "nextafter"])
@pytest.mark.parametrize("a_dtype,b_dtype,b_0d", [("float32", "float64", True), ("float16", "float32", True),
                                                  ("float32", "float64", False), ("int64", "float16", True),
                                                  ("int32", "int64", False)])
def test_float_function_promotion_like_torch(fn, a_dtype, b_dtype, b_0d):
    a = [1.0, 2.0, 3.0]
    b = 0.5 if b_0d else [0.5, 1.5, 2.5]
    if fn == "nextafter" and (a_dtype[0] == "i" or b_dtype[0] == "i" or "float16" in (a_dtype, b_dtype)):
        pytest.skip("torch's nextafter takes only float32 / float64 of one dtype")

    def run(m):
        return getattr(m, fn)(m.tensor(a).to(getattr(m, a_dtype)), m.tensor(b).to(getattr(m, b_dtype)))
    _same_outcome(lambda: run(ts), lambda: run(torch))


# ---- 5. cov: float64 weights promote x
@pytest.mark.parametrize("x_dtype", ["float32", "int64", "float64"])
@pytest.mark.parametrize("w_dtype", ["float64", "float32"])
def test_cov_aweights_promote_like_torch(x_dtype, w_dtype):
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    w = np.array([0.5, 1.0, 2.0, 1.5])

    def run(m):
        return m.tensor(x).to(getattr(m, x_dtype)).cov(aweights=m.tensor(w).to(getattr(m, w_dtype)),
                                                        fweights=m.tensor([1, 2, 1, 1]))
    _same_outcome(lambda: run(ts), lambda: run(torch))


# ---- 6. integer log_softmax refused as softmax
def test_tensor_log_softmax_int_refused():
    with pytest.raises(NotImplementedError):
        torch.tensor([[1, 2, 3]]).log_softmax(1)
    with pytest.raises(NotImplementedError):
        ts.tensor([[1, 2, 3]]).log_softmax(1)
    assert ts.tensor([[1, 2, 3]]).log_softmax(1, dtype=ts.float64).dtype == ts.float64


# ---- 7. mixed-dtype and bool products
_PRODUCTS = {
    "einsum_mm": lambda m, a, b, c: m.einsum("ij,jk->ik", a, b.T),
    "einsum_rowdot": lambda m, a, b, c: m.einsum("ij,ij->i", a, b),
    "einsum_elementwise": lambda m, a, b, c: m.einsum("ij,ij->ij", a, b),
    "einsum_outer": lambda m, a, b, c: m.einsum("i,j->ij", a[0], b[0]),
    "matmul": lambda m, a, b, c: a @ b.T,
    "mm": lambda m, a, b, c: m.mm(a, b.T),
    "mv": lambda m, a, b, c: m.mv(a, b[0]),
    "dot": lambda m, a, b, c: m.dot(a[0], b[0]),
    "vdot": lambda m, a, b, c: m.vdot(a[0], b[0]),
    "inner": lambda m, a, b, c: m.inner(a, b),
    "inner_0d": lambda m, a, b, c: m.inner(a, b[0, 0]),
    "outer": lambda m, a, b, c: m.outer(a[0], b[0]),
    "cross": lambda m, a, b, c: m.cross(a[:, :3], b[:, :3], dim=1),
    "cdist": lambda m, a, b, c: m.cdist(a, b),
    "addmm_input": lambda m, a, b, c: m.addmm(c, a, a.T),
    "addmm_mats": lambda m, a, b, c: m.addmm(c, a, b.T),
    "addmv_input": lambda m, a, b, c: m.addmv(c[0], a, a[0]),
    "baddbmm_input": lambda m, a, b, c: m.baddbmm(c[None], a[None], a.T[None]),
    "addbmm_input": lambda m, a, b, c: m.addbmm(c, a[None], a.T[None]),
    "addr": lambda m, a, b, c: m.addr(c, a[:, 0], b[:, 0]),
}


@pytest.mark.parametrize("name", sorted(_PRODUCTS))
@pytest.mark.parametrize("a_dtype,b_dtype", [("float32", "float64"), ("float64", "float32"),
                                             ("float32", "int64"), ("int64", "int64"), ("float32", "float32")])
def test_products_dtypes_like_torch(name, a_dtype, b_dtype):
    a = np.arange(12.0).reshape(3, 4) % 5 - 2
    b = np.arange(12.0).reshape(3, 4) % 3 + 1
    c = np.ones((3, 3))

    def run(m):
        return _PRODUCTS[name](m, m.tensor(a).to(getattr(m, a_dtype)), m.tensor(b).to(getattr(m, b_dtype)),
                               m.tensor(c).to(getattr(m, b_dtype)))
    _same_outcome(lambda: run(ts), lambda: run(torch))


@pytest.mark.parametrize("name", ["matmul", "mm", "mv", "dot", "vdot", "inner", "einsum_mm", "einsum_elementwise",
                                  "outer", "cross", "addmm_input", "baddbmm_input"])
def test_bool_products_like_torch(name):
    a = np.arange(12).reshape(3, 4) % 2 == 0

    def run(m):
        t = m.tensor(a)
        return _PRODUCTS[name](m, t, t, m.ones(3, 3, dtype=m.bool))
    _same_outcome(lambda: run(ts), lambda: run(torch))


@pytest.mark.parametrize("eq,dtypes", [
    ("ij,j,k->ik", ["float32", "float32", "float64"]), ("ij,j,k->ik", ["float32", "float64", "float64"]),
    ("ij,k,j->ik", ["float32", "float64", "float32"]), ("ij,j->i", ["int64", "float32"]),
    ("ij->i", ["bool"]), ("ij->i", ["int32"]), ("ii->i", ["uint8"]), ("ij,k->i", ["int32", "int32"]),
    ("ij,jk->ik", ["int32", "int32"]), ("bij,bjk->bik", ["float64", "float32"]), ("...j,j", ["float32", "float64"]),
])
def test_einsum_dtypes_like_torch(eq, dtypes):
    shapes = {"i": 3, "j": 3, "k": 3, "b": 2}

    def run(m):
        ops = []
        for term, dt in zip(eq.split("->")[0].split(","), dtypes):
            shape = [2] + [3] if term.startswith("...") else [shapes[c] for c in term]
            ops.append(m.ones(*shape, dtype=getattr(m, dt)))
        return m.einsum(eq, *ops)
    _same_outcome(lambda: run(ts), lambda: run(torch))


def test_einsum_size_one_letter_promotes_like_torch():
    # a letter of size 1 in one operand is no contraction in torch (no bmm): the product promotes
    _same_outcome(lambda: ts.einsum("ij,jk->ik", ts.ones(3, 1), ts.ones(1, 3, dtype=ts.float64)),
                  lambda: torch.einsum("ij,jk->ik", torch.ones(3, 1), torch.ones(1, 3, dtype=torch.float64)))


# ---- 9. arange
@pytest.mark.parametrize("args,dtype", [
    ((4, 0), None), ((0, 4, -1), None), ((-1,), None), ((4, 4), None), ((4, 0, -1), None),
    ((2,), "bool"), ((0,), "bool"), ((0, 3, 0.7), "int32"), ((0.5, 3, 0.7), "int16"), ((1, 3, 0.7), "uint8"),
    ((0, 3, 0.7), "int64"), ((0.5, 3.7, 1.5), "int32"), ((0.5, 3.7, 1.5), "int64"), ((2.5, 7, 2.5), "int8"),
    ((0, -3, -0.7), "int32"), ((250, 260), "uint8"), ((0, 1, 0.1), None), ((1, 0, -0.3), "float64"),
    ((0, float("nan")), None), ((0, float("inf")), None), ((0, 4, 0), None),
])
def test_arange_like_torch(args, dtype):
    _same_outcome(lambda: ts.arange(*args, dtype=None if dtype is None else getattr(ts, dtype)),
                  lambda: torch.arange(*args, dtype=None if dtype is None else getattr(torch, dtype)))


# ---- 10. bincount keeps the input's device
def test_bincount_keeps_device():
    try:
        x = ts.tensor([0, 1, 1], device="cuda")
    except Exception:   # noqa: BLE001
        pytest.skip("no cuda / cuda simulator (run with NUMBA_ENABLE_CUDASIM=1)")
    weighted = ts.bincount(x, weights=ts.tensor([1.0, 2.0, 3.0], device="cuda"))
    assert weighted.device == "cuda" and weighted.cpu().tolist() == [1.0, 5.0]
    counts = ts.bincount(x)
    assert counts.device == "cuda" and counts.cpu().tolist() == [1, 2] and counts.dtype == ts.int64


def test_bincount_cpu_unchanged():
    assert ts.bincount(ts.tensor([0, 2, 2])).tolist() == torch.bincount(torch.tensor([0, 2, 2])).tolist()
    w = ts.bincount(ts.tensor([0, 2]), weights=ts.tensor([1.5, 2.0], dtype=ts.float16))
    tw = torch.bincount(torch.tensor([0, 2]), weights=torch.tensor([1.5, 2.0], dtype=torch.float16))
    assert str(w.dtype) == str(tw.dtype).split(".")[-1] == "float64" and w.device == "cpu"   # torch: float64


# ---- ts.tensor's fast path for Python numbers gives what the general path gave
@pytest.mark.parametrize("data", [[1.0, 2.0, 3.0], [1, 2, 3], [True, False], [1, 2.5], [True, 2], [],
                                  [[1.0, 2.0], [3.0, 4.0]], [[1, 2], [3, 4]], [[], []], [[1, 2.0], [True, 3]],
                                  [1.0, np.float64(2.0)], [np.float32(1.0), 2.0], [np.int32(1), 2],
                                  [[1.0], [np.float64(2.0)]]])
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_tensor_from_lists_like_torch(data, dtype):
    if dtype == "int32" and any(isinstance(v, np.floating) for v in data):
        pytest.skip("torch refuses a numpy float scalar for an integer dtype (TypeError); not this review's")
    _same_outcome(lambda: ts.tensor(data, dtype=None if dtype is None else getattr(ts, dtype)),
                  lambda: torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype)))


def test_tensor_list_requires_grad_and_device():
    t = ts.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.device == "cpu"
    with pytest.raises(RuntimeError):
        ts.tensor([1, 2], requires_grad=True)
    ts.set_default_dtype(ts.float64)
    try:
        assert ts.tensor([1.0, 2.0]).dtype == ts.float64
    finally:
        ts.set_default_dtype(ts.float32)
