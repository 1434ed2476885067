"""nn.LSTMCell / GRUCell / RNNCell and the plain cell functions run the fused one-step kernels
(nn/cell_fused_step.py): against the cell's own description run unfused (the reference), float64
tight, over a few steps with every gradient; torch's grad_fn names; and the arguments the kernels
do not take falling back to the composition."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import recurrent
from tinygrad_seq.nn import cell_fused_step, cells

I, H = 3, 5
KINDS = {
    "lstm": (lambda **kw: ts.nn.LSTMCell(I, H, **kw), recurrent.LSTMFunction),
    "gru": (lambda **kw: ts.nn.GRUCell(I, H, **kw), recurrent.GRUFunction),
    "rnn_tanh": (lambda **kw: ts.nn.RNNCell(I, H, **kw), recurrent.RNNFunction),
    "rnn_relu": (lambda **kw: ts.nn.RNNCell(I, H, nonlinearity="relu", **kw), recurrent.RNNFunction),
}


def _unrolled(cell, xs, h0, c0):
    x, h = ts.tensor(xs, requires_grad=True), ts.tensor(h0, requires_grad=True)
    state = (h, ts.tensor(c0, requires_grad=True)) if isinstance(cell, ts.nn.LSTMCell) else h
    outs = []
    for t in range(xs.shape[0]):
        state = cell(x[t], state)
        outs.append(state[0] if isinstance(state, tuple) else state)
    loss = sum(((o * (k + 1)) ** 2).sum() for k, o in enumerate(outs))
    loss.backward()
    return [o.detach().numpy() for o in outs] + [x.grad.numpy(), h.grad.numpy()] + \
        [p.grad.numpy() for p in cell.parameters()]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("kind", list(KINDS))
def test_fused_cell_matches_its_description_unfused(kind, batch, bias, monkeypatch):
    rng = np.random.default_rng(0)
    cell = KINDS[kind][0](bias=bias).double()
    xs, h0, c0 = rng.standard_normal((4, batch, I)), rng.standard_normal((batch, H)), rng.standard_normal((batch, H))
    fused = _unrolled(cell, xs, h0, c0)
    cell.zero_grad()
    monkeypatch.setattr(cell_fused_step, "fusable", lambda *a: False)
    reference = _unrolled(cell, xs, h0, c0)
    for a, b in zip(fused, reference):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", list(KINDS))
def test_fused_cell_node_and_torchs_grad_fn_names(kind):
    make, function = KINDS[kind]
    out = make()(ts.randn(2, I, requires_grad=True))
    h = out[0] if isinstance(out, tuple) else out
    assert type(h._ctx) is function
    tmake = {"lstm": lambda: torch.nn.LSTMCell(I, H), "gru": lambda: torch.nn.GRUCell(I, H),
             "rnn_tanh": lambda: torch.nn.RNNCell(I, H),
             "rnn_relu": lambda: torch.nn.RNNCell(I, H, nonlinearity="relu")}[kind]
    tout = tmake()(torch.randn(2, I, requires_grad=True))
    ours = out if isinstance(out, tuple) else (out,)
    theirs = tout if isinstance(tout, tuple) else (tout,)
    assert [o.grad_fn.name() for o in ours] == [o.grad_fn.name() for o in theirs]


def test_plain_functions_fall_back_where_the_kernels_do_not_apply():
    rng = np.random.default_rng(1)
    w_ih = ts.tensor(rng.standard_normal((4 * H, I)), requires_grad=True)
    w_hh = ts.tensor(rng.standard_normal((4 * H, H)))
    x = ts.tensor(rng.standard_normal((2, I)), requires_grad=True)
    h, c = ts.tensor(rng.standard_normal((2, H))), ts.tensor(rng.standard_normal((2, H)))
    h1, _ = cells.lstm_cell(x, h, c, w_ih, w_hh)
    assert type(h1._ctx) is recurrent.LSTMFunction
    h2, _ = cells.lstm_cell(x[0], h[0], c[0], w_ih, w_hh)                 # unbatched: the composition
    assert type(h2._ctx) is not recurrent.LSTMFunction
    h3, _ = cells.lstm_cell(x.detach(), h, c, w_ih, w_hh)   # the gradient reaches only the weights: fused too
    assert type(h3._ctx) is recurrent.LSTMFunction   # (step 0 of a loop: the Function keeps W as torch's, see
                                                     # test_in_place_writes_before_backward_as_torch)
    np.testing.assert_allclose(h2.numpy(), h1.numpy()[0], rtol=1e-12)
    with pytest.raises(Exception):                                           # a wrong shape: its error
        cells.lstm_cell(x, h, c, w_ih[:, :2], w_hh)
    x32 = ts.tensor(rng.standard_normal((2, I)).astype(np.float32))
    with pytest.raises(Exception):                                           # mixed dtypes: its error
        cells.lstm_cell(x32, h, c, w_ih, w_hh)


def test_a_replaced_parameter_of_another_dtype_raises_as_torch():
    # the kernels would cast it silently; the composition raises torch's RuntimeError
    rng = np.random.default_rng(2)
    for lib in (torch, ts):
        cell = lib.nn.LSTMCell(I, H).double()
        cell.weight_hh = lib.nn.Parameter(lib.tensor(rng.standard_normal((4 * H, H)).astype(np.float32)))
        with pytest.raises(RuntimeError):
            cell(lib.tensor(rng.standard_normal((2, I))))


def _raises_or_not(lib, fn):
    try:
        fn(lib)
        return "ok"
    except RuntimeError:
        return "RuntimeError"


@pytest.mark.parametrize("case", ["rnn_output_written", "relu_rnn_output_written", "strided_input_written",
                                  "weights_written_gradient_only_to_weights", "lstm_output_written"])
def test_in_place_writes_before_backward_as_torch(case):
    # torch's composed cell: TanhBackward0 / ReluBackward0 keep their result, linear keeps the
    # (strided) input, and a weight is kept only where the input or a state needs a gradient
    def run(L):
        if case in ("rnn_output_written", "relu_rnn_output_written"):
            c = L.nn.RNNCell(3, 4, nonlinearity="relu" if case.startswith("relu") else "tanh")
            h = c(L.randn(2, 3), L.randn(2, 4, requires_grad=True))
            h.add_(1)
            h.sum().backward()
        elif case == "strided_input_written":
            c = L.nn.LSTMCell(3, 4)
            x = L.randn(3, 2, requires_grad=True) * 1
            h, _ = c(x.t())
            x.add_(1)
            h.sum().backward()
        elif case == "weights_written_gradient_only_to_weights":
            c = L.nn.GRUCell(3, 4)
            h = c(L.randn(2, 3))
            with L.no_grad():
                c.weight_hh.mul_(0.5)
            h.sum().backward()
        else:
            c = L.nn.LSTMCell(3, 4)
            h, cc = c(L.randn(2, 3, requires_grad=True))
            h.add_(1)
            cc.mul_(2)
            (h.sum() + cc.sum()).backward()
    assert _raises_or_not(ts, run) == _raises_or_not(torch, run)
