"""torch.utils.checkpoint: run a piece of a model without keeping its graph, and run it again
during backward to get its gradients (memory for compute, for long sequences).

checkpoint(function, *args) (use_reentrant=True) runs function under no_grad and records one
node; that node's backward runs function again with grad mode on, from the saved inputs and the
random state they first saw (dropout draws the same masks), and backs its gradient up through
that graph (parameters used inside get theirs there, as in torch's reentrant checkpoint).
use_reentrant=False keeps function's graph (the same gradients as torch's; no memory saved).
"""
import contextlib
import warnings

from tinygrad_seq import autograd
from tinygrad_seq.autograd import Function, enable_grad, no_grad
from tinygrad_seq.backward_kind import in_partial_backward
from tinygrad_seq.random import get_rng_state, set_rng_state
from tinygrad_seq.tensor import Tensor


__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
           "detach_variable", "get_device_states", "set_device_states", "noop_context_fn",
           "set_checkpoint_early_stop", "DefaultDeviceType", "set_checkpoint_debug_enabled"]


class CheckpointError(RuntimeError):
    """torch's error of a non-reentrant checkpoint whose recomputation differs (never raised here:
    the non-reentrant form keeps its graph, it recomputes nothing)."""


def noop_context_fn():
    """The default context_fn: two contexts that do nothing (forward, recomputation)."""
    return contextlib.nullcontext(), contextlib.nullcontext()


# torch's global switches (context managers); here the non-reentrant form keeps its graph, so
# early stopping has nothing to stop and debug only changes torch's error texts
_checkpoint_debug_enabled = None
_enable_checkpoint_early_stop = None


@contextlib.contextmanager
def _global_setting(name, value):
    """This module's global `name` set to value inside the block (torch's context managers)."""
    prev, globals()[name] = globals()[name], value
    try:
        yield
    finally:
        globals()[name] = prev


def set_checkpoint_debug_enabled(enabled):
    """torch's: overrides checkpoint's debug= inside the block (None defers to it)."""
    return _global_setting("_checkpoint_debug_enabled", enabled)


def set_checkpoint_early_stop(enable):
    """torch's: overrides checkpoint's early_stop= inside the block."""
    return _global_setting("_enable_checkpoint_early_stop", enable)


def detach_variable(inputs):
    """torch's: a tuple of the inputs, each tensor detached with its requires_grad kept."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for a in inputs:
        if isinstance(a, Tensor):
            x = a.detach()
            x.requires_grad = a.requires_grad
            a = x
        out.append(a)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(a.requires_grad for a in inputs if isinstance(a, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def get_device_states(*args):
    """torch's (devices, their RNG states) of the inputs' accelerator devices: none here (the
    "cuda" device draws from the CPU generator, whose state checkpoint keeps)."""
    return [], []


def set_device_states(devices, states, *, device_type=None):
    """torch's counterpart of get_device_states: nothing to restore here."""


class DefaultDeviceType:
    """torch's default accelerator type for checkpoint's device RNG states."""
    _default_device_type = "cuda"

    @staticmethod
    def set_device_type(device="cuda"):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        return DefaultDeviceType._default_device_type


class CheckpointFunction(Function):
    """The reentrant checkpoint's node (torch's name: grad_fn CheckpointFunctionBackward)."""
    array_io = False   # torch's Tensor interface (autograd_function.py)

    @staticmethod
    def forward(ctx, run, preserve_rng_state, *args):
        ctx.run, ctx.rng = run, (get_rng_state() if preserve_rng_state else None)
        ctx.save_for_backward(*[a if isinstance(a, Tensor) else None for a in args])
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        with no_grad():
            return run(*args)

    @staticmethod
    def backward(ctx, *grads):
        if in_partial_backward():   # its nested plain backward would fill every parameter's .grad
            raise RuntimeError(PARTIAL_BACKWARD)
        inputs = []
        for saved, other in zip(ctx.saved_tensors, ctx.others):
            if saved is None:
                inputs.append(other)
            else:
                x = saved.detach()
                x.requires_grad = saved.requires_grad
                inputs.append(x)
        now = get_rng_state() if ctx.rng is not None else None
        if ctx.rng is not None:
            set_rng_state(ctx.rng)
        try:
            with enable_grad():
                outs = ctx.run(*inputs)
        finally:
            if now is not None:
                set_rng_state(now)
        outs = outs if isinstance(outs, tuple) else (outs,)
        if not any(isinstance(o, Tensor) and o.requires_grad for o in outs):
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) and x.requires_grad else None for x in inputs)


PARTIAL_BACKWARD = ("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an "
                    "`inputs` parameter to .backward(). To resolve this error, you can either set use_reentrant=False, "
                    "or call .backward() without passing the `inputs` argument.")
DETERMINISM_CHECKS = ("default", "none")
_EXPLICIT = ("the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, calling "
             "checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
             "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for "
             "more details on the differences between the two variants.")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """function(*args, **kwargs) as torch's checkpoint. use_reentrant=True (the default, with
    torch's warning when not passed): one node whose backward recomputes function's graph
    (CheckpointFunction); no input requiring grad gives an output without a graph, as torch's. Its
    backward must be a plain backward(): autograd.grad and backward(inputs=) raise, as torch's.
    use_reentrant=False: autograd sees function's own graph, as torch's non-reentrant form
    promises (autograd.grad with respect to parameters inside, backward(inputs=), dict and list
    outputs); here that graph is kept, not recomputed, so it saves no memory (and early_stop,
    which stops torch's recomputation early, has nothing to stop)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: " + _EXPLICIT, stacklevel=2)
        use_reentrant = True
    preserve_rng_state = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        check_backward_validity(args)
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    if (_checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug) \
            and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(DETERMINISM_CHECKS)}, "
                         f"but got {determinism_check}")
    forward_context, _ = context_fn()   # called as torch calls it, also under no_grad
    if not autograd.is_grad_enabled():   # torch enters the forward context only to record
        return function(*args, **kwargs)
    with forward_context:
        return function(*args, **kwargs)


_EXPLICIT_SEQUENTIAL = ("the use_reentrant parameter should be passed explicitly. In version 2.9 we will raise an "
                        "exception if use_reentrant is not passed. use_reentrant=False is recommended, but if you need "
                        "to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for "
                        "more details on the differences between the two variants.")


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """The modules (or an nn.Sequential) in `segments` chunks, each checkpointed but the last, as
    torch's (a list or a Sequential: anything else needs len() and indexing, as in torch)."""
    from tinygrad_seq.nn.container import Sequential
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: " + _EXPLICIT_SEQUENTIAL, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    size = len(functions) // segments

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward
    end = -1
    for start in range(0, size * (segments - 1), size):   # size 0: range's own ValueError, as torch's
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
