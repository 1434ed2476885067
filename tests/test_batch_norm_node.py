"""BatchNormFunction (training-mode batch norm as one node, batch_norm_node.py) against torch:
values, gradients, running statistics, an untracked .data write after the call, and double
backward (its composition as the recomposition)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("module,shape,dtype,affine", [("BatchNorm1d", (8, 3), "float64", True),
                                                       ("BatchNorm1d", (4, 3, 5), "float64", False),
                                                       ("BatchNorm2d", (2, 3, 4, 5), "float64", True),
                                                       ("BatchNorm2d", (2, 3, 4, 5), "float32", True)])
def test_training_batch_norm_as_torch(module, shape, dtype, affine):
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)

    def run(lib):
        m = getattr(lib.nn, module)(3, affine=affine).to(getattr(lib, dtype))
        if affine:
            with lib.no_grad():
                m.weight.copy_(lib.tensor(np.array([0.5, 1.5, -2.0], dtype)))
                m.bias.copy_(lib.tensor(np.array([0.1, -0.2, 0.3], dtype)))
        x = lib.tensor(X, requires_grad=True)
        for _ in range(2):
            y = m(x)
        (y * lib.tensor(G)).sum().backward()
        out = [y.detach().numpy(), x.grad.numpy(), m.running_mean.numpy(), m.running_var.numpy()]
        return out + ([m.weight.grad.numpy(), m.bias.grad.numpy()] if affine else [])
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=2e-5, atol=2e-5)
    for a, b in zip(run(torch), run(ts)):
        assert b.dtype == a.dtype
        np.testing.assert_allclose(b, a, **tol)


def test_batch_norm_sees_data_write_and_differentiates_twice():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 3, 5))

    def run(lib):
        m = lib.nn.BatchNorm1d(3).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(np.array([0.5, 1.5, -2.0])))
        x = lib.tensor(X, requires_grad=True)
        y = x * 1
        z = m(y)
        y.data.mul_(2)
        (z * lib.tensor(np.linspace(-1, 1, 60).reshape(4, 3, 5))).sum().backward()
        x2 = lib.tensor(X, requires_grad=True)
        g, = lib.autograd.grad((m(x2) ** 3).sum(), x2, create_graph=True)
        (g ** 2).sum().backward()
        return x.grad.numpy(), m.weight.grad.numpy(), g.detach().numpy(), x2.grad.numpy()
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-10)
