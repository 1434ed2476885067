"""Fixes from program rounds 34a (recurrent RL: REINFORCE, A2C / A3C, PPO, DRQN, SAC, RSSM)
and 34b (training-loop infrastructure: checkpoints, EMA, parametrizations, schedulers, gradient
penalties, hooks) beside torch 2.13."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

LIBS = (ts, torch)


def _penalty_run(L, module, hook_kind, hook):
    L.manual_seed(0)
    m = {"linear": lambda: L.nn.Linear(3, 1), "gru": lambda: L.nn.GRU(3, 2, batch_first=True)}[module]()
    getattr(m, hook_kind)(hook)
    x = L.randn(4, 5, 3, requires_grad=True) if module == "gru" else L.randn(4, 3, requires_grad=True)
    out = m(x)
    y = (out[0] if isinstance(out, tuple) else out).sum()
    g, = L.autograd.grad(y, x, create_graph=True)
    ((g ** 2).sum() + sum((p ** 2).sum() for p in m.parameters())).backward()
    return [None if t.grad is None else t.grad.numpy() for t in (*m.parameters(), x)]   # (a Linear's g has no x)


HOOKS = {
    "full backward hook (no change)": ("register_full_backward_hook", lambda L: (lambda m, gi, go: None)),
    "full backward hook doubling grad_input": ("register_full_backward_hook",
                                               lambda L: (lambda m, gi, go: tuple(None if g is None else g * 2 for g in gi))),
    "backward pre-hook halving grad_output": ("register_full_backward_pre_hook",
                                              lambda L: (lambda m, go: tuple(None if g is None else g * 0.5 for g in go))),
}


@pytest.mark.parametrize("module", ["linear", "gru"])
@pytest.mark.parametrize("hook", list(HOOKS))
def test_gradient_penalty_through_a_module_with_backward_hooks(module, hook):
    # WGAN-GP / R1 penalties on a model someone hooked for logging: double backward through the hook
    # node raised "double backward through _HookIdentity is not supported"
    kind, make = HOOKS[hook]
    got, want = (_penalty_run(L, module, kind, make(L)) for L in LIBS)
    assert [g is None for g in got] == [w is None for w in want]
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


def _scaler_run(L):
    L.manual_seed(0)
    m, head = L.nn.LSTM(3, 4), L.nn.Linear(4, 1)
    params = list(m.parameters()) + list(head.parameters())
    opt = L.optim.Adam(params, lr=0.01)
    scaler = L.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
    log = []
    for step in range(6):
        loss = head(m(L.randn(5, 2, 3))[0]).pow(2).mean()
        if step == 3:   # an overflow: the step is skipped and the scale backs off
            loss = loss * float("inf")
        scaled = scaler.scale(loss)
        log.append(scaled.item())
        opt.zero_grad()
        scaled.backward()
        scaler.unscale_(opt)
        L.nn.utils.clip_grad_norm_(params, 1.0)
        scaler.step(opt)
        scaler.update()
        log.append(scaler.get_scale())
    return log, scaler.state_dict(), [p.detach().numpy() for p in params]


def test_grad_scaler_on_cpu_scales_backs_off_and_grows_as_torchs():
    # GradScaler("cpu") kept scale 1: logged scaled losses, get_scale() and its state_dict differed
    (got, got_state, got_params), (want, want_state, want_params) = (_scaler_run(L) for L in LIBS)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got_state == want_state
    for g, w in zip(got_params, want_params):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


def test_grad_scaler_state_round_trips_and_new_scale():
    for L in LIBS:
        s = L.amp.GradScaler("cpu", init_scale=256.0)
        assert s.get_scale() == 256.0 and s.state_dict()["scale"] == 256.0
        s.scale(L.ones(()))
        s.update(new_scale=64.0)
        t = L.amp.GradScaler("cpu")
        t.load_state_dict(s.state_dict())
        assert t.get_scale() == 64.0 and float(t.scale(L.ones(()))) == 64.0
        with pytest.raises(AssertionError, match="_scale is None"):
            L.amp.GradScaler("cpu").unscale_(L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=0.1))


def test_loading_bytes_that_are_no_checkpoint_is_an_unpickling_error_as_torchs():
    import io
    import pickle
    for L in LIBS:
        with pytest.raises(pickle.UnpicklingError):
            L.load(io.BytesIO(b"garbage data here"))


def _hook_orders(L):
    L.manual_seed(0)
    cell, head, calls = L.nn.RNNCell(2, 2), L.nn.Linear(2, 3), []
    head.register_full_backward_hook(lambda m, gi, go: calls.append(round(go[0][0, 0].item(), 4)))
    h, log_probs = L.zeros(1, 2), []
    for t in range(3):   # an A3C-style unroll: one head call per step, the loss summed backwards
        h = cell(L.ones(1, 2) * t, h)
        log_probs.append(L.nn.functional.log_softmax(head(h), -1))
    loss = 0
    for t in reversed(range(3)):
        loss = loss - log_probs[t][0, 0] * (t + 1)
    loss.backward()
    x, order = L.ones(2, requires_grad=True), []
    a, b = x * 2, x * 3
    a.register_hook(lambda g: order.append("a"))
    b.register_hook(lambda g: order.append("b"))
    (b * 1 + a * 1).sum().backward()
    return calls, order


def test_hooks_fire_in_torchs_order_the_last_made_node_first():
    # the sweep ran nodes depth first: a hook recording the last grad_output saw another step's
    assert _hook_orders(ts) == _hook_orders(torch)


KEYWORD_CALLS = {
    "tensor_split(input=, sections=)": lambda L: L.tensor_split(input=L.arange(6), sections=2),
    "tensor_split(indices=)": lambda L: L.arange(7).tensor_split(indices=[1, 4]),
    "tensor_split(tensor, dim)": lambda L: L.arange(6).reshape(2, 3).tensor_split(L.tensor([1]), 1),
    "tensor_split(sections=, dim=)": lambda L: L.arange(6).reshape(2, 3).tensor_split(sections=3, dim=1),
    "tensor_split(indices_or_sections=)": lambda L: L.arange(6).tensor_split(indices_or_sections=2),
    "one_hot(tensor=)": lambda L: L.nn.functional.one_hot(tensor=L.tensor([1, 0]), num_classes=3),
    "one_hot(x, num_classes=)": lambda L: L.nn.functional.one_hot(L.tensor([1, 0]), num_classes=3),
    "random_(from=) alone": lambda L: L.zeros(3).random_(**{"from": 2}),
    "random_(from=, to=)": lambda L: (L.manual_seed(0), L.zeros(6).random_(**{"from": 2, "to": 5}))[1],
}


@pytest.mark.parametrize("call", list(KEYWORD_CALLS))
def test_keywords_accepted_and_refused_as_torchs(call):
    def run(L):
        try:
            out = KEYWORD_CALLS[call](L)
        except TypeError:
            return "TypeError"
        return [o.tolist() for o in out] if isinstance(out, tuple) else out.tolist()
    assert run(ts) == run(torch)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_one_node_values_gradients_layout_as_torchs(batch_first, side):
    # pad_sequence was a pad per sequence and a stack (2000 sequences: 4x torch's time); one node now
    seen = []
    for L in LIBS:
        L.manual_seed(0)
        seqs = [L.randn(n, 2, 3, requires_grad=True) for n in (4, 1, 6)]
        p = L.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first, padding_value=-1.5, padding_side=side)
        (p * L.arange(p.numel(), dtype=L.float32).reshape(p.shape)).sum().backward()
        L.manual_seed(1)
        mask = L.nn.functional.dropout(L.ones_like(p), 0.5)
        seen.append((p.detach().numpy(), [s.grad.numpy() for s in seqs], p.stride(), mask.numpy()))
    (got, got_grads, got_strides, got_mask), (want, want_grads, want_strides, want_mask) = seen
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for g, w in zip(got_grads, want_grads):
        np.testing.assert_array_equal(g, w)
    assert got_strides == want_strides
    np.testing.assert_array_equal(got_mask, want_mask)


def test_multinomial_without_replacement_orders_zero_weights_as_torchs_topk():
    # the zero-weight categories came in ascending order (a stable argsort); torch's topk order now
    for seed, weights, n in ((1, [0., 1., 0., 0., 0., 2., 0.], 6), (2, [[0., 1., 0., 0., 0., 2., 0.], [1.] * 7], 7)):
        got, want = [], []
        for L, into in ((ts, got), (torch, want)):
            L.manual_seed(seed)
            into.append(L.multinomial(L.tensor(weights), n).tolist())
        assert got == want


def test_dropout_of_an_expanded_tensor_draws_torchs_mask():
    # a learned h0 expanded over the batch, then dropout: the mask was drawn column-major
    masks = []
    for L in LIBS:
        L.manual_seed(0)
        h0 = L.nn.Parameter(L.ones(1, 1, 4))
        masks.append((L.nn.Dropout(0.5)(h0.expand(1, 3, 4)).tolist(),
                      L.nn.functional.alpha_dropout(L.ones(3, 1).expand(3, 4), 0.5, True).tolist()))
    assert masks[0][0] == masks[1][0]
    np.testing.assert_allclose(masks[0][1], masks[1][1], rtol=1e-6)


def test_multinomial_errors_are_torchs():
    for weights in ([1.0, -1.0], [0.0, 0.0], [float("nan"), 1.0]):
        messages = []
        for L in LIBS:
            with pytest.raises(RuntimeError) as caught:
                L.multinomial(L.tensor(weights), 1)
            messages.append(str(caught.value))
        assert messages[0] == messages[1]


def _xlog_grads(L):
    out = []
    x, y = L.tensor([0.3, 0.7, 0.0, 0.2], requires_grad=True), L.tensor([0.0, 0.5, 0.0, -1.0])
    L.where(y > 0, L.xlogy(x, y), L.zeros(4)).sum().backward()   # a masked entropy term
    out.append(x.grad.tolist())
    x = L.tensor([0.3, 0.7, 0.0, 0.2], requires_grad=True)
    (L.special.xlog1py(x, L.tensor([-1.0, 3.0, -1.0, -2.0])) * L.tensor([0.0, 1.0, 1.0, 0.0])).sum().backward()
    out.append(x.grad.tolist())
    x = L.tensor([0.3, 0.7], requires_grad=True)
    g, = L.autograd.grad((L.xlogy(x, L.tensor([0.0, 0.5])) * L.tensor([0.0, 1.0])).sum(), x, create_graph=True)
    out.append(g.tolist())
    return out


def test_xlogy_gradient_is_zero_where_the_incoming_gradient_is():
    # torch's d/dx is xlogy(grad, y): g * log(0) was 0 * -inf = nan where the term was masked out
    for got, want in zip(_xlog_grads(ts), _xlog_grads(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def _leapfrog_rollout(L, steps):
    # a symplectic / Hamiltonian rollout: autograd.grad with create_graph=True at every step
    w, q = L.tensor(0.5, requires_grad=True), L.ones(4, requires_grad=True)
    hooked = []
    for _ in range(steps):
        energy = (w * q.sin()).sum()
        g, = L.autograd.grad(energy, q, create_graph=True)
        q = q - 0.01 * g
    q.register_hook(lambda grad: hooked.append(float(grad.sum())))
    q.sum().backward()
    return float(w.grad), q.detach().numpy(), hooked


def test_grad_with_inputs_runs_only_the_nodes_on_a_path_to_them():
    # every call ran the whole history behind the output (800 steps: 92 s against torch's 0.05)
    (wg, q, hooked), (twg, tq, thooked) = _leapfrog_rollout(ts, 60), _leapfrog_rollout(torch, 60)
    np.testing.assert_allclose(wg, twg, rtol=1e-5)
    np.testing.assert_allclose(q, tq, rtol=1e-6)
    assert hooked == thooked


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstsq_drivers_values_ranks_residual_shapes_and_gradients_as_torchs(driver, dtype):
    # every driver was the pseudo-inverse; a batched vector b's residuals lost their last dim of 1
    seen = []
    for L in LIBS:
        L.manual_seed(0)
        A = L.randn(2, 6, 4, dtype=getattr(L, dtype), requires_grad=True)
        b = L.randn(2, 6, dtype=getattr(L, dtype))
        r = L.linalg.lstsq(A, b, driver=driver)
        r.solution.sum().backward()
        seen.append((r.solution.detach().numpy(), r.rank.tolist(), r.residuals.detach().numpy(), A.grad.numpy()))
    (x, rank, res, grad), (tx, trank, tres, tgrad) = seen
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(x, tx, rtol=tol, atol=tol)
    assert rank == trank and res.shape == tres.shape
    np.testing.assert_allclose(res, tres, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, tgrad, rtol=1e-3 if dtype == "float32" else 1e-8, atol=1e-5)



MESSAGE_CASES = {
    "grad of an unused input": lambda L: L.autograd.grad((L.ones(2, requires_grad=True) * 2).sum(),
                                                         [L.ones(2, requires_grad=True)]),
    "LSTM float32 input, float64 weights": lambda L: L.nn.LSTM(3, 4).double()(L.randn(5, 2, 3)),
    "GRU float32 input, float64 weights": lambda L: L.nn.GRU(3, 4).double()(L.randn(5, 2, 3)),
    "imag of a real tensor": lambda L: L.imag(L.ones(2)),
}


@pytest.mark.parametrize("case", list(MESSAGE_CASES))
def test_errors_read_as_torchs(case):
    texts = []
    for L in LIBS:
        with pytest.raises((RuntimeError, ValueError)) as caught:
            MESSAGE_CASES[case](L)
        texts.append(str(caught.value))
    assert texts[0] == texts[1]


def test_torch_real_of_a_real_tensor_is_the_tensor():
    x = ts.ones(2)
    assert ts.real(x) is x


def _cdist_cases(L):
    out = []
    x = (1000 + L.linspace(0, 1, 30)).unsqueeze(-1)   # 30 rows: torch's matrix-product path
    out.append(L.cdist(x, x)[0, :6].numpy())
    t = L.linspace(0, 6, 60).unsqueeze(-1)
    d = L.cdist(t, t)
    out.append((d - d.T).abs().max().reshape(1).numpy())   # not exactly symmetric, as torch's
    out.append(L.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")[0, :6].numpy())
    L.manual_seed(0)
    a = L.randn(2, 30, 5, dtype=L.float64, requires_grad=True)
    b = L.randn(1, 7, 5, dtype=L.float64, requires_grad=True)
    d = L.cdist(a, b)
    (d * L.arange(d.numel(), dtype=L.float64).reshape(d.shape)).sum().backward()
    out += [d.detach().numpy(), a.grad.numpy(), b.grad.numpy()]
    return out


def test_cdist_takes_torchs_matrix_product_path_past_25_rows():
    # the distances were always computed directly: torch's product path cancels (0.25 where 0.034)
    for got, want in zip(_cdist_cases(ts), _cdist_cases(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


# ------------------------------------------------------------------ the day's review
REVIEW_CASES = {
    "python bool index of a transpose": lambda L: L.arange(12.).reshape(3, 4).t()[True],
    "index array then a python bool": lambda L: L.arange(12.).reshape(3, 4).t()[L.tensor([1, 2]), True],
    "lstsq broadcasts A's batch": lambda L: L.linalg.lstsq(L.ones(1, 5, 3, dtype=L.float64) + L.eye(5, 3, dtype=L.float64),
                                                           L.ones(2, 5, 4, dtype=L.float64)).solution,
    "gamma rsample gradient at tiny concentrations": lambda L: _gamma_grad(L),
    "hooks on a create_graph input": lambda L: _hooked_input_grad(L),
    "double backward through pad_sequence": lambda L: _pad_double(L),
    "double backward through cdist past 25 rows": lambda L: _cdist_double(L),
}


def _gamma_grad(L):
    L.manual_seed(0)
    a = L.tensor([1e-6, 5e-6, 0.01], requires_grad=True, dtype=L.float64)
    L.distributions.Gamma(a, 1.0).rsample().sum().backward()
    return a.grad


def _hooked_input_grad(L):
    x = L.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: g * 10)
    return L.autograd.grad((h * h).sum(), h, create_graph=True)[0]


def _pad_double(L):
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    p = L.nn.utils.rnn.pad_sequence([a, L.tensor([4.0], requires_grad=True)])
    g, = L.autograd.grad((p ** 2).sum(), a, create_graph=True)
    return L.autograd.grad((g ** 2).sum(), a)[0]


def _cdist_double(L):
    L.manual_seed(0)
    a = L.randn(2, 30, 3, requires_grad=True, dtype=L.float64)
    b = L.randn(1, 27, 3, requires_grad=True, dtype=L.float64)
    ga, = L.autograd.grad(L.cdist(a, b).sum(), a, create_graph=True)
    return L.autograd.grad((ga ** 2).sum(), b)[0]


@pytest.mark.parametrize("case", list(REVIEW_CASES))
def test_review_fixes_as_torchs(case):
    got, want = (REVIEW_CASES[case](L) for L in LIBS)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-3 if "gamma" in case else 1e-9,
                               atol=1e-300)


def test_an_ellipsis_for_no_dim_keeps_index_arrays_adjacent_as_torchs():
    shapes = []
    for L in LIBS:
        x = L.zeros(4, 2, 1)
        shapes.append((tuple(x[1:, L.tensor([[0, 1, 0], [1, 1, 0]]), ..., L.tensor([True])].shape),
                       tuple(L.zeros(4, 2, 3, 5)[L.tensor([0, 1]), ..., L.tensor([0, 0])].shape)))
    assert shapes[0] == shapes[1]


def test_grad_with_inputs_differentiates_only_the_last_step(monkeypatch):
    # the pruning itself, counted: without it every node of the 60-step history runs per call
    from tinygrad_seq import higher_order
    calls = []
    real = higher_order.node_backward
    monkeypatch.setattr(higher_order, "node_backward", lambda *a, **k: calls.append(1) or real(*a, **k))
    w, q = ts.tensor(0.5, requires_grad=True), ts.ones(4, requires_grad=True)
    for _ in range(60):
        g, = ts.autograd.grad((w * q.sin()).sum(), q, create_graph=True)
        q = q - 0.01 * g
    calls.clear()
    ts.autograd.grad((w * q.sin()).sum(), q, create_graph=True)
    assert 0 < len(calls) <= 6   # sum, mul, sin: a handful, not the ~300 nodes behind q
