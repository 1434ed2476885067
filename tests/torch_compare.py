"""A helper the layer tests share: one function of float64 leaves run in tinygrad_seq and torch,
the output and every input's gradient compared."""
import numpy as np
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
