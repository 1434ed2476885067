"""Findings of the 2026-12-05 morning's audits against torch 2.13 (programs round 17, the API
contract re-audit, the grad_fn name sweep), each a small program run under torch and ours."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def test_rsub_as_torch():
    x = np.array([1.0, -2.0, 0.5], np.float32)
    for other, alpha in ((3, 2), (np.array([5.0, 1.0, 2.0], np.float32), 1), (1.5, 0.5)):
        t_other = torch.tensor(other) if isinstance(other, np.ndarray) else other
        o_other = ts.tensor(other) if isinstance(other, np.ndarray) else other
        want = torch.rsub(torch.tensor(x), t_other, alpha=alpha)
        got = ts.rsub(ts.tensor(x), o_other, alpha=alpha)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_norm_zero_requires_grad_without_a_gradient():
    """x.norm(0) counts non-zeros; torch's result requires grad and its gradient is undefined."""
    for lib in (torch, ts):
        x = lib.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
        y = x.norm(0)
        assert y.requires_grad and y.item() == 3.0
        y.backward()
        assert x.grad is None
        np.testing.assert_array_equal(np.asarray(x.norm(0, dim=1).detach().numpy()), [1.0, 2.0])
