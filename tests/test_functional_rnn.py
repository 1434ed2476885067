"""torch's functional recurrent entry points (tinygrad_seq.lstm_cell ..., tinygrad_seq._VF.lstm
...) and nn.RNNBase's public argument checks, against torch: values and every gradient, both
layer overloads (padded and packed), error types."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import _VF, nn

torch = pytest.importorskip("torch")

TORCH_LAYER = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN}
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}


def torch_dtype(dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


def pair(arrays):
    """The same arrays as torch and tinygrad_seq leaves requiring grad."""
    return ([torch.tensor(a, requires_grad=True) for a in arrays],
            [ts.Tensor(a, requires_grad=True) for a in arrays])


def backward_both(outs_t, outs_o, seed=7):
    """sum(out * w) over every output, backward on both sides."""
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(tuple(o.shape)) for o in outs_t]
    sum((o * torch.tensor(w, dtype=o.dtype)).sum() for o, w in zip(outs_t, ws)).backward()
    loss = None
    for o, w in zip(outs_o, ws):
        term = (o * ts.Tensor(w.astype(o.dtype))).sum()
        loss = term if loss is None else loss + term
    loss.backward()


def assert_close(ours, theirs, dtype, what):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), err_msg=what, **TOL[dtype])


def assert_same_exception(torch_call, our_call):
    """Both raise, and ours is an instance of torch's exception type."""
    with pytest.raises(Exception) as theirs:
        torch_call()
    with pytest.raises(type(theirs.value)):
        our_call()


# ------------------------------------------------------------------ cells
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("biases", [2, 1, 0])
@pytest.mark.parametrize("op", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
def test_cell_against_torch(op, biases, dtype):
    rng = np.random.default_rng(0)
    B, I, H = 3, 5, 4
    G = GATES[op[:-5]] * H
    n_states = 2 if op == "lstm_cell" else 1
    arrays = [rng.standard_normal(s).astype(dtype) for s in
              [(B, I)] + [(B, H)] * n_states + [(G, I), (G, H)] + [(G,)] * biases]
    t, o = pair(arrays)

    def call(fn, args):
        x, states, rest = args[0], args[1:1 + n_states], args[1 + n_states:]
        return fn(x, tuple(states) if n_states == 2 else states[0], *rest)
    outs_t, outs_o = call(getattr(torch, op), t), call(getattr(ts, op), o)
    outs_t = outs_t if n_states == 2 else (outs_t,)
    outs_o = outs_o if n_states == 2 else (outs_o,)
    assert isinstance(outs_o, tuple) and len(outs_o) == n_states
    for a, b in zip(outs_o, outs_t):
        assert_close(a, b, dtype, f"{op} output")
    backward_both(outs_t, outs_o)
    for k, (a, b) in enumerate(zip(o, t)):
        assert_close(a.grad, b.grad, dtype, f"{op} grad of argument {k}")


def test_cell_matches_the_cell_module():
    cell = nn.LSTMCell(3, 4, dtype=np.float64)
    x, h, c = (ts.Tensor(np.random.default_rng(1).standard_normal(s)) for s in [(2, 3), (2, 4), (2, 4)])
    want = cell(x, (h, c))
    got = ts.lstm_cell(x, [h, c], cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _cell_args(lib, B=2, I=3, H=4, x_shape=None, h_shape=None, c_shape=None, x_dtype=np.float32):
    rng = np.random.default_rng(2)
    mk = lambda s, dt=np.float32: lib.tensor(rng.standard_normal(s).astype(dt))
    return (mk(x_shape or (B, I), x_dtype), (mk(h_shape or (B, H)), mk(c_shape or (B, H))),
            mk((4 * H, I)), mk((4 * H, H)), mk((4 * H,)), mk((4 * H,)))


@pytest.mark.parametrize("case", [
    dict(x_shape=(3,), h_shape=(4,), c_shape=(4,)),   # unbatched: ATen refuses (IndexError)
    dict(x_shape=(3,), h_shape=(1, 4), c_shape=(1, 4)),
    dict(x_shape=(2, 5)),                              # input_size
    dict(h_shape=(1, 4)),                              # batch size of h
    dict(c_shape=(2, 5)),                              # hidden size of c
    dict(x_shape=(1, 2, 3)),                           # 3-D input
    dict(x_dtype=np.float64),                          # dtypes differ
])
def test_cell_errors_as_torch(case):
    assert_same_exception(lambda: torch.lstm_cell(*_cell_args(torch, **case)),
                          lambda: ts.lstm_cell(*_cell_args(ts, **case)))


def test_cell_hx_errors_as_torch():
    xt, (ht, ct), *wt = _cell_args(torch)
    xo, (ho, co), *wo = _cell_args(ts)
    assert_same_exception(lambda: torch.lstm_cell(xt, ht, *wt), lambda: ts.lstm_cell(xo, ho, *wo))   # not a tuple
    assert_same_exception(lambda: torch.lstm_cell(xt, (ht,), *wt), lambda: ts.lstm_cell(xo, (ho,), *wo))
    assert_same_exception(lambda: torch.gru_cell(xt, None, wt[0][:12], wt[1][:12]),
                          lambda: ts.gru_cell(xo, None, wo[0][:12], wo[1][:12]))


# ------------------------------------------------------------------ layers
def make_layer_args(mode, num_layers, bidirectional, has_biases, dtype, proj_size=0, B=3, T=5, I=4, H=3, seed=0,
                    batch_first=False):
    """torch's module weights (flat, in _flat_weights order), input and hx as numpy arrays."""
    torch.manual_seed(seed)
    kw = {"nonlinearity": mode[4:]} if mode.startswith("rnn") else {}
    if proj_size:
        kw["proj_size"] = proj_size
    module = TORCH_LAYER[mode](I, H, num_layers=num_layers, bidirectional=bidirectional, bias=has_biases, **kw)
    flat = [w.detach().numpy().astype(dtype) for w in module._flat_weights]
    rng = np.random.default_rng(seed)
    D = 2 if bidirectional else 1
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    hx = [rng.standard_normal((num_layers * D, B, proj_size or H)).astype(dtype)]
    if mode == "lstm":
        hx.append(rng.standard_normal((num_layers * D, B, H)).astype(dtype))
    return x, hx, flat


def run_layer_pair(mode, x, hx, flat, options, batch_sizes=None):
    """Both libraries' layer function on the same arrays; returns (outs_t, outs_o, leaves_t, leaves_o)."""
    leaves_t, leaves_o = pair([x] + hx + flat)
    outs = []
    for lib, leaves in ((torch._VF, leaves_t), (_VF, leaves_o)):
        fn = getattr(lib, mode)
        x_, states, params = leaves[0], leaves[1:1 + len(hx)], leaves[1 + len(hx):]
        h = tuple(states) if mode == "lstm" else states[0]
        if batch_sizes is None:
            outs.append(fn(x_, h, params, *options))
        else:
            bs = torch.tensor(batch_sizes) if lib is torch._VF else ts.tensor(batch_sizes)
            outs.append(fn(x_, bs, h, params, *options))
    return outs[0], outs[1], leaves_t, leaves_o


def check_layer(mode, dtype, num_layers=1, bidirectional=False, has_biases=True, batch_first=False, proj_size=0,
                dropout=0.0, train=False, seed=0):
    x, hx, flat = make_layer_args(mode, num_layers, bidirectional, has_biases, dtype, proj_size, seed=seed,
                                  batch_first=batch_first)
    options = (has_biases, num_layers, dropout, train, bidirectional, batch_first)
    torch.manual_seed(seed)
    ts.manual_seed(seed)
    outs_t, outs_o, leaves_t, leaves_o = run_layer_pair(mode, x, hx, flat, options)
    assert isinstance(outs_o, tuple) and len(outs_o) == (3 if mode == "lstm" else 2)
    for k, (a, b) in enumerate(zip(outs_o, outs_t)):
        assert_close(a, b, dtype, f"{mode} output {k}")
    backward_both(outs_t, outs_o)
    for k, (a, b) in enumerate(zip(leaves_o, leaves_t)):
        assert_close(a.grad, b.grad, dtype, f"{mode} grad of leaf {k} (input, hx..., params...)")


MODES = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


@pytest.mark.parametrize("num_layers,bidirectional,has_biases,batch_first", [
    (1, False, True, False), (2, True, True, False), (2, False, False, True), (1, True, False, True)])
@pytest.mark.parametrize("mode", MODES)
def test_layer_against_torch_float64(mode, num_layers, bidirectional, has_biases, batch_first):
    check_layer(mode, np.float64, num_layers, bidirectional, has_biases, batch_first)


@pytest.mark.parametrize("mode", MODES)
def test_layer_against_torch_float32(mode):
    check_layer(mode, np.float32, num_layers=2, bidirectional=True)


@pytest.mark.parametrize("num_layers,bidirectional,has_biases", [(1, False, True), (2, True, True), (2, False, False)])
def test_lstm_projection_against_torch(num_layers, bidirectional, has_biases):
    check_layer("lstm", np.float64, num_layers, bidirectional, has_biases, proj_size=2)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_dropout_off_without_train(mode):
    """train=False: dropout=0.5 between layers does nothing (torch's eval)."""
    check_layer(mode, np.float64, num_layers=2, bidirectional=True, dropout=0.5, train=False)
    x, hx, flat = make_layer_args(mode, 2, True, True, np.float64)
    h = (lambda hs: tuple(hs) if mode == "lstm" else hs[0])([ts.tensor(a) for a in hx])
    fn = getattr(_VF, mode)
    with_dropout = fn(ts.tensor(x), h, [ts.tensor(w) for w in flat], True, 2, 0.5, False, True, False)
    without = fn(ts.tensor(x), h, [ts.tensor(w) for w in flat], True, 2, 0.0, False, True, False)
    for a, b in zip(with_dropout, without):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("mode", ["lstm", "rnn_tanh"])
def test_dropout_in_train_draws_as_torch(mode):
    """train=True, dropout=0.4, 3 layers: the same seed gives torch's masks (the library draws
    torch's random stream), so values and gradients match."""
    check_layer(mode, np.float64, num_layers=3, bidirectional=True, dropout=0.4, train=True, seed=3)


def packed_args(mode, dtype, num_layers, bidirectional, lengths=(5, 3, 2), I=4, H=3):
    """(data, batch_sizes) from torch's pack_padded_sequence, hx in packed order, flat weights."""
    x, hx, flat = make_layer_args(mode, num_layers, bidirectional, True, dtype, B=len(lengths), T=max(lengths),
                                  I=I, H=H)
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths))
    return packed.data.numpy(), packed.batch_sizes.numpy(), hx, flat


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("mode", MODES)
def test_packed_overload_against_torch(mode, num_layers, bidirectional, dtype):
    data, batch_sizes, hx, flat = packed_args(mode, dtype, num_layers, bidirectional)
    options = (True, num_layers, 0.0, False, bidirectional)
    outs_t, outs_o, leaves_t, leaves_o = run_layer_pair(mode, data, hx, flat, options, batch_sizes)
    assert outs_o[0].shape == data.shape[:1] + (outs_t[0].shape[1],)
    for k, (a, b) in enumerate(zip(outs_o, outs_t)):
        assert_close(a, b, dtype, f"packed {mode} output {k}")
    backward_both(outs_t, outs_o)
    for k, (a, b) in enumerate(zip(leaves_o, leaves_t)):
        assert_close(a.grad, b.grad, dtype, f"packed {mode} grad of leaf {k}")


def test_packed_from_our_pack_padded_sequence_matches_module():
    """Our own pack_padded_sequence's data and batch_sizes into _VF.gru give nn.GRU's result."""
    rng = np.random.default_rng(4)
    layer = nn.GRU(3, 4, num_layers=2, dtype=np.float64)
    x = ts.tensor(rng.standard_normal((6, 3, 3)))
    packed = nn.utils.rnn.pack_padded_sequence(x, [6, 4, 1])
    h0 = ts.tensor(rng.standard_normal((2, 3, 4)))
    want_out, want_h = layer(packed, h0)
    out, h = _VF.gru(packed.data, packed.batch_sizes, h0, layer._flat_weights, True, 2, 0.0, False, False)
    np.testing.assert_allclose(out.numpy(), want_out.data.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), want_h.numpy(), rtol=1e-12, atol=1e-12)


def test_keyword_calls_and_top_level_names():
    x, hx, flat = make_layer_args("gru", 1, False, True, np.float64)
    x, h, params = ts.tensor(x), ts.tensor(hx[0]), [ts.tensor(w) for w in flat]
    a = ts.gru(input=x, hx=h, params=params, has_biases=True, num_layers=1, dropout=0.0, train=False,
               bidirectional=False, batch_first=False)
    b = _VF.gru(x, h, params, True, 1, 0.0, False, False, False)
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    bs = ts.tensor(np.array([3, 3, 3, 3, 3]))
    c = ts.gru(data=x.reshape(15, 4), batch_sizes=bs, hx=h, params=params, has_biases=True, num_layers=1,
               dropout=0.0, train=False, bidirectional=False)
    np.testing.assert_allclose(c[0].numpy(), b[0].numpy().reshape(15, 3), rtol=1e-12, atol=1e-12)
    from tinygrad_seq.nn.modules import rnn as modules_rnn
    assert modules_rnn._VF.lstm is ts.lstm is _VF.lstm
    for name in ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]:
        assert getattr(_VF, name) is getattr(ts, name)
    with pytest.raises(TypeError, match="missing"):
        _VF.gru(x, h, params)


def _error_call(lib, mode, change):
    """A float64 bidirectional 2-layer call with one argument spoiled by change(args dict)."""
    x, hx, flat = make_layer_args(mode, 2, True, True, np.float64)
    a = {"x": x, "hx": hx, "flat": flat, "has_biases": True, "num_layers": 2, "bidirectional": True}
    change(a)
    T = lib.tensor
    h = tuple(T(s) for s in a["hx"]) if mode == "lstm" else T(a["hx"][0])
    fn = getattr(torch._VF if lib is torch else _VF, mode)
    return lambda: fn(T(a["x"]), h, [T(w) for w in a["flat"]], a["has_biases"], a["num_layers"], 0.0, False,
                      a["bidirectional"], False)


LAYER_ERRORS = {
    "one param short": lambda a: a["flat"].pop(),
    "one group short": lambda a: a.update(flat=a["flat"][:-4]),
    "a group too many": lambda a: a.update(flat=a["flat"] + a["flat"][-4:]),
    "num_layers 3": lambda a: a.update(num_layers=3),
    "has_biases wrong": lambda a: a.update(has_biases=False),
    "hx layers": lambda a: a.update(hx=[s[:2] for s in a["hx"]]),
    "hx 2-D": lambda a: a.update(hx=[s[:, 0] for s in a["hx"]]),
    "input 2-D": lambda a: a.update(x=a["x"][:, 0]),
    "input size": lambda a: a.update(x=np.ones((5, 3, 7))),
    "no steps": lambda a: a.update(x=a["x"][:0]),
}


@pytest.mark.parametrize("case", list(LAYER_ERRORS))
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_layer_errors_as_torch(mode, case):
    if case == "input 2-D":   # torch's float64 path broadcasts (T, I) over hx's batch; its default
        with pytest.raises(IndexError):   # float32 path raises an IndexError, as we do for both
            _error_call(ts, mode, LAYER_ERRORS[case])()
        return
    assert_same_exception(_error_call(torch, mode, LAYER_ERRORS[case]), _error_call(ts, mode, LAYER_ERRORS[case]))


def test_lstm_hx_errors_as_torch():
    for change in (lambda a: a["hx"].pop(), lambda a: a["hx"].append(a["hx"][0]),
                   lambda a: a.update(hx=[a["hx"][0], np.ones((4, 3, 5))]),   # c wider: a projection, params short
                   lambda a: a.update(hx=[s[:, :1] for s in a["hx"]])):       # batch size
        assert_same_exception(_error_call(torch, "lstm", change), _error_call(ts, "lstm", change))
    with pytest.raises(TypeError, match="tuple of two"):
        _VF.lstm(input=ts.ones(5, 3, 4), hx=ts.ones(2, 3, 3), params=[], has_biases=True, num_layers=1,
                 dropout=0.0, train=False, bidirectional=False, batch_first=False)


def test_gru_hx_batch_error_as_torch():
    change = lambda a: a.update(hx=[a["hx"][0][:, :1]])
    assert_same_exception(_error_call(torch, "gru", change), _error_call(ts, "gru", change))


def test_packed_batch_sizes_checked():
    data, batch_sizes, hx, flat = packed_args("gru", np.float64, 1, False)
    args = (ts.tensor(hx[0]), [ts.tensor(w) for w in flat], True, 1, 0.0, False, False)
    with pytest.raises(RuntimeError, match="Long"):   # torch: "expected scalar type Long but found Int"
        _VF.gru(ts.tensor(data), ts.tensor(batch_sizes.astype(np.int32)), *args)
    with pytest.raises(RuntimeError, match="non-increasing"):
        _VF.gru(ts.tensor(data), ts.tensor(batch_sizes[::-1].copy()), *args)
    with pytest.raises(RuntimeError, match="batch size"):
        _VF.gru(ts.tensor(data), ts.tensor(batch_sizes), ts.tensor(hx[0][:, :2]), *args[1:])


# ------------------------------------------------------------------ nn.RNNBase's public checks
def _subclass(base, vf):
    class WeightDropLSTM(base):
        """A user's LSTM subclass, torch's idiom: its own checks, then _VF.lstm on the flat list."""
        def forward(self, input, hx):
            self.check_forward_args(input, hx, None)
            out = vf.lstm(input, hx, self._flat_weights, self.bias, self.num_layers, self.dropout,
                          self.training, self.bidirectional, self.batch_first)
            return out[0], out[1:]
    return WeightDropLSTM


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_subclass_calling_vf_against_torch(batch_first):
    kw = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    torch.manual_seed(0)
    tl = _subclass(torch.nn.LSTM, torch._VF)(4, 3, **kw).double()
    ol = _subclass(nn.LSTM, _VF)(4, 3, dtype=np.float64, **kw)
    ol.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 4) if batch_first else (6, 2, 4))
    hx = [rng.standard_normal((4, 2, 3)) for _ in range(2)]
    leaves_t, leaves_o = pair([x] + hx)
    out_t, state_t = tl(leaves_t[0], tuple(leaves_t[1:]))
    out_o, state_o = ol(leaves_o[0], tuple(leaves_o[1:]))
    outs_t, outs_o = (out_t, *state_t), (out_o, *state_o)
    for a, b in zip(outs_o, outs_t):
        assert_close(a, b, np.float64, "subclass output")
    backward_both(outs_t, outs_o)
    for a, b in zip(leaves_o, leaves_t):
        assert_close(a.grad, b.grad, np.float64, "subclass input grads")
    grads_t = dict(tl.named_parameters())
    for name, p in ol.named_parameters():
        assert_close(p.grad, grads_t[name].grad, np.float64, f"subclass d {name}")
    bad = (leaves_o[1][:, :1], leaves_o[2])
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(4, 2, 3\), got \[4, 1, 3\]"):
        ol(leaves_o[0], bad)


def _module_pair(kind, **kw):
    torch.manual_seed(0)
    return getattr(torch.nn, kind)(3, 4, **kw), getattr(nn, kind)(3, 4, **kw)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_public_checks_as_torch(kind):
    tl, ol = _module_pair(kind, num_layers=1)
    x_t, x_o = torch.ones(5, 2, 3), ts.ones(5, 2, 3)
    assert ol.get_expected_hidden_size(x_o, None) == tl.get_expected_hidden_size(x_t, None) == (1, 2, 4)
    bs_t, bs_o = torch.tensor([2, 2, 1]), ts.tensor(np.array([2, 2, 1]))
    assert ol.get_expected_hidden_size(ts.ones(5, 3), bs_o) == tl.get_expected_hidden_size(torch.ones(5, 3), bs_t)
    h_t, h_o = torch.zeros(1, 3, 4), ts.zeros(1, 3, 4)
    for call in (lambda m, x, h: m.check_hidden_size(h, (1, 2, 4)),
                 lambda m, x, h: m.check_hidden_size(h, (1, 2, 4), "custom {} vs {}"),
                 lambda m, x, h: m.check_forward_args(x, (h, h) if kind == "LSTM" else h, None),
                 lambda m, x, h: m.check_input(x[:, :, :2], None),
                 lambda m, x, h: m.check_input(x[0], None),
                 lambda m, x, h: m.check_input(x.double(), None)):
        with pytest.raises(Exception) as theirs:
            call(tl, x_t, h_t)
        with pytest.raises(type(theirs.value)) as ours:
            call(ol, x_o, h_o)
        assert str(theirs.value) in str(ours.value)   # torch's text (ours may name the layer and shape)
    ol.check_forward_args(x_o, (ts.zeros(1, 2, 4),) * 2 if kind == "LSTM" else ts.zeros(1, 2, 4), None)
    ol.check_input(ts.ones(5, 3), bs_o)   # a packed batch's 2-D data


def test_lstm_cell_size_and_permute_hidden_as_torch():
    tl, ol = _module_pair("LSTM", proj_size=2, num_layers=2, batch_first=True)
    assert ol.get_expected_cell_size(ts.ones(3, 5, 3), None) == tl.get_expected_cell_size(torch.ones(3, 5, 3), None)
    assert ol.get_expected_hidden_size(ts.ones(3, 5, 3), None) == (2, 3, 2)
    h = np.arange(24.0).reshape(2, 3, 4)
    perm = np.array([2, 0, 1])
    want = tl.permute_hidden((torch.tensor(h), torch.tensor(h + 1)), torch.tensor(perm))
    got = ol.permute_hidden((ts.tensor(h), ts.tensor(h + 1)), ts.tensor(perm))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    g_t, g_o = _module_pair("GRU")
    np.testing.assert_array_equal(g_o.permute_hidden(ts.tensor(h), ts.tensor(perm)).numpy(),
                                  g_t.permute_hidden(torch.tensor(h), torch.tensor(perm)).numpy())
    assert g_o.permute_hidden(ts.tensor(h), None).numpy() is not None
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(4, 3, 4\), got \[4, 3, 2\]"):
        ol_bi = nn.LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True)
        ol_bi.check_forward_args(ts.ones(5, 3, 3), (ts.zeros(4, 3, 2), ts.zeros(4, 3, 2)), None)


@pytest.mark.parametrize("mode,function", [("lstm", "LSTMFunction"), ("rnn_relu", "RNNFunction")])
def test_layer_runs_the_fused_kernels(mode, function, monkeypatch):
    """_VF.<mode> goes through nn.RNNBase's fused path: the hand-written kernel's Function, once
    per (layer, direction)."""
    from tinygrad_seq import recurrent
    calls = []
    original = getattr(recurrent, function).apply
    monkeypatch.setattr(getattr(recurrent, function), "apply", lambda *a, **k: calls.append(1) or original(*a, **k))
    x, hx, flat = make_layer_args(mode, 2, True, True, np.float64, B=8)
    h = tuple(ts.tensor(s) for s in hx) if mode == "lstm" else ts.tensor(hx[0])
    getattr(_VF, mode)(ts.tensor(x), h, [ts.tensor(w) for w in flat], True, 2, 0.0, False, True, False)
    assert len(calls) == 4


@pytest.mark.parametrize("kwargs", [dict(bias=None), dict(bias=1), dict(bias=np.bool_(True)), dict(batch_first=None)])
@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN"])
def test_layer_flags_must_be_bool_as_torch(layer, kwargs):
    with pytest.raises(TypeError) as theirs:
        getattr(torch.nn, layer)(3, 4, **kwargs)
    with pytest.raises(TypeError) as ours:
        getattr(ts.nn, layer)(3, 4, **kwargs)
    assert str(ours.value) == str(theirs.value)
