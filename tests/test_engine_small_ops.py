"""The engine's per-step ops made cheaper for decoder and CRF loops (2026-12-07), against torch
2.13: logsumexp in one node (float16 as torch's kernel rounds it), gather by take_along_axis,
a leaf's gradient sums added in place (an embedding or a tied weight read at every step)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import backend_cpu


def test_float16_logsumexp_rounds_as_torchs_kernel():
    rng = np.random.default_rng(1)
    for _ in range(50):
        b = (rng.standard_normal((8, int(rng.integers(2, 40)))) * rng.choice([0.1, 1, 5, 30])).astype(np.float16)
        np.testing.assert_array_equal(ts.tensor(b).logsumexp(1).numpy(), torch.tensor(b).logsumexp(1).numpy())
    a = np.array([[-33.09375, 1.0, 1.2998046875, -59.6875]], np.float16)
    assert ts.tensor(a).logsumexp(1).numpy().tolist() == [1.853515625]


@pytest.mark.parametrize("dims,keepdim", [(1, False), ((0, 2), True), (-1, False), ((-1, 0), False)])
def test_logsumexp_values_and_double_backward_match_torch(dims, keepdim):
    a = np.random.default_rng(2).standard_normal((3, 4, 5))
    a[0, 0, :] = -np.inf
    x, xt = ts.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, out_t = x.logsumexp(dims, keepdim), xt.logsumexp(dims, keepdim)
    assert out.grad_fn.name() == "LogsumexpBackward0"
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    w = np.random.default_rng(3).standard_normal(tuple(out_t.shape))
    g, = ts.autograd.grad((out * ts.tensor(w)).sum(), x, create_graph=True)
    gt, = torch.autograd.grad((out_t * torch.tensor(w)).sum(), xt, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-10, equal_nan=True)
    finite = np.isfinite(gt.detach().numpy())
    (g[ts.tensor(finite)] ** 2).sum().backward()
    (gt[torch.tensor(finite)] ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12, equal_nan=True)


def test_backend_gather_takes_a_negative_dim_and_a_smaller_index():
    a = np.arange(30.0).reshape(3, 10)
    idx = np.array([[4, 0], [3, 9]])
    np.testing.assert_array_equal(backend_cpu.gather(a, -1, idx), np.take_along_axis(a[:2], idx, axis=1))
    np.testing.assert_array_equal(backend_cpu.gather(a, 1, idx), backend_cpu.gather(a, -1, idx))


def test_a_weight_read_at_every_step_sums_its_gradient_as_torch():
    # an embedding and a tied output layer read at 12 decoder steps; a hook sees the summed gradient once
    rng = np.random.default_rng(4)
    tokens = rng.integers(0, 50, (12, 6))
    table = rng.standard_normal((50, 16)).astype(np.float32)
    grads, seen = [], []
    for L in (ts, torch):
        emb = L.nn.Embedding(50, 16)
        with L.no_grad():
            emb.weight.copy_(L.tensor(table))
        hooked = []
        emb.weight.register_hook(lambda g, hooked=hooked: hooked.append(g.detach().numpy().copy()))
        t = L.tensor(tokens)
        loss = 0
        for i in range(12):
            loss = loss + (emb(t[i]) @ emb.weight.T).logsumexp(1).sum()   # tied: the table is the output layer
        loss.backward()
        grads.append(emb.weight.grad.numpy().copy())
        seen.append(hooked)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-5)
    assert len(seen[0]) == len(seen[1]) == 1
    np.testing.assert_allclose(seen[0][0], seen[1][0], rtol=1e-4, atol=1e-5)
