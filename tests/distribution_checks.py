"""compare_with_gradients: a distribution's output against torch's, then the gradients of a random
weighting of it into each library's parameter leaves (tests/test_distributions_*.py)."""
import numpy as np
import torch

import tinygrad_seq as ts


def compare_with_gradients(out, out_t, ours, theirs, rtol=1e-9, seed=0):
    """out (ours) against out_t (torch's) to rtol; then sum(out * w).backward() on both and each
    leaf's .grad against torch's (a leaf torch gives no gradient: none or zeros here)."""
    assert tuple(out.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=rtol, atol=1e-12)
    w = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * ts.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy())
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10)
