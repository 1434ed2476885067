"""Findings of an audit driven by torch's common_nn tables (module_tests, new_module_tests, criterion
tests) and nn.utils, against torch 2.13."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


def _copy(om, tm):
    om.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_divides_by_counts(mode):
    # each row's gradient over its count in the input, as F.embedding's (torch 2.13's CPU
    # embedding_bag applies the counts shifted by a row: not copied, see the README)
    rng = np.random.default_rng(0)
    w = ts.tensor(rng.standard_normal((10, 3)), requires_grad=True)
    idx = np.array([1, 2, 4, 4, 4, 3, 2, 9])
    ts.nn.functional.embedding_bag(ts.tensor(idx), w, ts.tensor([0, 4]), mode=mode,
                                   scale_grad_by_freq=True).sum().backward()
    per_use = np.zeros(10)
    for bag in (idx[:4], idx[4:]):
        for i in bag:
            per_use[i] += (1.0 if mode == "sum" else 1.0 / len(bag)) / np.count_nonzero(idx == i)
    np.testing.assert_allclose(w.grad.numpy(), np.repeat(per_use[:, None], 3, 1), rtol=1e-12)
    m = ts.nn.EmbeddingBag(10, 3, mode=mode, scale_grad_by_freq=True).double()
    m(ts.tensor(idx.reshape(2, 4))).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), np.repeat(per_use[:, None], 3, 1), rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(mode="mean", padding_idx=1), dict(max_norm=0.7, mode="sum"),
                                dict(max_norm=0.5, norm_type=1.0, mode="max"),
                                dict(scale_grad_by_freq=True, mode="sum"), dict(padding_idx=-1)])
def test_embedding_bag_repr(kw):
    assert repr(ts.nn.EmbeddingBag(10, 3, **kw)) == repr(torch.nn.EmbeddingBag(10, 3, **kw))


def test_embedding_bag_negative_padding_idx_normalized():
    assert ts.nn.EmbeddingBag(10, 3, padding_idx=-1).padding_idx == torch.nn.EmbeddingBag(10, 3, padding_idx=-1).padding_idx == 9


def test_multi_margin_loss_1d_input_1elem_target_none_shape():
    x = np.random.RandomState(0).randn(10)
    t = torch.nn.functional.multi_margin_loss(torch.tensor(x), torch.tensor([3]), reduction="none")
    o = ts.nn.functional.multi_margin_loss(ts.tensor(x), ts.tensor([3]), reduction="none")
    assert tuple(o.shape) == tuple(t.shape) == (1,)
    np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)


def test_multi_margin_loss_module_1d_none_backward():
    x = np.random.RandomState(0).randn(5)
    tx = torch.tensor(x, requires_grad=True); ox = ts.tensor(x, requires_grad=True)
    tl = torch.nn.MultiMarginLoss(reduction="none")(tx, torch.tensor([2]))
    ol = ts.nn.MultiMarginLoss(reduction="none")(ox, ts.tensor([2]))
    g = np.array([0.7])
    tl.backward(torch.tensor(g)); ol.backward(ts.tensor(g))
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_unflatten_repr_keeps_size_and_list():
    assert repr(ts.nn.Unflatten(-2, ts.Size([2, 2]))) == repr(torch.nn.Unflatten(-2, torch.Size([2, 2])))
    assert repr(ts.nn.Unflatten(1, [2, 3])) == repr(torch.nn.Unflatten(1, [2, 3]))


@pytest.mark.parametrize("size", [(2, "x"), (2.0, 3)])
def test_unflatten_rejects_bad_sizes(size):
    with pytest.raises(TypeError):
        torch.nn.Unflatten(1, size)
    with pytest.raises(TypeError):
        ts.nn.Unflatten(1, size)


@pytest.mark.parametrize("red", ["sum", "none"])
def test_nll_loss_create_graph_grad_is_differentiable(red):
    # torch: the first-order gradient has a graph (NllLossBackwardBackward); a penalty on it backprops
    x = np.random.RandomState(0).randn(3, 4)
    for lib in (torch, ts):
        xx = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.nll_loss(xx, lib.tensor([0, 2, 1]), reduction=red).sum()
        g, = lib.autograd.grad(loss, xx, create_graph=True)
        assert g.requires_grad, lib.__name__
        (g ** 2).sum().backward()   # raises "element 0 of tensors does not require grad" in ours


def test_rrelu_eval_create_graph_grad_is_differentiable():
    x = np.random.RandomState(0).randn(3, 4)
    for lib in (torch, ts):
        xx = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(lib.nn.functional.rrelu(xx, training=False).sum(), xx, create_graph=True)
        assert g.requires_grad, lib.__name__
        (g ** 2).sum().backward()


def test_linear_zero_in_features_create_graph():
    lin = ts.nn.Linear(0, 3).double()
    x = ts.zeros(2, 0, dtype=ts.float64, requires_grad=True)
    g, = ts.autograd.grad(lin(x).sum(), lin.bias, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2.0, 2.0, 2.0])


def test_adaptive_log_softmax_small_features_double_backward():
    # div_value=4, in_features=8: the second tail cluster has 8 // 16 = 0 hidden features
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], head_bias=True).double()
    om = ts.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], head_bias=True).double()
    _copy(om, tm)
    x = torch.randn(5, 8, dtype=torch.float64, requires_grad=True); t = torch.tensor([0, 4, 9, 2, 7])
    ox = ts.tensor(x.detach().numpy(), requires_grad=True)
    g, = torch.autograd.grad(tm(x, t).loss, x, create_graph=True)
    (g ** 2).sum().backward()
    og, = ts.autograd.grad(om(ox, ts.tensor(t.numpy())).loss, ox, create_graph=True)
    (og ** 2).sum().backward()
    np.testing.assert_allclose(om.head.weight.grad.numpy(), tm.head.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
