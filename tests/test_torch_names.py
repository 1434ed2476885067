"""torch names that tutorial and blog programs use, added after an audit (2026-12-03), each
against torch: values, shapes and gradients."""
import copy
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

X = np.random.default_rng(0).standard_normal((2, 5))
CALLS = {
    "logsumexp": (lambda t: t.logsumexp(1), lambda t: t.logsumexp(1)),
    "logsumexp_fn_keepdim": (lambda t: ts.logsumexp(t, dim=0, keepdim=True),
                             lambda t: torch.logsumexp(t, dim=0, keepdim=True)),
    "clamp_min": (lambda t: t.clamp_min(0.1), lambda t: t.clamp_min(0.1)),
    "clamp_max_fn": (lambda t: ts.clamp_max(t, 0.2), lambda t: torch.clamp_max(t, 0.2)),
    "unfold": (lambda t: t.unfold(1, 2, 2), lambda t: t.unfold(1, 2, 2)),
    "unfold_overlapping": (lambda t: t.unfold(1, 3, 1), lambda t: t.unfold(1, 3, 1)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "hstack": (lambda t: ts.hstack([t, t]), lambda t: torch.hstack([t, t])),
    "vstack": (lambda t: ts.vstack([t[0], t]), lambda t: torch.vstack([t[0], t])),
    "dot": (lambda t: t[0].dot(t[1]), lambda t: t[0].dot(t[1])),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_added_names_match_torch(name):
    ours_fn, torch_fn = CALLS[name]
    a, b = ts.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    oa, ob = ours_fn(a), torch_fn(b)
    assert tuple(oa.shape) == tuple(ob.shape)
    np.testing.assert_allclose(oa.detach().numpy(), ob.detach().numpy(), rtol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(ob.shape))
    (oa * ts.tensor(w)).sum().backward()
    (ob * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_small_names():
    assert ts.bincount(ts.tensor([0, 1, 1, 3])).tolist() == torch.bincount(torch.tensor([0, 1, 1, 3])).tolist()
    assert ts.ones(2, 3).nonzero().shape == tuple(torch.ones(2, 3).nonzero().shape)
    assert ts.argwhere(ts.eye(3)).tolist() == torch.argwhere(torch.eye(3)).tolist()
    assert ts.ones(2, 3).ndimension() == 2
    x = ts.tensor([3.0, 1.0])
    assert x.clamp_min_(2.0) is x and x.tolist() == [3.0, 2.0]
    assert ts.tensor([-np.inf, -np.inf]).logsumexp(0).item() == -np.inf
    assert ts.tensor([1.0, 2.0, 3.0]).clamp(min=np.float64(1.5)).dtype == np.float32   # numpy bounds are numbers
    nn_lstm, torch_lstm = ts.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2), \
        torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    assert [[p.shape for p in group] for group in nn_lstm.all_weights] == \
        [[tuple(p.shape) for p in group] for group in torch_lstm.all_weights]


def test_tensor_of_sizes_is_torchs_legacy_form():
    for sizes in [(2, 3), (5, 0), (2, 3, 4)]:
        ours, theirs = ts.Tensor(*sizes), torch.Tensor(*sizes)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
    assert ts.nn.Parameter(ts.Tensor(4, 3)).shape == (4, 3)
    assert ts.Tensor([1.0, 2.0], True).requires_grad   # the data form is API.md's
    assert ts.Tensor(3).shape == ()                     # one int is data (API.md), not a size


def test_in_place_shape_ops_outside_the_graph():
    for name, args in [("unsqueeze_", (-1,)), ("t_", ()), ("transpose_", (0, 1)), ("squeeze_", ())]:
        ours, theirs = ts.ones(2, 1, 3)[:, 0], torch.ones(2, 1, 3)[:, 0]
        assert getattr(ours, name)(*args) is ours
        getattr(theirs, name)(*args)
        assert ours.shape == tuple(theirs.shape)
    x = ts.ones(2, requires_grad=True)   # a leaf that requires grad: torch's error
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.unsqueeze_(0)


def test_deepcopy_of_leaves_and_not_of_graph_values():
    x = ts.ones(2, requires_grad=True)
    (x * 3).sum().backward()
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(torch.ones(2, requires_grad=True) * 2)   # torch's too


def test_legacy_autograd_and_process_settings():
    from tinygrad_seq.autograd import Variable
    v = Variable(ts.ones(2), requires_grad=True)
    assert v.requires_grad
    with ts.autograd.set_detect_anomaly(True) as anomaly:   # accepted, a context manager as torch's
        assert anomaly.mode is True
    ts.use_deterministic_algorithms(True)
    assert ts.are_deterministic_algorithms_enabled()
    ts.use_deterministic_algorithms(False)
    ts.set_default_device("cpu")
    assert ts.get_default_device() == "cpu"
    with pytest.raises(NotImplementedError, match="device="):
        ts.set_default_device("cuda")
    from tinygrad_seq.tensor_repr import PRINT_OPTIONS
    before, numpy_before = dict(PRINT_OPTIONS), np.get_printoptions()
    try:
        ts.set_printoptions(precision=2)
        assert repr(ts.tensor([1.23456])) == "tensor([1.23])"   # as torch prints it
        assert np.get_printoptions() == numpy_before                            # numpy's own are left alone
    finally:
        PRINT_OPTIONS.clear()
        PRINT_OPTIONS.update(before)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.logsigmoid(ts.tensor([-1000.0, 1000.0])).tolist() == [-1000.0, 0.0]


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_a_deep_copied_layer_runs_the_same_kernel_bit_for_bit(cls, monkeypatch):
    # the copy shares its CellSpec: a copied spec was a new cell to the kernel registry, which
    # ran the generated kernel (a first compile, and results 1 ulp apart) instead of the hand-written
    from tinygrad_seq import recurrent

    ts.manual_seed(0)
    layer = getattr(ts.nn, cls)(4, 8, batch_first=True)
    twin = copy.deepcopy(layer)
    assert twin.cell_spec is layer.cell_spec and twin.weight_ih_l0 is not layer.weight_ih_l0
    used = []
    monkeypatch.setattr(recurrent.CellFunction, "apply", classmethod(lambda c, *a, **k: used.append(1)))
    x = ts.randn(3, 5, 4)
    np.testing.assert_array_equal(twin(x)[0].numpy(), layer(x)[0].numpy())
    assert used == []
