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


def test_embedding_from_pretrained_and_weight_share_memory():
    """GloVe-style programs fill OOV rows of the matrix after building the layer; torch's layer
    is a Parameter of the given tensor, so it sees them, and training writes into it."""
    for lib in (torch, ts):
        vectors = np.ones((4, 3), np.float32)
        emb = lib.nn.Embedding.from_pretrained(lib.from_numpy(vectors), freeze=True)
        vectors[1] = 5.0
        np.testing.assert_array_equal(emb(lib.tensor([1])).detach().numpy(), [[5.0, 5.0, 5.0]])
        assert not emb.weight.requires_grad
        w = lib.ones(3, 2)
        emb = lib.nn.Embedding(3, 2, _weight=w, padding_idx=0)
        w.add_(1.0)
        np.testing.assert_array_equal(emb.weight.detach().numpy(), np.full((3, 2), 2.0))   # no zeroed row
        table = lib.zeros(5, 2)
        emb = lib.nn.Embedding.from_pretrained(table, freeze=False)
        opt = lib.optim.SGD(emb.parameters(), lr=1.0)
        emb(lib.tensor([2, 2])).sum().backward()
        opt.step()
        np.testing.assert_array_equal(table.numpy()[2], [-2.0, -2.0])
        with pytest.raises((ValueError, AssertionError)):
            lib.nn.Embedding(3, 3, _weight=lib.ones(3, 2))
