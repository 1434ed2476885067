"""Autograd and Tensor-protocol details against torch 2.13 (found by an audit): pickling a
computed tensor, matmul with numpy arrays, memory_format= / to()'s positional copy, next_functions,
hooks that change a gradient's shape or dtype, detach_ of a view, retain_grad without
requires_grad, format specs, x.T on 3-D tensors."""
import pickle

import numpy as np
import pytest
import torch
import tinygrad_seq as ts


def _both(fn):
    return fn(torch), fn(ts)


# 2. pickle of a tensor that has a grad_fn
def test_pickle_non_leaf():
    for T in (torch, ts):
        x = T.tensor([1., 2.], requires_grad=True)
        c = pickle.loads(pickle.dumps(x * 2))   # ours: TypeError: cannot pickle 'module' object
        assert c.tolist() == [2.0, 4.0]


# 3. tensor @ float64 numpy array
def test_matmul_with_float64_ndarray():
    a = np.ones((3, 2))
    rt = torch.ones(2, 3) @ a
    rs = ts.ones(2, 3) @ a      # ours: DTypeMismatch
    assert np.allclose(rt.numpy(), np.asarray(rs.numpy()))


# 4. memory_format= keywords and to()'s positional copy
def test_clone_memory_format():
    t = ts.zeros(2, 3)
    r = t.clone(memory_format=ts.contiguous_format)
    assert r.shape == (2, 3)


def test_to_memory_format_and_positional_copy():
    t = ts.zeros(2)
    assert t.to(memory_format=ts.contiguous_format) is t
    r = t.to("cpu", ts.float64, False, True)
    assert str(r.dtype).replace("torch.", "") == "float64"


# 5. grad_fn.next_functions (graph walkers, torchviz)
def test_grad_fn_next_functions():
    x = ts.tensor([1., 2.], requires_grad=True)
    y = x * 2
    assert len(y.grad_fn.next_functions) == 2


# 6. a hook returning a gradient of another shape / dtype is accepted
def test_hook_changing_shape_refused():
    for T in (torch, ts):
        x = T.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g.sum())
        with pytest.raises(RuntimeError):
            (x * x).sum().backward()     # ours: x.grad becomes a 0-d tensor 6.0


def test_hook_changing_dtype_refused():
    for T in (torch, ts):
        x = T.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g.double())
        with pytest.raises(RuntimeError):
            (x * 1).sum().backward()     # ours: float32 x gets a float64 .grad


# 9. missing errors
def test_detach_inplace_on_view_raises():
    for T in (torch, ts):
        x = T.tensor([1., 2.], requires_grad=True)
        v = (x * 2)[0:1]
        with pytest.raises(RuntimeError):
            v.detach_()


def test_retain_grad_without_requires_grad_raises():
    for T in (torch, ts):
        with pytest.raises(RuntimeError):
            T.tensor([1., 2.]).retain_grad()


# 10. f"{t:.3f}" of a multi-element tensor: TypeError in torch
def test_format_spec_on_multi_element_is_type_error():
    for T in (torch, ts):
        with pytest.raises(TypeError):
            f"{T.tensor([3.14159, 2.0]):.3f}"


# 11. x.T on a 3-D tensor warns (deprecated)
def test_T_on_3d_warns():
    # torch: UserWarning "The use of `x.T` on tensors of dimension other than 2 ... is deprecated"
    # (a warn-once in torch, so only ours is checked here)
    with pytest.warns(UserWarning):
        ts.zeros(2, 3, 4).T


