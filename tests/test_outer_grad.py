"""Deferred weight gradients (tinygrad_seq/outer_grad.py): a weight used at every step of a
decoder (a Linear, the LSTM's one-step calls) gets its gradient as one product over all steps at
the end of backward. Checked against torch 2.13 in float64: the weights' and inputs' gradients,
with the weight also used by other ops (a tied weight, a plain matmul), hooks on it, and the
LSTM's one-step path on one thread and split over two."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn, outer_grad
from tinygrad_seq import backend_cpu


def test_outer_grad_sums_its_factors():
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal((3, 4)), rng.standard_normal((3, 5))) for _ in range(3)]
    acc = None
    for left, right in pairs:
        acc = outer_grad.add(backend_cpu, acc, outer_grad.OuterGrad(left, right))
    want = sum(left.T @ right for left, right in pairs)
    assert type(acc) is outer_grad.OuterGrad and acc.shape == (4, 5)
    np.testing.assert_allclose(acc.materialize(backend_cpu), want, rtol=1e-12)
    dense = rng.standard_normal((4, 5))  # mixed with a dense gradient: an array
    mixed = outer_grad.add(backend_cpu, dense, outer_grad.OuterGrad(*pairs[0]))
    np.testing.assert_allclose(mixed, dense + pairs[0][0].T @ pairs[0][1], rtol=1e-12)


def _decoder(lib, params, x_steps, tied):
    """h_t = tanh(W x_t + U h_{t-1}) for 5 steps, read out by the same W (tied) or a matmul on it."""
    W, U, V = params
    h = lib.zeros(x_steps[0].shape[0], U.shape[0], dtype=lib.float64)
    total = 0
    for x in x_steps:
        h = lib.tanh(lib.nn.functional.linear(x, W) + lib.nn.functional.linear(h, U))
        total = total + (lib.nn.functional.linear(h, V) ** 2).sum()
    if tied:
        total = total + (x_steps[0] @ W.t()).sum()     # W through a plain matmul too
    return total


@pytest.mark.parametrize("tied", [False, True])
def test_a_weight_used_at_every_step_matches_torch(tied):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((6, 6)) * 0.4, rng.standard_normal((6, 6)) * 0.4, rng.standard_normal((3, 6))]
    xs = [rng.standard_normal((4, 6)) for _ in range(5)]
    grads = []
    for lib in (ts, torch):
        params = [lib.tensor(a, requires_grad=True) for a in arrays]
        x_steps = [lib.tensor(x, requires_grad=True) for x in xs]
        _decoder(lib, params, x_steps, tied).backward()
        grads.append([p.grad.numpy() for p in params] + [x.grad.numpy() for x in x_steps])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_a_weight_used_at_five_steps_is_multiplied_once():
    # the point of the deferral: W's five per-step products become one over 5 x 4 rows
    sizes = []
    materialize = outer_grad.OuterGrad.materialize

    def spy(self, b):
        sizes.append(len(self.lefts))
        return materialize(self, b)

    rng = np.random.default_rng(5)
    params = [ts.tensor(rng.standard_normal(s) * 0.4, requires_grad=True) for s in ((6, 6), (6, 6), (3, 6))]
    xs = [ts.tensor(rng.standard_normal((4, 6))) for _ in range(5)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outer_grad.OuterGrad, "materialize", spy)
        _decoder(ts, params, xs, tied=False).backward()
    assert sorted(sizes) == [5, 5, 5]   # W, U and V: one product each, of five steps' factors


def test_hooks_on_a_deferred_weight_see_its_whole_gradient():
    rng = np.random.default_rng(2)
    w = ts.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    seen, after = [], []
    w.register_hook(lambda g: seen.append(g.numpy().copy()))
    w.register_post_accumulate_grad_hook(lambda p: after.append(p.grad.numpy().copy()))
    xs = [ts.tensor(rng.standard_normal((2, 4))) for _ in range(3)]
    loss = sum(ts.nn.functional.linear(x, w).sum() for x in xs)
    loss.backward()
    want = sum(np.ones((2, 3)).T @ x.numpy() for x in xs)
    assert len(seen) == 1 and len(after) == 1
    np.testing.assert_allclose(seen[0], want, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-12)
    loss = sum(ts.nn.functional.linear(x, w).sum() for x in xs)  # a second backward accumulates
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * want, rtol=1e-12)


def _lstm_steps(lib, layer, xs, lengths=None):
    """An LSTM layer called one step at a time (a decoder), the loss summed over the steps."""
    state, total = None, 0
    for x in xs:
        out, state = layer(x[None], state) if state is not None else layer(x[None])
        total = total + (out * out).sum()
    return total


def _lstm_grads_vs_torch():
    rng = np.random.default_rng(3)
    I, H, B = 5, 8, 4
    ours = nn.LSTM(I, H, dtype=np.float64)
    theirs = torch.nn.LSTM(I, H).double()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    xs = rng.standard_normal((6, B, I))
    grads = []
    for lib, layer in ((ts, ours), (torch, theirs)):
        x_steps = [lib.tensor(x, requires_grad=True) for x in xs]
        _lstm_steps(lib, layer, x_steps).backward()
        grads.append([p.grad.numpy() for p in layer.parameters()] + [x.grad.numpy() for x in x_steps])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_lstm_one_step_calls_defer_their_weight_gradients():
    from tinygrad_seq.kernels import lstm_cpu
    calls = []
    original = lstm_cpu.lstm_backward

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weight_factors", False))
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lstm_cpu, "lstm_backward", spy)
        _lstm_grads_vs_torch()
    assert calls == [True] * 6


def test_lstm_one_step_units_split_defers_on_two_threads(monkeypatch, request):
    # the one-step call's gate units split over two threads (weight_grads_cpu.one_step_gradients without
    # the weights' products), forced on these tiny shapes
    import numba
    from threads_helpers import ChunkSpy, rerun_with_two_threads
    from tinygrad_seq.kernels import lstm_cpu, tuning

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "ONE_STEP_UNITS_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch, lstm_cpu)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        _lstm_grads_vs_torch()
    finally:
        numba.set_num_threads(before)
    assert spy.most == 2
