"""torch.ao.quantization.quantize_dynamic against torch 2.13: the same float weights quantized
by both libraries give the same int8 weights, and the dynamically quantized Linear / LSTM / GRU
give torch's outputs (exact integer arithmetic; only float32 round-off in the gate math)."""
import copy
import os
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _copy_weights(src, dst):
    dst.load_state_dict({k: v.detach().numpy() for k, v in src.state_dict().items()})


def _both(make, spec_t, spec_s, dtype="qint8", **kw):
    """The same float model in both libraries, quantized by each."""
    tm, sm = make(torch), make(ts)
    _copy_weights(tm, sm)
    tq = torch.ao.quantization.quantize_dynamic(tm, spec_t, dtype=getattr(torch, dtype), **kw)
    sq = ts.ao.quantization.quantize_dynamic(sm, spec_s, dtype=getattr(ts, dtype), **kw)
    return tm, sm, tq, sq


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)


@pytest.mark.parametrize("shape,inp,scale", [
    ((7, 5), "mixed", 1.0), ((64, 33), "mixed", 1e-3), ((300, 17), "mixed", 50.0),
    ((16, 9), "positive", 1.0), ((16, 9), "negative", 1.0), ((16, 9), "zeros", 1.0),
    ((40, 12), "mixed", 1e-7), ((3, 1), "positive", 2.0), ((1100, 4), "positive", 3.0)])
def test_linear_matches_torch(shape, inp, scale):
    """Several shapes, all-positive / all-negative / zero inputs, tiny ranges (the raised
    SMALL_SCALE_THRESHOLD path): within float32 round-off of torch (in practice bit-equal)."""
    k, n = shape
    rng = np.random.default_rng(k * n)
    _, _, tq, sq = _both(lambda lib: lib.nn.Sequential(lib.nn.Linear(k, n)), {torch.nn.Linear}, {ts.nn.Linear})
    for batch in ((5,), (2, 3), (1,)):
        x = (rng.standard_normal(batch + (k,)) * scale).astype(np.float32)
        x = {"positive": np.abs(x), "negative": -np.abs(x), "zeros": np.zeros_like(x)}.get(inp, x)
        want = tq(torch.from_numpy(x)).detach().numpy()
        got = sq(ts.tensor(x)).numpy()
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * max(np.abs(want).max(), 1e-30))
    np.testing.assert_array_equal(sq[0].weight.numpy(), tq[0].weight().int_repr().numpy())
    assert float(sq[0].weight_scale.numpy()) == tq[0].weight().q_scale()


def test_linear_without_bias_and_per_channel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 20)).astype(np.float32)
    _, _, tq, sq = _both(lambda lib: lib.nn.Sequential(lib.nn.Linear(20, 8, bias=False)),
                         {torch.nn.Linear}, {ts.nn.Linear})
    assert sq[0].bias is None
    np.testing.assert_allclose(sq(ts.tensor(x)).numpy(), tq(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-7)
    tq_spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
    sq_spec = {ts.nn.Linear: ts.ao.quantization.per_channel_dynamic_qconfig}
    _, _, tq, sq = _both(lambda lib: lib.nn.Sequential(lib.nn.Linear(20, 8)), tq_spec, sq_spec)
    np.testing.assert_array_equal(sq[0].weight.numpy(), tq[0].weight().int_repr().numpy())
    np.testing.assert_allclose(sq(ts.tensor(x)).numpy(), tq(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-7)
    assert repr(sq[0]) == repr(tq[0])


def test_float16_linear_and_lstm():
    rng = np.random.default_rng(2)

    def make(lib):
        return lib.nn.Sequential(lib.nn.Linear(10, 6), lib.nn.LSTM(6, 5))
    _, _, tq, sq = _both(make, None, None, dtype="float16")
    assert repr(sq) == repr(tq)
    x = rng.standard_normal((4, 3, 10)).astype(np.float32)
    with torch.no_grad():
        want, (th, tc) = tq(torch.from_numpy(x))
    with ts.no_grad():
        got, (sh, sc) = sq(ts.tensor(x))
    for a, b in ((got, want), (sh, th), (sc, tc)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


class _LM:
    """The tutorial's LSTMModel: Embedding, a stacked LSTM, a Linear decoder."""

    @staticmethod
    def make(lib, ntoken=60, ninp=16, nhid=24, nlayers=2):
        class LSTMModel(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = lib.nn.Dropout(0.5)
                self.encoder = lib.nn.Embedding(ntoken, ninp)
                self.rnn = lib.nn.LSTM(ninp, nhid, nlayers, dropout=0.5)
                self.decoder = lib.nn.Linear(nhid, ntoken)

            def forward(self, input, hidden):
                output, hidden = self.rnn(self.drop(self.encoder(input)), hidden)
                return self.decoder(self.drop(output)), hidden
        return LSTMModel()


def test_lstm_language_model_matches_torch_over_20_steps():
    tm, sm, tq, sq = _both(_LM.make, {torch.nn.LSTM, torch.nn.Linear}, {ts.nn.LSTM, ts.nn.Linear})
    assert tm.training and sm.training        # inplace=False: the float models are left alone
    tokens = np.random.default_rng(3).integers(0, 60, (20, 3))
    hidden = [np.zeros((2, 3, 24), np.float32)] * 2
    with torch.no_grad():
        want, (th, tc) = tq(torch.from_numpy(tokens), tuple(map(torch.from_numpy, hidden)))
    with ts.no_grad():
        got, (sh, sc) = sq(ts.tensor(tokens), tuple(map(ts.tensor, hidden)))
    for a, b in ((got, want), (sh, th), (sc, tc)):
        assert _rel(a.numpy(), b.numpy()) < 1e-3
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    # and quantization changed something: the float model's outputs differ
    with torch.no_grad():
        float_out = tm.eval()(torch.from_numpy(tokens), tuple(map(torch.from_numpy, hidden)))[0].numpy()
    assert np.abs(float_out - want.numpy()).max() > 1e-5


@pytest.mark.parametrize("mode,kw", [("GRU", {}), ("LSTM", {"bidirectional": True, "batch_first": True}),
                                     ("GRU", {"num_layers": 2, "bidirectional": True})])
def test_rnn_variants_match_torch(mode, kw):
    def make(lib):
        return lib.nn.Sequential(getattr(lib.nn, mode)(7, 9, **kw))
    _, _, tq, sq = _both(make, {getattr(torch.nn, mode)}, {getattr(ts.nn, mode)})
    assert repr(sq) == repr(tq)
    x = np.random.default_rng(4).standard_normal((5, 6, 7)).astype(np.float32)
    want = tq(torch.from_numpy(x))
    got = sq(ts.tensor(x))
    np.testing.assert_allclose(got[0].numpy(), want[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    finals_t = want[1] if isinstance(want[1], tuple) else (want[1],)
    finals_s = got[1] if isinstance(got[1], tuple) else (got[1],)
    for a, b in zip(finals_s, finals_t):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_repr_and_names():
    _, _, tq, sq = _both(_LM.make, {torch.nn.LSTM, torch.nn.Linear}, {ts.nn.LSTM, ts.nn.Linear})
    assert repr(sq).replace("LSTMModel", "M") == repr(tq).replace("LSTMModel", "M")
    assert "DynamicQuantizedLinear(in_features=24, out_features=60, dtype=torch.qint8, " \
           "qscheme=torch.per_tensor_affine)" in repr(sq)
    assert "DynamicQuantizedLSTM(16, 24, num_layers=2, dropout=0.5)" in repr(sq)
    assert repr(ts.qint8) == "torch.qint8" and repr(ts.per_tensor_affine) == "torch.per_tensor_affine"
    assert ts.quantization.quantize_dynamic is ts.ao.quantization.quantize_dynamic
    assert isinstance(sq.decoder, ts.ao.nn.quantized.dynamic.Linear)
    assert isinstance(sq.rnn, ts.ao.nn.quantized.dynamic.LSTM)
    assert not hasattr(sq.decoder, "qconfig") and not hasattr(sq, "qconfig")
    assert (sq.training, sq.decoder.training, sq.rnn.training) == (tq.training, tq.decoder.training, tq.rnn.training)
    with pytest.raises(AttributeError, match="does not have torch.ao.quantization.prepare yet"):
        ts.ao.quantization.prepare
    assert ts.zeros(2).is_quantized is False
    with pytest.raises(TypeError, match="not supported"):
        ts.zeros(2, dtype=ts.qint8)


def test_qconfig_spec_forms_and_inplace():
    """A set of types, a set of names, a dict of names / types to QConfigs; inplace=True; the
    root module itself is never swapped."""
    def make(lib):
        return lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU()))
    for tspec, sspec in (({"1.0"}, {"1.0"}), ({"1"}, {"1"}),
                         ({"0": torch.ao.quantization.default_dynamic_qconfig},
                          {"0": ts.ao.quantization.default_dynamic_qconfig}),
                         ({torch.nn.Linear: torch.ao.quantization.float16_dynamic_qconfig},
                          {ts.nn.Linear: ts.ao.quantization.float16_dynamic_qconfig})):
        _, _, tq, sq = _both(make, tspec, sspec)
        assert repr(sq) == repr(tq)
        x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
        np.testing.assert_allclose(sq(ts.tensor(x)).numpy(), tq(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    sm = make(ts)
    first = sm[0]
    out = ts.quantization.quantize_dynamic(sm, {ts.nn.Linear}, inplace=True)
    assert out is sm and not sm.training and sm[0] is not first
    assert type(sm[0]).__name__ == "Linear" and sm[0]._get_name() == "DynamicQuantizedLinear"
    single = ts.nn.Linear(3, 3)
    assert ts.quantization.quantize_dynamic(single) is not single
    assert type(ts.quantization.quantize_dynamic(single)) is ts.nn.Linear
    with pytest.raises(NotImplementedError, match="quint8"):
        ts.quantization.quantize_dynamic(make(ts), {ts.nn.Linear}, dtype=ts.quint8)
    with pytest.raises(NotImplementedError, match="LSTMCell"):
        ts.quantization.quantize_dynamic(ts.nn.Sequential(ts.nn.LSTMCell(3, 4)))


def test_no_gradient_through_quantized_modules_as_torch():
    """torch's quantized ops have no autograd kernel: the output of an input requiring grad
    requires grad; backward warns and the input gets no gradient."""
    _, _, tq, sq = _both(lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 2)), {torch.nn.Linear}, {ts.nn.Linear})
    for lib, q in ((torch, tq), (ts, sq)):
        x = lib.ones(3, 4, requires_grad=True)
        y = q(x)
        assert y.requires_grad
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.sum().backward()
        assert x.grad is None and any("autograd kernel was not registered" in str(w.message) for w in caught)
    assert list(sq.parameters()) == []
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        sq(ts.ones(2, 4, dtype=ts.float64))


def test_state_dict_save_load_and_size(tmp_path):
    """The tutorial's print_size_of_model: the int8 state_dict is about a quarter of the float
    one, and it loads back into a fresh quantized model with the same outputs."""
    tm, sm, _, sq = _both(lambda lib: _LM.make(lib, ntoken=400, ninp=32, nhid=64),
                          {torch.nn.LSTM, torch.nn.Linear}, {ts.nn.LSTM, ts.nn.Linear})
    sizes = []
    for model in (sm, sq):
        path = str(tmp_path / "temp.p")
        ts.save(model.state_dict(), path)
        sizes.append(os.path.getsize(path))
    assert sizes[1] < 0.4 * sizes[0]
    other = ts.quantization.quantize_dynamic(_LM.make(ts, ntoken=400, ninp=32, nhid=64), {ts.nn.LSTM, ts.nn.Linear})
    other.load_state_dict(ts.load(str(tmp_path / "temp.p")))
    tokens = ts.tensor(np.random.default_rng(6).integers(0, 400, (7, 2)))
    hidden = (ts.zeros(2, 2, 64), ts.zeros(2, 2, 64))
    with ts.no_grad():
        np.testing.assert_array_equal(other(tokens, hidden)[0].numpy(), sq(tokens, hidden)[0].numpy())
    assert copy.deepcopy(sq)(tokens, hidden)[0].shape == (7, 2, 400)
