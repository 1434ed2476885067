"""The autograd engine: graph construction rules, the iterative backward, accumulation, hooks,
custom Functions and gradcheck (the in-place rules: test_autograd_inplace.py)."""
import gc
import sys

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import Tensor
from tinygrad_seq.autograd import Function, queue_callback


def leaf(*shape, seed=0, dtype=np.float64):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


# ------------------------------------------------------------------ deep graphs
@pytest.mark.slow
@pytest.mark.parametrize("n", [200_000])
def test_deep_chain_backward(n):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0 if _ % 2 else y + 1e-6
    assert sys.getrecursionlimit() < n
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    del y  # freeing a 200k-node graph must not overflow the C stack either
    gc.collect()


def test_deep_chain_with_branches():
    # a long unrolled recurrence that reuses the weight at every step
    w = Tensor(np.array(0.999), requires_grad=True)
    h = Tensor(np.array(1.0), requires_grad=True)
    out = h
    n = 20_000
    for _ in range(n):
        out = out * w
    out.backward()
    np.testing.assert_allclose(h.grad.item(), 0.999 ** n, rtol=1e-9)
    np.testing.assert_allclose(w.grad.item(), n * 0.999 ** (n - 1), rtol=1e-9)


# ------------------------------------------------------------------ accumulation and reuse
def test_tensor_used_twice_accumulates():
    x = leaf(3)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_tensor_reused_in_many_places_matches_torch():
    a = np.random.default_rng(0).standard_normal((4, 3))
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)

    def f(t):
        parts = [t[i] * t[i + 1] for i in range(3)] + [t.exp().sum(0), t.T @ t[:, 0], (t * t).mean(1).sum() * t[0]]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return (out * t.sum(0)).sum()
    f(x).backward()
    f(tx).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_grads_accumulate_across_backward_calls():
    x = leaf(3)
    (2 * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0, 5.0])
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_diamond_graph():
    x = leaf(2, 3)
    a = x.exp()
    b = a * 2
    c = a.tanh()
    (b * c).sum().backward()
    tx = torch.tensor(x.numpy(), requires_grad=True)
    ta = tx.exp()
    ((ta * 2) * ta.tanh()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_grad_does_not_alias_inputs():
    x = leaf(3)
    g = Tensor(np.ones(3))
    x.backward(g)
    x.grad.numpy()[0] = 99.0
    assert g.numpy()[0] == 1.0


# ------------------------------------------------------------------ backward() arguments
def test_nonscalar_backward_without_gradient_raises():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()


def test_nonscalar_backward_with_gradient():
    x = leaf(2, 3)
    g = np.arange(6.0).reshape(2, 3)
    (x * 3).backward(Tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), 3 * g)
    x.grad = None
    (x * 3).backward(g)  # a numpy gradient works too
    np.testing.assert_allclose(x.grad.numpy(), 3 * g)


def test_backward_gradient_wrong_shape_raises():
    x = leaf(2, 3)
    with pytest.raises(ValueError, match=r"torch.Size\(\[3\]\).*torch.Size\(\[2, 3\]\)"):   # torch's text
        (x * 3).backward(Tensor(np.ones(3)))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0, 2.0]).sum().backward()


def test_backward_on_leaf_itself():
    x = Tensor(np.array(2.0), requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_second_backward_frees_saved_arrays_unless_retain_graph():
    x = leaf(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())
    with pytest.raises(RuntimeError):
        y.backward()


# ------------------------------------------------------------------ requires_grad, no_grad, detach
def test_requires_grad_propagation():
    a, b = leaf(3), Tensor(np.ones(3))
    assert (a + b).requires_grad and (b + a).requires_grad and not (b * 2).requires_grad
    assert (a + b).grad_fn is not None and (a + b).is_leaf is False
    assert a.is_leaf and b.is_leaf and a.grad_fn is None
    assert not b.requires_grad


def test_no_grad_records_nothing():
    a = leaf(3)
    with ts.no_grad():
        y = a * 2 + 1
        assert not ts.is_grad_enabled()
    assert ts.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @ts.no_grad()
    def f(t):
        return t * 3
    assert not f(a).requires_grad
    with ts.no_grad():
        with ts.enable_grad():
            assert (a * 2).requires_grad
    assert (a * 2).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ZeroDivisionError):
        with ts.no_grad():
            1 / 0
    assert ts.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_memory():
    a = leaf(3)
    d = (a * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (a * d).sum()
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.numpy())
    e = a.detach()
    with ts.no_grad():
        a.add_(1.0)
    np.testing.assert_array_equal(e.numpy(), a.numpy())


def test_requires_grad_flag_methods():
    x = Tensor(np.ones(2))
    assert x.requires_grad_() is x and x.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


# ------------------------------------------------------------------ retain_grad and hooks
def test_retain_grad():
    x = leaf(3)
    y = x * 2
    y.retain_grad()
    z = y * y
    z.retain_grad()
    z.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), np.ones(3))
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())
    tx = torch.tensor(x.numpy(), requires_grad=True)
    ty = tx * 2
    ty.retain_grad()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_non_leaf_grad_is_none_without_retain():
    x = leaf(3)
    y = x * 2
    y.sum().backward()
    assert y.grad is None


def test_post_accumulate_grad_hook_fires_once_with_final_grad():
    x = leaf(3)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    out = x
    for _ in range(10):  # x used in many places
        out = out + x * 2
    out.sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], np.full(3, 21.0))
    out = (x * 3).sum()
    out.backward()
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], np.full(3, 24.0))  # accumulated grad
    handle.remove()
    (x * 1).sum().backward()
    assert len(seen) == 2


def test_hooks_on_several_leaves_each_fire_once():
    ws = [leaf(2, seed=i) for i in range(4)]
    counts = {i: 0 for i in range(4)}
    for i, w in enumerate(ws):
        w.register_post_accumulate_grad_hook(lambda t, i=i: counts.__setitem__(i, counts[i] + 1))
    h = ws[0]
    for w in ws[1:] * 3:
        h = h * w + w
    h.sum().backward()
    assert counts == {0: 1, 1: 1, 2: 1, 3: 1}


def test_hook_on_non_leaf_raises():
    with pytest.raises(RuntimeError, match="leaf"):
        (leaf(2) * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_queue_callback_runs_once_after_backward():
    ws = [leaf(3, seed=i) for i in range(3)]
    log = []

    def hook(t):
        log.append("hook")
        if len([e for e in log if e == "hook"]) == 1:
            queue_callback(lambda: log.append(("cb", [w.grad is not None for w in ws])))
    for w in ws:
        w.register_post_accumulate_grad_hook(hook)
    (ws[0] * ws[1] * ws[2] * ws[0]).sum().backward()
    assert log.count("hook") == 3
    assert log[-1] == ("cb", [True, True, True])
    assert sum(1 for e in log if isinstance(e, tuple)) == 1
    (ws[0] * 2).sum().backward()   # the callback does not run again
    assert sum(1 for e in log if isinstance(e, tuple)) == 1


def test_queue_callback_outside_backward_raises():
    with pytest.raises(RuntimeError, match="backward"):
        queue_callback(lambda: None)


# ------------------------------------------------------------------ custom Function
class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2


class SplitSum(Function):
    """Two outputs; one gradient per input, None for the non-differentiable one."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x + y, x * y

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        x, y = ctx.saved_tensors
        gx = (0 if g_sum is None else g_sum) + (0 if g_prod is None else g_prod * y)
        return gx, None


def test_custom_function():
    x = leaf(4)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2)
    assert ts.gradcheck(lambda t: Cube.apply(t), [leaf(3, seed=2)])


def test_custom_function_multi_output():
    x, y = leaf(3), leaf(3, seed=1)
    s, p = SplitSum.apply(x, y)
    assert s.requires_grad and p.requires_grad
    (s * 2 + p).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + y.numpy())
    assert y.grad is None
    x.grad = None
    s, p = SplitSum.apply(x, y)
    p.sum().backward()  # only one output used
    np.testing.assert_allclose(x.grad.numpy(), y.numpy())


def test_function_wrong_number_of_gradients_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(leaf(2), leaf(2)).sum().backward()


def test_function_needs_input_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen["n"] = ctx.needs_input_grad
            return g, g
    Probe.apply(leaf(2), Tensor(np.ones(2))).sum().backward()
    assert seen["n"] == (True, False)


def test_integer_outputs_never_require_grad():
    class ToInt(Function):
        @staticmethod
        def forward(ctx, a):
            return a.long()

        @staticmethod
        def backward(ctx, g):
            return None
    assert not ToInt.apply(leaf(2)).requires_grad


# ------------------------------------------------------------------ gradcheck
def test_gradcheck_passes_on_compositions():
    x, w = leaf(3, 4), leaf(4, 2, seed=1)
    assert ts.gradcheck(lambda a, b: ((a @ b).tanh() * a.sum(1, keepdim=True).sigmoid()).exp(), [x, w])
    y = Tensor(np.abs(np.random.default_rng(3).standard_normal((2, 3))) + 0.5, requires_grad=True)
    assert ts.gradcheck(lambda a: (a.log() * a.sqrt() / (a ** 1.5)).max(1).values, [y])
    assert ts.gradcheck(lambda a: a[np.array([0, 0, 1])].permute(1, 0).reshape(-1), [y])


class _WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]  # missing factor 2


def test_gradcheck_catches_wrong_gradient():
    with pytest.raises(ts.GradcheckError, match="analytic"):
        ts.gradcheck(lambda t: _WrongSquare.apply(t), [leaf(3)])


def test_gradcheck_takes_torchs_options_and_leaves_grad_alone():
    x = Tensor(np.ones(3), requires_grad=True)
    x.grad = ts.ones(3, dtype=ts.float64)   # its dtype: torch checks an assigned grad
    assert ts.autograd.gradcheck(lambda a: (a * a).sum(), (x,), nondet_tol=0.0)
    assert x.grad.tolist() == [1.0, 1.0, 1.0]   # .grad left as it was, as torch's
    assert ts.gradcheck(_WrongSquare.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="analytic"):   # torch's GradcheckError is a RuntimeError
        ts.gradcheck(_WrongSquare.apply, (x,))
    with pytest.raises(TypeError, match="unexpected"):
        ts.gradcheck(_WrongSquare.apply, (x,), not_an_option=1)


def test_gradcheck_warns_on_float32_and_rejects_no_grad_inputs():
    # as torch: float32 is checked after a warning (eps=1e-6 is too fine for it: a mismatch)
    with pytest.warns(UserWarning, match="not a double precision"):
        with pytest.raises(ts.GradcheckError, match="analytic"):
            ts.gradcheck(lambda t: t * 2, [leaf(3, dtype=np.float32)])
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        ts.gradcheck(lambda t: t * 2, [Tensor(np.ones(3))])


# ------------------------------------------------------------------ gradients taken without a copy
class _Fresh(Function):
    """backward returns what `returned` says: new arrays, the same array twice, or the
    incoming gradient itself; marked fresh_grads (leaf_grads.adoptable must still copy the last
    two). An engine-style Function: arrays in and out."""
    array_io = True
    fresh_grads = True

    @staticmethod
    def forward(ctx, a, b, returned):
        ctx.returned = returned
        return a + b

    @staticmethod
    def backward(ctx, g):
        if ctx.returned == "new":
            return g * 1.0, g * 2.0
        if ctx.returned == "twice":
            one = g * 1.0
            return one, one
        if ctx.returned == "reshaped":   # whole-array views of arrays it allocated: adopted
            return (g * 1.0).reshape(1, -1).reshape(-1), (g * 2.0)[None][0]
        if ctx.returned == "halves":     # two views of one array: copied
            both = np.concatenate([g * 1.0, g * 2.0]).reshape(2, -1)
            return both[0], both[1]
        if ctx.returned == "incoming_view":
            return g.reshape(1, -1)[0], g * 2.0
        return g, g * 2.0


@pytest.mark.parametrize("returned", ["new", "twice", "incoming", "reshaped", "halves", "incoming_view"])
def test_a_leaf_keeps_only_a_gradient_nothing_else_holds(returned):
    a, b = leaf(3), leaf(3, seed=1)
    dy = np.ones(3)
    out = _Fresh.apply(a, b, returned=returned)
    out.backward(Tensor(dy))
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0] if returned == "twice" else [2.0, 2.0, 2.0])
    # one leaf's gradient written in place changes neither the other's nor the caller's dy
    a.grad.array[:] = 7.0
    assert b.grad.numpy()[0] != 7.0 and dy[0] == 1.0
    assert not np.shares_memory(a.grad.array, b.grad.array)


def test_whole_array_views_are_adopted_and_partial_or_shared_ones_are_not():
    from tinygrad_seq.leaf_grads import adoptable as _adoptable
    fresh = np.ones((2, 3))
    view = fresh.reshape(1, 2, 3)
    assert _adoptable(view, (np.ones(6),), (view,))
    assert not _adoptable(fresh[0], (np.ones(6),), (fresh[0],))            # part of an array
    assert not _adoptable(view, (fresh,), (view,))                           # of a gradient given
    other = fresh.reshape(6)
    assert not _adoptable(view, (np.ones(6),), (view, other))                # two views of one array
    assert not _adoptable(view[0].reshape(1, 2, 3), (np.ones(6),), (None,))  # a view of a view


def test_a_recurrent_layers_weight_gradient_is_the_kernels_array(monkeypatch):
    # the LSTM kernel's dW_hh becomes weight_hh's .grad as it is (fresh_grads), not a copy;
    # hooks that replace a gradient still get theirs copied
    from tinygrad_seq.kernels import lstm_cpu
    returned = []
    original = lstm_cpu.lstm_backward

    def recording(*args, **kwargs):
        out = original(*args, **kwargs)
        returned.append(out)
        return out

    monkeypatch.setattr(lstm_cpu, "lstm_backward", recording)
    layer = ts.nn.LSTM(4, 8)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 2, 4)).astype(np.float32), requires_grad=True)
    replacement = np.zeros((32,), np.float32)
    layer.bias_hh_l0.register_hook(lambda g: Tensor(replacement))
    out, _ = layer(x)
    out.sum().backward()
    dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = returned[0]
    assert layer.weight_hh_l0.grad.array is dw_hh and layer.weight_ih_l0.grad.array is dw_ih
    assert x.grad.array is dx  # weight_grads_cpu returns dx owning its memory
    assert layer.bias_ih_l0.grad.array is db_ih
    assert layer.bias_hh_l0.grad.array is not replacement and not layer.bias_hh_l0.grad.numpy().any()


def test_a_scalar_leafs_summed_gradient_stays_an_array():
    # numpy returns a 0-d sum as a scalar: .grad must still be an array that in-place ops write
    a = Tensor(np.array(2.0), requires_grad=True)
    (a * a).backward()
    assert isinstance(a.grad.array, np.ndarray)
    a.grad.zero_()
    assert a.grad.item() == 0.0


def test_a_gradient_a_hook_kept_is_not_the_leafs_grad():
    # a leaf hook that keeps the gradient it saw: .grad must not share its memory (PyTorch copies
    # a gradient referenced elsewhere), so clipping .grad in place leaves the kept one alone
    layer = ts.nn.Linear(3, 2)
    seen = []
    layer.weight.register_hook(lambda g: seen.append(g))
    layer(Tensor(np.ones((4, 3), np.float32))).sum().backward()
    kept = seen[0].numpy().copy()
    ts.nn.utils.clip_grad_norm_([layer.weight], 1e-3)
    np.testing.assert_array_equal(seen[0].numpy(), kept)
    assert not np.shares_memory(seen[0].array, layer.weight.grad.array)
