"""Round 43 (2026-12-07): programs that behaved differently beside torch 2.13."""
import numpy as np
import pytest
import torch

import tinygrad_seq as tg


def _run(m, write_input):
    x = m.tensor([0.5, -2.0, 4.0], requires_grad=True)
    xi = x * 1
    y = (2.0 / xi, xi.reciprocal(), 1 / xi)
    if write_input:
        xi.mul_(3)   # reciprocal saves only its result: the input may change after the call
    sum(t.sum() for t in y).backward()
    return x.grad.numpy(), [t.grad_fn.name() for t in y]


@pytest.mark.parametrize("write_input", [False, True])
def test_reciprocal_saves_its_result(write_input):
    ours, names = _run(tg, write_input)
    ref, ref_names = _run(torch, write_input)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    assert names == ref_names == ["MulBackward0", "ReciprocalBackward0", "MulBackward0"]


def test_write_to_reciprocal_result_is_caught():
    x = tg.tensor([0.5, -2.0], requires_grad=True)
    y = x.reciprocal()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_reciprocal_double_backward():
    second = []
    for m in (tg, torch):
        x = m.tensor([0.5, -2.0, 4.0], dtype=m.float64, requires_grad=True)
        g, = m.autograd.grad((3.0 / x).sum(), x, create_graph=True)
        g2, = m.autograd.grad(g.sum(), x)
        second.append(g2.numpy())
    np.testing.assert_allclose(second[0], second[1], rtol=1e-12)
    np.testing.assert_allclose(second[0], 6.0 / np.array([0.5, -2.0, 4.0]) ** 3, rtol=1e-12)   # d2/dx2 3/x


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size,scale", [((5, 7), None), ((2, 3), None), (None, (1.7, 0.6)), (None, (2.0, 1.3))])
def test_bicubic_interpolate_matches_torch(align_corners, size, scale):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    outs = []
    for m in (tg, torch):
        t = m.tensor(x, requires_grad=True)
        y = m.nn.functional.interpolate(t, size=size, scale_factor=scale, mode="bicubic", align_corners=align_corners)
        (y * m.tensor(np.arange(y.numel()).reshape(tuple(y.shape)) % 7)).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12, atol=1e-12)
    assert outs[0][2] == outs[1][2] == "UpsampleBicubic2DBackward0"


@pytest.mark.parametrize("align_corners", [False, True])
def test_trilinear_interpolate_matches_torch(align_corners):
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 4, 5)).astype(np.float32)
    outs = []
    for m in (tg, torch):
        t = m.tensor(x, requires_grad=True)
        y = m.nn.functional.interpolate(t, size=(5, 2, 9), mode="trilinear", align_corners=align_corners)
        (y * y).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-5)
    assert outs[0][2] == outs[1][2] == "UpsampleTrilinear3DBackward0"
    up = tg.nn.Upsample(scale_factor=2, mode="trilinear")(tg.tensor(x))
    assert tuple(up.shape) == (1, 2, 6, 8, 10)


def test_bicubic_double_backward_and_unsupported():
    x = tg.tensor(np.random.default_rng(2).standard_normal((1, 1, 3, 3)), requires_grad=True)
    g, = tg.autograd.grad((tg.nn.functional.interpolate(x, size=(5, 4), mode="bicubic") ** 2).sum(), x,
                          create_graph=True)
    g.sum().backward()   # second order through the recomposed resampling
    assert x.grad is not None
    with pytest.raises(NotImplementedError, match="uint8"):
        tg.nn.functional.interpolate(tg.zeros(1, 1, 3, 3, dtype=tg.uint8), size=5, mode="bicubic")
    with pytest.raises(NotImplementedError, match="needs 5D input"):
        tg.nn.functional.interpolate(tg.zeros(1, 1, 3, 3), size=5, mode="trilinear")


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell-tanh", "RNNCell-relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_step_without_graph_matches_torch_and_the_recorded_step(kind, dtype, bias):
    """A cell step that records nothing (no_grad, inference_mode, nothing requiring grad) runs
    cell_inference.step: torch's values, and the recorded (fused) step's."""
    name, _, act = kind.partition("-")
    kw = {"nonlinearity": act} if act else {}
    rng = np.random.default_rng(3)
    x, h, c = (rng.standard_normal(s) * 2 for s in ((5, 7), (5, 6), (5, 6)))
    ref = getattr(torch.nn, name)(7, 6, bias=bias, **kw).to(getattr(torch, dtype))
    ours = getattr(tg.nn, name)(7, 6, bias=bias, **kw).to(getattr(tg, dtype))
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})

    def call(m, cell, xs, unbatched=False):
        args = [m.tensor(a.astype(dtype)) for a in xs]
        if unbatched:
            args = [a[0] for a in args]
        out = cell(args[0], (args[1], args[2]) if name == "LSTMCell" else args[1])
        return [o.detach().numpy() for o in (out if isinstance(out, tuple) else (out,))]

    with torch.no_grad():
        want = call(torch, ref, (x, h, c))
        want1 = call(torch, ref, (x, h, c), unbatched=True)
    recorded = call(tg, ours, (x, h, c))   # parameters require grad: the fused step, with a graph
    tol = 1e-5 if dtype == "float32" else 1e-12
    for ctx in (tg.no_grad, tg.inference_mode):
        with ctx():
            got = call(tg, ours, (x, h, c))
            got1 = call(tg, ours, (x, h, c), unbatched=True)
        for a, b, r in zip(got, want, recorded):
            assert a.dtype == np.dtype(dtype)
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
            np.testing.assert_allclose(a, r, rtol=tol, atol=tol)
        for a, b in zip(got1, want1):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    with tg.no_grad():
        out = ours(tg.tensor(x.astype(dtype)))
    for o in (out if isinstance(out, tuple) else (out,)):
        assert o.grad_fn is None and not o.requires_grad


def _frozen_block_classes(m):
    nn = m.nn

    class Frozen(nn.Module):   # a block that stays in eval mode and keeps its buffer in float32
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)
            self.register_buffer("stat", m.ones(2))
            self.calls = []

        def train(self, mode=True):
            self.calls.append(mode)
            return super().train(False)

        def _apply(self, fn, recurse=True):
            stat = self.stat
            out = super()._apply(fn, recurse)
            self.stat = stat
            return out

    class Hidden(nn.Module):   # hides an auxiliary head from named_modules
        def __init__(self):
            super().__init__()
            self.main, self.aux = nn.Linear(2, 2), nn.Linear(2, 2)

        def named_modules(self, memo=None, prefix="", remove_duplicate=True):
            yield prefix, self
            yield from self.main.named_modules(memo, prefix + ".main", remove_duplicate)
    return Frozen, Hidden


def test_parent_calls_each_childs_own_train_apply_and_named_modules():
    seen = []
    for m in (tg, torch):
        Frozen, Hidden = _frozen_block_classes(m)
        f = Frozen()
        root = m.nn.Sequential(m.nn.Linear(2, 2), f, Hidden())
        root.train()
        modes = (list(f.calls), f.training, f.drop.training)
        root.double()
        names = [n for n, _ in root.named_parameters()]
        seen.append((modes, str(f.stat.dtype).split(".")[-1], str(root[0].weight.dtype).split(".")[-1], names))
        assert f._apply(lambda t: t, False) is f   # torch's recurse argument
    assert seen[0] == seen[1]
    assert seen[0][0] == ([True], False, False) and seen[0][1] == "float32"


def test_requires_grad_on_an_integer_parameter_raises():
    lin = tg.nn.Linear(2, 2)
    lin.register_parameter("count", tg.nn.Parameter(tg.tensor([1, 2]), requires_grad=False))
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        lin.requires_grad_(True)


def test_sparse_adam_steps_a_looked_up_row_whose_gradient_is_zero():
    W = np.arange(6, dtype=np.float32).reshape(3, 2)
    out = []
    for m in (tg, torch):
        e = m.nn.Embedding(3, 2, sparse=True, _weight=m.tensor(W.copy()))
        opt = m.optim.SparseAdam(list(e.parameters()), lr=0.1)
        for scale in ([1.0, -2.0], [0.0, 0.0]):   # step 2: row 1 looked up, its gradient zero
            opt.zero_grad()
            (e(m.tensor(np.array([1]))) * m.tensor(np.array(scale, np.float32))).sum().backward()
            opt.step()
        out.append(e.weight.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    assert not np.array_equal(out[0][1], [1.9, 3.1])


@pytest.mark.parametrize("name,kw,key", [("RMSprop", {}, "square_avg"), ("Adadelta", {}, "square_avg"),
                                         ("NAdam", {}, "exp_avg_sq"), ("RAdam", {}, "exp_avg_sq"),
                                         ("Adam", {"maximize": True}, "exp_avg_sq")])
def test_optimizers_square_a_huge_float32_gradient_as_torch(name, kw, key):
    """torch's addcmul(g, g, value=1 - beta) forms ((1 - beta) g) g: finite where g * g overflows."""
    res = []
    for m in (tg, torch):
        p = m.nn.Parameter(m.tensor(np.float32(0.5)))
        opt = getattr(m.optim, name)([p], lr=0.01, **kw)
        for g in (1.0, 4.7e19):
            p.grad = m.tensor(np.float32(g))
            opt.step()
        res.append((float(p.detach()), float(opt.state[p][key])))
    assert np.isfinite(res[0][1])
    np.testing.assert_allclose(res[0], res[1], rtol=1e-5)


def test_optimizer_load_state_dict_replaces_the_groups_keys():
    for m in (tg, torch):
        p = m.nn.Parameter(m.tensor(np.ones(2, np.float32)))
        sd = m.optim.SGD([p], lr=0.5).state_dict()
        dst = m.optim.SGD([p], lr=0.1)
        m.optim.lr_scheduler.StepLR(dst, step_size=2)   # adds initial_lr
        dst.param_groups[0]["my_key"] = 1
        dst.load_state_dict(sd)
        g = dst.param_groups[0]
        assert (g["lr"], "initial_lr" in g, "my_key" in g) == (0.5, False, False)


def test_parameter_dict_missing_key_is_attribute_and_key_error():
    d = tg.nn.ParameterDict({"a": tg.nn.Parameter(tg.ones(1))})
    for kind in (AttributeError, KeyError):
        with pytest.raises(kind, match="'zz'"):
            d["zz"]


def test_recurrent_argument_types_as_torch():
    from tinygrad_seq.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    assert tg.nn.LSTM(3, 4, num_layers=np.int64(2)).num_layers == 2
    packed = pack_padded_sequence(tg.ones(3, 2, 1), [3, 2])
    with pytest.raises(TypeError, match="'total_length' \\(position 5\\) must be int, not float"):
        pad_packed_sequence(packed, total_length=3.5)
    with pytest.raises(TypeError, match="'batch_first' \\(position 3\\) must be bool, not int"):
        pad_packed_sequence(packed, batch_first=1)
    with pytest.raises(TypeError, match="'batch_first' \\(position 3\\) must be bool, not int"):
        pack_padded_sequence(tg.ones(3, 2, 1), [3, 2], batch_first=1)
    assert tuple(pad_packed_sequence(packed, total_length=tg.tensor(4))[0].shape) == (4, 2, 1)


def test_loss_fixes_round_43():
    x, y, w = np.array([0.5, -1.0]), np.array([1.0, 0.0]), np.array([[0.3, 0.9]])
    got = []
    for m in (tg, torch):
        F = m.nn.functional
        xi = m.tensor(x, requires_grad=True)
        out = F.multilabel_soft_margin_loss(xi, m.tensor(y), weight=m.tensor(w))   # (C,) input, (1, C) weight
        out.backward()
        # BCE / cosine at their clamps: torch's EPSILON is a float (9.99999996e-13 in float64)
        xb = m.tensor([0.0, 1.0, 0.3], dtype=m.float64, requires_grad=True)
        F.binary_cross_entropy(xb, m.tensor([0.0563, 0.9, 0.2], dtype=m.float64), reduction="sum").backward()
        a = m.zeros(1, 3, dtype=m.float64, requires_grad=True)
        F.cosine_embedding_loss(a, m.tensor([[0.5, -1.0, 2.0]], dtype=m.float64), m.tensor([1.0]),
                                reduction="sum").backward()
        # nll_loss over (N, C, d1, d2): its create_graph gradient requires grad
        xs = m.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 2)), requires_grad=True)
        g, = m.autograd.grad(F.nll_loss(xs, m.tensor(np.array([[[0, 1], [2, 0]], [[1, 1], [0, 2]]]))), [xs],
                             create_graph=True)
        got.append((float(out.detach()), xi.grad.numpy(), xb.grad.numpy(), a.grad.numpy(), g.requires_grad))
    for o, t in zip(got[0], got[1]):
        np.testing.assert_allclose(o, t, rtol=1e-12)
    with pytest.raises(RuntimeError, match="inconsistent weight size, expected 3 but got \\[4\\]"):
        tg.nn.functional.multi_margin_loss(tg.randn(2, 3), tg.tensor([0, 1]), weight=tg.ones(4))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Int"):
        tg.nn.functional.multi_margin_loss(tg.randn(2, 3), tg.tensor([0, 1], dtype=tg.int32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", [1, 2])
def test_lstm_cell_step_without_graph_of_one_unit(dtype, hidden):
    """H = 1: each gate block is a strided (B, 1) column, where numpy 2.4.6's in-place negative
    writes the wrong elements (cell_inference.py keeps in-place ops off views)."""
    rng = np.random.default_rng(0)
    ref = torch.nn.LSTMCell(3, hidden).to(getattr(torch, dtype))
    ours = tg.nn.LSTMCell(3, hidden).to(getattr(tg, dtype))
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x, h, c = (rng.standard_normal(s).astype(dtype) for s in ((5, 3), (5, hidden), (5, hidden)))
    with torch.no_grad():
        want = ref(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    with tg.no_grad():
        got = ours(tg.tensor(x), (tg.tensor(h), tg.tensor(c)))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
