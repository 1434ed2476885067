"""nn.DataParallel against torch.nn.DataParallel on a machine without a GPU (torch's CPU
behaviour: device_ids [], the module is just called): forward and every gradient, state dict keys
with the "module." prefix both ways, saving model.module.state_dict(), an LSTM model, repr,
parameters(); nn.parallel.data_parallel's error; and the one-GPU path on the cuda device."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402
from tinygrad_seq import nn, optim  # noqa: E402
from tinygrad_seq.nn import data_parallel as data_parallel_module  # noqa: E402


@pytest.fixture
def no_gpu(monkeypatch):
    """torch here has no GPU: our wrapper must take the same (CPU) path even under the simulator."""
    monkeypatch.setattr(data_parallel_module.cuda, "is_available", lambda: False)


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.Tanh(), lib.nn.Linear(7, 3))


def _copy_state(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


class _Tagger:
    """Embedding -> LSTM -> Linear, in torch or in tinygrad_seq (same parameter names)."""

    @staticmethod
    def build(lib):
        class Tagger(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = lib.nn.Embedding(11, 6)
                self.lstm = lib.nn.LSTM(6, 5, num_layers=2, batch_first=True)
                self.out = lib.nn.Linear(5, 4)

            def forward(self, tokens, scale=1.0):
                output, (h_n, c_n) = self.lstm(self.embed(tokens))
                return self.out(output) * scale, (h_n, c_n)
        return Tagger()


def test_cpu_attributes_and_repr_as_torch(no_gpu):
    inner, inner_t = _mlp(ts), _mlp(torch)
    ours, theirs = nn.DataParallel(inner, dim=1), torch.nn.DataParallel(inner_t, dim=1)
    assert ours.device_ids == theirs.device_ids == []
    assert ours.module is inner and ours.dim == 1
    assert repr(ours) == repr(theirs)
    assert nn.parallel.DataParallel is nn.DataParallel
    assert nn.DataParallel[nn.Linear] is not None   # Generic, as torch's
    assert list(ours.parameters()) == list(inner.parameters())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.children()) == [inner]


def test_forward_and_backward_match_torch(no_gpu):
    torch.manual_seed(0)
    theirs = torch.nn.DataParallel(_mlp(torch).double())
    ours = nn.DataParallel(_mlp(ts).double())
    _copy_state(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 5))
    results = []
    for model, lib in ((ours, ts), (theirs, torch)):
        xt = lib.tensor(x, requires_grad=True)
        y = model(xt)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in model.parameters()])
    for a, t in zip(*results):
        np.testing.assert_allclose(a, t, rtol=1e-12, atol=1e-14)


def test_state_dict_keys_both_ways(no_gpu):
    torch.manual_seed(1)
    theirs = torch.nn.DataParallel(_mlp(torch))
    ours = nn.DataParallel(_mlp(ts))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]
    _copy_state(ours, theirs)   # torch's prefixed keys into ours
    for (k, a), (_, t) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a, t.numpy(), err_msg=k)
    fresh = torch.nn.DataParallel(_mlp(torch))
    fresh.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})   # ours into torch
    for (k, a), (_, t) in zip(ours.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a, t.numpy(), err_msg=k)
    with pytest.raises((KeyError, RuntimeError), match="0.weight"):
        ours.load_state_dict(_mlp(torch).state_dict())   # unprefixed keys are not the wrapper's


def test_saving_the_wrapped_modules_state_dict(no_gpu, tmp_path):
    torch.manual_seed(2)
    ours = nn.DataParallel(_mlp(ts))
    bare = ours.module.state_dict()
    assert list(bare) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    path = tmp_path / "mlp.pt"
    ts.save(bare, path)
    plain_torch = _mlp(torch)
    plain_torch.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ts.load(path).items()})
    plain_ours = _mlp(ts)
    plain_ours.load_state_dict(ts.load(path))
    x = np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32)
    want = plain_torch(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(plain_ours(ts.tensor(x)).numpy(), want, rtol=1e-6, atol=1e-6)


def test_wrapped_lstm_model_matches_torch_and_trains_alike(no_gpu):
    torch.manual_seed(3)
    theirs = torch.nn.DataParallel(_Tagger.build(torch).double())
    ours = nn.DataParallel(_Tagger.build(ts).double())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_state(ours, theirs)
    tokens = np.random.default_rng(4).integers(0, 11, (3, 6))
    opt_ours, opt_theirs = optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(2):
        results = []
        for model, lib, opt in ((ours, ts, opt_ours), (theirs, torch, opt_theirs)):
            opt.zero_grad()
            logits, (h_n, c_n) = model(lib.tensor(tokens), scale=0.5)   # kwargs pass through
            (logits.sum() + (h_n * c_n).sum()).backward()
            results.append([logits.detach().numpy(), h_n.detach().numpy(), c_n.detach().numpy()]
                           + [p.grad.numpy() for p in model.parameters()])
            opt.step()
        for a, t in zip(*results):
            np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)
    for (k, a), (_, t) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a, t.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_train_eval_reach_the_wrapped_module(no_gpu):
    ours = nn.DataParallel(nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)))
    ours.eval()
    assert not ours.module.training and not ours.module[1].training
    x = ts.ones(2, 3)
    np.testing.assert_array_equal(ours(x).numpy(), ours.module(x).numpy())
    ours.train()
    assert ours.module[1].training


def test_functional_data_parallel_needs_a_gpu_as_torch(no_gpu):
    with pytest.raises(RuntimeError, match="device type could not be determined") as want:
        torch.nn.parallel.data_parallel(torch.nn.Linear(2, 3), torch.zeros(1, 2))
    with pytest.raises(RuntimeError) as got:
        nn.parallel.data_parallel(nn.Linear(2, 3), ts.zeros(1, 2))
    assert str(got.value) == str(want.value)


@pytest.mark.cuda
def test_one_gpu_path_moves_module_and_inputs_to_cuda():
    torch.manual_seed(5)
    reference = _Tagger.build(ts).double()
    model = _Tagger.build(ts).double()
    model.load_state_dict(reference.state_dict())
    wrapped = nn.DataParallel(model)
    assert wrapped.device_ids == [0] and wrapped.output_device == 0
    assert all(p.device == "cuda" for p in model.parameters())
    tokens = np.random.default_rng(6).integers(0, 11, (2, 4))
    logits, (h_n, _) = wrapped(ts.tensor(tokens), scale=0.5)
    assert logits.device == "cuda"
    want, (want_h, _) = reference(ts.tensor(tokens), scale=0.5)
    np.testing.assert_allclose(logits.numpy(), want.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), want_h.numpy(), rtol=1e-9, atol=1e-12)
    (logits.sum() + h_n.sum()).backward()
    (want.sum() + want_h.sum()).backward()
    for (k, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    x = ts.tensor(np.ones((2, 3)), requires_grad=True)   # a CPU input: the copy to cuda is differentiable
    linear = nn.DataParallel(nn.Linear(3, 2).double())
    linear(x).sum().backward()
    assert x.grad is not None and x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), np.tile(linear.module.weight.numpy().sum(0), (2, 1)))
    linear.module.to("cpu")
    with pytest.raises(RuntimeError, match=r"on device cuda:0 \(device_ids\[0\]\) but found one of them on "
                                           r"device: cpu"):
        linear(x)
    with pytest.raises(ValueError, match="one GPU"):
        nn.DataParallel(nn.Linear(3, 2), device_ids=[1])
    out = nn.parallel.data_parallel(nn.Linear(3, 2).double().to("cuda"), x)
    assert out.device == "cuda" and out.shape == (2, 2)


class _Nested(nn.Module):
    """Takes tensors inside a list, a dict and a plain value, as torch's scatter rebuilds them."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(ts.tensor([2.0], dtype=np.float64))

    def forward(self, pair, named=None, offset=0.0):
        assert isinstance(pair, list) and isinstance(named, dict)
        assert all(t.device == "cuda" for t in pair + list(named.values()))
        return (pair[0] * pair[1] + named["b"]) * self.scale + offset


@pytest.mark.cuda
def test_one_gpu_path_moves_tensors_inside_containers():
    a, b, c = (ts.tensor(np.full((2, 2), v), requires_grad=True) for v in (1.0, 3.0, 5.0))
    out = nn.DataParallel(_Nested())([a, b], named={"b": c}, offset=1.0)
    assert out.device == "cuda"
    np.testing.assert_allclose(out.numpy(), np.full((2, 2), 17.0))
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 2), 6.0))
    np.testing.assert_allclose(c.grad.numpy(), np.full((2, 2), 2.0))
