"""torch.utils.checkpoint: run a piece of a model without keeping its graph, and run it again
during backward to get its gradients (memory for compute, for long sequences).

checkpoint(function, *args) (use_reentrant=True) runs function under no_grad and records one
node; that node's backward runs function again with grad mode on, from the saved inputs and the
random state they first saw (dropout draws the same masks), and backs its gradient up through
that graph (parameters used inside get theirs there, as in torch's reentrant checkpoint).
use_reentrant=False keeps function's graph (the same gradients as torch's; no memory saved).
"""
import warnings

from tinygrad_seq import autograd
from tinygrad_seq.autograd import Function, enable_grad, no_grad
from tinygrad_seq.backward_kind import in_partial_backward
from tinygrad_seq.random import get_rng_state, set_rng_state
from tinygrad_seq.tensor import Tensor


class _Checkpoint(Function):
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


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs) as torch's checkpoint. use_reentrant=True (the default, with
    torch's warning when not passed): one node whose backward recomputes function's graph
    (_Checkpoint); no input requiring grad gives an output without a graph, as torch's. Its
    backward must be a plain backward(): autograd.grad and backward(inputs=) raise, as torch's.
    use_reentrant=False: autograd sees function's own graph, as torch's non-reentrant form
    promises (autograd.grad with respect to parameters inside, backward(inputs=), dict and list
    outputs); here that graph is kept, not recomputed, so it saves no memory."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: " + _EXPLICIT, stacklevel=2)
        use_reentrant = True
    if not use_reentrant:
        if determinism_check not in DETERMINISM_CHECKS:
            raise ValueError(f"determinism_check should be one of {list(DETERMINISM_CHECKS)}, "
                             f"but got {determinism_check}")
        if context_fn is None:
            return function(*args, **kwargs)
        forward_context, _ = context_fn()
        with forward_context:
            return function(*args, **kwargs)
    if context_fn is not None or debug is not False:
        raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=2)
    return _Checkpoint.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """The modules (or a Sequential) in `segments` chunks, each checkpointed but the last."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: " + _EXPLICIT, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    functions = list(functions.children()) if hasattr(functions, "children") and not isinstance(functions, list) \
        else list(functions)
    size = max(len(functions) // segments, 1)

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return forward
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end + 1), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions))(input)
