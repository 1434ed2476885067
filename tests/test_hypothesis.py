"""Property tests: broadcasting and reductions over generated shapes, against torch and numpy."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_seq import Tensor
from engine_helpers import helper_test_op

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: torch.maximum(a, b) if isinstance(a, torch.Tensor) else a.maximum(b),
}


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=4),
       op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_broadcast_binary_matches_torch(shapes, op, seed):
    a, b = shapes.input_shapes
    helper_test_op([a, b], OPS[op], positive=op == "div", seed=seed, dtypes=(np.float64,))
    out = OPS[op](Tensor(np.ones(a)), Tensor(np.ones(b)))
    assert out.shape == shapes.result_shape


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3))
def test_broadcast_with_zero_size_axes(shapes):
    a, b = shapes.input_shapes
    helper_test_op([a, b], OPS["mul"], dtypes=(np.float64,))


@st.composite
def incompatible_pairs(draw):
    a = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=5))
    axis = draw(st.integers(0, len(a) - 1))
    b = list(a)
    b[axis] = a[axis] + draw(st.integers(1, 3))
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=3))
    return a, tuple(lead) + tuple(b)


@SETTINGS
@given(pair=incompatible_pairs(), op=st.sampled_from(sorted(OPS)))
def test_broadcast_mismatch_raises_torch_error(pair, op):
    # torch's RuntimeError and message, naming the sizes and the dim that do not match, then
    # both shapes (ShapeMismatch: also the ValueError it was)
    a, b = pair
    with pytest.raises(ValueError) as e:
        OPS[op](Tensor(np.ones(a)), Tensor(np.ones(b)))
    with pytest.raises(RuntimeError) as theirs:
        OPS[op](torch.ones(a), torch.ones(b))
    assert isinstance(e.value, RuntimeError) and str(e.value).startswith(str(theirs.value))
    assert f"(shapes {tuple(a)} and {tuple(b)})" in str(e.value)


@st.composite
def shape_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    if nd == 0 or draw(st.booleans()):
        dims = None
    else:
        picked = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        picked = [d - nd if draw(st.booleans()) else d for d in picked]  # some negative
        dims = picked[0] if len(picked) == 1 and draw(st.booleans()) else tuple(picked)
    return shape, dims, draw(st.booleans())


@SETTINGS
@given(sdk=shape_and_dims(), op=st.sampled_from(["sum", "mean", "amax"]), seed=st.integers(0, 2**16))
def test_reductions_match_torch(sdk, op, seed):
    shape, dims, keepdim = sdk
    if dims is None:
        if op == "amax":
            fn = lambda a: a.amax() if isinstance(a, torch.Tensor) else a.amax()  # noqa: E731
        else:
            fn = lambda a: getattr(a, op)()  # noqa: E731
    else:
        fn = lambda a: getattr(a, op)(dims, keepdim=keepdim)  # noqa: E731
    helper_test_op([shape], fn, seed=seed, dtypes=(np.float64,))


@SETTINGS
@given(sdk=shape_and_dims(), seed=st.integers(0, 2**16))
def test_max_dim_matches_torch(sdk, seed):
    shape, dims, keepdim = sdk
    if not shape:
        return
    d = dims if isinstance(dims, int) else 0
    helper_test_op([shape], lambda a: tuple(a.max(d, keepdim=keepdim)), seed=seed, dtypes=(np.float64,))


@SETTINGS
@given(sdk=shape_and_dims())
def test_sum_gradient_is_ones_and_mean_is_inverse_count(sdk):
    shape, dims, keepdim = sdk
    x = Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    x.sum(dims, keepdim).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))
    x.grad = None
    out = x.mean(dims, keepdim)
    out.sum().backward()
    n = x.numel() // max(out.numel(), 1)
    np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1.0 / n))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_permute_reshape_round_trip(shape, data):
    order = data.draw(st.permutations(range(len(shape))))
    x = Tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)
    y = x.permute(*order).reshape(-1).reshape(tuple(shape[o] for o in order))
    np.testing.assert_array_equal(y.numpy(), np.transpose(x.numpy(), order))
    g = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(Tensor(g))
    inv = np.argsort(order)
    np.testing.assert_array_equal(x.grad.numpy(), np.transpose(g, inv))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_basic_slicing_matches_numpy(shape, data):
    idx = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    a = np.random.default_rng(3).standard_normal(shape)
    x = Tensor(a, requires_grad=True)
    y = x[idx]
    np.testing.assert_array_equal(y.numpy(), a[idx])
    g = np.random.default_rng(4).standard_normal(y.shape)
    y.backward(Tensor(g))
    expect = np.zeros_like(a)
    expect[idx] += g
    np.testing.assert_array_equal(x.grad.numpy(), expect)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_integer_array_indexing_accumulates(shape, data):
    n = shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=8)))
    a = np.random.default_rng(5).standard_normal(shape)
    x = Tensor(a, requires_grad=True)
    y = x[idx]
    np.testing.assert_array_equal(y.numpy(), a[idx])
    y.sum().backward()
    counts = np.bincount(idx % n, minlength=n).astype(float)
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(counts.reshape((n,) + (1,) * (len(shape) - 1)), shape))
