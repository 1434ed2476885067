"""Adding a built-in variant touches its description only (issue 15): a variant described here, an
LSTM whose output nonlinearity is the inverse square root unit c / sqrt(1 + c^2) (option "identity":
none), registered at run time with cell_library.register as the library registers its own, gets
its layer and cell classes in nn.variants, nn.cells and tinygrad_seq.nn, and they work: unfused
against plain numpy, fused (the generated CPU kernel) against unfused in float64 with every
gradient."""
import inspect

import numpy as np
import pytest

import naive
import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.cellspec import CellClasses, CellSpec, Option
from tinygrad_seq.nn import cells, variants

T, B, I, H = 4, 3, 3, 5
LENGTHS = [4, 1, 3]


def _isru_lstm(output):
    def step(cell, x, s):
        """The LSTM's gates and c; h' = o * c' / sqrt(1 + c'^2) (or o * c')"""
        i, f, g, o = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih)
                                + cell.linear(s.h, cell.weight_hh, cell.bias_hh))
        c = f.sigmoid() * s.c + i.sigmoid() * g.tanh()
        out = c / (c * c + 1).sqrt() if output == "isru" else c
        return {"h": o.sigmoid() * out, "c": c}
    return step


def describe(tag="test", layer="TestISRULSTM"):
    """The variant's whole description: two CellSpecs and the record of its public classes."""
    specs = [CellSpec(f"{tag}_{out}_lstm", 4, ("h", "c"), _isru_lstm(out)) for out in ("isru", "identity")]
    classes = CellClasses(f"{tag}_isru_lstm", layer, layer + "Cell", lambda output: f"{tag}_{output}_lstm",
                          "LSTM with h' = o * c' / sqrt(1 + c'^2) (output=\"identity\": h' = o * c').",
                          options=[Option("output", "isru", ("isru", "identity"), layer_after="bidirectional",
                                          cell_after="bias")])
    return classes, specs


@pytest.fixture(scope="module")
def registered():
    classes, specs = describe()
    cell_library.register(classes, *specs)
    yield classes
    cell_library.unregister(classes.key)


def numpy_step(p, x, h, c, output="isru"):
    """Plain numpy: the LSTM's c' (tests/naive.py) and the changed output."""
    g = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, gg, o = (g[:, k * H:(k + 1) * H] for k in range(4))
    c2 = naive.sigmoid(f) * c + naive.sigmoid(i) * np.tanh(gg)
    out = c2 / np.sqrt(1 + c2 * c2) if output == "isru" else c2
    return naive.sigmoid(o) * out, c2


def random_params(module, seed=0):
    rng = np.random.default_rng(seed)
    module.load_state_dict({k: rng.uniform(-0.8, 0.8, v.shape) for k, v in module.state_dict().items()})
    return module


def test_classes_appear_everywhere(registered):
    from tinygrad_seq.nn import TestISRULSTM, TestISRULSTMCell   # a plain import, like the built-ins
    assert variants.TestISRULSTM is TestISRULSTM and nn.TestISRULSTM is TestISRULSTM
    assert cells.TestISRULSTMCell is TestISRULSTMCell and nn.TestISRULSTMCell is TestISRULSTMCell
    assert variants.LAYERS["test_isru_lstm"] is TestISRULSTM and variants.layer_class("Test_ISRU_LSTM") is TestISRULSTM
    assert TestISRULSTM.__module__ == "tinygrad_seq.nn.variants" and TestISRULSTM.__qualname__ == "TestISRULSTM"
    assert "sqrt(1 + c'^2)" in TestISRULSTM.__doc__ and "Call: (output, (h_n, c_n))." in TestISRULSTM.__doc__
    assert TestISRULSTMCell.__doc__ == "One step of nn.TestISRULSTM: (h', c')."
    assert list(inspect.signature(TestISRULSTM).parameters) == [
        "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "output",
        "fused", "dtype", "device", "zoneout"]
    assert list(inspect.signature(TestISRULSTMCell).parameters) == [
        "input_size", "hidden_size", "bias", "output", "device", "dtype"]
    assert type(nn.Encoder(7, I, H, rnn_type="Test_ISRU_LSTM").rnn) is TestISRULSTM   # seq2seq's rnn_type
    layer = variants.layer_for("test_identity_lstm", I, H)
    assert type(layer) is TestISRULSTM and layer.output == "identity"
    assert layer.cell_spec is cell_library.CELLS["test_identity_lstm"]
    assert sorted(layer.state_dict()) == ["bias_hh_l0", "bias_ih_l0", "weight_hh_l0", "weight_ih_l0"]
    with pytest.raises(ValueError, match="Unknown output 'relu'. Select from 'isru' or 'identity'."):
        TestISRULSTM(I, H, output="relu")
    with pytest.raises(TypeError, match="TestISRULSTMCell"):
        TestISRULSTMCell(I)


@pytest.mark.parametrize("output", ["isru", "identity"])
def test_unfused_layer_and_cell_match_numpy(registered, output):
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.standard_normal((T, B, I)), rng.standard_normal((1, B, H)), rng.standard_normal((1, B, H))
    layer = random_params(nn.TestISRULSTM(I, H, output=output, fused=False, dtype=np.float64))
    out, (h_n, c_n) = layer(ts.Tensor(x), (ts.Tensor(h0), ts.Tensor(c0)), lengths=LENGTHS)
    p = {k[:-3]: v for k, v in layer.state_dict().items()}
    h, c = h0[0], c0[0]
    for t in range(T):
        live = (t < np.array(LENGTHS))[:, None]
        h2, c2 = numpy_step(p, x[t], h, c, output)
        np.testing.assert_allclose(out.numpy()[t], np.where(live, h2, 0.0), rtol=1e-12, atol=1e-12)
        h, c = np.where(live, h2, h), np.where(live, c2, c)
    np.testing.assert_allclose(h_n.numpy()[0], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy()[0], c, rtol=1e-12, atol=1e-12)

    cell = random_params(nn.TestISRULSTMCell(I, H, True, output, dtype=np.float64), seed=2)
    got = cell(ts.Tensor(x[0]), (ts.Tensor(h0[0]), ts.Tensor(c0[0])))
    for g, w in zip(got, numpy_step(cell.state_dict(), x[0], h0[0], c0[0], output)):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-12, atol=1e-12)


def test_fused_matches_unfused_with_gradients(registered):
    rng = np.random.default_rng(3)
    x, hx = rng.standard_normal((T, B, I)), [rng.standard_normal((4, B, H)) * 0.5 for _ in range(2)]
    dy = rng.standard_normal((T, B, 2 * H))
    results = []
    for fused in (True, False):
        layer = random_params(nn.TestISRULSTM(I, H, num_layers=2, bidirectional=True, fused=fused,
                                              dtype=np.float64))
        xt = ts.Tensor(x, requires_grad=True)
        ht = [ts.Tensor(h, requires_grad=True) for h in hx]
        out, (h_n, c_n) = layer(xt, tuple(ht), lengths=LENGTHS)
        ((out * ts.Tensor(dy)).sum() + (h_n * h_n).sum() + c_n.sum()).backward()
        results.append([out.numpy(), h_n.numpy(), c_n.numpy(), xt.grad.numpy()] + [h.grad.numpy() for h in ht]
                       + [q.grad.numpy() for q in layer.parameters()])
    for i, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"value/gradient {i}")


def test_fused_cpu_path_is_the_generated_kernel(registered, monkeypatch):
    from tinygrad_seq.nn import rnn
    ran = []
    real = rnn.RNNBase._generated
    monkeypatch.setattr(rnn.RNNBase, "_generated", lambda self, *a: ran.append(1) or real(self, *a))
    layer = nn.TestISRULSTM(I, H, dtype=np.float64)   # the kernel the test above compiled
    out, _ = layer(ts.randn(T, B, I, dtype=ts.float64))
    out.sum().backward()
    assert ran and layer.weight_hh_l0.grad is not None


def test_unregister_removes_the_classes():
    classes, specs = describe("gone", "TestGone")
    cell_library.register(classes, *specs)
    assert nn.TestGone(I, H).cell_spec.name == "gone_isru_lstm"
    assert cells.cell_for("gone_identity_lstm", I, H).output == "identity"
    cell_library.unregister("gone_isru_lstm")
    for module, name in ((nn, "TestGone"), (variants, "TestGone"), (cells, "TestGoneCell"), (nn, "TestGoneCell")):
        assert not hasattr(module, name)
    assert "gone_isru_lstm" not in variants.LAYERS and "gone_isru_lstm" not in cell_library.CELLS
    assert "gone_identity_lstm" not in cell_library.CELLS


def test_register_names_bad_descriptions():
    classes, specs = describe("bad", "TestBad")
    with pytest.raises(ValueError, match="'lstm' is already registered"):
        cell_library.register(None, cell_library.CELLS["lstm"])
    with pytest.raises(ValueError, match="'IndRNN' already names"):
        cell_library.register(CellClasses("x", "IndRNN", "XCell", "lstm"))
    with pytest.raises(ValueError, match="runs cell 'bad_isru_lstm', which is not registered"):
        cell_library.register(classes, specs[1])
    assert "bad_identity_lstm" not in cell_library.CELLS and classes.key not in cell_library.CLASSES
    classes.options[0].layer_after = "nope"   # built in nn.variants after nn.cells built its cell: undone
    with pytest.raises(ValueError, match="option output follows 'nope', which is not an argument of the layer"):
        cell_library.register(classes, *specs)
    assert classes.key not in cell_library.CLASSES and "bad_isru_lstm" not in cell_library.CELLS
    assert not hasattr(nn, "TestBadCell") and not hasattr(cells, "TestBadCell") and classes.key not in cells.CELL_CLASSES
    with pytest.raises(ValueError, match="default 3 is not one of"):
        Option("o", 3, (1, 2))
