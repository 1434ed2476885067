"""Recurrent layers' weights of the wrong shape (nn/rnn_weight_checks.py) against torch 2.13: torch's
RuntimeError for a weight the layer cannot read, a broadcastable bias ([1, G*H], one value) read
as [G*H] with its gradient in its own shape, and torch's text for input of the wrong rank
(audit a16)."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

G = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _arr(shape, seed):
    return np.asarray(np.random.RandomState(seed).randn(*shape), dtype=np.float32)


def _run(lib, cls, name, shape, **kw):
    torch.manual_seed(0)
    ts.manual_seed(0)   # the same initial weights in both (tests/conftest.py seeds ts per test too)
    m = getattr(lib.nn, cls)(3, 4, **kw)
    setattr(m, name, lib.nn.Parameter(lib.tensor(_arr(shape, 90))))
    return m(lib.tensor(_arr((5, 2, 3), 1)))[0]


def _torch_error(cls, name, shape):
    # torch's native path (mkldnn off: torch 2.13's oneDNN LSTM skips the check and computes garbage)
    with torch.backends.mkldnn.flags(enabled=False):
        with pytest.raises(Exception) as e:
            _run(torch, cls, name, shape)
    return e.type


@pytest.mark.parametrize("cls,name,rows,cols", [
    ("RNN", "weight_hh_l0", 1, 5), ("RNN", "weight_hh_l0", 1, 3), ("RNN", "weight_hh_l0", 2, 4),
    ("GRU", "weight_hh_l0", 1, 5), ("GRU", "weight_hh_l0", 1, 3), ("GRU", "weight_hh_l0", 4 / 3, 4),
    ("LSTM", "weight_hh_l0", 1, 5), ("LSTM", "weight_hh_l0", 1, 3), ("LSTM", "weight_hh_l0", 1.25, 4),
    ("RNN", "bias_hh_l0", 1.25, None), ("GRU", "bias_ih_l0", 11 / 12, None), ("GRU", "bias_hh_l0", 13 / 12, None),
])
def test_wrong_shape_weight_raises_like_torch(cls, name, rows, cols):
    g = int(round(G[cls] * 4 * rows))
    shape = (g, cols) if cols is not None else (g,)
    assert issubclass(_torch_error(cls, name, shape), RuntimeError)
    with pytest.raises(RuntimeError, match=name):
        _run(ts, cls, name, shape)


@pytest.mark.parametrize("fused", [True, False])
def test_rnn_too_narrow_weight_hh_raises(fused):
    # was: the fused kernel read past the end of a [4, 3] weight_hh (a different output each call)
    with pytest.raises(ts.errors.ShapeMismatch):
        _run(ts, "RNN", "weight_hh_l0", (4, 3), fused=fused)


@pytest.mark.parametrize("cls,name,shape", [
    ("RNN", "weight_ih_l0", (4, 4)), ("GRU", "weight_ih_l0", (12, 2)), ("RNN", "weight_ih_l0", (8, 3)),
    ("RNN", "weight_hh_l0", (16,)), ("GRU", "weight_hh_l0", (48,)),
])
def test_wrong_shape_error_type(cls, name, shape):
    with pytest.raises(RuntimeError):
        _run(torch, cls, name, shape)
    with pytest.raises(RuntimeError):
        _run(ts, cls, name, shape)


def test_message_names_parameter_and_shapes():
    m = ts.nn.LSTM(3, 4)
    m.weight_hh_l0 = ts.nn.Parameter(ts.randn(16, 3))
    with pytest.raises(RuntimeError) as e:
        m(ts.randn(5, 2, 3))
    assert str(e.value) == "LSTM: weight_hh_l0 has shape (16, 3), expected (16, 4) (4 * hidden_size, hidden_size)"


def test_deeper_layer_and_data_assignment_checked():
    m = ts.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    m.weight_ih_l1_reverse.data = ts.randn(12, 4)   # layer 1 reads 2 * 4 inputs
    with pytest.raises(RuntimeError, match=r"weight_ih_l1_reverse has shape \(12, 4\), expected \(12, 8\) "
                                           r"\(3 \* hidden_size, hidden_size \* 2\)"):
        m(ts.randn(5, 2, 3))


def test_proj_size_weights_checked():
    m = ts.nn.LSTM(3, 4, proj_size=2)
    m.weight_hr_l0 = ts.nn.Parameter(ts.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"weight_hr_l0 has shape \(2, 3\), expected \(2, 4\) "
                                           r"\(proj_size, hidden_size\)"):
        m(ts.randn(5, 2, 3))


@pytest.mark.parametrize("cls,name,shape,msg", [
    ("PeepholeLSTM", "weight_peephole_l0", (3, 3), r"expected \(3, 4\) \(3, hidden_size\)"),
    ("IndRNN", "weight_hh_l0", (4, 4), r"expected \(4,\) \(hidden_size\)"),
    ("LayerNormLSTM", "ln_ih_weight_l0", (15,), r"expected \(16,\) \(4 \* hidden_size\)"),
])
def test_variant_parameters_checked(cls, name, shape, msg):
    m = getattr(ts.nn, cls)(3, 4)
    setattr(m, name, ts.nn.Parameter(ts.randn(*shape)))
    with pytest.raises(RuntimeError, match=msg):
        m(ts.randn(5, 2, 3))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("shape_of", [lambda n: (1, n), lambda n: (1,), lambda n: (1, 1), lambda n: ()])
@pytest.mark.parametrize("fused", [True, False])
def test_broadcast_bias_like_torch(cls, shape_of, fused):
    shape = shape_of(G[cls] * 4)
    outs = []
    for lib, kw in ((torch, {}), (ts, {"fused": fused})):
        torch.manual_seed(0)
        ts.manual_seed(0)
        m = getattr(lib.nn, cls)(3, 4, **kw)
        m.bias_hh_l0 = lib.nn.Parameter(lib.tensor(_arr(shape, 90)))
        y = m(lib.tensor(_arr((5, 2, 3), 1)))[0]
        y.sum().backward()
        outs.append((y.detach().numpy(), m.bias_hh_l0.grad.numpy()))
    (ref, ref_g), (out, out_g) = outs
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert out_g.shape == ref_g.shape == shape
    np.testing.assert_allclose(out_g, ref_g, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("shape", [(5, 2, 3, 1), (3,)])
def test_wrong_rank_input_message(cls, shape):
    with pytest.raises(ValueError) as te:
        getattr(torch.nn, cls)(3, 4)(torch.zeros(*shape))
    with pytest.raises(ValueError) as se:
        getattr(ts.nn, cls)(3, 4)(ts.zeros(*shape))
    assert str(se.value) == str(te.value)
