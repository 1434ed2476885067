"""autograd.grad of non-leaf inputs walks only the nodes made after the inputs' (graph_walk.
sweep_floor): a rollout calling grad(create_graph=True) every step no longer walks its whole
history. Values against torch 2.13, in the cases where node numbers and graph order differ."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import graph_walk

torch = pytest.importorskip("torch")


def _both(fn):
    out = []
    for lib in (torch, ts):
        lib.manual_seed(0)
        out.append([np.asarray(r.detach().numpy() if hasattr(r, "detach") else r, dtype=np.float64)
                    for r in fn(lib)])
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def _walk_sizes(monkeypatch):
    sizes = []
    real = graph_walk._toposort

    def counting(root, floor=0):
        order, edges = real(root, floor)
        sizes.append(len(order))
        return order, edges
    for mod in ("tinygrad_seq.autograd", "tinygrad_seq.higher_order"):
        monkeypatch.setattr(f"{mod}._toposort", counting)
    return sizes


def _rollout(lib, steps):
    net = lib.nn.Sequential(lib.nn.Linear(1, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1))
    q = lib.rand(4, 1).requires_grad_(True)
    p = lib.rand(4, 1)
    for _ in range(steps):
        q = q * 1.0   # a non-leaf input for every step
        force = lib.autograd.grad(net(q).sum(), q, create_graph=True)[0]
        p = p - 0.1 * force
        q = q + 0.1 * p
    return q


@pytest.mark.parametrize("create_graph", [True, False])
def test_rollout_walks_only_the_last_step(monkeypatch, create_graph):
    sizes = _walk_sizes(monkeypatch)
    net = ts.nn.Sequential(ts.nn.Linear(1, 8), ts.nn.Tanh(), ts.nn.Linear(8, 1))
    q = ts.rand(4, 1).requires_grad_(True)
    p = ts.rand(4, 1)
    for _ in range(30):
        q = q * 1.0
        force = ts.autograd.grad(net(q).sum(), q, create_graph=create_graph)[0]
        p = p - 0.1 * force
        q = q + 0.1 * p
    assert max(sizes) == sizes[0] and len(sizes) == 30   # the same few nodes every step


def test_rollout_values_and_outer_backward_as_torch():
    def run(lib):
        q = _rollout(lib, 12)
        return [q, lib.autograd.grad((q ** 2).sum(), q)[0]]
    _both(run)


def test_rollout_parameter_gradients_as_torch():
    def run(lib):
        lib.manual_seed(1)
        net = lib.nn.Sequential(lib.nn.Linear(1, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1))
        q0 = lib.rand(4, 1)
        q, p = q0 * 1.0, lib.zeros(4, 1)
        for _ in range(10):
            q = q.detach().requires_grad_(True) * 1.0 if q.grad_fn is None else q
            q = q * 1.0
            f = lib.autograd.grad(net(q).sum(), q, create_graph=True)[0]
            p = p - 0.1 * f
            q = q + 0.1 * p
        (q ** 2).sum().backward()
        return [q] + [t.grad for t in net.parameters()]
    _both(run)


def test_input_rebased_in_place_after_a_view_was_taken():
    # the view v made before x's in-place write is read from x after it: its node (regenerated
    # from the write) comes after x's node although the view's own node came before
    def run(lib):
        a = lib.randn(3, 4, requires_grad=True)
        x = a * 1.0
        v = x[0]
        x.mul_(2.0)
        y = (v * 3.0).sum() + (x * x).sum()
        return lib.autograd.grad(y, x)
    _both(run)


def test_input_made_by_an_in_place_op_used_by_older_consumers():
    def run(lib):
        a = lib.randn(5, requires_grad=True)
        x = a * 2.0
        early = (x * 3.0).sum()   # uses x before the write: not on a path to the written x
        x.add_(1.0)
        y = early + (x.exp() * 2.0).sum()
        return lib.autograd.grad(y, x, create_graph=True)
    _both(run)


def test_custom_function_after_the_input_is_walked():
    class Cube(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    a = ts.tensor([1.0, 2.0], requires_grad=True)
    x = a * 1.0
    y = Cube.apply(x).sum()
    g, = ts.autograd.grad(y, x)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert y.grad_fn._seq > x.grad_fn._seq   # numbered as made, as torch's sequence_nr


def test_inputs_of_mixed_ages_and_a_leaf():
    def run(lib):
        w = lib.randn(3, requires_grad=True)
        h1 = w.tanh()
        h2 = (h1 * 2.0).sin()
        y = (h2 * h1).sum() + (w ** 2).sum()
        return list(lib.autograd.grad(y, [h2, h1], retain_graph=True)) + list(lib.autograd.grad(y, [h1, w]))
    _both(run)
