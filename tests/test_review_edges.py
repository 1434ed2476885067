"""Edges found by a review of the stop's additions, each asserting torch 2.13's behaviour:
backward(inputs=) with hooks / retain_grad / repeats, tensor_split, logcumsumexp, fmod, einsum,
inner, result_type, torch.cuda.amp's argument order, GradScaler, alpha, xlogy, addmm, nan in
cummax / median, 0-d and empty edges, and the cuda paths (in a simulator subprocess)."""
import math
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


# 1. backward(inputs=[leaf]) runs the leaf's register_hook hooks twice
def test_backward_inputs_runs_leaf_hook_once():
    x = ts.tensor([1., 2.], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward(inputs=[x])
    assert x.grad.tolist() == [20., 40.]


# 2. backward(inputs=[h]) on a non-leaf that has retain_grad() doubles h.grad
def test_backward_inputs_retained_nonleaf_not_doubled():
    x = ts.tensor([1., 2.], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [4., 8.]


# 3. a tensor listed twice in inputs= is accumulated twice
def test_backward_inputs_duplicate_counted_once():
    x = ts.tensor([1., 2.], requires_grad=True)
    ts.autograd.backward((x * x).sum(), inputs=[x, x])
    assert x.grad.tolist() == [2., 4.]


# 4. tensor_split with negative indices (python-slice semantics in torch)
def test_tensor_split_negative_index():
    got = [p.tolist() for p in ts.arange(5).tensor_split([-2])]
    assert got == [[0, 1, 2], [3, 4]]


# 5. logcumsumexp shifts by the max of the whole dim: earlier entries underflow to -inf
def test_logcumsumexp_no_underflow():
    got = ts.tensor([-200., 0., -300.]).logcumsumexp(0).numpy()
    want = torch.tensor([-200., 0., -300.]).logcumsumexp(0).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


# 6. fmod on floats computed as a - trunc(a/b)*b: wrong for large quotients
def test_fmod_float_exact():
    assert ts.tensor([1e8], dtype=ts.float32).fmod(3.0).item() == 1.0
    assert ts.tensor([1e17], dtype=ts.float64).fmod(3.0).item() == 1.0


# 7. einsum backward: a summed letter that is size 1 in another operand
def test_einsum_grad_broadcast_summed_letter():
    a = np.arange(6.).reshape(2, 3)
    x, w = ts.tensor(a, requires_grad=True), ts.tensor([[2.]], requires_grad=True)
    ts.einsum("ij,kj->i", x, w).sum().backward()
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor([[2.]], requires_grad=True)
    torch.einsum("ij,kj->i", tx, tw).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


# 8. Tensor.inner with a >2-D second operand
def test_inner_3d_other():
    assert ts.ones(2, 3).inner(ts.ones(4, 5, 3)).shape == (2, 4, 5)


# 9. result_type with a 0-d integer tensor (probe rebuilt via Tensor(np 0-d) -> int64)
def test_result_type_zero_d_int():
    assert ts.result_type(ts.tensor(1, dtype=ts.int32), ts.tensor([1], dtype=ts.int8)) == np.int8
    assert ts.result_type(ts.tensor(1, dtype=ts.int32), 2) == np.int32


# 10. torch.cuda.amp.autocast / GradScaler take enabled / init_scale first
def test_cuda_amp_positional_signature():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ts.cuda.amp.autocast(False):
            pass


# 11. GradScaler judges inf by the *sum* of |grad| (overflows for large finite grads)
def test_gradscaler_large_finite_grads_step():
    w = ts.tensor(np.zeros(100, np.float32), requires_grad=True)
    w.grad = ts.tensor(np.full(100, 1e37, np.float32))
    opt = ts.optim.SGD([w], lr=1e-40)
    scaler = ts.amp.GradScaler("cpu", init_scale=1.0)
    scaler.scale(ts.ones(()))   # (torch's scaler refuses unscale_ before a scale())
    scaler.unscale_(opt)
    assert scaler._per_optimizer_states[id(opt)] == ("unscaled", False)
    scaler.step(opt)
    assert np.allclose(w.numpy(), -1e-3)


# 12. add/sub: alpha=inf (or nan) crashes in _check_alpha's int(alpha)
def test_add_alpha_inf():
    assert ts.tensor([1.]).add(ts.tensor([1.]), alpha=float("inf")).item() == math.inf


# 13. xlogy(0, nan) is nan in torch
def test_xlogy_zero_nan():
    assert math.isnan(ts.xlogy(ts.tensor([0.]), ts.tensor([float("nan")])).item())


# 14. addmm(beta=0) must ignore nan/inf in input (torch docs)
def test_addmm_beta0_ignores_input():
    out = ts.tensor([[float("nan")]]).addmm(ts.ones(1, 2), ts.ones(2, 1), beta=0)
    assert out.item() == 2.0


# 15. cummax / median propagate NaN in torch
def test_cummax_median_nan():
    v = ts.tensor([1., float("nan"), 2.]).cummax(0).values.numpy()
    assert np.isnan(v[1]) and np.isnan(v[2])
    assert math.isnan(ts.tensor([1., float("nan"), 2.]).median().item())


# 16. 0-d edge cases that torch accepts
@pytest.mark.parametrize("fn", [lambda t: t.movedim(0, 0), lambda t: t.cummax(0), lambda t: t.median(0),
                                lambda t: t.sum(axis=0)])
def test_zero_d_edges(fn):
    fn(ts.tensor(3.))


def test_diff_n_larger_than_len():
    assert ts.tensor([1., 2.]).diff(n=3).shape == (0,)


# 17. "cuda" paths (checked under Numba's CUDA simulator, in a subprocess)
_CUDA_SNIPPET = r"""
import numpy as np, tinygrad_seq as ts
x = ts.tensor([0., 0., 0.]).to("cuda")
x.index_put_((ts.tensor([0, 0]).to("cuda"),), ts.tensor(1.).to("cuda"), accumulate=True)
assert x.cpu().tolist() == [2., 0., 0.]
v, i = ts.tensor([1., 3., 2.]).to("cuda").cummax(0)
assert type(i.array) is type(v.array), type(i.array)
class F(ts.autograd.Function):
    @staticmethod
    def forward(ctx, x): return x.cpu()
    @staticmethod
    def backward(ctx, g): return g.cuda()
y = F.apply(ts.tensor([1.]).to("cuda"))
assert y.device == "cpu", y.device
"""


def test_cuda_paths_simulator():
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", NUMBA_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", _CUDA_SNIPPET], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-800:]
