"""helper_test_op (tinygrad's pattern): the same computation in torch and in tinygrad_seq from the
same numpy inputs; forward values and every input gradient must agree, float64 tight and
float32 loose."""
import numpy as np
import torch

import tinygrad_seq as ts

TOL = {np.float64: dict(atol=1e-10, rtol=1e-9), np.float32: dict(atol=1e-5, rtol=1e-4)}


def _as_list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def make_inputs(shapes, dtype, rng, low=-2.0, high=2.0, positive=False):
    arrs = []
    for s in shapes:
        a = rng.uniform(low, high, size=s)
        if positive:
            a = np.abs(a) + 0.5
        arrs.append(np.asarray(a, dtype=dtype))
    return arrs


def check_outputs(ours, theirs, tol, what="forward"):
    ours, theirs = _as_list(ours), _as_list(theirs)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        tv = t.detach().numpy()
        ov = o.numpy()
        assert ov.shape == tv.shape, f"{what}: shape {ov.shape} vs torch {tv.shape}"
        assert ov.dtype == tv.dtype, f"{what}: dtype {ov.dtype} vs torch {tv.dtype}"
        np.testing.assert_allclose(ov, tv, err_msg=what, **tol)


def helper_test_op(shapes, torch_fn, ours_fn=None, arrays=None, dtypes=(np.float64, np.float32),
                   positive=False, low=-2.0, high=2.0, grad=True, seed=0, tol=None):
    """shapes: one shape per input (or `arrays`: the numpy inputs). ours_fn defaults to torch_fn
    (most of the API is spelled the same). Gradients are checked through sum(out * v) with a
    fixed random v per float output, so every output element takes part."""
    ours_fn = ours_fn or torch_fn
    for dtype in dtypes:
        rng = np.random.default_rng(seed)
        arrs = [np.asarray(a, dtype) for a in arrays] if arrays is not None else \
            make_inputs(shapes, dtype, rng, low, high, positive)
        tt = [torch.tensor(a, requires_grad=grad) for a in arrs]
        ot = [ts.Tensor(a, requires_grad=grad) for a in arrs]
        for o, a in zip(ot, arrs):
            assert o.dtype == a.dtype
        t_out, o_out = torch_fn(*tt), ours_fn(*ot)
        t_tol = tol or TOL[dtype]
        check_outputs(o_out, t_out, t_tol, f"forward {dtype.__name__}")
        if not grad:
            continue
        t_outs = [t for t in _as_list(t_out) if t.dtype.is_floating_point]
        o_outs = [o for o in _as_list(o_out) if o.dtype.kind == "f"]
        vs = [rng.standard_normal(t.shape).astype(dtype) for t in t_outs]
        t_loss = sum((t * torch.tensor(v)).sum() for t, v in zip(t_outs, vs))
        o_loss = None
        for o, v in zip(o_outs, vs):
            term = (o * ts.Tensor(v)).sum()
            o_loss = term if o_loss is None else o_loss + term
        t_loss.backward()
        o_loss.backward()
        for i, (t, o) in enumerate(zip(tt, ot)):
            if t.grad is None:
                assert o.grad is None or np.all(o.grad.numpy() == 0), f"input {i}: torch has no grad"
                continue
            assert o.grad is not None, f"input {i}: no gradient"
            assert o.grad.shape == o.shape
            assert o.grad.dtype == o.dtype, f"grad {i} dtype {o.grad.dtype} vs {o.dtype}"
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(),
                                       err_msg=f"grad of input {i} ({dtype.__name__})", **t_tol)
    return True
