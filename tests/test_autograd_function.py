"""torch's autograd API on the engine, each beside torch 2.13: custom Functions written with
Tensor methods (ctx.save_for_backward, setup_context, mark_non_differentiable,
set_materialize_grads, once_differentiable), torch.autograd.grad and backward(inputs=)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn


def _functions(T):
    """The same custom Functions, as a torch user writes them, for library T (torch or ts)."""
    class MyReLU(T.autograd.Function):          # torch's tutorial example
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[x < 0] = 0
            return grad_input

    class Exp(T.autograd.Function):             # saves its output
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    class Scale(T.autograd.Function):           # forward without ctx + setup_context; a number argument
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    class DoubleAndArgmax(T.autograd.Function):  # two outputs, one not differentiable
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            return g * 2

    class MulAdd(T.autograd.Function):          # two tensor inputs, one broadcast
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b + a

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * (b + 1) if ctx.needs_input_grad[0] else None
            gb = (g * a).sum(0) if ctx.needs_input_grad[1] else None
            return ga, gb

    return MyReLU, Exp, Scale, DoubleAndArgmax, MulAdd


def _leaf(T, arr):
    return T.tensor(np.asarray(arr, dtype=np.float64), requires_grad=True)


def _x():
    return np.linspace(-1.5, 1.0, 6).reshape(2, 3)


def _run_functions(T):
    relu, exp, scale, dbl, muladd = _functions(T)
    x, b = _leaf(T, _x()), _leaf(T, [0.5, -1.0, 2.0])
    doubled, idx = dbl.apply(x)
    y = relu.apply(x) + exp.apply(x) * scale.apply(x, 3.0) + doubled + muladd.apply(x, b)
    (y ** 2).sum().backward()
    return y.detach().numpy(), x.grad.numpy(), b.grad.numpy(), idx.requires_grad, int(idx.item())


def test_custom_functions_on_tensors_match_torch():
    ours, theirs = _run_functions(ts), _run_functions(torch)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-12)


def test_custom_function_passes_gradcheck():
    _, exp, scale, _, muladd = _functions(ts)
    x, b = _leaf(ts, _x()), _leaf(ts, [0.5, -1.0, 2.0])
    assert ts.autograd.gradcheck(lambda a, c: muladd.apply(exp.apply(a), c) * scale.apply(a, 2.0), (x, b))


def test_needs_input_grad_counts_every_argument():
    seen = {}
    for T in (ts, torch):
        class Probe(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, k, b):
                return a * k + b

            @staticmethod
            def backward(ctx, g):
                seen[T.__name__] = tuple(ctx.needs_input_grad)
                return g, None, g
        Probe.apply(_leaf(T, [1.0, 2.0]), 2.0, T.tensor([1.0, 1.0], dtype=T.float64)).sum().backward()
    assert seen["tinygrad_seq"] == seen["torch"] == (True, False, False)


def test_unused_output_gradient_is_zeros_or_none_as_torch():
    for materialize in (True, False):
        got = {}
        for T in (ts, torch):
            class Split(T.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.set_materialize_grads(materialize)
                    return x * 1, x * 2

                @staticmethod
                def backward(ctx, g1, g2):
                    got[T.__name__] = None if g2 is None else g2.detach().numpy().tolist()
                    return g1
            Split.apply(_leaf(T, [1.0, 2.0]))[0].sum().backward()
        assert got["tinygrad_seq"] == got["torch"] == ([0.0, 0.0] if materialize else None)


def test_once_differentiable_and_torchs_import_paths():
    from tinygrad_seq.autograd.function import Function, once_differentiable
    assert Function is ts.autograd.Function

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    x = _leaf(ts, [1.0, -3.0])
    Square.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, -6.0]


def test_forward_sees_tensors_with_grad_mode_off():
    seen = {}

    class Look(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen["type"], seen["grad_mode"] = type(x), ts.is_grad_enabled()
            return x + 1

        @staticmethod
        def backward(ctx, g):
            seen["grad_type"] = type(g)
            return g
    out = Look.apply(_leaf(ts, [1.0]))
    out.sum().backward()
    assert seen == {"type": ts.Tensor, "grad_mode": False, "grad_type": ts.Tensor}
    with ts.no_grad():
        assert not Look.apply(_leaf(ts, [1.0])).requires_grad


def _bad(kind):
    class Bad(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            return x * k

        @staticmethod
        def backward(ctx, g):
            if kind == "count":
                return (g,)
            if kind == "shape":
                return g.sum(0), None
            return g, g   # a gradient for the number argument
    return Bad


@pytest.mark.parametrize("kind, message", [("count", "incorrect number of gradients"),
                                           ("shape", r"got \[3\] but expected shape compatible with \[2, 3\]"),
                                           ("number", "at position 2, but the corresponding forward input was not a Tensor")])
def test_bad_backward_results_name_the_problem(kind, message):
    with pytest.raises(RuntimeError, match=message):
        _bad(kind).apply(_leaf(ts, _x()), 2.0).sum().backward()


def test_a_broadcastable_gradient_is_summed_down_as_torchs():
    for T in (ts, torch):
        class Widen(T.autograd.Function):
            @staticmethod
            def forward(ctx, b):
                return b * 1

            @staticmethod
            def backward(ctx, g):
                return g.expand(4, 3)          # [4, 3] for a [3] input: torch sums it
        b = _leaf(T, [1.0, 2.0, 3.0])
        Widen.apply(b).sum().backward()
        assert b.grad.tolist() == [4.0, 4.0, 4.0]


def test_saved_input_written_in_place_raises_and_second_backward_raises():
    relu = _functions(ts)[0]
    x = _leaf(ts, _x())
    h = x * 1
    y = relu.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = relu.apply(x * 1)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()
    # mark_dirty of a leaf that requires grad: torch's error (tests/test_programs41_fixes.py: the rest)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        class Dirty(ts.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x
        Dirty.apply(_leaf(ts, [1.0]))


def test_array_io_subclass_keeps_the_engines_interface():
    class Twice(ts.autograd.Function):
        array_io = True

        @staticmethod
        def forward(ctx, a):
            assert isinstance(a, np.ndarray)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = _leaf(ts, [1.0, 2.0])
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ------------------------------------------------------------------ torch.autograd.grad
def _grads(T, **kwargs):
    x, w = _leaf(T, _x()), _leaf(T, [[0.5], [-1.0], [2.0]])
    h = (x @ w).tanh()
    loss = (h ** 2).sum() + (x * 3).sum()
    got = T.autograd.grad(loss, [w, h, x], retain_graph=True, **kwargs)
    again = T.autograd.grad([loss, h.sum()], (x,), grad_outputs=[None, None])
    return [g.detach().numpy() for g in got + again], x.grad, w.grad


def test_autograd_grad_matches_torch_and_leaves_grad_alone():
    ours, theirs = _grads(ts), _grads(torch)
    for a, t in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, t, rtol=1e-12)
    assert ours[1:] == theirs[1:] == (None, None)


def test_autograd_grad_unused_inputs_and_errors_as_torch():
    for T in (ts, torch):
        x, unused = _leaf(T, [1.0, 2.0]), _leaf(T, [3.0])
        with pytest.raises(RuntimeError, match="not have been used in the graph"):
            T.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
        g = T.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True, retain_graph=True)
        assert g[1] is None and g[0].tolist() == [2.0, 2.0]
        g = T.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
        assert g[1].tolist() == [0.0]
        with pytest.raises(RuntimeError, match="does not require grad"):
            T.autograd.grad((x * 2).sum(), [T.tensor([1.0])])
    x = _leaf(ts, [1.0])
    g, = ts.autograd.grad((x * x).sum(), x, create_graph=True)   # a gradient with a graph (test_higher_order.py)
    assert g.requires_grad and ts.autograd.grad(g.sum(), x)[0].tolist() == [2.0]


def test_autograd_grad_of_an_lstm_equals_backward():
    ts.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2).double()
    x = ts.randn(5, 2, 3, dtype=ts.float64, requires_grad=True)
    loss = (lstm(x)[0] ** 2).sum()
    params = list(lstm.parameters())
    got = ts.autograd.grad(loss, params + [x], retain_graph=True)
    assert all(p.grad is None for p in params)
    loss.backward()
    for g, p in zip(got, params + [x]):
        np.testing.assert_allclose(g.numpy(), p.grad.numpy(), rtol=1e-12)


def test_backward_inputs_accumulates_only_into_those():
    for T in (ts, torch):
        x, w = _leaf(T, [1.0, 2.0]), _leaf(T, [3.0, 4.0])
        h = x * w
        (h * h).sum().backward(inputs=[w, h])
        assert x.grad is None
        assert w.grad.tolist() == [6.0, 32.0] and h.grad.tolist() == [6.0, 16.0]
        (x * w).sum().backward(inputs=[w])
        assert w.grad.tolist() == [7.0, 34.0] and x.grad is None


def test_keyword_tensors_and_setup_context_defaults_bind_as_torchs():
    got = {}
    for T in (ts, torch):
        class Mul(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, w=None):
                ctx.save_for_backward(x, w)
                return x * w

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                return g * w, g * x

        class Scale(T.autograd.Function):
            @staticmethod
            def forward(x, k, w=None):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k, w = inputs            # every parameter, defaults included
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None, None
        x, w = _leaf(T, [1.0, 2.0]), _leaf(T, [3.0, 4.0])
        (Mul.apply(x, w=w) + Scale.apply(x, 2.0)).sum().backward()
        got[T.__name__] = (x.grad.tolist(), w.grad.tolist())
    assert got["tinygrad_seq"] == got["torch"] == ([5.0, 6.0], [1.0, 2.0])


def test_ctx_details_as_torchs():
    for T in (ts, torch):
        seen = []

        class Probe(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, k=1.0):
                seen.append(tuple(ctx.needs_input_grad))
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g, None
        x = _leaf(T, [1.0, 2.0])
        with T.no_grad():
            Probe.apply(x)                  # needs_input_grad says what the input requires
        y = Probe.apply(x, k=5.0)
        assert seen == [(True,), (True, False)] and y.grad_fn.name() == "ProbeBackward"
        h = x * 2
        h.retain_grad()
        T.autograd.grad((h ** 2).sum(), x)  # retain_grad's .grad fills, as torch's
        assert h.grad.tolist() == [4.0, 8.0]

        class SavesANumber(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 2.0)
                return x * 1
        with pytest.raises(TypeError, match="save_for_backward can only save variables"):
            SavesANumber.apply(x)


def test_keyword_arguments_bind_to_the_forward_of_the_moment():
    # apply keeps forward's signature per class (inspect builds it in ~30 us a call) and reads it
    # again when forward is replaced
    class Scale(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=2.0):
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g, None

    x = ts.ones(3, requires_grad=True)
    assert Scale.apply(x, scale=3.0).tolist() == [3.0] * 3
    assert Scale.apply(x, scale=4.0).tolist() == [4.0] * 3
    Scale.forward = staticmethod(lambda ctx, x, scale=2.0, extra=1.0: x * scale * extra)
    assert Scale.apply(x, scale=1.0, extra=5.0).tolist() == [5.0] * 3
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Scale.apply(x, bogus=1)
