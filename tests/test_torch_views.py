"""No silent divergence from PyTorch: views and in-place writes through indexing, item assignment
recorded by autograd, .data, elementwise ==, and torch's dtype rules; each against torch."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn


def both(arr, requires_grad=False):
    return ts.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad)


def close(a, b, **kw):
    np.testing.assert_allclose(a.numpy() if hasattr(a, "numpy") else a,
                               b.detach().numpy() if hasattr(b, "detach") else b, rtol=1e-12, atol=1e-12, **kw)


# ---------------------------------------------------------------- views and in-place writes
@pytest.mark.parametrize("write", [
    lambda t: t.__setitem__((1, 2), t[1, 2] + 1),
    lambda t: t[1].fill_(7.0),
    lambda t: t[0].__setitem__(1, 5.0),
    lambda t: t[1].add_(1.0),
    lambda t: t[:, 1].mul_(3.0),
    lambda t: t[1:, ::2].zero_(),
    lambda t: t.view(-1)[4].fill_(-1.0),
    lambda t: t.t()[2].fill_(9.0),
    lambda t: t[None][0, 1].sub_(2.0),
    lambda t: t[..., 0].fill_(4.0),
    lambda t: t[-1, -1].fill_(8.0),
    lambda t: t.narrow(1, 1, 2).fill_(3.0),
    lambda t: t.unbind(0)[1].fill_(2.0),
    lambda t: t.split(1, 1)[2].fill_(6.0),
    lambda t: t.chunk(2, 0)[0].fill_(6.0),
    lambda t: t.select(1, 0).add_(1.0),
    lambda t: t.unsqueeze(0).squeeze(0)[0].fill_(1.5),
], ids=range(17))
def test_writes_through_views_change_the_tensor(write):
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    ours, theirs = both(arr)
    write(ours)
    write(theirs)
    close(ours, theirs)


def test_element_augmented_assignment_counts():
    # a confusion matrix filled with t[i, j] += 1
    pairs = [(0, 1), (1, 1), (0, 1), (2, 0)]
    ours, theirs = ts.zeros(3, 3, dtype=ts.long), torch.zeros(3, 3, dtype=torch.long)
    for i, j in pairs:
        ours[i, j] += 1
        theirs[i, j] += 1
    close(ours, theirs)


def test_row_alias_keeps_writing_into_the_tensor():
    ours, theirs = both(np.zeros((2, 3)))
    for t in (ours, theirs):
        row = t[1]
        row.add_(1.0)
        row += 2.0
        t[0][1] = 5.0
    close(ours, theirs)


def test_advanced_indexing_and_flip_are_copies():
    ours, theirs = both(np.arange(6.0))
    for t in (ours, theirs):
        t[[0, 2]].fill_(-1.0)
        t[t > 2].fill_(-1.0)
        t.flip(0).fill_(-1.0)
    close(ours, theirs)


def test_index_errors_name_the_index_and_size():
    t = ts.zeros(2, 3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        t[5]
    with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 1 with size 3"):
        t[0, -4]
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        t[:, [0, 3]]
    with pytest.raises(IndexError, match="index 7"):
        t[1, 7] = 1.0


@pytest.mark.parametrize("key", [None, Ellipsis, (Ellipsis, 0), (slice(None), None, 1), -1,
                                 (np.array([1, 0]),), (np.array([True, False]),),
                                 (slice(1, None), [0, 2])], ids=repr)
def test_getitem_forms_match_torch(key):
    arr = np.arange(6.0).reshape(2, 3)
    ours, theirs = both(arr, requires_grad=True)
    tk = tuple(torch.tensor(k) if isinstance(k, np.ndarray) else k for k in key) if isinstance(key, tuple) else key
    a, b = ours[key], theirs[tk]
    close(a, b)
    w = np.random.default_rng(0).standard_normal(b.shape)
    (a * ts.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    close(ours.grad, theirs.grad)


# ---------------------------------------------------------------- item assignment with autograd
def test_seq2seq_encoder_outputs_buffer_gradients_equal_torch():
    # encoder_outputs[ei] = out, then a loss over the buffer (the seq2seq tutorial's pattern)
    ts.manual_seed(0)
    cell = nn.GRUCell(3, 4).double()
    tcell = torch.nn.GRUCell(3, 4).double()
    with torch.no_grad():
        for (name, p) in cell.named_parameters():
            getattr(tcell, name).copy_(torch.tensor(p.numpy()))
    x = np.random.default_rng(1).standard_normal((5, 1, 3))
    grads = []
    for mod, lib in ((cell, ts), (tcell, torch)):
        buf = lib.zeros(7, 4, dtype=lib.float64)
        h = lib.zeros(1, 4, dtype=lib.float64)
        for ei in range(5):
            h = mod(lib.tensor(x[ei]), h)
            buf[ei] = h[0]
        loss = (buf * lib.arange(1, 8, dtype=lib.float64).unsqueeze(1)).sum() + buf[2, 1] * 7
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in mod.parameters()])
    for g1, g2 in zip(*grads):
        np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)


def test_setitem_gradient_to_value_and_remainder():
    xa, wa = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    results = []
    for lib in (ts, torch):
        x = lib.tensor(xa, requires_grad=True)
        v = lib.tensor(wa, requires_grad=True)
        y = x * 2
        y[1] = v * 3
        y[0, 1:] = v[:2]
        y[:, 0] += v[2]
        (y * y).sum().backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy(), v.grad.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_setitem_with_mask_and_index_arrays_records_gradients():
    results = []
    for lib in (ts, torch):
        x = lib.tensor(np.arange(6.0), requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True, dtype=lib.float64)
        y = x * 1
        y[lib.tensor([4, 1])] = v * v
        y[y > 3.5] = 0.5
        (y * lib.arange(6, dtype=lib.float64)).sum().backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy(), v.grad.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_inplace_through_a_view_of_a_graph_tensor():
    results = []
    for lib in (ts, torch):
        x = lib.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        y = x * 2.0 + 1.0       # nodes that save nothing of y (x.exp() would: both libraries raise)
        y[0].mul_(x[1])
        y.t()[2].add_(5.0)
        y.view(-1)[1].fill_(2.0)
        (y ** 2).sum().backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises_like_torch():
    x = ts.zeros(3, requires_grad=True)
    for op in (lambda: x.add_(1.0), lambda: x.__setitem__(0, 1.0), lambda: x[0].fill_(1.0),
               lambda: x.__iadd__(1.0)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            op()
    with ts.no_grad():
        x.add_(1.0)
        x[1] = 5.0
    np.testing.assert_allclose(x.numpy(), [1.0, 5.0, 1.0])


# ---------------------------------------------------------------- .data
def test_hand_written_sgd_step_through_data_matches_torch():
    rng = np.random.default_rng(0)
    w0, xs = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    results = []
    for lib in (ts, torch):
        w = lib.tensor(w0, requires_grad=True)
        x = lib.tensor(xs)
        for _ in range(3):
            loss = ((x @ w).tanh() ** 2).sum()
            loss.backward()
            w.data.add_(w.grad, alpha=-0.1)
            w.data.mul_(0.99)
            w.grad.zero_()
        w.data.copy_(w.data * 2)
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_data_writes_are_not_tracked_by_autograd():
    # torch does not notice .data writes; the old value was saved, the new one is used
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    for X in (x, tx):
        y = (X * X).sum()
        X.data.mul_(10.0)
        y.backward()
    close(x.grad, tx.grad)
    d = x.data
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.numpy(), x.numpy())


# ---------------------------------------------------------------- == and friends
def test_eq_is_elementwise_and_tensors_stay_hashable_by_identity():
    a, b = ts.tensor([1, 2, 3]), ts.tensor([1, 5, 3])
    np.testing.assert_array_equal((a == b).numpy(), [True, False, True])
    np.testing.assert_array_equal((a != b).numpy(), [False, True, False])
    np.testing.assert_array_equal((a == 2).numpy(), [False, True, False])
    assert (a == None) is False and (a != None) is True  # noqa: E711
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2 and a in {a} and b not in {a}
    assert ts.equal(a, a.clone()) and not ts.equal(a, b)


def test_modules_and_optimizers_with_tensor_identity():
    # parameters are found, deduplicated and removed by identity, never by ==
    lin = nn.Linear(2, 2)
    lin.tied = lin.weight
    params = list(lin.parameters())
    assert len(params) == 2
    opt = ts.optim.SGD(params, lr=0.1)
    opt.add_param_group({"params": [nn.Parameter(ts.zeros(2))]})
    loss = lin(ts.ones(1, 2)).sum()
    loss.backward()
    opt.step()
    opt.zero_grad()
    state = opt.state_dict()
    opt.load_state_dict(state)


# ---------------------------------------------------------------- dtype rules and scalars
@pytest.mark.parametrize("fn", [
    lambda L, a, b: a + b, lambda L, a, b: a / b, lambda L, a, b: a // b, lambda L, a, b: a % b,
    lambda L, a, b: a * 2.5, lambda L, a, b: a / 2, lambda L, a, b: a // 2, lambda L, a, b: a % -3,
    lambda L, a, b: -7 // b, lambda L, a, b: 7 % b, lambda L, a, b: a.sum(), lambda L, a, b: (a > 1).sum(),
    lambda L, a, b: a.float() + b, lambda L, a, b: a < 2.5, lambda L, a, b: a.prod(),
    lambda L, a, b: a.double() // b, lambda L, a, b: a.double() % b, lambda L, a, b: a.cumsum(0),
    lambda L, a, b: (a == b).any(), lambda L, a, b: L.tensor(True) + a, lambda L, a, b: a ** 2,
], ids=range(21))
def test_integer_arithmetic_matches_torch(fn):
    res = [fn(L, L.tensor([-5, 3, 7, 2]), L.tensor([2, -2, 3, 5])) for L in (ts, torch)]
    assert str(res[0].dtype) == str(res[1].dtype).replace("torch.", "")
    np.testing.assert_array_equal(res[0].numpy(), res[1].numpy())


def test_mean_of_integers_raises_like_torch():
    with pytest.raises(RuntimeError, match="floating point"):
        ts.tensor([1, 2]).mean()
    assert ts.tensor([1, 2]).float().mean().item() == 1.5
    assert ts.tensor([1, 2]).mean(dtype=ts.float64).dtype == ts.float64


def test_remainder_and_floor_divide_gradients_match_torch():
    xa = np.array([-3.5, 1.25, 7.0, 2.5])
    out = []
    for lib in (ts, torch):
        x = lib.tensor(xa, requires_grad=True)
        y = (x % 2.0) * x + (x.detach() // 1.5)
        y.sum().backward()
        out.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_scalar_conversions_and_len():
    t = ts.tensor([[1.5, 2.0]])
    assert f"{t.sum():.2f}" == f"{torch.tensor([[1.5, 2.0]]).sum():.2f}" == "3.50"
    assert "{:5.1f}".format(ts.tensor(2.25)) == "  2.2" and f"{ts.tensor(3)}" == "3"
    assert len(t) == 1 and float(t[0, 0]) == 1.5 and int(t[0, 1]) == 2
    assert [10, 20, 30][ts.tensor(2)] == 30 and range(10)[ts.tensor(3)] == 3
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [1, 2][ts.tensor(1.0)]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ts.tensor([1, 2]))
    with pytest.raises(TypeError, match="0-d"):
        len(ts.tensor(1.0))


def test_a_tensor_rebased_many_times_keeps_its_history_while_small(monkeypatch):
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    acc = x * 1
    early = acc * 3             # uses acc before 600 in-place writes
    for _ in range(600):
        acc += x
    (early.sum() + acc.sum()).backward()   # torch's: the snapshots are small, all kept
    np.testing.assert_allclose(x.grad.numpy(), [604.0, 604.0])
    from tinygrad_seq import write_history
    monkeypatch.setattr(write_history, "KEEP_BYTES", 0)   # large snapshots: the oldest go
    x.grad = None
    acc = x * 1
    early = acc * 3
    for _ in range(600):
        acc += x
    assert len(acc._hist) <= write_history.KEEP_MIN + 1
    acc.sum().backward()        # the chain itself needs no dropped entry
    np.testing.assert_allclose(x.grad.numpy(), [601.0, 601.0])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        early.sum().backward()  # early's node needs acc's first node, which was dropped
