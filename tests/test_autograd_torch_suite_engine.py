"""Differences found by porting PyTorch's test/test_autograd.py, in custom autograd.Function,
the backward engine's messages, grad mode and anomaly detection; each checked beside torch 2.13
where torch runs the same code."""
import threading
import warnings

import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as tsF
from tinygrad_seq.autograd_function import once_differentiable as ts_once_differentiable
from tinygrad_seq.reentrant import MAX_DEPTH

torch = pytest.importorskip("torch")

BOTH = [torch, ts]


def _once_differentiable(T):
    return torch.autograd.function.once_differentiable if T is torch else ts_once_differentiable


# ---------------------------------------------------------------- anomaly detection
def _nan_function(T):
    class MyFunc(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum(0, keepdim=True)

        @staticmethod
        def backward(ctx, gO):
            gI = gO.clone().expand(10).clone()
            gI[0] = 0
            gI[0] /= 0
            return gI
    return MyFunc


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_detect_anomaly_reports_nan_in_backward(T):
    inp = T.rand(10, requires_grad=True)
    out = _nan_function(T).apply(inp)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled. This mode will increase the runtime "
                                         "and should only be enabled for debugging."):
        mode = T.autograd.detect_anomaly()
    with mode:
        assert T.is_anomaly_enabled() and T.is_anomaly_check_nan_enabled()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="Function 'MyFuncBackward' returned nan values in its 0th output."):
                out.backward()
    assert not T.is_anomaly_enabled()
    # made outside anomaly mode: no forward stack to show
    assert any("Error detected in MyFuncBackward. No forward pass information available" in str(x.message) for x in w)


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_detect_anomaly_warns_forward_traceback_of_failed_node(T):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with T.autograd.detect_anomaly():
            d = T.tensor(-1., requires_grad=True)
            y = T.sqrt(d)   # the forward line the warning shows
            with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output."):
                y.backward()
            z = d * 2
            z.backward()
            with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
                z.backward()
    texts = [str(x.message) for x in w]
    sqrt_warning = next(t for t in texts if t.startswith("Error detected in SqrtBackward0. Traceback of forward call "
                                                         "that caused the error:"))
    assert "y = T.sqrt(d)   # the forward line the warning shows" in sqrt_warning
    assert any(t.startswith("Error detected in MulBackward0. Traceback of forward call") and "z = d * 2" in t
               for t in texts)


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_anomaly_without_check_nan_gives_the_nan_gradient(T):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with T.autograd.detect_anomaly(check_nan=False):
            assert T.is_anomaly_enabled() and not T.is_anomaly_check_nan_enabled()
            d = T.tensor(-1., requires_grad=True)
            T.sqrt(d).backward()
    assert d.grad.isnan().item()
    assert not T.is_anomaly_enabled() and T.is_anomaly_check_nan_enabled()


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_set_detect_anomaly_call_and_context_and_threads(T):
    T.autograd.set_detect_anomaly(True)             # a plain call sets the mode at once
    try:
        assert T.is_anomaly_enabled()
        seen = []
        worker = threading.Thread(target=lambda: seen.append(T.is_anomaly_enabled()))
        worker.start()
        worker.join()
        assert seen == [True]                        # process-wide, as torch's
    finally:
        T.autograd.set_detect_anomaly(False)
    assert not T.is_anomaly_enabled()
    with T.autograd.set_detect_anomaly(True):
        assert T.is_anomaly_enabled()
    assert not T.is_anomaly_enabled()


def test_anomaly_mode_off_again_records_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ts.autograd.detect_anomaly():
            a = ts.ones(2, requires_grad=True) * 2
    b = ts.ones(2, requires_grad=True) * 2
    assert "_anomaly_stack" in a.grad_fn.__dict__ and "_anomaly_stack" not in b.grad_fn.__dict__


# ---------------------------------------------------------------- the engine's messages
@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_autograd_error_messages(T):
    x = T.randn(2, 2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError) as e:
        T.autograd.grad([y], [x], grad_outputs=[T.ones(2)])
    assert str(e.value) == ("Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) "
                            "and output[0] has a shape of torch.Size([2, 2]).")
    if T is ts:   # torch means the same text here, but its grads.index(grad) compares tensors and raises first
        with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[1\] has a shape of "
                                               r"torch.Size\(\[3\]\) and output\[1\] has a shape of"):
            T.autograd.backward([y, x * 3], [T.ones(2, 2), T.ones(3)])
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\]"):
        y.backward(T.ones(3))
    b = T.randn(3, requires_grad=True)
    c = (b * b).sum()
    c.backward()
    with pytest.raises(RuntimeError) as e:
        c.backward()
    assert str(e.value).startswith(
        "Trying to backward through the graph a second time (or directly access saved tensors after they have "
        "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
        "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
        "if you need to access saved tensors after calling backward.")
    leaf = T.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        leaf[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place"):
        leaf.mul_(2)
    a = T.randn(5, requires_grad=True)
    d1 = a + 1
    d2 = d1 ** 2
    d1 += 1
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation"):
        T.autograd.grad(d2.sum(), a)


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_create_graph_backward_through_freed_graph_message(T):
    x = T.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time .* Specify "
                                           "retain_graph=True"):
        T.autograd.grad(y, x, create_graph=True)


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_setitem_backward_twice_raises(T):
    b = T.tensor([0.1, 0.2, 0.3], requires_grad=True)
    c = T.zeros(3, dtype=b.dtype)
    c[[1, 2]] = b[[1, 1]]
    c.backward(T.ones(3, dtype=b.dtype))
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        c.backward(T.ones(3, dtype=b.dtype))
    c = T.zeros(3, dtype=b.dtype)
    c[[1, 2]] = b[0:2] * 1
    c.backward(T.ones(3, dtype=b.dtype), retain_graph=True)   # kept: a second one runs
    c.backward(T.ones(3, dtype=b.dtype))
    assert b.grad.tolist() == pytest.approx([0.0 + 2.0, 2.0 + 2.0, 0.0])   # b[[1, 1]], then b[0:2] twice


# ---------------------------------------------------------------- grad mode
@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_enable_grad_inside_inference_mode(T):
    x = T.ones(3, requires_grad=True)
    with T.inference_mode():
        assert not T.is_grad_enabled()
        with T.enable_grad():
            assert T.is_grad_enabled() and T.is_inference_mode_enabled()
            w = x * 2
            with T.inference_mode(False):
                z = x * 2
        T.set_grad_enabled(True)
        assert T.is_grad_enabled()
        v = x * 2
    assert T.is_grad_enabled()
    assert (w.requires_grad, w.is_inference()) == (False, True)
    assert (v.requires_grad, v.is_inference()) == (False, True)
    assert (z.requires_grad, z.is_inference()) == (True, False)


# ---------------------------------------------------------------- custom Functions
@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_function_returning_duplicate_output_is_same_object(T):
    got = {}

    class DD(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            o = x * 2
            return o, o

        @staticmethod
        def backward(ctx, g1, g2):
            got["g"] = (g1.tolist(), g2.tolist())
            return g1 * 2 + g2 * 2

    x = T.ones(3, requires_grad=True)
    a, b = DD.apply(x)
    assert a is b
    assert a.output_nr == 1                         # the last place it was returned
    (a.sum() * 3).backward()
    assert got["g"] == ([0.0] * 3, [3.0] * 3)
    assert x.grad.tolist() == [6.0] * 3

    class DI(T.autograd.Function):                  # an input returned twice: two tensors
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2

    a, b = DI.apply(x)
    assert a is not b and a is not x


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_saved_tensor_keeps_output_nr_and_grad_fn(T):
    x = T.randn(10, requires_grad=True)

    class MO(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:5], x[5:]

        @staticmethod
        def backward(ctx, *g):
            return T.cat(g)

    a, b = MO.apply(x)
    seen = {}

    class TF(T.autograd.Function):
        @staticmethod
        def forward(ctx, b):
            ctx.save_for_backward(b)
            return b * 2

        @staticmethod
        def backward(ctx, gb):
            s, = ctx.saved_tensors
            seen["nr"] = s.output_nr
            seen["fn"] = s.grad_fn is b.grad_fn
            return gb * 2

    TF.apply(b).sum().backward()
    assert seen == {"nr": 1, "fn": True}
    assert x.grad.tolist() == [0.0] * 5 + [2.0] * 5


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_legacy_function_call_raises_runtime_error(T):
    class MyFunction(T.autograd.Function):
        def forward(self, x):
            return x

        def backward(self, g):
            return g

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's DeprecationWarning on instantiation
        fn = MyFunction()
    with pytest.raises(RuntimeError, match=r"Legacy autograd function with non-static forward method is deprecated\. "
                                           r"Please use new-style autograd function with static forward method\."):
        fn(T.randn(3, 4))


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_custom_function_missing_forward_backward(T):
    class BadFw(T.autograd.Function):
        @staticmethod
        def backward(ctx, g):
            return g

    class BadBw(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

    inp = T.ones(1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="You must implement the forward function for custom "
                                                  "autograd.Function."):
        BadFw.apply(inp)
    with pytest.raises(NotImplementedError, match="You must implement either the backward or vjp method for your "
                                                  "custom autograd.Function to use it with backward mode AD."):
        BadBw.apply(inp).sum().backward()


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_once_differentiable_create_graph_requires_grad(T):
    class F_(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 2

        @staticmethod
        @_once_differentiable(T)
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g

    x = T.ones(3, requires_grad=True)
    g, = T.autograd.grad(F_.apply(x).sum(), x, create_graph=True)
    assert g.requires_grad is False and g.tolist() == [2.0] * 3
    # an incoming gradient that requires grad: the result does, and differentiating it raises
    go = T.ones((), requires_grad=True)
    g, = T.autograd.grad(F_.apply(x).sum(), x, grad_outputs=go, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                           "@once_differentiable"):
        g.sum().backward()


# ---------------------------------------------------------------- the engine: callbacks, reentrant depth
@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_execution_engine_queue_callback(T):
    counter = []

    class F(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            T.autograd.Variable._execution_engine.queue_callback(lambda: counter.append(1))
            return g

    x = T.ones(3, requires_grad=True)
    F.apply(x).sum().backward()
    assert counter == [1]
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass."):
        T.autograd.Variable._execution_engine.queue_callback(lambda: None)


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_deep_reentrant_backward(T):
    class DeepReentrant(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with T.enable_grad():
                ctx.x = x.detach().requires_grad_() - 1
            return ctx.x.detach()

        @staticmethod
        def backward(ctx, g):
            if ctx.x < 0:
                return g
            with T.enable_grad():
                DeepReentrant.apply(ctx.x).sum().backward()
            return g

    v = T.tensor(2000.0, requires_grad=True)   # torch's test_deep_reentrant depth
    DeepReentrant.apply(v).sum().backward()
    assert v.grad.item() == 1.0


def test_reentrant_backward_in_fresh_thread_keeps_grad_mode_and_errors():
    # past reentrant.MAX_DEPTH nested backward() calls the next runs on a new thread: its
    # exception reaches the caller, and the nested call sees the caller's grad mode
    depth = MAX_DEPTH + 5
    modes = []

    class Nest(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x, n):
            ctx.n = n
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            modes.append(ts.is_grad_enabled())
            if ctx.n == 0:
                raise ValueError("deepest backward failed")
            with ts.enable_grad():
                y = ts.ones(1, requires_grad=True)
                Nest.apply(y, ctx.n - 1).sum().backward()
            return g, None

    x = ts.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="deepest backward failed"):
        Nest.apply(x, depth).sum().backward()
    assert len(modes) == depth + 1 and not any(modes)   # a sweep runs node backwards with grad off


# ---------------------------------------------------------------- in-place leaky ReLU with a negative slope
_NEGATIVE_SLOPE = ("In-place leakyReLu backward calculation is triggered with a negative slope which is not "
                   "supported. This is caused by calling in-place forward function with a negative slope, please "
                   "call out-of-place version instead.")


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
@pytest.mark.parametrize("which", ["leaky", "rrelu"])
def test_inplace_leaky_relu_negative_slope_backward_raises(T, which):
    F = torch.nn.functional if T is torch else tsF
    a = T.tensor([-1., 1.], requires_grad=True)
    b = F.leaky_relu_(a.clone(), -2) if which == "leaky" else F.rrelu_(a.clone(), -5.0, 1.0)
    assert b.tolist() == [2.0, 1.0]
    with pytest.raises(RuntimeError, match=_NEGATIVE_SLOPE):
        b.backward(T.ones(2))


@pytest.mark.parametrize("T", BOTH, ids=["torch", "ts"])
def test_inplace_leaky_relu_zero_or_positive_slope_and_no_grad_still_work(T):
    F = torch.nn.functional if T is torch else tsF
    a = T.tensor([-1., 1.], requires_grad=True)
    F.leaky_relu_(a.clone(), 0.0).backward(T.ones(2))
    assert a.grad.tolist() == [0.0, 1.0]
    with T.no_grad():
        assert F.leaky_relu_(T.tensor([-1., 1.]), -2).tolist() == [2.0, 1.0]
    b = T.tensor([-1., 1.])
    assert F.leaky_relu_(b, -2) is b and b.tolist() == [2.0, 1.0]
