"""A matmul's gradient with a short contraction kept as its factors (outer_grad.BatchedOuter)
until it is final, and node output gradients summed in place (outer_grad.SlotSums): attention's
keys, read by scores = keys @ q and context = weights @ keys at every decoder step, get their
gradient as one batched product over all steps. Checked against torch 2.13 in float64, with hooks,
retain_grad, autograd.grad, create_graph, 2-d products into a leaf, and gradients a hook keeps."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import backend_cpu, outer_grad


def test_product_keeps_a_short_contraction_factored():
    rng = np.random.default_rng(0)
    left, right = rng.standard_normal((2, 7, 1)), rng.standard_normal((2, 1, 9))
    kept = outer_grad.product(backend_cpu, left, right)
    assert type(kept) is outer_grad.BatchedOuter and kept.shape == (2, 7, 9)
    # a long contraction, mixed dtypes, or batch dims that broadcast: computed at once
    assert type(outer_grad.product(backend_cpu, rng.standard_normal((2, 7, 8)), rng.standard_normal((2, 8, 9)))) \
        is np.ndarray
    assert type(outer_grad.product(backend_cpu, left.astype(np.float32), right)) is np.ndarray
    assert type(outer_grad.product(backend_cpu, left, rng.standard_normal((1, 1, 9)))) is np.ndarray
    terms = [(rng.standard_normal((2, 7, k)), rng.standard_normal((2, k, 9))) for k in (1, 2, 1)]
    acc = None
    for lt, rt in terms:
        acc = outer_grad.add(backend_cpu, acc, outer_grad.BatchedOuter(lt, rt))
    assert type(acc) is outer_grad.BatchedOuter and len(acc.lefts) == 3
    np.testing.assert_allclose(acc.materialize(backend_cpu), sum(lt @ rt for lt, rt in terms), rtol=1e-12)
    # with a dense gradient, or the unbatched OuterGrad of a Linear: an array
    dense = rng.standard_normal((2, 7, 9))
    np.testing.assert_allclose(outer_grad.add(backend_cpu, dense, outer_grad.BatchedOuter(left, right)),
                               dense + left @ right, rtol=1e-12)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    c, d = rng.standard_normal((4, 1)), rng.standard_normal((1, 5))
    mixed = outer_grad.add(backend_cpu, outer_grad.OuterGrad(a, b), outer_grad.BatchedOuter(c, d))
    np.testing.assert_allclose(mixed, a.T @ b + c @ d, rtol=1e-12)


def _luong_decoder(lib, enc_out, h0, W, steps, keys_hook=None, retain=False):
    """Dot attention over keys = enc_out^T at every step (scores and context both read keys)."""
    keys = enc_out.transpose(0, 1)                          # [B, S, H], a non-leaf view
    if retain:
        keys.retain_grad()
    if keys_hook is not None:
        keys.register_hook(keys_hook)
    h, total = h0, 0
    for _ in range(steps):
        scores = (keys @ h.unsqueeze(2)).squeeze(2)         # [B, S]
        a = lib.softmax(scores, dim=1)
        context = (a.unsqueeze(1) @ keys).squeeze(1)        # [B, H]
        h = lib.tanh(lib.cat([context, h], dim=1) @ W)      # W [2H, H]
        total = total + (h ** 2).sum()
    return total, keys


def _inputs(lib, seed=0, S=6, B=3, H=5):
    rng = np.random.default_rng(seed)
    arrays = rng.standard_normal((S, B, H)) * 0.5, rng.standard_normal((B, H)) * 0.5, rng.standard_normal((2 * H, H)) * 0.3
    return [lib.tensor(x, requires_grad=True) for x in arrays]


@pytest.mark.parametrize("retain", [False, True])
def test_attention_keys_gradient_matches_torch(retain):
    seen = {}
    got = {}
    for lib in (ts, torch):
        enc, h0, W = _inputs(lib)
        def hook(g, name=lib.__name__):
            seen[name] = g.detach().numpy().copy()
        total, keys = _luong_decoder(lib, enc, h0, W, steps=7, keys_hook=hook, retain=retain)
        total.backward()
        got[lib.__name__] = [enc.grad.numpy(), h0.grad.numpy(), W.grad.numpy()] + ([keys.grad.numpy()] if retain else [])
    for a, b in zip(got["tinygrad_seq"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(seen["tinygrad_seq"], seen["torch"], rtol=1e-10, atol=1e-12)


def test_attention_keys_gradient_is_one_product(monkeypatch):
    # 7 steps x 2 products read keys: one materialization over a contraction of 14 (and W [2H, H],
    # read by a 2-d product at each step with 3 rows, one over 7 x 3)
    made = []
    real = outer_grad.BatchedOuter.materialize

    def counting(self, b):
        made.append(sum(x.shape[-1] for x in self.lefts))
        return real(self, b)

    monkeypatch.setattr(outer_grad.BatchedOuter, "materialize", counting)
    enc, h0, W = _inputs(ts, S=30, H=16)   # (factors under FOLD_AT products: no fold)
    total, _ = _luong_decoder(ts, enc, h0, W, steps=7)
    total.backward()
    assert sorted(made) == [14, 21]


def test_autograd_grad_and_create_graph_through_attention_match_torch():
    got = {}
    for lib in (ts, torch):
        enc, h0, W = _inputs(lib, seed=3)
        total, keys = _luong_decoder(lib, enc, h0, W, steps=4)
        g_keys, g_w = lib.autograd.grad(total, (keys, W), create_graph=True)
        (g_keys ** 2).sum().backward()   # a second derivative through the first one
        got[lib.__name__] = [g_keys.detach().numpy(), g_w.detach().numpy(), enc.grad.numpy(), W.grad.numpy()]
    for a, b in zip(got["tinygrad_seq"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_two_d_products_into_a_leaf_and_a_linear_on_it_match_torch():
    # h @ W at every step (a 2-d short contraction: rows 2 < W's 6 x 6) and W read by a Linear
    # too: the BatchedOuter and the Linear's OuterGrad meet in W's accumulator
    rng = np.random.default_rng(5)
    arrays = rng.standard_normal((6, 6)) * 0.4, rng.standard_normal((2, 6))
    got = {}
    for lib in (ts, torch):
        W, x = (lib.tensor(a, requires_grad=True) for a in arrays)
        h, total = x, 0
        for _ in range(5):
            h = lib.tanh(h @ W)
            total = total + lib.nn.functional.linear(h, W).sum()
        total.backward()
        got[lib.__name__] = [W.grad.numpy(), x.grad.numpy()]
    for a, b in zip(got["tinygrad_seq"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sums_in_place_never_write_a_gradient_someone_holds():
    # x (a non-leaf) gets five gradients; Add's backward hands the same array to both operands,
    # and a hook keeps the gradient it saw: the in-place sums write only arrays they made
    kept = []
    got = {}
    for lib in (ts, torch):
        w = lib.tensor(np.arange(1.0, 5.0), requires_grad=True)
        x = w * 2
        y = x * 1
        y.register_hook(lambda g: kept.append(g.detach().numpy().copy()) or None)
        z = (x + x) + (x * 3) + y + y.exp()
        held = {}
        z.register_hook(lambda g: held.setdefault("z", g))
        z.backward(lib.tensor(np.array([1.0, -1.0, 0.5, 2.0])))
        got[lib.__name__] = [w.grad.numpy(), held["z"].detach().numpy()]
    for a, b in zip(got["tinygrad_seq"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(kept[0], kept[1], rtol=1e-12)


def _optimizer_in_backward(lib):
    # torch's "optimizer step in backward": each parameter updated in place by its own
    # post-accumulate-grad hook during the sweep; a gradient factored from a parameter's array
    # must be multiplied out before that parameter's hook writes it
    rng = np.random.default_rng(0)
    lib.manual_seed(0)   # (the Linear's initial weights: torch's draws)
    P = lib.nn.Parameter(lib.tensor(rng.standard_normal((1, 8))))          # a learned query row
    W = lib.nn.Parameter(lib.tensor(rng.standard_normal((8, 8))))
    Q = lib.nn.Parameter(lib.tensor(rng.standard_normal((2, 1, 6))))       # a batched query
    K = lib.nn.Parameter(lib.tensor(rng.standard_normal((2, 6, 7))))
    lin = lib.nn.Linear(8, 3, dtype=lib.float64)
    q = lib.nn.Parameter(lib.tensor(rng.standard_normal((1, 1, 6))))       # through a view (expand)
    enc = lib.tensor(rng.standard_normal((2, 7, 6)), requires_grad=True)

    def zero_(p):
        with lib.no_grad():
            p.mul_(0)
    for p in (P, Q, q):
        p.register_post_accumulate_grad_hook(zero_)
    keys = enc * 1.0
    scores = q.expand(2, 1, 6) @ keys.transpose(1, 2)
    loss = (P @ W).sum() + (Q @ K).sum() + lin(P).pow(2).sum() + (lib.softmax(scores, -1) @ keys).pow(2).sum()
    loss.backward()
    return [W.grad.numpy(), K.grad.numpy(), lin.weight.grad.numpy(), enc.grad.numpy()]


def test_factors_are_multiplied_before_a_hook_writes_the_parameter_they_read():
    for a, b in zip(_optimizer_in_backward(ts), _optimizer_in_backward(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_factors_held_past_four_products_are_folded(monkeypatch):
    # keys read at 300 steps by a contraction of 1: the factors are multiplied into a running sum
    # whenever they outgrow four times the product (and 2^20 elements, lowered here), and the
    # gradient stays torch's
    folds = []
    monkeypatch.setattr(outer_grad, "FOLD_MIN", 0)   # (a small case: the floor of 2^20 elements off)
    real = outer_grad._Factors.fold
    monkeypatch.setattr(outer_grad._Factors, "fold", lambda self, b: folds.append(self.held) or real(self, b))
    got = {}
    for lib in (ts, torch):
        rng = np.random.default_rng(2)
        keys = lib.tensor(rng.standard_normal((2, 6, 5)), requires_grad=True)
        total = 0
        for t in range(300):
            q = lib.tensor(rng.standard_normal((2, 5, 1)))
            total = total + (keys @ q).tanh().sum()
        total.backward()
        got[lib.__name__] = keys.grad.numpy()
    np.testing.assert_allclose(got["tinygrad_seq"], got["torch"], rtol=1e-10)
    assert folds and max(folds) <= outer_grad.FOLD_AT * 2 * 6 * 5 + 2 * (6 + 5)
