"""nn.Module's hooks, apply, get_submodule/get_parameter, state_dict's keyword forms, buffers
kept out of the state dict, ParameterList/ParameterDict, and the error classes a PyTorch
program catches (RuntimeError), each against torch.nn."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn

torch = pytest.importorskip("torch")


class Net(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.rnn = lib.nn.GRU(3, 4)
        self.head = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(3, 4)
        self.head = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))


def test_apply_visits_children_first_then_self_as_torch():
    ours, theirs = [], []
    Net(ts).apply(lambda m: ours.append(type(m).__name__))
    TorchNet().apply(lambda m: theirs.append(type(m).__name__))
    assert ours == [n.replace("TorchNet", "Net") for n in theirs]


def test_apply_initialises_weights():
    net = Net(ts)

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)
    assert net.apply(init) is net
    assert np.all(net.head[0].weight.numpy() == 0.5) and np.all(net.head[2].bias.numpy() == 0)


def test_forward_hooks_see_and_replace_inputs_and_outputs():
    lin = nn.Linear(3, 2)
    seen = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    h2 = lin.register_forward_hook(lambda m, args, out: seen.append((args[0].numpy(), out.shape)) or out + 1)
    x = ts.ones(4, 3)
    out = lin(x)
    ref = (x * 2) @ lin.weight.T + lin.bias + 1
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(seen[0][0], np.full((4, 3), 2.0, np.float32))
    assert seen[0][1] == (4, 2)
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(lin(x).numpy(), (x @ lin.weight.T + lin.bias).numpy(), rtol=1e-6)
    assert len(seen) == 1


def test_a_hook_on_a_recurrent_layer_gets_its_output_tuple():
    gru = nn.GRU(3, 4)
    got = []
    with gru.register_forward_hook(lambda m, args, out: got.append(out[0].shape)):
        gru(ts.randn(5, 2, 3))
    gru(ts.randn(5, 2, 3))   # the handle's context ended: no longer called
    assert got == [(5, 2, 4)]


def test_get_submodule_and_get_parameter_as_torch():
    net = Net(ts)
    assert net.get_submodule("head.2") is net.head[2]
    assert net.get_submodule("") is net
    assert net.get_parameter("rnn.weight_hh_l0") is net.rnn.weight_hh_l0
    with pytest.raises(AttributeError, match="nope"):
        net.get_submodule("head.nope")
    with pytest.raises(AttributeError, match="bias_xx"):
        net.get_parameter("head.0.bias_xx")


def test_state_dict_keyword_forms_and_non_persistent_buffers():
    net, ref = Net(ts), TorchNet()
    net.register_buffer("steps", ts.zeros(1))
    net.register_buffer("scratch", ts.zeros(3), persistent=False)
    ref.register_buffer("steps", torch.zeros(1))
    ref.register_buffer("scratch", torch.zeros(3), persistent=False)
    assert list(net.state_dict()) == list(ref.state_dict())
    assert list(net.state_dict(prefix="model.")) == list(ref.state_dict(prefix="model."))
    kept = net.state_dict(keep_vars=True)
    assert kept["rnn.weight_ih_l0"] is net.rnn.weight_ih_l0
    dest = {}
    assert net.state_dict(destination=dest) is dest and "steps" in dest
    assert "scratch" in dict(net.named_buffers())
    net.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})   # scratch not expected
    assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"


def test_parameter_list_and_dict_register_their_parameters_as_torch():
    def holder(lib):
        class Holder(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.ws = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)) for _ in range(2)])
                self.named = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.zeros(4)),
                                                   "b": lib.nn.Parameter(lib.ones(1))})
        return Holder()
    ours, theirs = holder(ts), holder(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == 4
    ours.ws.append(ts.ones(5))
    assert ours.ws[-1].shape == (5,) and isinstance(ours.ws[-1], nn.Parameter) and len(ours.ws) == 3
    assert list(ours.named.keys()) == ["a", "b"] and ours.named["b"].shape == (1,)
    loss = sum((w * w).sum() for w in ours.ws) + ours.named["a"].sum()
    loss.backward()
    np.testing.assert_array_equal(ours.ws[0].grad.numpy(), np.full((2, 3), 2.0, np.float32))
    with pytest.raises(KeyError, match="'c'"):
        ours.named["c"]
    with pytest.raises(IndexError, match="out of range"):
        ours.ws[3]


@pytest.mark.parametrize("case", ["input_size", "hidden", "cell_input", "cell_hidden", "missing_key",
                                  "size_mismatch", "matmul", "broadcast"])
def test_errors_are_runtime_errors_as_in_torch(case):
    # torch raises RuntimeError here; ours are RuntimeError too (and the ValueError/KeyError they were)
    lstm, cell = nn.LSTM(3, 4), nn.LSTMCell(3, 4)
    t_lstm, t_cell = torch.nn.LSTM(3, 4), torch.nn.LSTMCell(3, 4)
    sd = {k: v.numpy() for k, v in t_lstm.state_dict().items()}
    bad_sd = dict(sd, weight_ih_l0=np.ones((3, 3), np.float32))
    calls = {
        "input_size": (lambda: lstm(ts.ones(2, 2, 5)), lambda: t_lstm(torch.ones(2, 2, 5))),
        "hidden": (lambda: lstm(ts.ones(2, 2, 3), (ts.ones(1, 3, 4), ts.ones(1, 3, 4))),
                   lambda: t_lstm(torch.ones(2, 2, 3), (torch.ones(1, 3, 4), torch.ones(1, 3, 4)))),
        "cell_input": (lambda: cell(ts.ones(2, 5)), lambda: t_cell(torch.ones(2, 5))),
        "cell_hidden": (lambda: cell(ts.ones(2, 3), (ts.ones(2, 5), ts.ones(2, 5))),
                        lambda: t_cell(torch.ones(2, 3), (torch.ones(2, 5), torch.ones(2, 5)))),
        "missing_key": (lambda: lstm.load_state_dict({}), lambda: t_lstm.load_state_dict({})),
        "size_mismatch": (lambda: lstm.load_state_dict(bad_sd),
                          lambda: t_lstm.load_state_dict({k: torch.from_numpy(v) for k, v in bad_sd.items()})),
        "matmul": (lambda: ts.ones(2, 3) @ ts.ones(4, 2), lambda: torch.ones(2, 3) @ torch.ones(4, 2)),
        "broadcast": (lambda: ts.ones(2, 3) + ts.ones(4, 3), lambda: torch.ones(2, 3) + torch.ones(4, 3)),
    }
    ours, theirs = calls[case]
    with pytest.raises(RuntimeError):
        theirs()
    with pytest.raises(RuntimeError) as err:
        ours()
    assert isinstance(err.value, (ValueError, KeyError))   # what callers caught before
    if case == "size_mismatch":
        assert "weight_ih_l0" in str(err.value) and "(3, 3)" in str(err.value) and "(16, 3)" in str(err.value)
    if case == "missing_key":
        assert "weight_ih_l0" in str(err.value) and not str(err.value).startswith("'")


def test_layer_dtype_mismatch_is_value_error_as_torch():
    with pytest.raises(ValueError):
        torch.nn.LSTM(3, 4)(torch.ones(2, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="float64"):
        nn.LSTM(3, 4)(ts.ones(2, 2, 3, dtype=ts.float64))


def test_state_dict_values_are_numpy_copies_that_take_torchs_calls():
    net, ref = Net(ts), TorchNet()
    sd, ref_sd = net.state_dict(), ref.state_dict()
    for k, v in sd.items():
        assert isinstance(v, np.ndarray)                      # API.md: numpy array copies
        assert v.size == ref_sd[k].numel() == v.numel()       # numpy's size is still the count
        assert v.size(0) == ref_sd[k].size(0) and tuple(v.size()) == tuple(ref_sd[k].size())
        assert v.dim() == ref_sd[k].dim()
    best = {k: v.cpu().clone() for k, v in sd.items()}        # the early-stopping snapshot idiom
    w = net.rnn.weight_ih_l0
    w.data.add_(1.0)                                          # training moves on ...
    assert not np.array_equal(best["rnn.weight_ih_l0"], w.numpy())
    net.load_state_dict(best)                                 # ... and the snapshot comes back
    np.testing.assert_array_equal(w.numpy(), sd["rnn.weight_ih_l0"])
    assert not hasattr(sd["rnn.weight_ih_l0"], "copy_")       # a copy: writing it would not reach the model
    assert repr(sd["head.0.bias"]).startswith("array(")
    assert sd["head.0.weight"].float().dtype == np.float32 and sd["head.0.weight"].double().dtype == np.float64
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})   # into torch unchanged
