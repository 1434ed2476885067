"""nn.utils.parametrize, nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal) and
the old hook-based nn.utils.weight_norm / spectral_norm against torch 2.13: state-dict keys,
values and every gradient in float64, on Linear, Conv1d, Embedding and the fused recurrent
layers (a parametrized weight_hh_l0 recomputed every call)."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.nn.utils import parametrize, parametrizations

RNG = np.random.default_rng(0)


def _copy_state(torch_module, module):
    module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})


def _pair(make_ours, make_torch):
    """The same layer in both libraries, float64, with torch's values."""
    tm, m = make_torch().double(), make_ours().double()
    _copy_state(tm, m)
    return m, tm


def _run(m, tm, x, lib_in=None):
    """Forward + backward of a weighted sum of the output in both; compares the output and the
    gradient of every named parameter (same names in both)."""
    outs = []
    for lib, mod in ((ts, m), (torch, tm)):
        xt = lib.tensor(x) if lib_in is None else lib.tensor(x, dtype=lib_in(lib))
        y = mod(xt)
        y = y[0] if isinstance(y, tuple) else y
        w = lib.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)))
        mod.zero_grad()
        (y * w).sum().backward()
        outs.append((y.detach().numpy(), {k: p.grad.numpy() for k, p in mod.named_parameters()}))
    (y, g), (ty, tg) = outs
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)
    assert list(g) == list(tg)
    for k in g:
        np.testing.assert_allclose(g[k], tg[k], rtol=1e-9, atol=1e-11, err_msg=k)


LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5), None),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3), lambda: torch.nn.Conv1d(3, 4, 3), (2, 3, 7), None),
    "embedding": (lambda: nn.Embedding(6, 4), lambda: torch.nn.Embedding(6, 4), None, None),
}


def _input(shape):
    return RNG.integers(0, 6, (3, 2)) if shape is None else RNG.standard_normal(shape)


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm_layers(layer, dim):
    make, make_torch, shape, _ = LAYERS[layer]
    m, tm = _pair(make, make_torch)
    parametrizations.weight_norm(m, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert type(m).__name__ == type(tm).__name__ and parametrize.type_before_parametrizations(m) is type(make())
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[k], v.numpy(), rtol=1e-12, err_msg=k)
    _run(m, tm, _input(shape))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("kind", ["weight_norm", "orthogonal"])
def test_recurrent_weight_hh(cls, kind):
    m, tm = _pair(lambda: getattr(nn, cls)(3, 4), lambda: getattr(torch.nn, cls)(3, 4))
    if kind == "orthogonal":   # weight_hh [4H, H] is tall: the householder map
        parametrizations.orthogonal(m, "weight_hh_l0")
        torch.nn.utils.parametrizations.orthogonal(tm, "weight_hh_l0")
    else:
        parametrizations.weight_norm(m, "weight_hh_l0")
        torch.nn.utils.parametrizations.weight_norm(tm, "weight_hh_l0")
    assert list(m.state_dict()) == list(tm.state_dict())
    _copy_state(tm, m)   # the orthogonal base was completed with random columns: torch's
    x = RNG.standard_normal((5, 2, 3))
    _run(m, tm, x)
    # recomputed on every call: a change to the original changes the next output
    before = m(ts.tensor(x))[0].detach().numpy()
    with ts.no_grad():
        for p in m.parametrizations.weight_hh_l0.parameters():
            p.add_(ts.tensor(RNG.standard_normal(p.shape) * 0.3))
    assert not np.allclose(m(ts.tensor(x))[0].detach().numpy(), before)


@pytest.mark.parametrize("shape,orth_map,trivial", [
    ((4, 4), None, True), ((6, 3), None, True), ((3, 6), None, True), ((4, 4), "householder", True),
    ((6, 3), "matrix_exp", True), ((6, 3), "householder", False), ((3, 5), "householder", False)])
def test_orthogonal(shape, orth_map, trivial):
    m, tm = _pair(lambda: nn.Linear(shape[1], shape[0]), lambda: torch.nn.Linear(shape[1], shape[0]))
    parametrizations.orthogonal(m, orthogonal_map=orth_map, use_trivialization=trivial)
    torch.nn.utils.parametrizations.orthogonal(tm, orthogonal_map=orth_map, use_trivialization=trivial)
    assert list(m.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        if not k.endswith("base") or shape[0] == shape[1]:   # a tall base's extra columns are random
            np.testing.assert_allclose(m.state_dict()[k], v.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    _copy_state(tm, m)
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w, tm.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    _run(m, tm, RNG.standard_normal((2, shape[1])))
    with torch.no_grad(), ts.no_grad():   # away from the identity: the maps' nonlinear part
        delta = RNG.standard_normal(tuple(tm.parametrizations.weight.original.shape)) * 0.7
        tm.parametrizations.weight.original.add_(torch.tensor(delta))
        m.parametrizations.weight.original.add_(ts.tensor(delta))
    _run(m, tm, RNG.standard_normal((2, shape[1])))


def test_orthogonal_assign_and_errors():
    m, tm = _pair(lambda: nn.Linear(4, 4), lambda: torch.nn.Linear(4, 4))
    parametrizations.orthogonal(m)
    torch.nn.utils.parametrizations.orthogonal(tm)
    q = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
    m.weight = ts.tensor(q)
    tm.weight = torch.tensor(q)
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(m.weight.detach().numpy(), q, atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="Expected a matrix"):
        parametrizations.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        parametrizations.orthogonal(nn.Linear(3, 3), "nothing")


@pytest.mark.parametrize("layer", ["linear", "conv1d"])
def test_spectral_norm_train_and_eval(layer):
    make, make_torch, shape, _ = LAYERS[layer]
    m, tm = _pair(make, make_torch)
    parametrizations.spectral_norm(m, n_power_iterations=2)
    torch.nn.utils.parametrizations.spectral_norm(tm, n_power_iterations=2)
    assert list(m.state_dict()) == list(tm.state_dict())
    _copy_state(tm, m)   # u and v start random: torch's
    x = _input(shape)
    for train in (True, True, False):
        m.train(train), tm.train(train)
        _run(m, tm, x)   # each training call steps the power iteration (u, v in place)
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(m.state_dict()[k], v.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    sigma = np.linalg.svd(tm.parametrizations.weight.original.detach().numpy().reshape(shape[1] if layer == "linear"
                                                                                       else 4, -1).T)[1][0]
    assert sigma > 0   # the estimate converges to it: W / sigma has spectral norm ~1
    assert abs(np.linalg.svd(m.weight.detach().numpy().reshape(m.weight.shape[0], -1))[1][0] - 1) < 1e-2


def test_spectral_norm_rnn_and_errors():
    m, tm = _pair(lambda: nn.GRU(3, 4), lambda: torch.nn.GRU(3, 4))
    parametrizations.spectral_norm(m, "weight_hh_l0")
    torch.nn.utils.parametrizations.spectral_norm(tm, "weight_hh_l0")
    _copy_state(tm, m)
    m.eval(), tm.eval()
    _run(m, tm, RNG.standard_normal((4, 2, 3)))
    # in training torch's RNN reads the weight 4 times a call (RNNBase._update_flat_weights):
    # 4 power steps, here too (nn/rnn_weights.py)
    m.train(), tm.train()
    _run(m, tm, RNG.standard_normal((4, 2, 3)))
    sn, tsn = m.parametrizations.weight_hh_l0[0], tm.parametrizations.weight_hh_l0[0]
    np.testing.assert_allclose(sn._u.numpy(), tsn._u.numpy(), rtol=1e-12)
    np.testing.assert_allclose(sn._v.numpy(), tsn._v.numpy(), rtol=1e-12)
    assert m.parametrizations.weight_hh_l0.original.grad is not None
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(3, 3), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(3, 3), n_power_iterations=0)


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def forward(self, X):
        return 2 * X


class TorchSymmetric(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


def test_register_chain_assign_remove():
    m, tm = _pair(lambda: nn.Linear(3, 3), lambda: torch.nn.Linear(3, 3))
    original = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", TorchSymmetric())
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias") and not parametrize.is_parametrized(nn.Linear(2, 2))
    assert m.parametrizations.weight.original is original   # the same Parameter (an optimizer's)
    assert "weight" not in dict(m.named_parameters())
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy())
    _run(m, tm, RNG.standard_normal((2, 3)))
    a = RNG.standard_normal((3, 3))
    m.weight = ts.tensor(a + a.T)   # right_inverse: the original becomes triu(A)
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(), np.triu(a + a.T))
    parametrize.register_parametrization(m, "weight", Scale(), unsafe=True)
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * (a + a.T))
    with parametrize.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = ts.tensor(a)
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is original and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * (a + a.T))
    assert list(m.state_dict()) == ["bias", "weight"]   # re-registered last, as torch's


def test_remove_leave_unparametrized_and_tuple():
    m = nn.Linear(3, 2)
    w = m.weight.detach().numpy().copy()
    parametrizations.weight_norm(m)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(m.weight.detach().numpy(), w, rtol=1e-6)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    kept = m.parametrizations.weight.original.detach().numpy().copy()
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m.weight.detach().numpy(), kept)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")


def test_register_errors_copy_and_pickle():
    m = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(m, "nothing", Symmetric())

    class Cut(nn.Module):
        def forward(self, X):
            return X[:2]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", Cut())
    assert not parametrize.is_parametrized(m) and isinstance(m.weight, nn.Parameter)
    parametrize.register_parametrization(m, "weight", Symmetric())
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", Cut())
    with pytest.raises(KeyError, match="already exists"):
        m.weight = nn.Parameter(ts.zeros(3, 3))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    np.testing.assert_allclose(c.weight.detach().numpy(), m.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules"):
        pickle.dumps(m)
    # a buffer can be parametrized too, and its state dict keeps torch's key
    bn = nn.Linear(2, 2)
    bn.register_buffer("scale", ts.ones(2))
    parametrize.register_parametrization(bn, "scale", Scale(), unsafe=True)
    assert "parametrizations.scale.original" in bn.state_dict()


def test_weight_norm_old_api():
    m, tm = _pair(lambda: nn.Conv1d(3, 4, 3), lambda: torch.nn.Conv1d(3, 4, 3))
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["bias", "weight_g", "weight_v"]
    _run(m, tm, RNG.standard_normal((2, 3, 6)))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)
    # an old checkpoint loads into the new API's module
    old = nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(old)
    new = parametrizations.weight_norm(nn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.detach().numpy(), old.weight.detach().numpy(), rtol=1e-6)


def test_spectral_norm_old_api():
    m, tm = _pair(lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3))
    nn.utils.spectral_norm(m)
    torch.nn.utils.spectral_norm(tm)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert m.state_dict()._metadata[""]["spectral_norm"] == {"weight.version": 1}
    _copy_state(tm, m)
    x = RNG.standard_normal((4, 5))
    for train in (True, True, False):
        m.train(train), tm.train(train)
        _run(m, tm, x)
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(m.state_dict()[k], v.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    nn.utils.remove_spectral_norm(m)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-10)
    assert not m._state_dict_hooks and not m._load_state_dict_pre_hooks
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(m)


def test_lstm_old_weight_norm_and_gradcheck():
    m, tm = _pair(lambda: nn.LSTM(3, 4), lambda: torch.nn.LSTM(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m, "weight_hh_l0")
        torch.nn.utils.weight_norm(tm, "weight_hh_l0")
    assert list(m.state_dict()) == list(tm.state_dict())
    _run(m, tm, RNG.standard_normal((5, 2, 3)))
    a = ts.tensor(RNG.standard_normal((4, 4)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda t: ts.linalg.matrix_exp(t - t.mT), (a,))
    v = ts.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    tau = ts.tensor(RNG.uniform(0.5, 1.5, 3), requires_grad=True)
    assert ts.autograd.gradcheck(ts.linalg.householder_product, (v, tau))


def test_recurrent_layer_lists_and_redraws_a_parametrized_weight():
    # _flat_weights / all_weights list the computed weight, reset_parameters redraws the originals
    m = ts.nn.LSTM(4, 5, num_layers=2)
    parametrizations.weight_norm(m, "weight_hh_l0")
    assert m._flat_weights_names == torch.nn.LSTM(4, 5, num_layers=2)._flat_weights_names
    assert [tuple(w.shape) for w in m._flat_weights] == [(20, 4), (20, 5), (20,), (20,), (20, 5), (20, 5), (20,), (20,)]
    assert m.all_weights[0][1].shape == (20, 5)
    before = m.parametrizations.weight_hh_l0.original1.detach().numpy().copy()
    m.reset_parameters()
    after = m.parametrizations.weight_hh_l0.original1.detach().numpy()
    assert not np.allclose(before, after) and np.abs(after).max() <= 1 / np.sqrt(5)


def test_orthogonal_cayley_matches_torch():
    rng = np.random.RandomState(0)
    mt = torch.nn.Linear(4, 4).double()
    torch.nn.utils.parametrizations.orthogonal(mt, orthogonal_map="cayley")
    ms = nn.Linear(4, 4).double()
    parametrizations.orthogonal(ms, orthogonal_map="cayley")
    ms.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    x = rng.randn(3, 4)
    yt, ys = mt(torch.tensor(x)), ms(ts.tensor(x))
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (yt ** 2).sum().backward()
    (ys ** 2).sum().backward()
    np.testing.assert_allclose(ms.parametrizations.weight.original.grad.numpy(),
                               mt.parametrizations.weight.original.grad.numpy(), rtol=1e-9, atol=1e-12)
    w = ms.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-12)


def test_matrix_exp_batched_with_gradient_matches_torch():
    a = np.random.RandomState(1).randn(3, 5, 5)
    got = []
    for L in (ts, torch):
        A = L.tensor(a, requires_grad=True)
        (L.linalg.matrix_exp(A) ** 2).sum().backward()
        got.append((L.matrix_exp(A.detach()).numpy(), A.detach().matrix_exp().numpy(), A.grad.numpy()))
    for p, q in zip(*got):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-10)
