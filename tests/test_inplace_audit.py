"""In-place writes and autograd, found by an audit against torch 2.13: a buffer written a row per
step (no copy per write), long write histories, an operand that is the written tensor, retain_grad
before a write, deep view chains; broadcast_to's sizes and a 0-d transpose."""
import tracemalloc

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _x(L, shape=(3, 4), seed=0):
    return L.tensor(np.random.RandomState(seed).randn(*shape), dtype=L.float64, requires_grad=True)


def _both(body, n=2):
    out = []
    for L in (torch, ts):
        xs = [_x(L, seed=i) for i in range(n)]
        body(L, *xs)
        out.append([None if t.grad is None else t.grad.numpy().copy() for t in xs])
    return out


# a decoder buffer written a row per step keeps no copy of the buffer per write (inplace._put_in_graph)
def test_decoder_buffer_written_per_step_keeps_no_copies():
    T, B, H = 100, 16, 64
    x = ts.tensor(np.random.RandomState(0).randn(B, H), requires_grad=True)
    buf = ts.zeros(T, B, H, dtype=ts.float64)
    tracemalloc.start()
    try:
        h = x
        for t in range(T):
            h = (h * 0.9).tanh()
            buf[t] = h
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    buf.sum().backward()
    # torch keeps the buffer and T small activations; here T copies of the whole buffer stay alive
    assert kept < 6 * buf.numpy().nbytes, f"{kept / 2**20:.0f} MiB kept for a {buf.numpy().nbytes / 2**20:.1f} MiB buffer"


# more than 256 in-place writes after a use: small snapshots are all kept (write_history)
@pytest.mark.parametrize("kind", ["cumulative buffer", "view then 300 writes", "tensor used then add_"])
def test_more_than_256_writes(kind):
    def body(L, x):
        if kind == "cumulative buffer":
            buf = L.zeros(300, 3, dtype=L.float64)
            for t in range(1, 300):
                buf[t] = buf[t - 1] * 0.5 + x[0, :3]
            buf.sum().backward()
        elif kind == "view then 300 writes":
            y = x * 1
            v = y[0]
            for _ in range(300):
                y.mul_(1.001)
            v.sum().backward()
        else:
            y = x * 1
            outs = []
            for _ in range(300):
                outs.append(y.sum())
                y.add_(1.0)
            sum(outs).backward()
    want, got = _both(body, 1)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-9)


# an in-place op whose operand is the written tensor itself
@pytest.mark.parametrize("op", ["y += y", "add_ alpha", "sub_", "copy_", "setitem all"])
def test_inplace_operand_is_self(op):
    def body(L, x, w):
        y = x * 1
        if op == "y += y":
            y += y
        elif op == "add_ alpha":
            y.add_(y, alpha=3)
        elif op == "sub_":
            y.sub_(y, alpha=2)
        elif op == "copy_":
            y.copy_(y)
        else:
            y[:] = y
        (y ** 2 * w).sum().backward()
    want, got = _both(body)
    assert got[0] is not None
    np.testing.assert_allclose(got[0], want[0], rtol=1e-9)


# ... and one that saves that operand: torch raises; here it raises or gives the gradient of the
# program with the operand cloned first
@pytest.mark.parametrize("op", ["mul_(y)", "mul_(y[1])", "div_(y)", "index_copy_(y)"])
def test_inplace_operand_aliasing_self_saved(op):
    x = _x(ts)
    y = x * 1
    if op == "mul_(y)":
        y.mul_(y)
    elif op == "mul_(y[1])":   # a part of y: torch's TensorIterator refuses the call itself
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            y.mul_(y[1])
        return
    elif op == "div_(y)":
        y.div_(y)
    else:   # torch's assert_no_overlap refuses the call itself
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            y.index_copy_(0, ts.tensor([2, 0, 1]), y)
        return
    try:
        (y ** 2).sum().backward()
    except RuntimeError:
        return   # torch raises here: raising is fine
    # otherwise it must be the gradient of the program with the operand cloned first
    xt = _x(torch)
    yt = xt * 1
    if op == "mul_(y)":
        yt.mul_(yt.clone())
    elif op == "mul_(y[1])":
        yt.mul_(yt[1].clone())
    elif op == "div_(y)":
        yt.div_(yt.clone())
    else:
        yt.index_copy_(0, torch.tensor([2, 0, 1]), yt.clone())
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


# retain_grad() before an in-place op: .grad is that of the tensor's final value, as torch's
@pytest.mark.parametrize("use", ["base", "view"])
def test_retain_grad_then_inplace(use):
    got = []
    for L in (torch, ts):
        x, w = _x(L, seed=0), _x(L, seed=1)
        y = x * 1
        y.retain_grad()
        y.mul_(w)
        ((y if use == "base" else y[0]) ** 3).sum().backward()
        got.append(y.grad.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-9)


# a deep chain of views, then a write to the base (autograd._stale_view is a loop)
def test_deep_view_chain_after_base_write():
    def body(L, x, w):
        y = x * 1
        v = y
        for _ in range(1500):
            v = v[:]
        y.mul_(w)
        (v ** 2).sum().backward()
    want, got = _both(body)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-9)


def test_broadcast_to_varargs():
    a = torch.ones(3).broadcast_to(2, 3)
    b = ts.ones(3).broadcast_to(2, 3)
    assert tuple(b.shape) == tuple(a.shape)


def test_transpose_of_0d():
    assert ts.tensor(1.0).transpose(0, -1).item() == torch.tensor(1.0).transpose(0, -1).item()
