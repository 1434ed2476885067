"""Every Tensor operator and method against PyTorch: forward values and all gradients, float64
(tight) and float32 (loose), over shapes that exercise broadcasting (size-1 axes, 0-d, scalars)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import Tensor
from engine_helpers import TOL, helper_test_op

# ------------------------------------------------------------------ binary elementwise
BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((2, 1, 4), (1, 3, 1)),
    ((), (3, 4)),
    ((3, 4), ()),
    ((), ()),
    ((1,), (3, 4)),
    ((1, 1), (5,)),
    ((2, 0, 3), (1, 3)),
]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: a.maximum(b) if isinstance(a, Tensor) else torch.maximum(a, b),
    "minimum": lambda a, b: a.minimum(b) if isinstance(a, Tensor) else torch.minimum(a, b),
}


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_broadcast(op, shapes):
    helper_test_op(shapes, BINARY[op], positive=op in ("div", "pow"))


def test_method_aliases():
    helper_test_op([(3, 4), (4,)], lambda a, b: a.add(b) * a.sub(b) / a.mul(b).div(b + 9.0))
    helper_test_op([(3,), (3,)], lambda a, b: a.pow(b), positive=True)


SCALAR_OPS = [
    lambda a: a + 2, lambda a: 2 + a, lambda a: a - 1.5, lambda a: 1.5 - a,
    lambda a: a * 3, lambda a: 3.0 * a, lambda a: a / 4, lambda a: 4.0 / a,
    lambda a: a ** 2, lambda a: a ** 0.5, lambda a: 2 ** a, lambda a: a ** -1.5,
    lambda a: -a, lambda a: +a, lambda a: a * np.float64(2.5), lambda a: a ** 0,
]


@pytest.mark.parametrize("i", range(len(SCALAR_OPS)))
@pytest.mark.parametrize("shape", [(3, 4), (), (1,)], ids=str)
def test_scalar_operands(i, shape):
    helper_test_op([shape], SCALAR_OPS[i], positive=True)


def test_maximum_ties_split_gradient():
    a = np.array([1.0, 2.0, 3.0, 2.0])
    b = np.array([1.0, 1.0, 3.0, 5.0])
    helper_test_op(None, BINARY["maximum"], arrays=[a, b])
    helper_test_op(None, BINARY["minimum"], arrays=[a, b])


def test_pow_zero_base():
    # d/da a^2 at 0 is 0, and d/db 0^b is 0 where b > 0 (torch's convention)
    helper_test_op(None, lambda a, b: a ** b, arrays=[np.array([0.0, 1.0, 2.0]), np.array([2.0, 2.0, 3.0])])


def test_same_tensor_both_operands():
    helper_test_op([(3, 4)], lambda a: a * a + a / (a * a + 1.0))


# ------------------------------------------------------------------ matmul
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((4, 1), (1, 3)),                 # inner dimension 1: a broadcast multiply in backend_cpu
    ((5, 4, 1), (5, 1, 3)),
    ((2, 1, 4, 1), (3, 1, 2)),
    ((2, 1, 2, 3), (1, 3, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    helper_test_op(shapes, lambda a, b: a @ b)
    helper_test_op(shapes, lambda a, b: a.matmul(b))


def test_matmul_one_side_requires_grad():
    a = np.random.default_rng(1).standard_normal((2, 3))
    w = Tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    out = (Tensor(a) @ w).sum()
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), np.broadcast_to(a.sum(0)[:, None], (3, 4)))


def test_rmatmul_numpy_left():
    a = np.random.default_rng(1).standard_normal((2, 3))
    w = Tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    out = a @ w
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), a @ w.numpy())


# ------------------------------------------------------------------ unary
UNARY = {
    "neg": (lambda a: -a, False),
    "neg_method": (lambda a: a.neg(), False),
    "exp": (lambda a: a.exp(), False),
    "log": (lambda a: a.log(), True),
    "tanh": (lambda a: a.tanh(), False),
    "sigmoid": (lambda a: a.sigmoid(), False),
    "relu": (lambda a: a.relu(), False),
    "abs": (lambda a: a.abs(), False),
    "abs_builtin": (lambda a: abs(a), False),
    "sqrt": (lambda a: a.sqrt(), True),
    "clamp_both": (lambda a: a.clamp(-0.5, 0.7), False),
    "clamp_min": (lambda a: a.clamp(min=-0.5), False),
    "clamp_max": (lambda a: a.clamp(max=0.3), False),
    "clip": (lambda a: a.clip(-1.0, 1.0), False),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(3, 4), (), (1,), (2, 3, 4), (0, 3)], ids=str)
def test_unary(name, shape):
    fn, positive = UNARY[name]
    helper_test_op([shape], fn, positive=positive)


def test_sigmoid_tanh_extreme_values_finite():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for dtype in (np.float32, np.float64):
        helper_test_op(None, lambda a: a.sigmoid(), arrays=[x.astype(dtype)], dtypes=(dtype,))
        helper_test_op(None, lambda a: a.tanh(), arrays=[x.astype(dtype)], dtypes=(dtype,))


def test_relu_abs_at_zero_match_torch():
    x = np.array([-1.0, 0.0, 2.0])
    helper_test_op(None, lambda a: a.relu(), arrays=[x])
    helper_test_op(None, lambda a: a.abs(), arrays=[x])
    helper_test_op(None, lambda a: a.clamp(0.0, 2.0), arrays=[x])


# ------------------------------------------------------------------ reductions
REDUCE_DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("dim", REDUCE_DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean(op, dim, keepdim):
    if dim is None:
        fn = (lambda a: getattr(a, op)()) if not keepdim else \
            (lambda a: getattr(a, op)(dim=(0, 1, 2), keepdim=True))
    else:
        fn = lambda a: getattr(a, op)(dim=dim, keepdim=keepdim)  # noqa: E731
    helper_test_op([(2, 3, 4)], fn)


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_0d_and_size1(op):
    helper_test_op([()], lambda a: getattr(a, op)())
    helper_test_op([(1,)], lambda a: getattr(a, op)(0))
    helper_test_op([(3, 1)], lambda a: getattr(a, op)(1, keepdim=True))


def test_max_min_full_reduce():
    helper_test_op([(3, 4)], lambda a: a.max())
    helper_test_op([(3, 4)], lambda a: a.min())
    helper_test_op([()], lambda a: a.max())


def test_max_full_reduce_ties_distribute_evenly():
    x = np.array([[1.0, 3.0], [3.0, 0.0]])
    helper_test_op(None, lambda a: a.max(), arrays=[x])
    helper_test_op(None, lambda a: a.min(), arrays=[-x])


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim_values_indices(op, dim, keepdim):
    def fn(a):
        r = getattr(a, op)(dim, keepdim=keepdim)
        return r.values, r.indices
    helper_test_op([(2, 3, 4)], fn)
    # tuple unpacking like torch
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)))
    v, i = getattr(x, op)(dim, keepdim)
    assert i.dtype == np.int64
    tv, ti = getattr(torch.tensor(x.numpy()), op)(dim, keepdim)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax(dim, keepdim):
    a = np.random.default_rng(3).standard_normal((3, 4, 5))
    ours = Tensor(a).argmax(dim, keepdim=keepdim) if dim is not None else Tensor(a).argmax()
    theirs = torch.tensor(a).argmax(dim, keepdim=keepdim) if dim is not None else torch.tensor(a).argmax()
    assert ours.dtype == np.int64
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_amax_and_var():
    helper_test_op([(3, 4)], lambda a: a.amax(dim=1))
    helper_test_op([(3, 4)], lambda a: a.amax(dim=(0, 1), keepdim=True))
    helper_test_op([(3, 4)], lambda a: a.var())
    helper_test_op([(3, 4)], lambda a: a.var(1, keepdim=True))
    helper_test_op([(3, 4)], lambda a: a.var(0, unbiased=False), lambda a: a.var(0, unbiased=False))


def test_reduce_bad_dim_raises():
    with pytest.raises(IndexError, match="out of range"):
        Tensor(np.ones((2, 3))).sum(2)


# ------------------------------------------------------------------ shape ops
SHAPE_OPS = [
    ([(2, 3, 4)], lambda a: a.reshape(6, 4)),
    ([(2, 3, 4)], lambda a: a.reshape((4, -1))),
    ([(2, 3, 4)], lambda a: a.reshape(-1)),
    ([(2, 3, 4)], lambda a: a.view(3, 8)),
    ([()], lambda a: a.reshape(1, 1)),
    ([(1,)], lambda a: a.reshape(())),
    ([(2, 3, 4)], lambda a: a.transpose(0, 2)),
    ([(2, 3, 4)], lambda a: a.transpose(-1, 1)),
    ([(2, 3, 4)], lambda a: a.permute(2, 0, 1)),
    ([(2, 3, 4)], lambda a: a.permute((1, 2, 0))),
    ([(2, 3, 4)], lambda a: a.permute(-1, 0, 1)),
    ([(2, 3)], lambda a: a.unsqueeze(0)),
    ([(2, 3)], lambda a: a.unsqueeze(-1)),
    ([(2, 3)], lambda a: a.unsqueeze(1)),
    ([()], lambda a: a.unsqueeze(0)),
    ([(1, 3, 1)], lambda a: a.squeeze()),
    ([(1, 3, 1)], lambda a: a.squeeze(0)),
    ([(1, 3, 1)], lambda a: a.squeeze(-1)),
    ([(1, 3, 1)], lambda a: a.squeeze(1)),
    ([(3, 1)], lambda a: a.expand(3, 4)),
    ([(3, 1)], lambda a: a.expand(2, 3, 5)),
    ([(3, 1)], lambda a: a.expand(-1, 4)),
    ([(3, 1)], lambda a: a.expand((2, -1, 4))),
    ([()], lambda a: a.expand(2, 2)),
    ([(2, 3, 4)], lambda a: a.flatten()),
    ([(2, 3, 4)], lambda a: a.flatten(1)),
    ([(2, 3, 4, 5)], lambda a: a.flatten(1, 2)),
    ([(2, 3, 4)], lambda a: a.flatten(0, -2)),
    ([(2, 3)], lambda a: a.T),
    ([(2, 3)], lambda a: a.T @ a),
    ([(2, 3, 4)], lambda a: a.flip(1)),
    ([(5, 2)], lambda a: a.split(2)),
    ([(5, 2)], lambda a: a.chunk(3)),
]


@pytest.mark.parametrize("i", range(len(SHAPE_OPS)))
def test_shape_ops(i):
    shapes, fn = SHAPE_OPS[i]
    helper_test_op(shapes, fn)


def test_shape_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):   # torch's texts
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match=r"Target sizes: \[3, 3\].  Tensor sizes: \[2, 3\]"):
        x.expand(3, 3)
    with pytest.raises(IndexError):
        x.unsqueeze(3)


def test_size_helpers():
    x = Tensor(np.ones((2, 3)))
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert isinstance(x.shape, tuple)
    with pytest.raises(TypeError):
        len(Tensor(1.0))


# ------------------------------------------------------------------ indexing
R = np.random.default_rng(7)
INDEXES = [
    (1,), (-1,), (slice(1, 3),), (slice(None, None, 2),), (slice(-3, None),),
    (Ellipsis, 1), (None,), (1, None, Ellipsis), (slice(None), None, 2),
    (0, 1, 2), (slice(0, 0),), (Ellipsis,),
    (np.array([0, 2, 2, 1]),),                         # repeated -> accumulated gradient
    (np.array([[0, 1], [3, 3]]),),
    ([0, 0, 1],),
    (slice(None), np.array([1, 1, 0])),
    (np.array([0, 1, 1]), np.array([2, 2, 0])),
    (np.array([-1, 0]),),
    (Ellipsis, np.array([3, 3])),
    (np.array([1, 2]), slice(None), np.array([0, 3])),
    (R.standard_normal((4, 3, 4)) > 0,),               # bool mask over all dims
    (np.array([True, False, True, True]),),            # bool mask over dim 0
    (slice(None), np.array([False, True, True])),
]


@pytest.mark.parametrize("idx", INDEXES, ids=lambda i: repr(i)[:40])
def test_getitem(idx):
    helper_test_op([(4, 3, 4)], lambda a: a[idx])


def test_getitem_tensor_indices():
    i = np.array([2, 0, 2])
    helper_test_op([(4, 3)], lambda a: a[torch.tensor(i)] if isinstance(a, torch.Tensor) else a[Tensor(i)])
    m = np.array([True, False, True, False])
    helper_test_op([(4, 3)], lambda a: a[torch.tensor(m)] if isinstance(a, torch.Tensor) else a[Tensor(m)])


@pytest.mark.parametrize("step", [-1, -2, -3])
def test_getitem_negative_steps(step):
    # torch rejects negative steps; compare with numpy and flip
    a = np.random.default_rng(0).standard_normal((5, 3))
    x = Tensor(a, requires_grad=True)
    y = x[::step]
    np.testing.assert_array_equal(y.numpy(), a[::step])
    g = np.random.default_rng(1).standard_normal(y.shape)
    (y * Tensor(g)).sum().backward()
    expect = np.zeros_like(a)
    expect[::step] = g
    np.testing.assert_array_equal(x.grad.numpy(), expect)
    helper_test_op([(5, 3)], lambda t: t.flip(0)[::-step] if isinstance(t, torch.Tensor) else t[::step])
    helper_test_op([(5, 3)], lambda t: t.flip(1)[:, 1:] if isinstance(t, torch.Tensor) else t[:, -2::-1])


def test_getitem_out_of_range():
    x = Tensor(np.ones((3, 4)))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="index 4"):
        x[:, 4]
    with pytest.raises(IndexError, match="index 5"):
        x[np.array([0, 5])]
    with pytest.raises(IndexError):
        x[Tensor(np.array([0.5]))]


def test_setitem_outside_graph():
    x = Tensor(np.zeros((2, 3)))
    x[0, 1] = 5.0
    x[1] = Tensor(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.numpy(), [[0, 5, 0], [1, 2, 3]])


# ------------------------------------------------------------------ masked_fill, cat, stack, where
@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1), ()], ids=str)
def test_masked_fill(mask_shape):
    m = np.random.default_rng(5).standard_normal(mask_shape) > 0
    helper_test_op([(3, 4)], lambda a: a.masked_fill(torch.tensor(m) if isinstance(a, torch.Tensor) else Tensor(m), -7.5))
    helper_test_op([(3, 4)], lambda a: a.masked_fill(torch.tensor(m) if isinstance(a, torch.Tensor) else Tensor(m), float("-inf")).exp())


def test_masked_fill_errors():
    x = Tensor(np.ones((3, 4)))
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(Tensor(np.ones((3, 4), dtype=np.int64)), 0.0)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3, 4\)"):
        x.masked_fill(Tensor(np.array([True, False])), 0.0)


def _join(fn_name, dim):
    def f(*xs):
        mod = torch if isinstance(xs[0], torch.Tensor) else ts
        return getattr(mod, fn_name)(list(xs), dim=dim)
    return f


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    shapes = [tuple(s + 1 + i if d == dim % 3 else s for d, s in enumerate(sh)) for i, sh in enumerate(shapes)]
    helper_test_op(shapes, _join("cat", dim))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    helper_test_op([(2, 3), (2, 3), (2, 3)], _join("stack", dim))


def test_cat_stack_single_and_0d():
    helper_test_op([(3,)], _join("cat", 0))
    helper_test_op([(), ()], _join("stack", 0))


def test_cat_stack_mixed_dtypes_promote():
    a, b = Tensor(np.ones(2, np.float32)), Tensor(np.ones(2, np.float64))
    assert ts.cat([a, b]).dtype == np.float64
    assert ts.stack([a, b]).dtype == np.float64


def test_cat_stack_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        ts.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], dim=0)
    with pytest.raises(ValueError, match=r"\[2, 3\] at entry 0 and \[3, 2\] at entry 1"):   # torch's text
        ts.stack([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))])
    with pytest.raises(ValueError):
        ts.cat([])


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), ())], ids=str)
def test_where(shapes):
    c = np.random.default_rng(9).standard_normal((3, 4)) > 0
    helper_test_op(shapes, lambda a, b: torch.where(torch.tensor(c), a, b) if isinstance(a, torch.Tensor)
                   else ts.where(Tensor(c), a, b))


def test_where_scalar_branch():
    c = np.array([True, False, True])
    helper_test_op([(3,)], lambda a: torch.where(torch.tensor(c), a, 0.0) if isinstance(a, torch.Tensor)
                   else ts.where(c, a, 0.0))


# ------------------------------------------------------------------ comparisons
def test_comparisons_are_bool_and_outside_graph():
    a = np.array([1.0, 2.0, 3.0])
    x = Tensor(a, requires_grad=True)
    for name, expect in [("__gt__", a > 2), ("__ge__", a >= 2), ("__lt__", a < 2), ("__le__", a <= 2),
                         ("eq", a == 2), ("ne", a != 2)]:
        out = getattr(x, name)(2.0)
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), expect)
    np.testing.assert_array_equal((~(x > 2)).numpy(), ~(a > 2))


# ------------------------------------------------------------------ dtype rules and promotion
@pytest.mark.parametrize("data,dtype", [
    (np.ones(3, np.float32), np.float32),
    (np.ones(3, np.float64), np.float64),
    (np.ones(3, np.float16), np.float16),   # kept, as torch keeps it
    (1.5, np.float32),
    ([1.0, 2.0], np.float32),
    ([[1.0], [2.5]], np.float32),
    ([1, 2.5], np.float32),
    ([1, 2], np.int64),
    (3, np.int64),
    (np.arange(3, dtype=np.int32), np.int64),
    (np.arange(3, dtype=np.uint8), np.int64),
    (True, np.bool_),
    (np.array([True, False]), np.bool_),
], ids=repr)
def test_dtype_rules(data, dtype):
    t = Tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(dtype))


def test_explicit_dtype_and_factories():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor([1, 2], dtype="float32").dtype == np.float32
    assert ts.tensor([1.0]).dtype == np.float32
    assert ts.zeros(2, 3).dtype == np.float32 and ts.zeros(2, 3).shape == (2, 3)
    assert ts.ones((2, 3), dtype=np.float64).dtype == np.float64
    assert ts.randn(4, 5).shape == (4, 5) and ts.randn(4, 5).dtype == np.float32
    assert ts.randn(2, requires_grad=True).requires_grad
    assert ts.arange(5).dtype == np.int64
    assert ts.full((2,), 3.0).numpy().tolist() == [3.0, 3.0]


def test_integer_tensors_never_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        Tensor([1, 2]).requires_grad_()
    x = Tensor([1.0, 2.0], requires_grad=True)
    idx = x.argmax()
    assert not idx.requires_grad
    assert not (x > 1).requires_grad
    assert not x.max(0).indices.requires_grad


PROMOTION = [
    (np.float32, np.float64), (np.float64, np.float32), (np.int64, np.float32),
    (np.float32, np.int64), (np.int64, np.float64), (np.int64, np.int64), (np.int32, np.float32),
]


@pytest.mark.parametrize("da,db", PROMOTION, ids=str)
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div"])
def test_tensor_tensor_promotion_like_torch(da, db, op):
    a, b = np.array([1, 2, 3]).astype(da), np.array([2, 3, 4]).astype(db)
    f = BINARY[op]
    ours = f(Tensor(a), Tensor(b))
    theirs = f(torch.tensor(a), torch.tensor(b))
    expect = {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64}[theirs.dtype]
    assert ours.dtype == expect, f"{da} {op} {db}: {ours.dtype}, torch {theirs.dtype}"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("da", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5), np.int64(2)], ids=repr)
def test_tensor_scalar_promotion_like_torch(da, scalar):
    a = np.array([1, 2, 3]).astype(da)
    for f in (lambda x: x * scalar, lambda x: scalar + x, lambda x: x - scalar):
        ours, theirs = f(Tensor(a)), f(torch.tensor(a))
        assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), (da, scalar)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_mixed_precision_gradients_keep_input_dtypes():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.full(3, 2.0), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [2, 2, 2])


# ------------------------------------------------------------------ conversions
def test_numpy_item_detach():
    a = np.array([[1.5, 2.0]])
    x = Tensor(a, requires_grad=True)
    assert isinstance(x.numpy(), np.ndarray)
    np.testing.assert_array_equal(x.numpy(), a)
    assert Tensor(3.5).item() == 3.5 and isinstance(Tensor(3.5).item(), float)
    assert Tensor([7]).item() == 7 and isinstance(Tensor([7]).item(), int)
    with pytest.raises(ValueError, match="2 elements"):
        x.item()
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), a * 2)


def test_to_float_double_are_differentiable():
    helper_test_op([(3, 4)], lambda a: a.float() * 2)
    helper_test_op([(3, 4)], lambda a: a.double() * 2)
    helper_test_op([(3, 4)], lambda a: a.to(torch.float32) if isinstance(a, torch.Tensor) else a.to(np.float32))
    helper_test_op([(3, 4)], lambda a: a.to(dtype=torch.float64) if isinstance(a, torch.Tensor) else a.to(dtype=np.float64))
    x = Tensor(np.ones(2, np.float32))
    assert x.to("cpu") is x and x.float() is x
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64


def test_to_unknown_device_raises():
    with pytest.raises(ValueError, match="unknown device"):
        Tensor([1.0]).to("tpu")


def test_repr_and_bool():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn" in repr(x * 2)
    assert bool(Tensor([1.0])) and not bool(Tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


# ------------------------------------------------------------------ error messages
# torch's words: the error of the kernel its matmul runs for these dims (mm, dot, bmm), naming sizes
@pytest.mark.parametrize("a,b,msg", [
    ((2, 3), (4, 5), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ((3,), (4,), "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, "
                 "but got 3 and 4 elements respectively"),
    ((5, 2, 3), (4, 3, 2), "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 0"),
    ((5, 2, 3), (5, 4, 2), "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but got: [5, 4].")],
    ids=str)
def test_matmul_shape_mismatch_message(a, b, msg):
    with pytest.raises(ValueError) as e:   # ShapeMismatch: a RuntimeError as torch's, and a ValueError
        Tensor(np.ones(a)) @ Tensor(np.ones(b))
    assert str(e.value) == msg and isinstance(e.value, RuntimeError)


def test_matmul_0d_raises():
    with pytest.raises(ValueError, match="both arguments to matmul need to be at least 1D, but they are 0D and 1D"):
        Tensor(2.0) @ Tensor(np.ones(3))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum"])
def test_broadcast_mismatch_names_both_shapes(op):
    with pytest.raises(ValueError) as e:
        BINARY[op](Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3))))
    # torch's message (a RuntimeError there, also one here: ShapeMismatch), then both shapes
    assert str(e.value) == ("The size of tensor a (2) must match the size of tensor b (4) at non-singleton "
                            "dimension 0 (shapes (2, 3) and (4, 3))")
    assert isinstance(e.value, RuntimeError)
