"""torch.utils.checkpoint: run a piece of a model without keeping its graph, and run it again
during backward to get its gradients (memory for compute, for long sequences).

checkpoint(function, *args) runs function under no_grad and records one node; that node's
backward runs function again with grad mode on, from the saved inputs and the random state
they first saw (dropout draws the same masks), and backs its gradient up through that graph
(parameters used inside get theirs there, as in torch's reentrant checkpoint).
"""
import warnings

from tinygrad_seq import autograd
from tinygrad_seq.autograd import Function, enable_grad, no_grad
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
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) and x.requires_grad else None for x in inputs)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs), its graph recomputed in backward instead of kept."""
    if kwargs:
        args_fn, kw = function, dict(kwargs)

        def function(*a):
            return args_fn(*a, **kw)
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args) and autograd.is_grad_enabled():
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=2)
        return function(*args)
    return _Checkpoint.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """The modules (or a Sequential) in `segments` chunks, each checkpointed but the last."""
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
        input = checkpoint(run(start, end + 1), input, **kwargs)
    return run(end + 1, len(functions))(input)
