"""Findings of the review of stop 37's diff (create_graph gradients sharing memory, read-only and
0-d .grad, retained root grads, rrelu at 0, hardswish at inf, user attributes through copy /
pickle) against torch 2.13."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")


def _vals(t):
    return np.asarray(t.detach().tolist(), dtype=float)


# ---------------------------------------------------------------- 1. create_graph .grad aliasing
def _clip_after_create_graph(T):
    x = T.tensor([1., 2.], requires_grad=True)
    w = T.tensor([0.5, 1.], requires_grad=True)
    ((x + w) ** 2).sum().backward(create_graph=True)   # x.grad and w.grad are one Tensor here
    T.nn.utils.clip_grad_norm_([x, w], 1.0)
    return _vals(x.grad), _vals(w.grad)


def test_create_graph_leaf_grads_shared_clip_grad_norm_scales_twice():
    want, got = _clip_after_create_graph(torch), _clip_after_create_graph(ts)
    assert np.allclose(want[0], got[0]) and np.allclose(want[1], got[1]), (want, got)


def _second_backward_leaks_into_other_param(T):
    x = T.ones(3, requires_grad=True)
    w = T.ones(3, requires_grad=True)
    c = T.tensor([1., 2., 3.])
    ((x + w) * c).sum().backward(create_graph=True)
    (x * 5).sum().backward()            # first-order: accumulates into x.grad in place
    return _vals(w.grad)


def test_create_graph_then_backward_changes_other_params_grad():
    want, got = _second_backward_leaks_into_other_param(torch), _second_backward_leaks_into_other_param(ts)
    assert np.allclose(want, got), (want, got)   # torch [1,2,3]; ours [6,7,8]


def _user_gradient_overwritten(T):
    x = T.ones(3, requires_grad=True)
    g = T.full((3,), 2.0)
    (x + 1).backward(g, create_graph=True)   # x.grad is g itself here
    (x * 5).sum().backward()
    return _vals(g)


def test_create_graph_grad_is_users_gradient_tensor():
    want, got = _user_gradient_overwritten(torch), _user_gradient_overwritten(ts)
    assert np.allclose(want, got), (want, got)   # torch keeps g = [2,2,2]; ours [7,7,7]


def _retained_and_leaf_share(T):
    x = T.ones(3, requires_grad=True)
    y = x + 1
    y.retain_grad()
    (y * 2).sum().backward(create_graph=True)
    y.grad.mul_(100)
    return _vals(x.grad)


def test_create_graph_retained_grad_shares_leaf_grad():
    want, got = _retained_and_leaf_share(torch), _retained_and_leaf_share(ts)
    assert np.allclose(want, got), (want, got)   # torch [2,2,2]; ours [200,200,200]


def _backward_inputs_create_graph(T):
    x = T.ones(3, requires_grad=True)
    g = T.full((3,), 2.0)
    (x + 1).backward(g, inputs=[x], create_graph=True)
    (x * 5).sum().backward()
    return _vals(g)


def test_create_graph_backward_inputs_grad_is_users_gradient():
    want, got = _backward_inputs_create_graph(torch), _backward_inputs_create_graph(ts)
    assert np.allclose(want, got), (want, got)


# ---------------------------------------------------------------- 2. read-only .grad after create_graph
def _zero_grad_readonly(T):
    x = T.ones(3, requires_grad=True)
    x.sum().backward(create_graph=True)       # .grad is an expand of ones (read-only here)
    T.optim.SGD([x], lr=0.1).zero_grad(set_to_none=False)
    return _vals(x.grad)


def test_zero_grad_false_after_create_graph_raises_read_only():
    assert np.allclose(_zero_grad_readonly(torch), _zero_grad_readonly(ts))


def _inplace_on_grad_readonly(T):
    x = T.ones(3, requires_grad=True)
    x.sum().backward(create_graph=True)
    T.nn.utils.clip_grad_norm_([x], 0.5)
    return _vals(x.grad)


def test_clip_grad_norm_after_create_graph_raises_read_only():
    assert np.allclose(_inplace_on_grad_readonly(torch), _inplace_on_grad_readonly(ts))


# ---------------------------------------------------------------- 3. 0-d grads backed by a numpy scalar
def _zero_grad_0d(T):
    x = T.tensor(2.0, requires_grad=True)
    (x * x).backward(create_graph=True)
    opt = T.optim.SGD([x], lr=0.1)
    opt.zero_grad(set_to_none=False)
    (x * 3).backward()
    return x.grad.item()


def test_zero_grad_false_leaves_0d_grad_unzeroed():
    assert _zero_grad_0d(torch) == _zero_grad_0d(ts)   # torch 3.0; ours 7.0


def _zero_grad_assigned_sum(T):
    x = T.tensor(2.0, requires_grad=True)
    x.grad = T.ones(3).sum()
    T.optim.SGD([x], lr=0.1).zero_grad(set_to_none=False)
    return x.grad.item()


def test_zero_grad_false_on_assigned_reduction_grad():
    assert _zero_grad_assigned_sum(torch) == _zero_grad_assigned_sum(ts)   # torch 0.0; ours 3.0


def _accumulate_0d_reference(T):
    x = T.tensor(2.0, requires_grad=True)
    (x * 3).backward(create_graph=True)
    g = x.grad
    (x * 3).backward()
    return g.item()


def test_0d_grad_not_accumulated_in_place():
    assert _accumulate_0d_reference(torch) == _accumulate_0d_reference(ts)   # torch 6.0; ours 3.0


# ---------------------------------------------------------------- 4. retain_grad aliases the root gradient
def _retain_grad_alias(T):
    x = T.ones(3, requires_grad=True)
    g = T.full((3,), 2.0)
    y = x * 2
    y.retain_grad()
    y.backward(g)
    y.grad.mul_(3)
    return _vals(g)


def test_retained_root_grad_aliases_users_gradient():
    assert np.allclose(_retain_grad_alias(torch), _retain_grad_alias(ts))   # torch g unchanged


# ---------------------------------------------------------------- 6. rrelu gradient at 0
def _rrelu_grad_at_zero(T):
    x = T.zeros(200, requires_grad=True)
    T.nn.functional.rrelu(x, 0.1, 0.3, training=True).sum().backward()
    return _vals(x.grad)


def test_rrelu_training_gradient_at_zero_is_sampled_slope():
    want, got = _rrelu_grad_at_zero(torch), _rrelu_grad_at_zero(ts)
    assert (want <= 0.3).all()                 # torch: input <= 0 takes the random slope
    assert (got <= 0.3).all(), got[:5]         # ours: 1.0


# ---------------------------------------------------------------- 7. hardswish at inf
def _hardswish_inf(T):
    x = T.tensor([1., float("inf")], requires_grad=True)
    y = T.nn.functional.hardswish(x)
    y[0].backward()
    return _vals(y), _vals(x.grad)


def test_hardswish_inf_value_and_unused_gradient():
    (wy, wg), (gy, gg) = _hardswish_inf(torch), _hardswish_inf(ts)
    assert np.array_equal(wy, gy) and np.array_equal(wg, gg), ((wy, wg), (gy, gg))


# ---------------------------------------------------------------- 8. user attributes on tensors
@pytest.mark.parametrize("how", ["copy", "pickle"])
def test_tensor_user_attribute_survives_copy_pickle_save(how):
    def run(T):
        t = T.ones(2)
        t.tag = 3
        if how == "copy":
            return copy.copy(t).tag
        return pickle.loads(pickle.dumps(t)).tag
    assert run(torch) == 3
    assert run(ts) == 3
