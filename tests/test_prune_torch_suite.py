"""nn.utils.prune, ported from PyTorch's test/nn/test_pruning.py: each case runs on torch 2.13
and on tinygrad_seq in the same process (fixture `lib`: (the library, its prune module)). Also:
random masks equal torch's after the same manual_seed, torch's error messages, state_dict keys
loaded across, and pruned recurrent layers (LSTM / GRU / RNN weight_hh_l0 ...) trained a few SGD
steps side by side with torch from the same state_dict and mask: the fused layers read the
recomputed attribute, and the gradients reach <name>_orig as torch's."""
import pickle
from unittest import mock

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.utils.prune as ts_prune

torch = pytest.importorskip("torch")
import torch.nn.utils.prune as torch_prune  # noqa: E402


@pytest.fixture(params=["torch", "ts"])
def lib(request):
    return (torch, torch_prune) if request.param == "torch" else (ts, ts_prune)


def arr(t):
    return np.asarray(t.detach().tolist(), dtype=np.float64)


def same(a, b):
    np.testing.assert_allclose(arr(a), arr(b), rtol=0, atol=0)


def modules(T):
    """The layers the pruning tests run on (torch's use Linear and Conv3d)."""
    return [T.nn.Linear(5, 7), T.nn.Conv1d(2, 3, 2), T.nn.Embedding(6, 4)]


def names_of(m):
    return ["weight", "bias"] if getattr(m, "bias", None) is not None else ["weight"]


def raised(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001  (compared with torch's)
        return type(e).__name__, str(e)
    return None


# ---------------------------------------------------------------- amount helpers
def test_validate_pruning_amount_init(lib):
    _, P = lib
    for bad, err in [("I'm a string", TypeError), (1.1, ValueError), (20.0, ValueError), (-10, ValueError)]:
        with pytest.raises(err):
            P._validate_pruning_amount_init(amount=bad)
    for ok in [0.34, 1500, 0, 0.0, 1, 1.0, np.float32(0.5), np.int64(3)]:
        P._validate_pruning_amount_init(amount=ok)


def test_amount_errors_match_torch():
    for bad in ["x", 1.1, -1, None, [0.5]]:
        assert raised(lambda: ts_prune.L1Unstructured(bad)) == raised(lambda: torch_prune.L1Unstructured(bad))
    assert raised(lambda: ts_prune._validate_pruning_amount(20, 19)) == \
        raised(lambda: torch_prune._validate_pruning_amount(20, 19))


def test_validate_pruning_amount(lib):
    _, P = lib
    with pytest.raises(ValueError):
        P._validate_pruning_amount(amount=20, tensor_size=19)
    P._validate_pruning_amount(amount=0.3, tensor_size=0)
    P._validate_pruning_amount(amount=19, tensor_size=20)
    P._validate_pruning_amount(amount=0, tensor_size=0)
    P._validate_pruning_amount(amount=1, tensor_size=1)


def test_compute_nparams_to_prune(lib):
    _, P = lib
    assert P._compute_nparams_toprune(amount=0, tensor_size=15) == 0
    assert P._compute_nparams_toprune(amount=10, tensor_size=15) == 10
    assert P._compute_nparams_toprune(amount=1, tensor_size=15) == 1
    assert P._compute_nparams_toprune(amount=1.0, tensor_size=15) == 15
    assert P._compute_nparams_toprune(amount=0.4, tensor_size=17) == 7
    assert P._compute_nparams_toprune(amount=0.5, tensor_size=5) == 2   # round half to even


# ---------------------------------------------------------------- reparametrization
def test_random_pruning_sizes_orig_and_new_weight(lib):
    T, P = lib
    for m in modules(T):
        for name in names_of(m):
            original = getattr(m, name)
            P.random_unstructured(m, name=name, amount=0.1)
            assert getattr(m, name + "_mask").shape == original.shape
            assert getattr(m, name + "_orig") is original
            same(getattr(m, name), getattr(m, name + "_orig") * getattr(m, name + "_mask").to(dtype=original.dtype))
            assert not isinstance(getattr(m, name), T.nn.Parameter)


def test_identity_pruning(lib):
    T, P = lib
    x = T.ones(1, 5)
    m = T.nn.Linear(5, 2)
    y_before = m(x)
    y_before.sum().backward()
    old_grad_weight, old_grad_bias = m.weight.grad.clone(), m.bias.grad.clone()
    same(old_grad_weight, T.ones_like(m.weight))
    m.zero_grad()
    P.identity(m, name="weight")
    same(m.weight_mask, T.ones(2, 5))
    y_after = m(x)
    same(y_before, y_after)
    y_after.sum().backward()
    same(old_grad_weight, m.weight_orig.grad)
    same(old_grad_bias, m.bias.grad)
    same(m(x), m(x))


def _mocked_prune(P, m, mask, amount=0.9):
    with mock.patch.object(P.RandomUnstructured, "compute_mask") as compute_mask:
        compute_mask.return_value = mask
        P.random_unstructured(m, name="weight", amount=amount)


def test_random_pruning_0perc(lib):
    T, P = lib
    x = T.ones(1, 5)
    m = T.nn.Linear(5, 2)
    y_before = m(x)
    y_before.sum().backward()
    old_grad_weight = m.weight.grad.clone()
    m.zero_grad()
    _mocked_prune(P, m, T.ones_like(m.weight))
    y_after = m(x)
    same(y_before, y_after)
    y_after.sum().backward()
    same(old_grad_weight, m.weight_orig.grad)


def test_random_pruning_grad_and_update(lib):
    T, P = lib
    m = T.nn.Linear(5, 2)
    mask = T.ones_like(m.weight)
    mask[1, 0] = 0
    mask[0, 3] = 0
    _mocked_prune(P, m, mask)
    m(T.ones(1, 5)).sum().backward()
    same(m.weight_orig.grad, mask)
    same(m.bias.grad, T.ones_like(m.bias))
    old = m.weight_orig.clone()
    for p in m.parameters():
        p.data.sub_(p.grad.data * 1.0)
    assert old[1, 0].item() == m.weight_orig[1, 0].item() and old[0, 3].item() == m.weight_orig[0, 3].item()


def test_random_pruning_forward_and_remove(lib):
    T, P = lib
    m = T.nn.Linear(5, 2)
    mask = T.zeros_like(m.weight)
    mask[1, 0] = 1
    mask[0, 3] = 1
    _mocked_prune(P, m, mask)
    y = m(T.ones(1, 5))
    assert y[0, 0].item() == pytest.approx((m.weight_orig[0, 3] + m.bias[0]).item(), abs=1e-6)
    assert y[0, 1].item() == pytest.approx((m.weight_orig[1, 0] + m.bias[1]).item(), abs=1e-6)
    P.remove(m, "weight")
    same(y, m(T.ones(1, 5)))


def test_pruning_id_consistency(lib):
    T, P = lib
    m = T.nn.Linear(5, 2, bias=False)
    tensor_id = id(next(iter(m.parameters())))
    P.random_unstructured(m, name="weight", amount=0.9)
    assert id(next(iter(m.parameters()))) == tensor_id
    P.remove(m, "weight")
    assert id(next(iter(m.parameters()))) == tensor_id


def test_random_pruning_pickle(lib):
    T, P = lib
    for m in modules(T):
        for name in names_of(m):
            P.random_unstructured(m, name=name, amount=0.1)
            m_new = pickle.loads(pickle.dumps(m))
            assert isinstance(m_new, type(m)) and P.is_pruned(m_new)
            same(getattr(m_new, name), getattr(m, name))


def test_multiple_pruning_calls(lib):
    T, P = lib
    m = T.nn.Conv2d(2, 2, 2)
    P.l1_unstructured(m, name="weight", amount=0.1)
    first_mask = m.weight_mask
    P.ln_structured(m, name="weight", amount=0.3, n=2, dim=0)
    hooks = list(m._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], P.PruningContainer)
    hook = hooks[0]
    assert hook._tensor_name == "weight" and len(hook) == 2
    assert isinstance(hook[0], P.L1Unstructured) and isinstance(hook[1], P.LnStructured)
    assert bool(T.all(m.weight_mask[first_mask == 0] == 0))
    P.ln_structured(m, name="weight", amount=0.1, n=float("inf"), dim=1)
    hook = next(iter(m._forward_pre_hooks.values()))
    assert hook._tensor_name == "weight" and len(hook) == 3


def test_pruning_container(lib):
    _, P = lib
    container = P.PruningContainer()
    container._tensor_name = "test"
    assert len(container) == 0
    p = P.L1Unstructured(amount=2)
    p._tensor_name = "test"
    container.add_pruning_method(p)
    q = P.L1Unstructured(amount=2)
    q._tensor_name = "another_test"
    with pytest.raises(ValueError):
        container.add_pruning_method(q)
    with pytest.raises(TypeError):
        container.add_pruning_method(10)
    with pytest.raises(TypeError):
        container.add_pruning_method("ugh")
    assert list(container) == [p]


def test_pruning_container_compute_mask(lib):
    T, P = lib
    container = P.PruningContainer()
    container._tensor_name = "test"
    t = T.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]).to(dtype=T.float32)
    default_mask = T.tensor([[1, 1, 1, 0], [1, 1, 0, 1]])
    expected = [[[0, 0, 1, 0], [1, 1, 0, 1]], [[0, 0, 0, 0], [1, 1, 0, 1]], [[0, 1, 1, 0], [0, 1, 0, 1]]]
    methods = [P.L1Unstructured(amount=2), P.LnStructured(amount=1, n=2, dim=0), P.LnStructured(amount=1, n=2, dim=1)]
    for method, want in zip(methods, expected):
        method._tensor_name = "test"
        container.add_pruning_method(method)
        got = container.compute_mask(t, default_mask)
        assert got.dtype == T.float32
        same(got, T.tensor(want))


def test_container_errors_match_torch():
    def unknown_type(P, T):
        class Odd(P.BasePruningMethod):
            PRUNING_TYPE = "sideways"

            def compute_mask(self, t, default_mask):
                return default_mask
        c = P.PruningContainer()
        c._tensor_name = Odd._tensor_name = "w"
        c.add_pruning_method(Odd())
        return c.compute_mask(T.ones(2, 2), T.ones(2, 2))

    def structured_without_dim(P, T):
        class NoDim(P.BasePruningMethod):
            PRUNING_TYPE = "structured"

            def compute_mask(self, t, default_mask):
                return default_mask
        c = P.PruningContainer()
        c._tensor_name = NoDim._tensor_name = "w"
        c.add_pruning_method(NoDim())
        return c.compute_mask(T.ones(2, 2), T.ones(2, 2))

    def global_structured(P, T):
        m = T.nn.Linear(2, 2)
        P.global_unstructured([(m, "weight")], P.LnStructured, amount=1, n=2)

    for case in (unknown_type, structured_without_dim, global_structured,
                 lambda P, T: P.global_unstructured(3, P.L1Unstructured, amount=1),
                 lambda P, T: P.global_unstructured([], P.L1Unstructured, importance_scores=[1], amount=1),
                 lambda P, T: P.PruningContainer(P.L1Unstructured(1))):
        want = raised(lambda: case(torch_prune, torch))
        got = raised(lambda: case(ts_prune, ts))
        assert want is not None and (got[0], got[1].replace("tinygrad_seq", "torch")) == want


# ---------------------------------------------------------------- the methods by hand
def _linear_with_weight(T, values):
    m = T.nn.Linear(len(values[0]), len(values))
    m.weight = T.nn.Parameter(T.tensor(values, dtype=T.float32))
    return m


def test_l1_unstructured_pruning(lib):
    T, P = lib
    m = _linear_with_weight(T, [[1, 2, 3, 4], [-4, -3, -2, -1]])
    P.l1_unstructured(m, "weight", amount=2)
    same(m.weight, T.tensor([[0, 2, 3, 4], [-4, -3, -2, 0]]))
    P.l1_unstructured(m, "weight", amount=2)
    same(m.weight, T.tensor([[0, 0, 3, 4], [-4, -3, 0, 0]]))


def test_l1_unstructured_pruning_with_importance_scores(lib):
    T, P = lib
    m = _linear_with_weight(T, [[1, 2, 3, 4], [-4, -3, -2, -1]])
    scores = T.tensor([[4, 2, 1, 3], [-3, -1, -2, -4]], dtype=T.float32)
    P.l1_unstructured(m, "weight", amount=2, importance_scores=scores)
    same(m.weight, T.tensor([[1, 2, 0, 4], [-4, 0, -2, -1]]))
    P.l1_unstructured(m, "weight", amount=2, importance_scores=scores)
    same(m.weight, T.tensor([[1, 0, 0, 4], [-4, 0, 0, -1]]))


def test_unstructured_pruning_same_magnitude(lib):
    T, P = lib
    p = P.L1Unstructured(amount=0.2)
    t = 2 * T.randint(low=-1, high=2, size=(10, 7))
    k = P._compute_nparams_toprune(0.2, t.nelement())
    assert int(T.sum(p.compute_mask(t, default_mask=T.ones_like(t)) == 0)) == k


def test_random_structured_pruning_amount(lib):
    T, P = lib
    p = P.RandomStructured(amount=0.6, dim=2)
    t = 2 * T.randint(low=-1, high=2, size=(5, 4, 2)).to(dtype=T.float32)
    mask = p.compute_mask(t, default_mask=T.ones_like(t))
    assert sorted(T.sum(mask == 0, dim=[0, 1]).tolist()) == [0, 20]


def _conv_3_channels(T):
    m = T.nn.Conv2d(3, 1, 2)
    m.weight.data = T.tensor([[[[1.0, 2.0], [1.0, 2.5]], [[0.5, 1.0], [0.1, 0.1]], [[-3.0, -5.0], [0.1, -1.0]]]])
    return m


def test_ln_structured_pruning(lib):
    T, P = lib
    m = _conv_3_channels(T)
    expected = T.ones_like(m.weight)
    expected[:, 1] = 0.0
    P.ln_structured(m, "weight", amount=1, n=2, dim=1)
    same(m.weight_mask, expected)
    expected[:, :, :, 0] = 0.0
    P.ln_structured(m, "weight", amount=1, n=1, dim=-1)
    same(m.weight_mask, expected)


def test_ln_structured_pruning_importance_scores(lib):
    T, P = lib
    m = _conv_3_channels(T)
    scores = T.tensor([[[[10.0, 1.0], [10.0, 1.0]], [[30.0, 3.0], [30.0, 3.0]], [[-20.0, -2.0], [-20.0, -2.0]]]])
    expected = T.ones_like(m.weight)
    expected[:, 0] = 0.0
    P.ln_structured(m, "weight", amount=1, n=2, dim=1, importance_scores=scores)
    same(m.weight_mask, expected)
    expected[:, :, :, 1] = 0.0
    P.ln_structured(m, "weight", amount=1, n=1, dim=-1, importance_scores=scores)
    same(m.weight_mask, expected)


@pytest.mark.parametrize("n", [1, 2, 3.5, float("inf"), float("-inf"), "fro"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("amount", [0, 1, 0.5, 1.0])
def test_ln_structured_masks_match_torch(n, dim, amount):
    w = np.random.default_rng(7).standard_normal((4, 3, 5)).astype(np.float32)
    masks = []
    for T, P in ((torch, torch_prune), (ts, ts_prune)):
        m = T.nn.Conv1d(3, 4, 5)
        m.weight.data = T.tensor(w)
        P.ln_structured(m, "weight", amount=amount, n=n, dim=dim)
        masks.append(arr(m.weight_mask))
    np.testing.assert_array_equal(masks[1], masks[0])


def test_structured_errors_match_torch():
    cases = [lambda P, T: P.random_structured(T.nn.Linear(2, 3), "bias", 1, 0),
             lambda P, T: P.ln_structured(T.nn.Linear(2, 3), "weight", 1, 2, dim=2),
             lambda P, T: P.ln_structured(T.nn.Linear(2, 3), "weight", 4, 2, dim=0),
             lambda P, T: P.l1_unstructured(T.nn.Linear(2, 3), "bias", 5),
             lambda P, T: P.l1_unstructured(T.nn.Linear(2, 3), "bias", 1, importance_scores=T.ones(4)),
             lambda P, T: P.L1Unstructured(1).prune(T.ones(3), importance_scores=T.ones(2)),
             lambda P, T: P.CustomFromMask(T.ones(2)).compute_mask(T.ones(3), T.ones(3)),
             lambda P, T: P.l1_unstructured(T.nn.Linear(2, 3), "nothing", 1)]
    for case in cases:
        want = raised(lambda: case(torch_prune, torch))
        assert want is not None
        got = raised(lambda: case(ts_prune, ts))
        assert got[0] == want[0]
        if want[0] != "AttributeError":   # the module's name differs in an AttributeError
            assert got[1].replace("tinygrad_seq", "torch") == want[1]


def test_remove_pruning(lib):
    T, P = lib
    for m in modules(T):
        for name in names_of(m):
            P.random_unstructured(m, name, amount=0.5)
            assert name + "_orig" in dict(m.named_parameters())
            assert name + "_mask" in dict(m.named_buffers())
            assert name not in dict(m.named_parameters()) and hasattr(m, name)
            pruned = getattr(m, name)
            P.remove(m, name)
            assert name in dict(m.named_parameters())
            assert name + "_orig" not in dict(m.named_parameters())
            assert name + "_mask" not in dict(m.named_buffers())
            same(pruned, getattr(m, name))
            assert isinstance(getattr(m, name), T.nn.Parameter)
        assert not P.is_pruned(m) and len(m._forward_pre_hooks) == 0


def test_remove_pruning_exception(lib):
    T, P = lib
    for m in modules(T):
        for name in names_of(m):
            assert not P.is_pruned(m)
            with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
                P.remove(m, name)


def test_is_pruned_sees_submodules(lib):
    T, P = lib
    net = T.nn.Sequential(T.nn.Linear(3, 3), T.nn.Sequential(T.nn.ReLU(), T.nn.Linear(3, 1)))
    assert not P.is_pruned(net)
    P.identity(net[1][1], "bias")
    assert P.is_pruned(net) and not P.is_pruned(net[0])


def _global_pair(T):
    m = _linear_with_weight(T, [[1, 2, 3, 4], [-4, -3, -2, -1]])
    n = _linear_with_weight(T, [[0, 0.1, -2]])
    return m, n


def test_global_pruning(lib):
    T, P = lib
    m, n = _global_pair(T)
    P.global_unstructured(((m, "weight"), (n, "weight")), pruning_method=P.L1Unstructured, amount=4)
    same(m.weight, T.tensor([[0, 2, 3, 4], [-4, -3, -2, 0]]))
    same(n.weight, T.tensor([[0, 0, -2]]))


def test_global_pruning_importance_scores(lib):
    T, P = lib
    m, n = _global_pair(T)
    scores = {(m, "weight"): T.tensor([[4, 2, 1, 3], [-3, -1, -2, -4]], dtype=T.float32),
              (n, "weight"): T.tensor([[0, 10.0, -0.2]])}
    P.global_unstructured(((m, "weight"), (n, "weight")), pruning_method=P.L1Unstructured, amount=4,
                          importance_scores=scores)
    same(m.weight, T.tensor([[1, 2, 0, 4], [-4, 0, -2, -1]]))
    same(n.weight, T.tensor([[0, 0.1, 0]]))


def test_global_pruning_respects_earlier_masks(lib):
    T, P = lib
    m, n = _global_pair(T)
    P.l1_unstructured(m, "weight", amount=2)   # the two 1s
    P.global_unstructured([(m, "weight"), (n, "weight")], P.L1Unstructured, amount=0.5)
    same(m.weight_mask, T.tensor([[0, 0, 1, 1], [1, 1, 0, 0]]))
    same(n.weight_mask, T.tensor([[0, 0, 1]]))
    assert isinstance(next(iter(m._forward_pre_hooks.values())), P.PruningContainer)


def test_custom_from_mask_pruning(lib):
    T, P = lib
    mask = T.tensor([[0, 1, 1, 0], [0, 0, 1, 1]])
    default_mask = T.tensor([[0, 0, 0, 0], [1, 1, 1, 1]])
    t = T.rand_like(mask.to(dtype=T.float32))
    got = P.CustomFromMask(mask=mask).compute_mask(t, default_mask)
    assert got.dtype == default_mask.dtype
    same(got, T.tensor([[0, 0, 0, 0], [0, 0, 1, 1]]))
    m = P.custom_from_mask(T.nn.Linear(5, 3), name="bias", mask=T.tensor([0, 1, 0]))
    same(m.bias_mask, T.tensor([0.0, 1.0, 0.0]))
    assert m.bias_mask.dtype == T.float32


def test_pruning_rollback(lib):
    T, P = lib
    for m in modules(T):
        for name in names_of(m):
            order = list(m.state_dict())
            with mock.patch.object(P.L1Unstructured, "compute_mask") as compute_mask:
                compute_mask.side_effect = Exception("HA!")
                with pytest.raises(Exception, match="HA!"):
                    P.l1_unstructured(m, name=name, amount=0.9)
            assert name in dict(m.named_parameters())
            assert name + "_mask" not in dict(m.named_buffers())
            assert name + "_orig" not in dict(m.named_parameters())
            assert sorted(m.state_dict()) == sorted(order)


def test_pruning_serialization_model(lib, tmp_path):
    T, P = lib
    model = T.nn.Sequential(T.nn.Linear(10, 10), T.nn.ReLU(), T.nn.Linear(10, 1))
    assert "0.weight" in model.state_dict() and "0.weight_orig" not in model.state_dict()
    P.l1_unstructured(module=model[0], name="weight", amount=0.9)
    assert list(model.state_dict()) == ["0.bias", "0.weight_orig", "0.weight_mask", "2.weight", "2.bias"]
    pruned = model[0].weight
    path = tmp_path / "model.pt"
    if T is torch:
        T.save(model, path)
        new_model = T.load(path, weights_only=False)
    else:   # ts.save refuses a whole module (it saves state_dicts): a pruned module pickles
        path.write_bytes(pickle.dumps(model))
        new_model = pickle.loads(path.read_bytes())
    assert list(new_model.state_dict()) == list(model.state_dict())
    same(pruned, new_model[0].weight)
    new_model[0].weight_mask.fill_(1.0)   # the copy's hook recomputes the copy's weight
    new_model(T.ones(1, 10))
    same(new_model[0].weight, new_model[0].weight_orig)


def test_pruning_serialization_state_dict(lib, tmp_path):
    T, P = lib
    model = T.nn.Sequential(T.nn.Linear(10, 10), T.nn.ReLU(), T.nn.Linear(10, 1))
    P.l1_unstructured(module=model[0], name="weight", amount=0.9)
    pruned = model[0].weight
    P.remove(module=model[0], name="weight")
    assert list(model.state_dict()) == ["0.bias", "0.weight", "2.weight", "2.bias"]
    new_model = T.nn.Sequential(T.nn.Linear(10, 10), T.nn.ReLU(), T.nn.Linear(10, 1))
    T.save(model.state_dict(), tmp_path / "sd.pt")
    new_model.load_state_dict(T.load(tmp_path / "sd.pt"))
    assert "0.weight_orig" not in new_model.state_dict() and "0.weight" in new_model.state_dict()
    same(pruned, new_model[0].weight)


def test_pruned_state_dict_loads_from_torch():
    """A torch module's pruned state_dict loads into ours pruned the same way (same keys)."""
    tm, sm = torch.nn.Linear(4, 3), ts.nn.Linear(4, 3)
    torch_prune.l1_unstructured(tm, "weight", amount=5)
    ts_prune.identity(sm, "weight")
    sm.load_state_dict({k: ts.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(arr(sm(ts.tensor(x))), arr(tm(torch.tensor(x))), rtol=1e-6, atol=1e-6)


def test_prune(lib):
    T, P = lib
    p = P.L1Unstructured(amount=2)
    t = T.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]).to(dtype=T.float32)
    default_mask = T.tensor([[1, 1, 1, 0], [1, 1, 0, 1]])
    same(p.prune(t, default_mask), t * T.tensor([[0, 0, 1, 0], [1, 1, 0, 1]]))
    scores = T.tensor([[1, 2, 3, 4], [1.5, 1.6, 1.7, 1.8]])
    same(p.prune(t, default_mask, importance_scores=scores), t * T.tensor([[0, 1, 1, 0], [0, 1, 0, 1]]))
    same(p.prune(t, default_mask, importance_scores=t), p.prune(t, default_mask))
    same(P.L1Unstructured(amount=3).prune(t), t * T.tensor([[0, 0, 0, 1], [1, 1, 1, 1]]))


# ---------------------------------------------------------------- random masks: torch's stream
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_masks_match_torch(dtype):
    masks = []
    for T, P in ((torch, torch_prune), (ts, ts_prune)):
        T.manual_seed(1234)
        m = T.nn.Conv1d(6, 8, 3).to(getattr(T, dtype))
        P.random_unstructured(m, "weight", amount=0.3)
        P.random_structured(m, "weight", amount=2, dim=0)
        P.random_unstructured(m, "weight", amount=11)
        P.random_structured(m, "weight", amount=0.5, dim=-1)
        P.random_unstructured(m, "bias", amount=0.5)
        masks.append([arr(m.weight_mask), arr(m.bias_mask), list(m.state_dict())])
    for got, want in zip(masks[1], masks[0]):
        np.testing.assert_array_equal(got, want)


def test_random_structured_compute_mask_matches_torch():
    masks = []
    for T, P in ((torch, torch_prune), (ts, ts_prune)):
        T.manual_seed(5)
        t = T.randn(3, 7, 2)
        masks.append(arr(P.RandomStructured(amount=3, dim=1).compute_mask(t, T.ones_like(t))))
    np.testing.assert_array_equal(masks[1], masks[0])


# ---------------------------------------------------------------- recurrent layers
def test_rnn_pruning(lib):
    T, P = lib
    m = T.nn.LSTM(32, 32)
    P.l1_unstructured(m, "weight_ih_l0", 0.5)
    assert len(m._flat_weights) == 4
    assert sum(isinstance(p, T.nn.Parameter) for p in m._flat_weights) == 3
    P.remove(m, "weight_ih_l0")
    assert sum(isinstance(p, T.nn.Parameter) for p in m._flat_weights) == 4
    assert m._parameters["weight_ih_l0"] is not None and "weight_ih_l0_orig" not in m._parameters
    assert dict(m.named_parameters())["weight_ih_l0"] is not None
    assert "weight_ih_l0_orig" not in dict(m.named_parameters())


def _recurrent_pair(kind, **kw):
    tm = getattr(torch.nn, kind)(3, 4, **kw)
    sm = getattr(ts.nn, kind)(3, 4, **kw)
    sm.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, sm


@pytest.mark.parametrize("kind,kw,names", [
    ("LSTM", {}, ["weight_hh_l0", "weight_ih_l0"]),
    ("GRU", {"batch_first": True}, ["weight_hh_l0", "bias_hh_l0"]),
    ("RNN", {"nonlinearity": "relu"}, ["weight_hh_l0"]),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, ["weight_hh_l1_reverse", "weight_ih_l1"]),
])
def test_pruned_recurrent_training_matches_torch(kind, kw, names):
    tm, sm = _recurrent_pair(kind, **kw)
    for T, P, mod in ((torch, torch_prune, tm), (ts, ts_prune, sm)):
        T.manual_seed(3)   # the same weights and seed: the same masks
        P.l1_unstructured(mod, names[0], amount=0.4)
        for name in names[1:]:
            P.random_unstructured(mod, name, amount=0.5)
    assert list(sm.state_dict()) == list(tm.state_dict())
    for name in names:
        np.testing.assert_array_equal(arr(getattr(sm, name + "_mask")), arr(getattr(tm, name + "_mask")))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    target = rng.standard_normal((5, 2, 4 * (2 if kw.get("bidirectional") else 1))).astype(np.float32)
    t_opt = torch.optim.SGD(tm.parameters(), lr=0.5)
    s_opt = ts.optim.SGD(sm.parameters(), lr=0.5)
    for _ in range(3):
        losses = []
        for T, mod, opt in ((torch, tm, t_opt), (ts, sm, s_opt)):
            opt.zero_grad()
            out = mod(T.tensor(x))[0]
            loss = ((out - T.tensor(target)) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[1] == pytest.approx(losses[0], rel=1e-5, abs=1e-6)
        for name in names:
            t_grad, s_grad = getattr(tm, name + "_orig").grad, getattr(sm, name + "_orig").grad
            np.testing.assert_allclose(arr(s_grad), arr(t_grad), rtol=1e-4, atol=1e-6)
            assert np.all(arr(s_grad)[arr(getattr(sm, name + "_mask")) == 0] == 0)
    for (tn, tp), (sn, sp) in zip(tm.named_parameters(), sm.named_parameters()):
        assert tn == sn
        np.testing.assert_allclose(arr(sp), arr(tp), rtol=1e-4, atol=1e-5)


def test_recurrent_forward_reads_recomputed_weight():
    """The fused layer uses module.weight_hh_l0 as the hook leaves it: a mask changed in place
    changes the next forward, and a pruned-to-zero recurrence equals a feed-forward step."""
    m = ts.nn.GRU(3, 4)
    ts_prune.identity(m, "weight_hh_l0")
    x = ts.tensor(np.random.default_rng(1).standard_normal((4, 1, 3)).astype(np.float32))
    before = arr(m(x)[0])
    m.weight_hh_l0_mask.zero_()
    after = arr(m(x)[0])
    assert not np.allclose(before, after)
    ref = ts.nn.GRU(3, 4)
    ref.load_state_dict({k: v for k, v in m.state_dict().items() if not k.startswith("weight_hh")}, strict=False)
    with ts.no_grad():
        ref.weight_hh_l0.zero_()
    np.testing.assert_allclose(after, arr(ref(x)[0]), rtol=1e-6, atol=1e-6)


def test_invalid_amount_on_a_pruned_tensor_keeps_its_pruning():
    """Different from torch (which has already taken the old hook off when the new method's
    amount is refused): the error is torch's, and the first pruning stays in force."""
    m = ts.nn.Linear(3, 2)
    ts_prune.l1_unstructured(m, "weight", 2)
    mask = arr(m.weight_mask)
    with pytest.raises(ValueError, match="amount=1.5 should either be a float"):
        ts_prune.l1_unstructured(m, "weight", 1.5)
    assert ts_prune.is_pruned(m) and len(m._forward_pre_hooks) == 1
    np.testing.assert_array_equal(arr(m.weight_mask), mask)
    ts_prune.remove(m, "weight")
    assert list(m.state_dict()) == ["bias", "weight"]
