"""A recurrent layer whose input needs no gradient (a first layer's data) runs no dx GEMM in its
fused backward (recurrent._dx_option -> the kernels' need_dx=False): every other gradient is
unchanged, against torch and against the same call with the input requiring grad."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.kernels import weight_grads_cpu


def _spy(monkeypatch):
    """The need_dx flags weight_gradients is called with."""
    flags, original = [], weight_grads_cpu.weight_gradients

    def spy(*args, **kwargs):
        flags.append(args[6] if len(args) > 6 else kwargs.get("need_dx", True))
        return original(*args, **kwargs)

    # each kernel module imported the function by name
    from tinygrad_seq.kernels import cell_cpu, gru_cpu, lstm_cpu, rnn_cpu
    for module in (cell_cpu, gru_cpu, lstm_cpu, rnn_cpu):
        monkeypatch.setattr(module, "weight_gradients", spy)
    return flags


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_layers_without_input_grad_match_torch(kind, layers, bidirectional, monkeypatch):
    flags = _spy(monkeypatch)
    T, B, I, H = 7, 5, 6, 8
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(I, H, num_layers=layers, bidirectional=bidirectional, dtype=torch.float64)
    ours = getattr(nn, kind)(I, H, num_layers=layers, bidirectional=bidirectional).double()
    ours.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((T, B, I))
    lengths = [7, 3, 7, 1, 5]
    packed_t = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    y_t, _ = torch.nn.utils.rnn.pad_packed_sequence(theirs(packed_t)[0])
    y_o, _ = ours(ts.tensor(x), lengths=lengths)
    w = np.random.default_rng(2).standard_normal(y_o.shape)
    (y_t * torch.tensor(w)).sum().backward()
    (y_o * ts.tensor(w)).sum().backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(theirs.named_parameters())[name].grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=name)
    # the first layer's directions skip dx; a second layer's input (the first's output) needs it
    dirs = 2 if bidirectional else 1
    assert flags[-dirs:] == [False] * dirs and flags.count(False) == dirs
    assert flags.count(True) == (layers - 1) * dirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generated_cell_without_input_grad(dtype, monkeypatch):
    # a variant through the generated kernel: gradients equal to the call whose input requires grad
    flags = _spy(monkeypatch)
    T, B, I, H = 6, 4, 5, 8
    ts.manual_seed(3)
    layer = nn.PeepholeLSTM(I, H).to(dtype=ts.float64 if dtype == np.float64 else ts.float32)
    x = np.random.default_rng(4).standard_normal((T, B, I)).astype(dtype)
    grads = []
    for requires in (True, False):
        layer.zero_grad()
        xs = ts.tensor(x, requires_grad=requires)
        y, (h, c) = layer(xs)
        (y.sum() + (h * c).sum()).backward()
        grads.append({n: p.grad.numpy().copy() for n, p in layer.named_parameters()})
        assert (xs.grad is not None) == requires
    assert flags == [True, False]
    for name in grads[0]:
        np.testing.assert_allclose(grads[1][name], grads[0][name], rtol=1e-6 if dtype == np.float32 else 1e-13,
                                   atol=1e-6 if dtype == np.float32 else 1e-13, err_msg=name)


def test_input_grad_still_computed_when_asked_through_autograd_grad():
    # torch.autograd.grad with the input among the inputs: the input requires grad, dx is computed
    layer = nn.GRU(4, 6).double()
    x = ts.tensor(np.random.default_rng(5).standard_normal((5, 3, 4)), requires_grad=True)
    y, _ = layer(x)
    (gx,) = ts.autograd.grad(y.sum(), [x])
    assert gx.shape == x.shape and np.abs(gx.numpy()).sum() > 0
