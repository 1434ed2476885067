"""nn.Linear, nn.Embedding, nn.Dropout, nn.LayerNorm and nn.init against PyTorch (forward, every
gradient, float64 tight and float32 loose), finite-difference gradchecks, PyTorch's
initialisation distributions, and the Module features (names, children, modes, dtypes, repr,
state dict keys) on a nested architecture built by the same code in both libraries."""
import math

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from module_helpers import compare_module, load_from_torch

DTYPES = [np.float64, np.float32]
rng = np.random.default_rng(0)


# ------------------------------------------------------------------ against torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(dtype, shape, bias):
    x = rng.standard_normal(shape)
    compare_module(nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(dtype, padding_idx):
    idx = np.array([[0, 3, 3, 9], [1, 9, 0, 3]])
    compare_module(nn.Embedding(10, 5, padding_idx=padding_idx),
                   torch.nn.Embedding(10, 5, padding_idx=padding_idx), [idx], dtype)


def test_embedding_padding_row_zero_and_frozen():
    emb = nn.Embedding(6, 3, padding_idx=2)
    assert np.all(emb.weight.numpy()[2] == 0)
    assert np.all(np.delete(emb.weight.numpy(), 2, axis=0) != 0)
    emb(ts.Tensor(np.array([2, 2, 1]))).sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[2] == 0) and np.all(g[1] == 1) and np.all(g[0] == 0)
    assert nn.Embedding(6, 3, padding_idx=-1).padding_idx == 5
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(6, 3, padding_idx=6)
    with pytest.raises(IndexError, match="out of range"):
        emb(ts.Tensor(np.array([6])))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalized_shape,x_shape", [(4, (3, 4)), ((3, 4), (2, 3, 4)), (5, (5,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(dtype, normalized_shape, x_shape, affine):
    x = rng.standard_normal(x_shape) * 3 + 1
    ours = nn.LayerNorm(normalized_shape, elementwise_affine=affine)
    theirs = torch.nn.LayerNorm(normalized_shape, elementwise_affine=affine)
    if affine:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    compare_module(ours, theirs, [x], dtype)


def test_layernorm_no_bias_and_eps():
    x = rng.standard_normal((2, 6))
    compare_module(nn.LayerNorm(6, eps=1e-2, bias=False), torch.nn.LayerNorm(6, eps=1e-2, bias=False),
                   [x], np.float64)
    with pytest.raises(ValueError, match=r"expected input with shape \(\*, 6\), got \(2, 5\)"):
        nn.LayerNorm(6)(ts.randn(2, 5))


def test_dropout_train_eval_and_mask():
    d = nn.Dropout(0.25)
    x = ts.Tensor(rng.standard_normal((200, 50)), requires_grad=True)
    y = d(x)
    out, xv = y.numpy(), x.numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], xv[kept] / 0.75, rtol=1e-12)
    assert abs(1 - kept.mean() - 0.25) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)
    d.eval()
    assert d(x) is x or np.array_equal(d(x).numpy(), xv)
    assert nn.Dropout(0.0)(x).numpy().tolist() == xv.tolist()
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ------------------------------------------------------------------ gradcheck (float64)
@pytest.mark.parametrize("make,inp", [
    (lambda: nn.Linear(3, 2), lambda: ts.Tensor(rng.standard_normal((2, 3)), requires_grad=True)),
    (lambda: nn.Linear(3, 2, bias=False), lambda: ts.Tensor(rng.standard_normal((4, 3)), requires_grad=True)),
    (lambda: nn.LayerNorm(4), lambda: ts.Tensor(rng.standard_normal((2, 4)), requires_grad=True)),
    (lambda: nn.LayerNorm((2, 3)), lambda: ts.Tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)),
    # no padding_idx: its row deliberately gets no gradient although the forward uses it
    (lambda: nn.Embedding(5, 3), lambda: ts.Tensor(np.array([[0, 1, 4], [4, 4, 2]]))),
])
def test_gradcheck_modules(make, inp):
    m = make().double()
    for p in m.parameters():  # make LayerNorm's affine parameters non-trivial
        with ts.no_grad():
            p.copy_(rng.standard_normal(p.shape))
    x = inp()
    params = list(m.parameters())
    assert ts.gradcheck(lambda x, *ps: m(x), (x, *params))


def test_gradcheck_dropout_fixed_mask():
    x = ts.Tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def f(x):
        ts.manual_seed(5)  # the same mask on every evaluation
        return nn.Dropout(0.3)(x)
    assert ts.gradcheck(f, (x,))


# ------------------------------------------------------------------ initialisation
def test_linear_init_distribution():
    m = nn.Linear(400, 300)
    b = 1 / math.sqrt(400)
    for p in (m.weight, m.bias):
        v = p.numpy()
        assert v.dtype == np.float32
        assert v.min() >= -b and v.max() <= b
    w = m.weight.numpy()
    assert abs(w.std() - b / math.sqrt(3)) < 0.01 * b and abs(w.mean()) < 0.01 * b
    assert nn.Linear(3, 2, dtype=np.float64).weight.dtype == np.float64


def test_embedding_and_layernorm_init():
    w = nn.Embedding(500, 200).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    ln = nn.LayerNorm((2, 3))
    assert np.all(ln.weight.numpy() == 1) and np.all(ln.bias.numpy() == 0)
    assert ln.weight.shape == (2, 3)
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None


def test_manual_seed_reproduces_init_and_dropout():
    def draw():
        lin, emb, cell = nn.Linear(4, 3), nn.Embedding(5, 2), nn.LSTMCell(3, 2)
        mask = nn.Dropout(0.5)(ts.ones(6, 6)).numpy()
        return [p.numpy() for m in (lin, emb, cell) for p in m.parameters()] + [mask]
    ts.manual_seed(123)
    a = draw()
    ts.manual_seed(123)
    b = draw()
    ts.manual_seed(124)
    c = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_init_functions():
    from tinygrad_seq.nn import init
    t = ts.zeros(64, 32)
    init.uniform_(t, -2, 3)
    assert t.numpy().min() >= -2 and t.numpy().max() <= 3
    init.normal_(t, 1.0, 0.5)
    assert abs(t.numpy().mean() - 1) < 0.05 and abs(t.numpy().std() - 0.5) < 0.05
    init.zeros_(t)
    assert np.all(t.numpy() == 0)
    init.ones_(t)
    assert np.all(t.numpy() == 1)
    init.xavier_uniform_(t)
    a = math.sqrt(6 / (64 + 32))
    assert np.abs(t.numpy()).max() <= a
    init.kaiming_uniform_(t, a=math.sqrt(5))
    assert np.abs(t.numpy()).max() <= 1 / math.sqrt(32)
    for shape in [(64, 32), (32, 64)]:
        q = init.orthogonal_(ts.zeros(*shape, dtype=np.float64), gain=2.0).numpy()
        small = q @ q.T if shape[0] <= shape[1] else q.T @ q
        np.testing.assert_allclose(small, 4 * np.eye(min(shape)), atol=1e-10)
    p = nn.Linear(3, 3).weight
    init.zeros_(p)  # on a Parameter that requires grad: no in-place error, identity kept
    assert np.all(p.numpy() == 0) and p.requires_grad
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))


# ------------------------------------------------------------------ Module features
def make_net(lib):
    """The same architecture in torch.nn and in tinygrad_seq.nn, from the same code."""
    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.Embedding(10, 4, padding_idx=0)
            self.cell = lib.LSTMCell(4, 5)
            self.block = lib.Sequential(lib.Linear(5, 6), lib.Dropout(0.1), lib.LayerNorm(6))
            self.heads = lib.ModuleList([lib.Linear(6, 2), lib.Linear(6, 3, bias=False)])
            self.gru = lib.GRUCell(6, 3, bias=False)

        def forward(self, idx):
            h, c = self.cell(self.emb(idx))
            y = self.block(h)
            return self.heads[0](y), self.heads[1](y), self.gru(y), c
    return Net()


def test_names_keys_and_repr_match_torch():
    ours, theirs = make_net(nn), make_net(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours) == repr(theirs)
    for a, b in [(nn.RNNCell(3, 4, nonlinearity="relu", bias=False), torch.nn.RNNCell(3, 4, False, "relu")),
                 (nn.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False),
                  torch.nn.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False)),
                 (nn.Embedding(5, 2), torch.nn.Embedding(5, 2)), (nn.Dropout(), torch.nn.Dropout())]:
        assert repr(a) == repr(b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nested_net_matches_torch(dtype):
    ours, theirs = make_net(nn).eval(), make_net(torch.nn).eval()
    idx = np.array([0, 3, 9, 3])
    compare_module(ours, theirs, [idx], dtype)


def test_train_eval_propagate():
    net = make_net(nn)
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.eval()
    assert net.training and not net.block[1].training and net.heads[0].training


def test_eval_disables_dropout_in_net():
    net = make_net(nn).eval()
    idx = ts.Tensor(np.array([1, 2]))
    a, b = net(idx)[0].numpy(), net(idx)[0].numpy()
    np.testing.assert_array_equal(a, b)


def test_zero_grad_and_dtype_conversion_keep_identity():
    net = make_net(nn)
    params = list(net.parameters())
    out = net(ts.Tensor(np.array([1, 2])))
    (out[0].sum() + out[2].sum() + out[3].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in params)
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and np.all(p.grad.numpy() == 0) for p in params)
    net.zero_grad()
    assert all(p.grad is None for p in params)
    assert net.double() is net
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]


def test_named_parameters_nested_and_shared():
    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Inner()
            self.b = nn.Sequential(Inner(), nn.Linear(2, 1))
            self.shared = self.a  # the same module twice: its parameters are listed once
    names = [n for n, _ in Outer().named_parameters()]
    assert names == ["a.lin.weight", "a.lin.bias", "b.0.lin.weight", "b.0.lin.bias", "b.1.weight", "b.1.bias"]


def test_state_dict_roundtrip_from_torch_and_is_copy():
    ours, theirs = make_net(nn), make_net(torch.nn)
    load_from_torch(ours, theirs)
    sd = ours.state_dict()
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(sd[k], v.numpy())
    sd["emb.weight"][:] = 7  # a copy, not a view of the parameter
    assert not np.any(ours.emb.weight.numpy() == 7)
    # torch tensors are accepted directly, too
    ours.load_state_dict(theirs.state_dict())


def test_shared_and_reassigned_parameters_state_dict_like_torch():
    def build(lib):
        m = lib.Module()
        m.a, m.b = lib.Linear(2, 2), lib.Linear(2, 2)
        m.shared = m.a            # one module under two names
        m.b.weight = m.a.weight   # weight tying; 'b.weight' keeps its place
        return m
    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.b.weight.numpy(), theirs.a.weight.detach().numpy())
    lin = nn.Linear(2, 3, bias=False)
    assert lin.bias is None and "bias" in lin._parameters and list(lin.state_dict()) == ["weight"]
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        lin.weight = lin.weight * 2
    lin.weight = None
    assert lin.weight is None and list(lin.state_dict()) == []


def test_optim_and_utils_importable_as_documented():
    from tinygrad_seq import optim
    import tinygrad_seq.nn.utils as utils
    assert ts.optim is optim and nn.utils is utils
    assert callable(nn.utils.clip_grad_norm_) and callable(nn.utils.clip_grad_value_)


# ------------------------------------------------------------------ module forms of losses / activations
LOSS_CASES = [
    ("NLLLoss", {}, "logprob"), ("NLLLoss", {"ignore_index": 1, "reduction": "sum"}, "logprob"),
    ("CrossEntropyLoss", {}, "logits"), ("CrossEntropyLoss", {"label_smoothing": 0.1}, "logits"),
    ("CrossEntropyLoss", {"reduction": "none", "ignore_index": 2}, "logits"),
    ("CrossEntropyLoss", {"weight": True, "label_smoothing": 0.2}, "logits"),
    ("MSELoss", {}, "pair"), ("L1Loss", {"reduction": "sum"}, "pair"), ("SmoothL1Loss", {"beta": 0.5}, "pair"),
    ("HuberLoss", {"delta": 0.4}, "pair"), ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {}, "pair"),
    ("BCEWithLogitsLoss", {"pos_weight": True}, "pair"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw,kind", LOSS_CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LOSS_CASES)])
def test_loss_modules_match_torch(name, kw, kind, dtype):
    r = np.random.default_rng(5)
    w = r.random(4) + 0.2

    def make(lib):
        k = dict(kw)
        for opt in ("weight", "pos_weight"):
            if k.get(opt) is True:
                k[opt] = torch.tensor(w).to(torch.float64 if dtype == np.float64 else torch.float32) \
                    if lib is torch.nn else ts.Tensor(w.astype(dtype))
        return getattr(lib, name)(**k)
    if kind in ("logits", "logprob"):
        x = r.standard_normal((6, 4))
        if kind == "logprob":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        t = r.integers(0, 4, 6)
        compare_module(make(nn), make(torch.nn), [x, t], dtype)
    else:
        x = r.uniform(0.1, 0.9, (3, 4)) if kind == "prob" else r.standard_normal((3, 4))
        y = r.uniform(0, 1, (3, 4))
        compare_module(make(nn), make(torch.nn), [x, y], dtype)


def test_loss_module_weight_is_a_buffer_and_reduction_checked():
    m = nn.CrossEntropyLoss(weight=ts.Tensor(np.ones(3)))
    assert list(m.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


ACT_CASES = [("ReLU", {}), ("Tanh", {}), ("Sigmoid", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"}),
             ("LeakyReLU", {"negative_slope": 0.3}), ("ELU", {}), ("SiLU", {}), ("Softplus", {}),
             ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}), ("Softmax", {"dim": 1}),
             ("LogSoftmax", {"dim": -1}), ("Softmin", {"dim": 0}), ("Identity", {}),
             ("Flatten", {}), ("Flatten", {"start_dim": 0, "end_dim": 1})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", ACT_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ACT_CASES)])
def test_activation_modules_match_torch(name, kw, dtype):
    x = np.random.default_rng(6).standard_normal((3, 4, 2)) * 2
    ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    compare_module(ours, theirs, [x], dtype)
    assert repr(ours) == repr(theirs)


def test_unflatten_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 6))
    compare_module(nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), [x], np.float64)


def test_softmax_module_without_dim_warns():
    x = np.random.default_rng(0).standard_normal((3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(ts.Tensor(x)).numpy()
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ref = torch.nn.Softmax()(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-14)


def _containers(lib):
    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.seq = lib.Sequential(lib.Linear(3, 4), lib.Tanh(), lib.Linear(4, 4))
            self.heads = lib.ModuleDict({"a": lib.Linear(4, 2), "b": lib.Linear(4, 5)})
            self.extra = lib.ModuleList([lib.Linear(4, 4)])
            self.extra.append(lib.ReLU())
            self.extra.insert(0, lib.Identity())
            self.extra += [lib.Linear(4, 4)]

        def forward(self, x):
            h = self.seq(x)
            for m in self.extra:
                h = m(h)
            return self.heads["a"](h), self.heads["b"](h)
    return Net()


@pytest.mark.parametrize("dtype", DTYPES)
def test_containers_match_torch(dtype):
    ours, theirs = _containers(nn), _containers(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    compare_module(ours, theirs, [np.random.default_rng(0).standard_normal((5, 3))], dtype)
    assert repr(ours) == repr(theirs)


def test_container_list_and_dict_methods():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3))
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    assert isinstance(seq[-1], nn.Linear) and seq[-1].out_features == 3
    seq.append(nn.Tanh())
    del seq[0]
    assert [type(m).__name__ for m in seq] == ["ReLU", "Linear", "Tanh"]
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    del ml[1]
    assert [type(m).__name__ for m in ml] == ["ReLU", "Sigmoid"] and list(ml._modules) == ["0", "1"]
    ml[0] = nn.Identity()
    assert isinstance(ml[0], nn.Identity) and isinstance(ml[:1], nn.ModuleList)
    with pytest.raises(IndexError, match="out of range"):
        ml[5]
    md = nn.ModuleDict()
    md["x"] = nn.Linear(1, 1)
    md.update([("y", nn.ReLU())])
    assert list(md.keys()) == ["x", "y"] and "y" in md and len(md) == 2
    assert md.pop("x").in_features == 1 and list(md) == ["y"]
    with pytest.raises(KeyError, match="no module 'z'"):
        md["z"]


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained(freeze):
    w = np.random.default_rng(0).standard_normal((5, 3))
    ours = nn.Embedding.from_pretrained(ts.Tensor(w), freeze=freeze, padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=1)
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(ours.weight.numpy(), w)  # the padding row is kept, as torch's
    if not freeze:
        compare_module(ours, theirs, [np.array([[0, 1, 4], [4, 4, 2]])], np.float64)
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(ts.Tensor(np.ones(3)))
