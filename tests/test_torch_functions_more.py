"""The rarer torch functions against torch 2.13: the host elementwise ones (erf ... fmax) with
their gradients, diff / median / cummax / logcumsumexp / tensor_split / trace /
fill_diagonal_ / lerp_ / addmm family, and the dtype rules, unique, cdist, atleast_*d."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

RNG = np.random.default_rng(0)
A = RNG.uniform(-0.9, 0.9, (3, 4))
B = RNG.uniform(0.1, 2.0, (3, 4))
INTS = np.array([[1.0, 3, 3, 2], [5, 5, 1, 0], [2, 2, 2, 9]])

UNARY = ["erf", "erfinv", "erfc", "sinh", "cosh", "tan", "asin", "acos", "atan", "asinh", "atanh", "exp2", "frac",
         ]
BINARY = ["atan2", "hypot", "logaddexp", "xlogy", "fmax", "fmin"]


def _grads(T, fn, *arrays):
    xs = [T.tensor(a, requires_grad=True) for a in arrays]
    y = fn(T, *xs)
    (y * T.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape) + 1)).sum().backward()
    return [y.detach().numpy()] + [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("name", UNARY + BINARY + ["logit", "diff", "diff2", "logcumsumexp", "addmm", "baddbmm"])
def test_functions_and_gradients_match_torch(name):
    if name in BINARY:
        fn, arrays = (lambda T, x, y: getattr(T, name)(x, y if name != "xlogy" else y.abs())), (A, B)
    elif name == "logit":
        fn, arrays = (lambda T, x: x.sigmoid().logit()), (A,)
    elif name == "diff":
        fn, arrays = (lambda T, x: x.diff()), (A,)
    elif name == "diff2":
        fn, arrays = (lambda T, x: T.diff(x, n=2, dim=0, prepend=x[:1] * 2)), (A,)
    elif name == "logcumsumexp":
        fn, arrays = (lambda T, x: x.logcumsumexp(1)), (A,)
    elif name == "addmm":
        fn, arrays = (lambda T, x, y: T.addmm(x[:, :3], x, y.t()[:, :3], beta=0.5, alpha=2.0)), (A, B)
    elif name == "baddbmm":
        fn, arrays = (lambda T, x, y: T.baddbmm(x.unsqueeze(0)[:, :, :3], x.unsqueeze(0), y.t().unsqueeze(0)[:, :, :3],
                                                alpha=0.5)), (A, B)
    else:
        fn, arrays = (lambda T, x: getattr(x, name)()), (A,)
    ours, theirs = _grads(ts, fn, *arrays), _grads(torch, fn, *arrays)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-12)


def test_orderings_and_shapes_match_torch():
    def run(T):
        v = T.tensor(INTS)
        z, w = T.zeros(3), T.zeros(7, 3)
        z.lerp_(T.ones(3), 0.25)
        return [v.cummax(1).values.tolist(), v.cummax(1).indices.tolist(), v.cummin(0).indices.tolist(),
                v.median(1).values.tolist(), v.median(1).indices.tolist(), v.median().item(),
                [tuple(t.shape) for t in T.arange(10).tensor_split(3)], [t.tolist() for t in T.arange(7).tensor_split([2, 5])],
                v.trace().item(), T.zeros(3, 3).fill_diagonal_(2.0).tolist(), w.fill_diagonal_(1.0, wrap=True).tolist(),
                z.tolist(), [t.tolist() for t in v.aminmax(dim=1)], T.tensor([1.0, float("nan"), 3.0]).nansum().item(),
                T.tensor([1.0, float("nan"), 3.0]).nanmean().item(), v.fliplr().tolist(), v.flipud().tolist(),
                v.ravel().shape[0], (v - 2).sgn().tolist(), T.mv(v, T.tensor([1.0, 0, 0, 1], dtype=T.float64)).tolist(), T.inner(v, v).tolist()]
    assert run(ts) == run(torch)


def test_dtype_rules_unique_cdist_atleast_match_torch():
    def name(dt):
        return str(dt).replace("torch.", "")

    def run(T):
        a, f = T.tensor([3, 1, 3, 2]), T.tensor([1.0, 2.0])
        return [name(T.promote_types(T.int64, T.float32)), name(T.promote_types(T.int32, T.int64)),
                name(T.promote_types(T.bool, T.int8)), name(T.result_type(a, 2.5)),
                name(T.result_type(f, T.tensor(1.0, dtype=T.float64))), name(T.result_type(a, f)),
                name(T.result_type(T.tensor([True]), True)), T.can_cast(T.float32, T.int32),
                T.can_cast(T.int32, T.float16), T.can_cast(T.int8, T.bool), T.unique(a).tolist(),
                [t.tolist() for t in T.unique(a, return_inverse=True, return_counts=True)],
                T.cdist(T.tensor([[0.0, 0.0], [1.0, 1.0]]), T.tensor([[1.0, 0.0]])).tolist(),
                tuple(T.atleast_2d(T.tensor(1.0)).shape), tuple(T.atleast_3d(T.ones(2, 3)).shape),
                T.cosine_similarity(T.tensor([[1.0, 0.0]]), T.tensor([[1.0, 1.0]])).tolist()]
    ours, theirs = run(ts), run(torch)
    assert ours[:-1] == theirs[:-1] and np.allclose(ours[-1], theirs[-1])
