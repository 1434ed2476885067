"""Module-level counterpart of engine_helpers.helper_test_op: the same module in torch and in
tinygrad_seq with the torch module's weights loaded into ours through load_state_dict; outputs,
the gradients of every float input and of every parameter must agree."""
import numpy as np
import torch

import tinygrad_seq as ts
from engine_helpers import TOL


def flat_outputs(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in flat_outputs(x)]
    return [out]


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours


def compare_module(ours, theirs, arrays, dtype, call=None, seed=0, tol=None):
    """arrays: numpy inputs (float ones get requires_grad; None passes through).
    call(module, *inputs) defaults to module(*inputs)."""
    call = call or (lambda m, *xs: m(*xs))
    tol = tol or TOL[dtype]
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    ours = ours.double() if dtype == np.float64 else ours.float()
    load_from_torch(ours, theirs)

    def conv(a, lib):
        if a is None:
            return None
        if isinstance(a, tuple):
            return tuple(conv(x, lib) for x in a)
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
            return torch.tensor(a, requires_grad=True) if lib == "torch" else ts.Tensor(a, requires_grad=True)
        return torch.tensor(a) if lib == "torch" else ts.Tensor(a)

    t_in = [conv(a, "torch") for a in arrays]
    o_in = [conv(a, "ours") for a in arrays]
    t_out, o_out = flat_outputs(call(theirs, *t_in)), flat_outputs(call(ours, *o_in))
    assert len(t_out) == len(o_out)
    rng = np.random.default_rng(seed)
    t_loss = o_loss = 0
    for i, (t, o) in enumerate(zip(t_out, o_out)):
        assert o.shape == tuple(t.shape), f"output {i}: shape {o.shape} vs torch {tuple(t.shape)}"
        assert o.dtype == dtype, f"output {i}: dtype {o.dtype}"
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), err_msg=f"output {i}", **tol)
        v = rng.standard_normal(o.shape).astype(dtype)
        t_loss = t_loss + (t * torch.tensor(v)).sum()
        o_loss = o_loss + (o * ts.Tensor(v)).sum()
    t_loss.backward()
    o_loss.backward()
    for i, (t, o) in enumerate(zip(flat_outputs(t_in), flat_outputs(o_in))):
        if t is None or not t.requires_grad:
            continue
        assert o.grad is not None, f"input {i}: no gradient"
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), err_msg=f"grad of input {i}", **tol)
    t_params, o_params = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(o_params) == list(t_params)
    for name, tp in t_params.items():
        op = o_params[name]
        assert op.grad is not None, f"{name}: no gradient"
        assert op.grad.dtype == op.dtype
        np.testing.assert_allclose(op.grad.numpy(), tp.grad.numpy(), err_msg=f"grad of {name}", **tol)
    return o_out, t_out
