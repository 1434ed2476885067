"""Helpers the torch-comparing tests share: one function of float64 leaves run in tinygrad_seq and torch,
the output and every input's gradient compared."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def compare_with_torch(fn_ours, fn_torch, arrays, rtol=1e-10, atol=1e-12):
    """fn of float64 leaves from `arrays` in both libraries: the output and every input's
    gradient (of a weighted sum of the output) agree."""
    res = []
    for lib, fn in ((ts, fn_ours), (torch, fn_torch)):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(*xs)
        y = y[0] if isinstance(y, tuple) else y
        (y * lib.tensor(np.linspace(-1, 2, y.numel()).reshape(y.shape))).sum().backward()
        res.append([y.detach().numpy()] + [x.grad.numpy() for x in xs])
    for a, t in zip(*res):
        assert a.shape == t.shape
        np.testing.assert_allclose(a, t, rtol=rtol, atol=atol)


def T(t, requires_grad=False):
    """A torch tensor's values as a tinygrad_seq tensor."""
    return ts.tensor(np.array(t.detach().numpy()), requires_grad=requires_grad)


def same(o, t, rtol=1e-6, atol=1e-7):
    """Our tensor o and torch's t: same shape, dtype and values."""
    assert tuple(o.shape) == tuple(t.shape), (tuple(o.shape), tuple(t.shape))
    assert str(np.dtype(o.dtype)) == str(t.dtype).replace("torch.", ""), (o.dtype, t.dtype)
    np.testing.assert_allclose(np.asarray(o.detach().numpy()), t.detach().numpy(), rtol=rtol, atol=atol)


def raises_like_torch(tfn, ofn):
    """Both raise, and ours an exception of the type torch raised (our errors subclass it)."""
    with pytest.raises(Exception) as te:
        tfn()
    with pytest.raises(te.type):
        ofn()


def on_both(f):
    """f(M) run on torch and on tinygrad_seq; an exception comes back as its type."""
    out = []
    for M in (torch, ts):
        try:
            out.append(f(M))
        except Exception as e:   # noqa: BLE001
            out.append(type(e))
    return out
