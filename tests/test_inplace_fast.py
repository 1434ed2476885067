"""add_ / sub_ / mul_ / div_ outside the graph write with numpy's out= (inplace_fast.py): the same
values as the general path and as torch, the same bookkeeping (version, backward's check of saved
tensors written since, views reaching their base), and every case it does not take falls back."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import inplace_fast

torch = pytest.importorskip("torch")


def _pair(shape, dtype=np.float32, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ts.tensor(a.copy()), torch.tensor(a.copy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,args,kw", [
    ("add_", (1.5,), {}), ("add_", (2,), {"alpha": -0.25}), ("sub_", (0.5,), {"alpha": 3}),
    ("mul_", (0.1,), {}), ("div_", (3,), {}), ("div_", (0.0,), {}),
])
def test_number_operand_matches_torch_bit_for_bit(dtype, name, args, kw):
    x, tx = _pair((4, 5), dtype)
    ver = x._version
    out = getattr(x, name)(*args, **kw)
    getattr(tx, name)(*args, **kw)
    assert out is x and x._version == ver + 1
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("other_shape", [(4, 5), (5,), (1, 5), (4, 1), ()])
def test_tensor_operand_broadcast_matches_torch(name, other_shape):
    x, tx = _pair((4, 5), seed=1)
    o, to = _pair(other_shape, seed=2)
    kw = {"alpha": 0.5} if name in ("add_", "sub_") else {}
    getattr(x, name)(o, **kw)
    getattr(tx, name)(to, **kw)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_same_values_as_the_general_path():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 7)).astype(np.float32), rng.standard_normal((7,)).astype(np.float32)
    fast, general = ts.tensor(a.copy()), ts.tensor(a.copy())
    fast.add_(ts.tensor(b), alpha=-0.3)
    general._write("add_", lambda t, o: t.add(o, alpha=-0.3), ts.tensor(b))
    np.testing.assert_array_equal(fast.numpy(), general.numpy())


@pytest.mark.parametrize("grad_mode", [False, True])
@pytest.mark.parametrize("expr", ["x[1:].add_(x[:-1])", "y.mul_(y.t())", "y.mul_(y[0])",
                                  "x[1:].sub_(x[:-1], alpha=2)", "x[2:] /= x[:-2]", "x[1:].pow_(x[:-1])"])
def test_operand_that_is_part_of_the_tensor_raises_as_torch(expr, grad_mode):
    for lib in (torch, ts):
        w = lib.arange(1.0, 11.0, requires_grad=grad_mode)
        with lib.no_grad():
            x, y = w * 1, w[:9].reshape(3, 3) * 1
        if grad_mode:
            x, y = w * 1, w[:9].reshape(3, 3) * 1
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            exec(expr)


def test_the_same_memory_or_disjoint_parts_are_allowed_as_torch():
    x, tx = _pair((10,))
    x.add_(x)
    tx.add_(tx)
    x[:5].mul_(x[5:])
    tx[:5].mul_(tx[5:])
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_view_write_reaches_base_and_shares_the_version():
    x, tx = _pair((3, 4))
    v, tv = x[1], tx[1]
    v.mul_(2.0)
    tv.mul_(2.0)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    assert x._version == tx._version == v._version


def test_sgd_step_by_hand_matches_torch():
    lin = torch.nn.Linear(5, 3)
    ours = ts.nn.Linear(5, 3)
    ours.load_state_dict({k: v.numpy() for k, v in lin.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((8, 5)).astype(np.float32)
    for _ in range(3):
        for model, xin in ((lin, torch.tensor(x)), (ours, ts.tensor(x))):
            model.zero_grad()
            (model(xin) ** 2).mean().backward()
            for p in model.parameters():
                p.data.add_(p.grad.data, alpha=-0.1)
            with (torch if model is lin else ts).no_grad():
                for p in model.parameters():
                    p.mul_(0.99)
    for k, v in lin.state_dict().items():   # torch's add_ with alpha is one fused multiply-add: 1 ulp
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-6, atol=1e-7)


def test_write_to_a_saved_tensor_still_makes_backward_raise():
    w = ts.randn(3, requires_grad=True)
    x = ts.randn(3)
    y = (w * x).sum()   # Mul saved x
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    z = ts.randn(4, 3)
    y2 = (w * z[1]).sum()
    z[1].mul_(2.0)   # a write through a view of the saved tensor's base
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.backward()


def test_data_writes_stay_untracked():
    w = ts.randn(3, requires_grad=True)
    y = (w * w).sum()
    w.data.mul_(2.0)   # torch does not see writes through .data
    y.backward()


@pytest.mark.parametrize("case", ["leaf", "graph", "int", "other dtype", "bad shape", "rounding", "bool alpha"])
def test_cases_outside_the_short_way_take_the_general_path(case):
    x = ts.randn(3, requires_grad=True)
    if case == "leaf":   # torch's error for a leaf requiring grad, in grad mode
        assert inplace_fast.arith_in_place(x, "add_", 1.0) is None
        with pytest.raises(RuntimeError, match="leaf Variable"):
            x.add_(1.0)
    elif case == "graph":   # recorded: the gradient flows through the write
        y = x * 1
        y.mul_(3.0)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3, np.float32))
    elif case == "int":
        t = ts.tensor([1, 2, 3])
        assert inplace_fast.arith_in_place(t, "add_", 1) is None
        t.add_(1)
        assert t.tolist() == [2, 3, 4] and t.dtype == ts.int64
    elif case == "other dtype":
        t = ts.zeros(2)
        t.add_(ts.tensor([1.0, 2.0], dtype=ts.float64))
        assert t.dtype == ts.float32 and t.tolist() == [1.0, 2.0]
    elif case == "bad shape":
        with pytest.raises(RuntimeError, match="3"):
            ts.zeros(3).add_(ts.ones(2, 3))
    elif case == "rounding":
        t = ts.tensor([7.0, -7.0])
        t.div_(2, rounding_mode="floor")
        assert t.tolist() == [3.0, -4.0]
    else:   # torch's error for a Boolean alpha with a float result
        t = ts.tensor([1.0, 2.0])
        assert inplace_fast.arith_in_place(t, "add_", ts.tensor([1.0, 1.0]), True) is None
        with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
            t.add_(ts.tensor([1.0, 1.0]), alpha=True)


def test_division_by_zero_is_silent_as_torch():
    x = ts.tensor([1.0, 0.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.div_(0.0)
        x /= ts.zeros(3)
    t = torch.tensor([1.0, 0.0, -1.0])
    t.div_(0.0)
    t /= torch.zeros(3)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_read_only_memory_and_numpy_scalars_take_the_general_path():
    t = ts.ones(3)
    t.array.flags.writeable = False
    assert inplace_fast.arith_in_place(t, "add_", 1.0) is None
    s = ts.ones(3).sum()   # a reduction's 0-d result may be a numpy scalar
    s += 1.0
    assert s.item() == 4.0


def test_expanded_tensor_refused_as_torch():
    x = ts.zeros(3, 1).expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element"):
        x.add_(1.0)


@pytest.mark.parametrize("src_shape", [(4, 5), (5,), (1, 5), ()])
def test_copy_matches_torch_and_keeps_the_bookkeeping(src_shape):
    x, tx = _pair((4, 5))
    s, ts_ = _pair(src_shape, seed=5)
    ver = x._version
    assert x.copy_(s) is x and x._version == ver + 1
    tx.copy_(ts_)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    assert not np.shares_memory(x.numpy(), s.numpy())


def test_copy_through_a_view_and_into_a_saved_tensor():
    x, tx = _pair((3, 4))
    x[1].copy_(ts.zeros(4))
    tx[1].copy_(torch.zeros(4))
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    w = ts.randn(3, requires_grad=True)
    saved = ts.randn(3)
    y = (w * saved).sum()
    saved.copy_(ts.ones(3))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_copy_in_the_graph_and_across_dtypes_takes_the_general_path():
    w = ts.randn(3, requires_grad=True)
    buf = ts.zeros(3)
    assert inplace_fast.copy_in_place(buf, w) is None   # grad mode, a source that requires grad
    buf.copy_(w * 2)
    buf.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full(3, 2, np.float32))
    i = ts.zeros(3, dtype=ts.int64)
    assert inplace_fast.copy_in_place(i, ts.tensor([1.7, -1.7, 2.2])) is None
    i.copy_(ts.tensor([1.7, -1.7, 2.2]))
    assert i.tolist() == torch.zeros(3, dtype=torch.int64).copy_(torch.tensor([1.7, -1.7, 2.2])).tolist()
    with pytest.raises(RuntimeError):
        ts.zeros(3).copy_(ts.ones(2))
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        x = ts.arange(6.0)
        x[1:].copy_(x[:-1])
