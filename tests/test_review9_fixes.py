"""Found by a review of the day's diff against torch 2.13: xlogy's gradient where other <= 0,
zero-size batches through the 2-D pools and interpolate, views in long chains after in-place
writes stay linear at backward, norm(p='nuc'), copy_ leaves a zero gradient on what it
overwrote."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def test_xlogy_gradients_everywhere_as_torchs():
    a = [0.0, 0.0, 0.0, 1.0, 2.0, 0.0]
    b = [2.0, -1.0, 0.0, -1.0, 0.0, float("nan")]
    got = []
    for L in (ts, torch):
        x = L.tensor(a, dtype=L.float64, requires_grad=True)
        y = L.tensor(b, dtype=L.float64, requires_grad=True)
        (L.xlogy(x, y).sum() + L.special.xlogy(x, y).sum()).backward()
        got.append((x.grad.numpy(), y.grad.numpy()))
    for p, q in zip(*got):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "nearest-exact", "area"])
def test_zero_batch_through_pools_and_interpolate(mode):
    F = ts.nn.functional
    x = ts.zeros(0, 3, 4, 4, requires_grad=True)
    y = F.interpolate(x, scale_factor=2, mode=mode) if mode != "area" else F.interpolate(x, size=(2, 2), mode=mode)
    (y.sum() + F.max_pool2d(x, 2).sum() + F.adaptive_max_pool2d(x, 2).sum()).backward()
    assert x.grad.shape == (0, 3, 4, 4)
    assert F.max_pool2d(ts.zeros(0, 3, 4, 4), 2, return_indices=True)[1].shape == (0, 3, 2, 2)


def test_long_view_chain_with_in_place_writes_is_walked_once(monkeypatch):
    from tinygrad_seq import graph_walk
    calls = [0]
    real = graph_walk._parent_state

    def counted(p, clock):
        calls[0] += 1
        return real(p, clock)
    monkeypatch.setattr(graph_walk, "_parent_state", counted)

    def run(T):
        calls[0] = 0
        x = ts.randn(T + 1, 4, requires_grad=True) * 1
        x.mul_(2)   # a rebased base at the top of the chain, before any view of it
        heads = []
        for _ in range(T):
            heads.append(x[0])
            x = x[1:]
        h = ts.zeros(4)
        for t in range(T):
            h = (h + heads[t]) * 1
            h.relu_()
        h.sum().backward()
        return calls[0]
    assert run(400) <= 6 * max(run(100), 1)   # linear (4x), not quadratic (16x)


def test_nuclear_norm_and_copy_over_a_graph_tensor():
    a = np.random.RandomState(0).randn(3, 4)
    assert abs(ts.tensor(a).norm(p="nuc").item() - torch.tensor(a).norm(p="nuc").item()) < 1e-12
    grads = []
    for L in (ts, torch):
        x = L.ones(3, requires_grad=True)
        y = L.full((3,), 2.0, requires_grad=True)
        z = x * 1
        z.copy_(y)
        (z * 3).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for p, q in zip(*grads):
        np.testing.assert_array_equal(p, q)


def test_older_linalg_names_as_torchs():
    import warnings
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    b = np.array([[1.0], [2.0]])
    spd = np.array([[4.0, 2.0], [2.0, 3.0]])
    got = []
    for L in (ts, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            A, B = L.tensor(a), L.tensor(b)
            got.append([L.triangular_solve(B, A).solution.numpy(),
                        L.triangular_solve(B, A, transpose=True).solution.numpy(),
                        L.triangular_solve(B, A.T, upper=False).cloned_coefficient.numpy(),
                        B.triangular_solve(A).solution.numpy(),
                        L.chain_matmul(A, A, A).numpy(), L.tensor(spd).cholesky().numpy()])
    for p, q in zip(*got):
        np.testing.assert_allclose(p, q, rtol=1e-12)
