"""torch.utils.checkpoint as torch 2.13 has it (port of test_utils.py TestCheckpoint and the checkpoint
tests of test_autograd.py): early_stop, context_fn / debug rules, the reentrant node's name, the
module's public names, checkpoint_sequential's warning and argument handling."""
import contextlib
import warnings

import numpy as np
import pytest
torch = pytest.importorskip("torch")
import torch.utils.checkpoint as tck  # noqa: E402

import tinygrad_seq as ts
import tinygrad_seq.utils.checkpoint as ock


def _both(fn):
    return fn(torch, tck), fn(ts, ock)


# 1. early_stop= is one of checkpoint()'s own keywords in torch; ours rejects it (reentrant)
#    or hands it to the checkpointed function (non-reentrant).
@pytest.mark.parametrize("ur", [True, False])
def test_early_stop_keyword_accepted(ur):
    def go(T, ck):
        x = T.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = ck.checkpoint(lambda a: a.sin(), x, use_reentrant=ur, early_stop=False)
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy()
    (ty, tg), (oy, og) = _both(go)
    np.testing.assert_allclose(oy, ty, rtol=1e-6)
    np.testing.assert_allclose(og, tg, rtol=1e-6)


# 2. checkpoint_sequential's use_reentrant warning text is torch's checkpoint() text, not
#    checkpoint_sequential's.
def test_checkpoint_sequential_warning_text():
    def go(T, ck):
        x = T.tensor([[0.5, 1.0]], requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ck.checkpoint_sequential([T.sin, T.cos], 2, x)
        return [(x.category, str(x.message)) for x in w]
    t, o = _both(go)
    assert o == t


# 3. non-reentrant: debug=True with a non-default context_fn raises ValueError in torch.
def test_debug_with_context_fn_raises():
    ctx = lambda: (contextlib.nullcontext(), contextlib.nullcontext())
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default context_fn"):
        tck.checkpoint(lambda a: a.sin(), torch.ones(2, requires_grad=True), use_reentrant=False, debug=True,
                       context_fn=ctx)
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default context_fn"):
        ock.checkpoint(lambda a: a.sin(), ts.ones(2, requires_grad=True), use_reentrant=False, debug=True,
                       context_fn=ctx)


# 4. non-reentrant under no_grad: torch calls context_fn() but does not enter its forward context.
def test_context_fn_forward_context_not_entered_under_no_grad():
    def go(T, ck):
        log = []

        @contextlib.contextmanager
        def cm(tag):
            log.append("enter " + tag)
            yield
            log.append("exit " + tag)
        x = T.ones(3, requires_grad=True)
        with T.no_grad():
            ck.checkpoint(lambda a: a.sin(), x, use_reentrant=False, context_fn=lambda: (cm("f"), cm("r")))
        return log
    t, o = _both(go)
    assert t == []
    assert o == t


# 5. reentrant checkpoint's node is torch's CheckpointFunctionBackward (grad_fn.name(), printed tensors).
def test_reentrant_grad_fn_name_and_repr():
    def go(T, ck):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = ck.checkpoint(lambda a: a * 2, x, use_reentrant=True)
        return y.grad_fn.name(), repr(y)
    t, o = _both(go)
    assert t == ("CheckpointFunctionBackward", "tensor([2., 4.], grad_fn=<CheckpointFunctionBackward>)")
    assert o == t


# 6. torch.utils.checkpoint's public names (selective-checkpoint names left out).
@pytest.mark.parametrize("name", ["noop_context_fn", "CheckpointError", "CheckpointFunction",
                                  "set_checkpoint_early_stop", "set_checkpoint_debug_enabled", "detach_variable",
                                  "check_backward_validity", "get_device_states", "set_device_states",
                                  "DefaultDeviceType"])
def test_module_names(name):
    assert hasattr(tck, name)
    assert hasattr(ock, name)


def test_noop_context_fn_with_reentrant():
    # torch's default context_fn passed explicitly with use_reentrant=True is fine
    x = ts.tensor([0.5, 1.0], requires_grad=True)
    y = ock.checkpoint(lambda a: a.sin(), x, use_reentrant=True, context_fn=ock.noop_context_fn)
    np.testing.assert_allclose(y.detach().numpy(), np.sin([0.5, 1.0]).astype(np.float32), rtol=1e-6)


def test_set_checkpoint_early_stop_context():
    x = ts.tensor([0.5, 1.0], requires_grad=True)
    with ock.set_checkpoint_early_stop(False):
        y = ock.checkpoint(lambda a: a.sin(), x, use_reentrant=False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([0.5, 1.0]).astype(np.float32), rtol=1e-6)


# 7. checkpoint_sequential accepts what torch's rejects.
def test_checkpoint_sequential_more_segments_than_functions_raises():
    with pytest.raises(ValueError):
        tck.checkpoint_sequential(torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Sigmoid()), 4,
                                  torch.ones(1, 2, requires_grad=True), use_reentrant=True)
    with pytest.raises(ValueError):
        ock.checkpoint_sequential(ts.nn.Sequential(ts.nn.Tanh(), ts.nn.Sigmoid()), 4,
                                  ts.ones(1, 2, requires_grad=True), use_reentrant=True)


def test_checkpoint_sequential_non_sequential_module_raises():
    def box(T):
        class Box(T.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = T.nn.Tanh()
                self.b = T.nn.Sigmoid()

            def forward(self, x):
                return self.b(self.a(x))
        return Box()
    with pytest.raises(TypeError):
        tck.checkpoint_sequential(box(torch), 2, torch.ones(1, 2, requires_grad=True), use_reentrant=True)
    with pytest.raises(TypeError):
        ock.checkpoint_sequential(box(ts), 2, ts.ones(1, 2, requires_grad=True), use_reentrant=True)
