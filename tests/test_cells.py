"""nn.RNNCell, nn.LSTMCell, nn.GRUCell (composed from primitive ops) against torch.nn's cells:
outputs and the gradients of the input, the states and every parameter, batched and unbatched,
float64 tight and float32 loose; gradchecks; shape errors; a 3,000-step unrolled loop."""
import math
import time

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.nn import cells
from module_helpers import compare_module, load_from_torch

I, H, B = 3, 5, 4
rng = np.random.default_rng(1)

CELLS = {
    "rnn_tanh": (lambda **kw: nn.RNNCell(I, H, **kw), lambda **kw: torch.nn.RNNCell(I, H, **kw), {}),
    "rnn_relu": (lambda **kw: nn.RNNCell(I, H, nonlinearity="relu", **kw),
                 lambda **kw: torch.nn.RNNCell(I, H, nonlinearity="relu", **kw), {}),
    "lstm": (lambda **kw: nn.LSTMCell(I, H, **kw), lambda **kw: torch.nn.LSTMCell(I, H, **kw), {}),
    "gru": (lambda **kw: nn.GRUCell(I, H, **kw), lambda **kw: torch.nn.GRUCell(I, H, **kw), {}),
}


def _state(kind, batch):
    shape = (batch, H) if batch else (H,)
    if kind == "lstm":
        return (rng.standard_normal(shape), rng.standard_normal(shape))
    return rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(dtype, kind, batched, with_hx, bias):
    ours_f, torch_f, _ = CELLS[kind]
    x = rng.standard_normal((B, I) if batched else (I,))
    hx = _state(kind, B if batched else 0) if with_hx else None
    compare_module(ours_f(bias=bias), torch_f(bias=bias), [x, hx], dtype)


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_several_steps_matches_torch(kind):
    """The state fed back through a few steps (the gradient flows through every step)."""
    ours_f, torch_f, _ = CELLS[kind]

    def run(cell, xs):
        state = None
        outs = []
        for x in xs:
            state = cell(x, state)
            outs.append(state[0] if isinstance(state, tuple) else state)
        return outs
    xs = tuple(rng.standard_normal((B, I)) for _ in range(4))
    compare_module(ours_f(), torch_f(), [xs], np.float64, call=lambda m, xs: run(m, xs))


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_unrolled_double_backward_matches_torch(kind):
    """Three steps on one cell (its weight gradients summed over the steps, as a decoder's are),
    gradients taken with create_graph and their squared norm differentiated again, beside torch."""
    params = None
    xs, h0, c0 = rng.standard_normal((3, 2, I)), rng.standard_normal((2, H)), rng.standard_normal((2, H))

    def run(lib, make):
        nonlocal params
        cell = make().double()
        if params is None:
            params = [p.detach().numpy().copy() for p in cell.parameters()]
        with lib.no_grad():
            for p, a in zip(cell.parameters(), params):
                p.copy_(lib.tensor(a))
        x, h = lib.tensor(xs, requires_grad=True), lib.tensor(h0, requires_grad=True)
        state = (h, lib.tensor(c0)) if kind == "lstm" else h
        for t in range(3):
            state = cell(x[t], state)
        out = state[0] if kind == "lstm" else state
        grads = lib.autograd.grad((out ** 2).sum(), [x] + list(cell.parameters()), create_graph=True)
        sum((g ** 2).sum() for g in grads).backward()
        return [g.detach().numpy() for g in grads] + [x.grad.numpy(), h.grad.numpy()] + [p.grad.numpy() for p in cell.parameters()]

    ours = run(ts, CELLS[kind][0])
    theirs = run(torch, CELLS[kind][1])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_gradcheck(kind):
    cell = CELLS[kind][0]().double()
    x = ts.Tensor(rng.standard_normal((2, I)), requires_grad=True)
    if kind == "lstm":
        h = ts.Tensor(rng.standard_normal((2, H)), requires_grad=True)
        c = ts.Tensor(rng.standard_normal((2, H)), requires_grad=True)
        fn, inputs = (lambda x, h, c, *ps: cell(x, (h, c))), (x, h, c)
    else:
        h = ts.Tensor(rng.standard_normal((2, H)), requires_grad=True)
        fn, inputs = (lambda x, h, *ps: cell(x, h)), (x, h)
    assert ts.gradcheck(fn, inputs + tuple(cell.parameters()))


@pytest.mark.parametrize("kind", list(CELLS))
def test_parameter_names_shapes_and_init(kind):
    ours_f, torch_f, _ = CELLS[kind]
    ours, theirs = ours_f(), torch_f()
    assert {n: p.shape for n, p in ours.named_parameters()} == \
        {n: tuple(p.shape) for n, p in theirs.named_parameters()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours_f(bias=False).named_parameters()] == ["weight_ih", "weight_hh"]
    big = {"rnn_tanh": nn.RNNCell, "rnn_relu": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](64, 400)
    bound = 1 / math.sqrt(400)
    for name, p in big.named_parameters():
        v = p.numpy()
        assert v.dtype == np.float32
        assert v.min() >= -bound and v.max() <= bound, name
        if v.size > 10000:
            assert abs(v.std() - bound / math.sqrt(3)) < 0.02 * bound, name


def test_plain_functions_match_modules():
    x, h, c = ts.randn(B, I), ts.randn(B, H), ts.randn(B, H)
    r = nn.RNNCell(I, H, nonlinearity="relu")
    np.testing.assert_array_equal(cells.rnn_cell(x, h, r.weight_ih, r.weight_hh, r.bias_ih, r.bias_hh, "relu").numpy(),
                                  r(x, h).numpy())
    lstm = nn.LSTMCell(I, H, bias=False)
    h1, c1 = cells.lstm_cell(x, h, c, lstm.weight_ih, lstm.weight_hh, None, None)
    h2, c2 = lstm(x, (h, c))
    np.testing.assert_array_equal(h1.numpy(), h2.numpy())
    np.testing.assert_array_equal(c1.numpy(), c2.numpy())
    g = nn.GRUCell(I, H)
    np.testing.assert_array_equal(cells.gru_cell(x, h, g.weight_ih, g.weight_hh, g.bias_ih, g.bias_hh).numpy(),
                                  g(x, h).numpy())
    with pytest.raises(ValueError, match="nonlinearity"):
        cells.rnn_cell(x, h, r.weight_ih, r.weight_hh, None, None, "gelu")


def test_gru_formula_reset_after_matmul():
    """n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), written out in numpy."""
    g = nn.GRUCell(I, H).double()
    x, h = rng.standard_normal((B, I)), rng.standard_normal((B, H))
    Wi, Wh, bi, bh = (p.numpy() for p in (g.weight_ih, g.weight_hh, g.bias_ih, g.bias_hh))
    gi, gh = x @ Wi.T + bi, h @ Wh.T + bh
    sig = lambda a: 1 / (1 + np.exp(-a))
    r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    np.testing.assert_allclose(g(ts.Tensor(x), ts.Tensor(h)).numpy(), (1 - z) * n + z * h, atol=1e-13)


def test_shape_and_type_errors():
    cell = nn.LSTMCell(I, H)
    with pytest.raises(ValueError, match=r"got 7 expected 3"):
        cell(ts.randn(B, 7))
    with pytest.raises(ValueError, match=r"1D or 2D, got 3D"):
        cell(ts.randn(2, B, I))
    with pytest.raises(ValueError, match=r"expected hx\[0\] \(h_0\) of shape \(4, 5\).*got \(4, 6\)"):
        cell(ts.randn(B, I), (ts.randn(B, 6), ts.randn(B, H)))
    with pytest.raises(ValueError, match=r"expected hx\[1\] \(c_0\) of shape \(4, 5\).*got \(3, 5\)"):
        cell(ts.randn(B, I), (ts.randn(B, H), ts.randn(3, H)))
    with pytest.raises(ValueError, match=r"expected hidden of shape \(5,\).*got \(1, 5\)"):
        nn.GRUCell(I, H)(ts.randn(I), ts.randn(1, H))
    with pytest.raises(ValueError, match=r"expected hidden of shape \(4, 5\).*got \(5,\)"):
        nn.RNNCell(I, H)(ts.randn(B, I), ts.randn(H))
    with pytest.raises(TypeError, match="dtype"):
        nn.RNNCell(I, H)(ts.randn(B, I).double())
    with pytest.raises(TypeError, match="tuple"):
        cell(ts.randn(B, I), ts.randn(B, H))
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):   # torch constructs it
        nn.RNNCell(I, H, nonlinearity="sigmoid")(ts.randn(B, I))
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRUCell(I, -1)   # 0 is allowed, as torch's


def test_default_state_is_zeros():
    for kind in CELLS:
        cell = CELLS[kind][0]()
        x = ts.randn(B, I)
        zero = (ts.zeros(B, H), ts.zeros(B, H)) if kind == "lstm" else ts.zeros(B, H)
        a, b = cell(x), cell(x, zero)
        for u, v in zip(a if kind == "lstm" else [a], b if kind == "lstm" else [b]):
            np.testing.assert_array_equal(u.numpy(), v.numpy())


@pytest.mark.slow
def test_long_unrolled_lstm_cell_backprop():
    """3,000 steps of an LSTMCell (tens of thousands of graph nodes): backward must not hit a
    recursion limit, and the gradients must agree with torch."""
    T, Hs, Is, Bs = 3000, 3, 2, 2
    ours, theirs = nn.LSTMCell(Is, Hs).double(), torch.nn.LSTMCell(Is, Hs).double()
    load_from_torch(ours, theirs)
    xs = rng.standard_normal((T, Bs, Is)) * 0.5
    x_ours = ts.Tensor(xs, requires_grad=True)
    x_torch = torch.tensor(xs, requires_grad=True)
    t0 = time.perf_counter()
    state, tstate = None, None
    loss, tloss = 0, 0
    for t in range(T):
        state = ours(x_ours[t], state)
        tstate = theirs(x_torch[t], tstate)
    loss = state[0].sum() + (state[1] * state[1]).sum()
    tloss = tstate[0].sum() + (tstate[1] * tstate[1]).sum()
    loss.backward()
    tloss.backward()
    assert time.perf_counter() - t0 < 120
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
    np.testing.assert_allclose(x_ours.grad.numpy(), x_torch.grad.numpy(), atol=1e-10, rtol=1e-8)
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-9, rtol=1e-8, err_msg=n)
