"""torch._foreach_* (foreach_ops.py) beside torch 2.13: the unary, binary (scalar, list of
scalars, list of tensors, one tensor), addcmul / addcdiv (value, list, 1-D tensor of values) and
lerp forms, out of place and in place (which return the list they were given), reductions, and
the list errors. EMA and hand-written optimizer code calls them (timm's ModelEma, fairseq)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

rng = np.random.default_rng(0)
A = [rng.random((3, 2)).astype(np.float32) + 0.5, rng.random(4).astype(np.float32) + 0.5]
B = [rng.random((3, 2)).astype(np.float32) + 0.5, rng.random(4).astype(np.float32) + 0.5]
C = [rng.random((3, 2)).astype(np.float32) + 0.5, rng.random(4).astype(np.float32) + 0.5]
CALLS = {
 "addcmul_ list": lambda L, a, b, c: L._foreach_addcmul_(a, b, c, [0.1, 0.2]),
 "addcdiv_ list": lambda L, a, b, c: L._foreach_addcdiv_(a, b, c, [0.1, 0.2]),
 "addcdiv_ tensor": lambda L, a, b, c: L._foreach_addcdiv_(a, b, c, L.tensor([0.1, 0.2])),
 "addcdiv scalar": lambda L, a, b, c: L._foreach_addcdiv(a, b, c, 0.3),
 "lerp_ list": lambda L, a, b, c: L._foreach_lerp_(a, b, [0.3, 0.6]),
 "lerp_ tensors": lambda L, a, b, c: L._foreach_lerp_(a, b, c),
 "lerp scalar": lambda L, a, b, c: L._foreach_lerp(a, b, 0.25),
 "sqrt": lambda L, a, b, c: L._foreach_sqrt(a), "sqrt_": lambda L, a, b, c: L._foreach_sqrt_(a),
 "maximum_": lambda L, a, b, c: L._foreach_maximum_(a, b), "minimum": lambda L, a, b, c: L._foreach_minimum(a, b),
 "clamp_min_": lambda L, a, b, c: L._foreach_clamp_min_(a, 0.9), "clamp_max_ list": lambda L, a, b, c: L._foreach_clamp_max_(a, [0.9, 1.0]),
 "sign": lambda L, a, b, c: L._foreach_sign(a), "abs": lambda L, a, b, c: L._foreach_abs(a), "neg": lambda L, a, b, c: L._foreach_neg(a),
 "exp": lambda L, a, b, c: L._foreach_exp(a), "pow scalar": lambda L, a, b, c: L._foreach_pow(a, 2.0), "pow list": lambda L, a, b, c: L._foreach_pow(a, b),
 "pow base": lambda L, a, b, c: L._foreach_pow(2.0, a), "reciprocal_": lambda L, a, b, c: L._foreach_reciprocal_(a),
 "max": lambda L, a, b, c: L._foreach_max(a), "norm": lambda L, a, b, c: L._foreach_norm(a), "norm inf": lambda L, a, b, c: L._foreach_norm(a, float("inf")),
 "add alpha": lambda L, a, b, c: L._foreach_add(a, b, alpha=2), "add_ scalar": lambda L, a, b, c: L._foreach_add_(a, 1.5),
 "mul_ tensor": lambda L, a, b, c: L._foreach_mul_(a, L.tensor(2.0)), "div list": lambda L, a, b, c: L._foreach_div(a, [2.0, 4.0]),
 "sub_ alpha": lambda L, a, b, c: L._foreach_sub_(a, b, alpha=0.5), "zero_": lambda L, a, b, c: L._foreach_zero_(a),
 "copy_": lambda L, a, b, c: L._foreach_copy_(a, b), "clone": lambda L, a, b, c: L._foreach_clone(a),
 "sigmoid_": lambda L, a, b, c: L._foreach_sigmoid_(a), "addcmul": lambda L, a, b, c: L._foreach_addcmul(a, b, c),
 "len mismatch": lambda L, a, b, c: L._foreach_add(a, b[:1]), "empty": lambda L, a, b, c: L._foreach_add([], 1.0),
 "rsqrt": lambda L, a, b, c: L._foreach_rsqrt(a), "lgamma": lambda L, a, b, c: L._foreach_lgamma(a), "frac": lambda L, a, b, c: L._foreach_frac(a),
}


def _run(L, case):
    a, b, c = ([L.tensor(x) for x in X] for X in (A, B, C))
    try:
        r = CALLS[case](L, a, b, c)
    except RuntimeError as e:
        return "error", str(e)
    return [x.numpy() for x in (r if r is not None else a)], r is a, [x.numpy() for x in a]


@pytest.mark.parametrize("case", list(CALLS))
def test_foreach_matches_torch(case):
    got, want = _run(ts, case), _run(torch, case)
    if want[0] == "error":
        assert got == want
        return
    assert got[1] == want[1]   # in place: the same list object back
    for g, w in zip(got[0] + got[2], want[0] + want[2]):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_every_foreach_name_of_torch_exists():
    assert [n for n in dir(torch) if n.startswith("_foreach") and not hasattr(ts, n)] == []


MORE_CALLS = {
    "maximum scalar": lambda L, t: L._foreach_maximum(t, 2.5),
    "minimum scalar list": lambda L, t: L._foreach_minimum(t, [2.5, 0.1]),
    "maximum_ scalar": lambda L, t: L._foreach_maximum_(t, 2.5),
    "pow float base, int exponents": lambda L, t: L._foreach_pow(2.5, [L.tensor([1, 2]), L.tensor([3])]),
    "addcdiv scalars=": lambda L, t: L._foreach_addcdiv(t, t, t, scalars=[0.5, 2.0]),
    "add alpha with tensors": lambda L, t: L._foreach_add(t, t, alpha=2),
    "add alpha with a scalar": lambda L, t: L._foreach_add(t, 1.0, alpha=2),
    "mul by a 1-d tensor": lambda L, t: L._foreach_mul(t, t[0]),
}


@pytest.mark.parametrize("case", list(MORE_CALLS))
def test_foreach_argument_forms_results_and_errors_as_torchs(case):
    def run(L):
        t = [L.tensor([1.0, 5.0]), L.tensor([3.0])]
        try:
            out = MORE_CALLS[case](L, t)
        except (TypeError, RuntimeError) as e:
            return type(e).__name__
        out = t if out is t else out
        return type(out).__name__, [x.tolist() for x in out]
    assert run(ts) == run(torch)
