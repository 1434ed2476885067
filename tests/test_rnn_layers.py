"""nn.RNN / nn.LSTM / nn.GRU against torch.nn (pack_padded_sequence for lengths), fused against
unfused, gradcheck, long sequences and input errors."""
import itertools

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn

MODES = {"rnn_tanh": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
         "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTM, torch.nn.LSTM, {}),
         "gru": (nn.GRU, torch.nn.GRU, {})}

# (num_layers, bidirectional, batch_first, use_lengths, use_hx, bias)
CONFIGS = [
    (1, False, False, False, False, True),
    (1, False, True, True, True, True),
    (1, True, False, True, False, True),
    (2, True, True, True, True, True),
    (2, False, False, False, True, False),
    (3, True, False, False, False, True),
]


def make_pair(mode, I, H, L, bidir, batch_first, bias, dtype, fused=True):
    ours_cls, torch_cls, kw = MODES[mode]
    tl = torch_cls(I, H, num_layers=L, bidirectional=bidir, batch_first=batch_first, bias=bias, **kw)
    tl = tl.to(torch.float64 if dtype == np.float64 else torch.float32)
    ol = ours_cls(I, H, num_layers=L, bidirectional=bidir, batch_first=batch_first, bias=bias,
                  fused=fused, dtype=dtype, **kw)
    ol.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    return ol, tl


def run_torch(tl, x, hx, lengths, batch_first, is_lstm):
    xt = torch.tensor(x, requires_grad=True)
    hxt = None if hx is None else tuple(torch.tensor(h, requires_grad=True) for h in hx)
    arg = None if hxt is None else (hxt if is_lstm else hxt[0])
    if lengths is None:
        out, state = tl(xt, arg)
    else:
        T = x.shape[1] if batch_first else x.shape[0]
        packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first,
                                                         enforce_sorted=False)
        out, state = tl(packed, arg)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    states = state if is_lstm else (state,)
    return xt, hxt, out, states


def loss_weights(shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def compare(mode, cfg, dtype, T=5, B=3, I=4, H=3, fused=True, rtol=1e-9, atol=1e-10, seed=0):
    L, bidir, batch_first, use_lengths, use_hx, bias = cfg
    is_lstm = mode == "lstm"
    rng = np.random.default_rng(seed)
    ol, tl = make_pair(mode, I, H, L, bidir, batch_first, bias, dtype, fused)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    D = 2 if bidir else 1
    hx = None
    if use_hx:
        hx = [rng.standard_normal((L * D, B, H)).astype(dtype) for _ in range(2 if is_lstm else 1)]
    lengths = None
    if use_lengths:
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
    xt, hxt, out_t, states_t = run_torch(tl, x, hx, lengths, batch_first, is_lstm)
    ws = loss_weights([tuple(out_t.shape)] + [tuple(s.shape) for s in states_t])
    loss_t = sum((o * torch.tensor(w)).sum() for o, w in zip((out_t,) + tuple(states_t), ws))
    loss_t.backward()

    xo = ts.Tensor(x, requires_grad=True)
    hxo = None if hx is None else [ts.Tensor(h, requires_grad=True) for h in hx]
    arg = None if hxo is None else (tuple(hxo) if is_lstm else hxo[0])
    out_o, state_o = ol(xo, arg, lengths=lengths)
    states_o = state_o if is_lstm else (state_o,)
    loss_o = None
    for o, w in zip((out_o,) + tuple(states_o), ws):
        term = (o * ts.Tensor(w.astype(dtype))).sum()
        loss_o = term if loss_o is None else loss_o + term
    loss_o.backward()

    close = lambda a, b, what: np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
    close(out_o.numpy(), out_t.detach().numpy(), "output")
    for so, st in zip(states_o, states_t):
        close(so.numpy(), st.detach().numpy(), "final state")
    close(xo.grad.numpy(), xt.grad.numpy(), "d input")
    if hx is not None:
        for ho, ht in zip(hxo, hxt):
            close(ho.grad.numpy(), ht.grad.numpy(), "d hx")
    tgrads = dict(tl.named_parameters())
    for name, p in ol.named_parameters():
        close(p.grad.numpy(), tgrads[name].grad.numpy(), f"d {name}")


@pytest.mark.parametrize("mode,cfg", list(itertools.product(MODES, CONFIGS)))
def test_against_torch_float64(mode, cfg):
    compare(mode, cfg, np.float64)


@pytest.mark.parametrize("mode", list(MODES))
def test_unfused_against_torch_float64(mode):
    compare(mode, (2, True, True, True, True, True), np.float64, fused=False)


@pytest.mark.parametrize("mode", list(MODES))
def test_against_torch_float32_long(mode):
    # T=200 accumulates float32 rounding over the recurrence: loose tolerance
    compare(mode, (1, True, False, True, True, True), np.float32, T=200, B=4, I=8, H=16,
            rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("mode", list(MODES))
def test_fused_matches_unfused(mode):
    cls, _, kw = MODES[mode]
    rng = np.random.default_rng(3)
    a = cls(3, 4, num_layers=2, bidirectional=True, dtype=np.float64, **kw)
    b = cls(3, 4, num_layers=2, bidirectional=True, dtype=np.float64, fused=False, **kw)
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((6, 2, 3))
    lengths = [6, 3]
    grads = []
    for layer in (a, b):
        xi = ts.Tensor(x, requires_grad=True)
        out, state = layer(xi, lengths=lengths)
        h = state[0] if mode == "lstm" else state
        ((out * out).sum() + h.sum()).backward()
        grads.append((out.numpy(), h.numpy(), xi.grad.numpy(), [p.grad.numpy() for p in layer.parameters()]))
    (oa, ha, xa, pa), (ob, hb, xb, pb) = grads
    np.testing.assert_allclose(oa, ob, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ha, hb, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xa, xb, rtol=1e-10, atol=1e-12)
    for ga, gb in zip(pa, pb):
        np.testing.assert_allclose(ga, gb, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input(mode):
    cls, tcls, kw = MODES[mode]
    ol, tl = make_pair(mode, 3, 2, 1, True, False, True, np.float64)
    x = np.random.default_rng(0).standard_normal((5, 3))
    out_t, st_t = tl(torch.tensor(x))
    out_o, st_o = ol(ts.Tensor(x))
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-10)
    h_o = st_o[0] if mode == "lstm" else st_o
    h_t = st_t[0] if mode == "lstm" else st_t
    assert h_o.shape == tuple(h_t.shape) == (2, 2)
    np.testing.assert_allclose(h_o.numpy(), h_t.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("mode", list(MODES))
def test_gradcheck_layer(mode):
    cls, _, kw = MODES[mode]
    layer = cls(2, 2, num_layers=2, bidirectional=True, dtype=np.float64, **kw)
    x = ts.Tensor(np.random.default_rng(1).standard_normal((3, 2, 2)), requires_grad=True)
    params = list(layer.parameters())

    def fn(x, *ps):
        out, _ = layer(x, lengths=[3, 2])
        return out

    assert ts.gradcheck(fn, [x] + params, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_dropout_between_layers_is_reproducible_and_off_in_eval():
    layer = nn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    x = ts.Tensor(np.ones((4, 2, 3)))
    ts.manual_seed(5)
    a = layer(x)[0].numpy()
    ts.manual_seed(5)
    b = layer(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    layer.eval()
    e1, e2 = layer(x)[0].numpy(), layer(x)[0].numpy()
    np.testing.assert_array_equal(e1, e2)
    layer.dropout = 0.0
    layer.train()
    np.testing.assert_allclose(layer(x)[0].numpy(), e1)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_20000_step_sequence(mode):
    cls, _, kw = MODES[mode]
    layer = cls(2, 8, **kw)
    x = ts.Tensor(np.random.default_rng(0).standard_normal((20000, 1, 2)).astype(np.float32))
    out, _ = layer(x)
    out[-1].sum().backward()
    g = layer.weight_hh_l0.grad.numpy()
    assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


def test_state_dict_keys_match_torch():
    ol, tl = make_pair("lstm", 3, 4, 2, True, False, True, np.float32)
    assert list(ol.state_dict()) == list(tl.state_dict())
    for k, v in tl.state_dict().items():
        assert ol.state_dict()[k].shape == tuple(v.shape)


def test_input_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = ts.randn(5, 2, 3)
    with pytest.raises(ValueError, match="Expected 3, got 7"):
        lstm(ts.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"):
        lstm(x, (ts.zeros(1, 2, 4), ts.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"lengths\[1\] = 6 is out of range 1..5"):
        lstm(x, lengths=[5, 6])
    with pytest.raises(ValueError, match=r"lengths\[0\] = 0"):
        lstm(x, lengths=[0, 2])
    with pytest.raises(ValueError, match="3 entries but the batch has 2"):
        lstm(x, lengths=[1, 2, 3])
    with pytest.raises(TypeError, match="float32 or float64"):
        lstm(ts.Tensor(np.ones((5, 2, 3), np.int64)))
    with pytest.raises(ValueError, match=r"sequence length to be larger than 0.*\(0, 2, 3\)"):
        lstm(ts.zeros(0, 2, 3))     # PyTorch raises too
    with pytest.raises(ValueError, match=r"larger than 0.*\(2, 0, 3\) \(time axis 1\)"):
        nn.GRU(3, 4, batch_first=True)(ts.zeros(2, 0, 3))
    with pytest.raises(TypeError, match="tuple"):
        lstm(x, ts.zeros(2, 2, 4))
    gru = nn.GRU(3, 4)
    with pytest.raises(ValueError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        gru(x, ts.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_repr_like_torch():
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == repr(torch.nn.LSTM(3, 4, num_layers=2, batch_first=True))
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == repr(torch.nn.RNN(3, 4, nonlinearity="relu"))


@pytest.mark.parametrize("make", [lambda: nn.RNN(3, 4, fused=False), lambda: nn.RNN(3, 4, nonlinearity="relu", fused=False),
                                  lambda: nn.Recurrent(cell_library.CELLS["indrnn_tanh"], 3, 4)])
def test_final_state_is_the_callers_to_modify(make):
    # h_n is a tensor of its own, as in PyTorch: writing into it after the forward neither breaks
    # the backward nor changes the gradients (a one-layer h_n as a view of the last step's state
    # aliased an array saved for backward)
    ts.manual_seed(0)
    layer = make()
    x = ts.tensor(np.random.default_rng(3).standard_normal((5, 2, 3)).astype(np.float32), requires_grad=True)
    out, h = layer(x)
    out.sum().backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    out, h = layer(x)
    h.mul_(0).add_(100)
    (out.sum() + h.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
