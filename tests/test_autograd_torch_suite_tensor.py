"""Differences found by porting PyTorch's test/test_autograd.py, in the tensor core: a leaf's
.grad layout, views' shared version counter and _base, `.data =`, writes through a view of a
leaf that requires grad, `del t.grad`, the `_grad` alias, retain_grad's reference and the
scalar-conversion warning; each checked beside torch 2.13 where torch runs the same code."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import tensor_autograd

torch = pytest.importorskip("torch")

BOTH = [torch, ts]
IDS = ["torch", "ts"]


# ---------------------------------------------------------------- a leaf's .grad layout
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_leaf_grad_is_contiguous_and_view_aliases(T):
    x = T.ones(5, 4)
    W = T.ones(3, 4, requires_grad=True)
    (x @ W.t()).sum().backward()          # W's gradient comes back transposed (strides (1, 3))
    assert W.grad.is_contiguous()
    W.grad.view(-1).mul_(0)               # a flat view writes through to .grad
    assert float(W.grad.sum()) == 0.0


def _param(T, kind):
    if kind == "permuted":    # dense, not row-major: .grad takes its strides
        return T.ones(2, 3, 4).permute(2, 0, 1).requires_grad_(), T.ones(4, 2, 3)
    if kind == "strided":     # with gaps: .grad is row-major
        return T.ones(4, 6)[:, ::2].requires_grad_(), T.ones(4, 3)
    return T.ones(3, 4).t().requires_grad_(), T.ones(4, 3)   # transposed


@pytest.mark.parametrize("kind", ["permuted", "strided", "transposed"])
def test_leaf_grad_layout_follows_accumulate_grad_contract(kind):
    res = {}
    for T in BOTH:
        W, other = _param(T, kind)
        (W * other).sum().backward()
        res[T.__name__] = (tuple(W.stride()), tuple(W.grad.stride()))
    assert res["tinygrad_seq"] == res["torch"]


@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_view_of_transposed_tensor_raises_not_copies(T):
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        T.ones(4, 3).t().view(-1)


# ---------------------------------------------------------------- del t.grad, t._grad
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_del_grad(T):
    x = T.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    del x.grad
    assert x.grad is None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_grad_alias_setter_sets_grad(T):
    p = T.nn.Parameter(T.ones(3))
    p._grad = T.ones(3) * 2
    assert p.grad is not None
    np.testing.assert_array_equal(p.grad.numpy(), [2, 2, 2])
    p._grad = None
    assert p.grad is None


def test_grad_alias_getter_reads_grad():
    q = ts.nn.Parameter(ts.ones(3))
    (q * 3).sum().backward()
    np.testing.assert_array_equal(q._grad.numpy(), [3, 3, 3])


def test_grad_alias_with_optimizer():
    # A3C's ensure_shared_grads: the shared model gets its gradient through _grad
    torch.manual_seed(0)
    tm = torch.nn.LSTMCell(3, 4)
    tsh = torch.nn.LSTMCell(3, 4)
    tsh.load_state_dict(tm.state_dict())
    state = {k: v.numpy() for k, v in tm.state_dict().items()}
    m, sh = ts.nn.LSTMCell(3, 4), ts.nn.LSTMCell(3, 4)
    m.load_state_dict(state)
    sh.load_state_dict(state)
    x = np.ones((2, 3), np.float32)
    for model, shared, T in ((tm, tsh, torch), (m, sh, ts)):
        h, c = model(T.tensor(x))
        (h.sum() + c.sum()).backward()
        for p, sp in zip(model.parameters(), shared.parameters()):
            sp._grad = p.grad
        T.optim.SGD(shared.parameters(), lr=0.1).step()
    for (k, a), (_, b) in zip(tsh.state_dict().items(), sh.state_dict().items()):
        np.testing.assert_allclose(np.asarray(b), a.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


# ---------------------------------------------------------------- retain_grad's reference
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_retain_grad_holds_the_tensor_weakly(T):
    # the node of y no longer holds y: dropped, y goes at once (no cycle for the collector)
    x = T.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    ref = weakref.ref(y)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del y
        assert ref() is None
    finally:
        if enabled:
            gc.enable()


@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_retain_grad_still_fills_grad(T):
    x = T.ones(2, 2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.add_(1)                 # retain_grad moves to the in-place op's node
    (y * 3).sum().backward()
    assert y.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert x.grad.tolist() == [[6.0, 6.0], [6.0, 6.0]]


@pytest.mark.xfail(strict=True, reason="README Limits: a graph node holds its input tensors, so "
                                       "a retained tensor used by a later op lives as long as the graph")
def test_retain_grad_does_not_keep_tensor_alive():
    x = ts.ones(5, 5, requires_grad=True)
    refs = [None]

    def run():
        y = x * 2
        y.retain_grad()
        refs[0] = weakref.ref(y)
        return y / 2

    z = run()
    gc.collect()
    assert refs[0]() is None
    z.sum().backward()
    assert x.grad.sum().item() == 25.0


# ---------------------------------------------------------------- views: version and _base
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_view_shares_version_counter_and_base(T):
    x = T.randn(10, 10, requires_grad=True)
    v = x.narrow(0, 1, 4)
    assert v._base is x and v[1:]._base is x and x._base is None
    y = T.randn(1, 2)
    yz = y[:]
    yz.add_(1)
    assert y._version == yz._version == 1
    y.add_(1)
    assert y._version == yz._version == 2
    x = T.ones(3)
    v = x[1:]
    v.add_(1)
    assert x._version == v._version == 1
    x.mul_(2)
    assert x._version == v._version == 2
    assert x.tolist() == [2.0, 4.0, 4.0]


@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_view_write_in_graph_counts_once(T):
    a = T.ones(3, requires_grad=True)
    y = a * 2
    yv = y[:2]
    w = yv[1:]
    w.mul_(2)
    assert y._version == yv._version == w._version == 1
    y.sum().backward()
    assert a.grad.tolist() == [2.0, 4.0, 2.0]


# ---------------------------------------------------------------- x.data = new, then an old view
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_data_assignment_detaches_old_views(T):
    x = T.ones(1, 2)
    xz = x[:]
    x.data = T.zeros(1, 2)
    xz.add_(5)
    assert x.numpy().tolist() == [[0., 0.]]
    assert xz.numpy().tolist() == [[6., 6.]]
    assert xz._base is x and x._version == xz._version == 1


@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_set_data_other_shape_then_write_old_view(T):
    x = T.zeros(1, 2)
    xz = x[:]
    x.data = T.ones(2, 3)
    xz.add_(1)                        # writes the old memory
    assert tuple(xz.shape) == (1, 2) and tuple(x.shape) == (2, 3)
    assert xz.numpy().tolist() == [[1., 1.]]
    assert x.sum().item() == 6.0


# ---------------------------------------------------------------- a view of a leaf that requires grad
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_inplace_on_view_of_leaf_made_requires_grad_later(T):
    a = T.randn(2, 3)
    b = a[:]
    c = a.t()
    a.requires_grad = True
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        b.add_(5)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        c.zero_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        b[0] = 1
    with T.no_grad():                 # allowed outside grad mode
        b.add_(5)
    a.requires_grad = False
    b.add_(1)


@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_inplace_on_view_of_leaf_taken_in_graph(T):
    a = T.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0].mul_(2)


# ---------------------------------------------------------------- requires_grad on integer tensors
@pytest.mark.parametrize("T", BOTH, ids=IDS)
def test_requires_grad_method_integer_raises(T):
    with pytest.raises(RuntimeError, match="floating point"):
        T.ones(1, dtype=T.int64).requires_grad_()


@pytest.mark.xfail(strict=True, reason="README Limits: requires_grad is a plain attribute "
                                       "(on every op's path); requires_grad_() raises")
@pytest.mark.parametrize("dt", ["int8", "int64"])
def test_requires_grad_attribute_integer_raises(dt):
    a = ts.ones(1, dtype=getattr(ts, dt))
    with pytest.raises(RuntimeError, match="floating point"):
        a.requires_grad = True


# ---------------------------------------------------------------- float() of a tensor requiring grad
def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_scalar_conversion_warns_once_as_torch(monkeypatch):
    # torch 2.13 (checked in fresh processes): float() warns, once per process, in grad mode
    # only; int(), bool(), item() and float() of a detached tensor do not
    monkeypatch.setattr(tensor_autograd, "_scalar_warned", [False])
    t = ts.tensor(1.5, requires_grad=True)
    for fn in (lambda: int(t), lambda: bool(t), lambda: t.item(), lambda: float(t.detach())):
        assert _caught(fn) == []
    with ts.no_grad():
        assert _caught(lambda: float(t)) == []
    got = _caught(lambda: float(t * 2))
    assert len(got) == 1 and got[0].startswith(
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
        "Consider using tensor.detach() first.")
    assert _caught(lambda: float(t)) == []    # once
