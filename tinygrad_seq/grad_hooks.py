"""The gradient hooks of the backward sweep (Tensor.register_hook): on a non-leaf, hook(grad)
runs when its node's output gradient is complete; on a leaf (a GradHook in its hook list),
before accumulation. A returned tensor replaces the gradient and must keep its shape and dtype,
as torch's."""


def _tensor_type():
    from tinygrad_seq.autograd import _Tensor   # set by tensor.py once Tensor exists
    return _Tensor


def _run_grad_hooks(ctx, grads):
    """Tensor.register_hook on a non-leaf: hook(grad) may return a replacement gradient."""
    for i, hooks in ctx._grad_hooks.items():
        if grads[i] is not None:
            for hook in list(hooks):
                out = hook(_tensor_type()._wrap(grads[i], ctx.device))
                if out is not None:
                    grads[i] = _hook_result(hook, out, grads[i])


def _hook_result(hook, out, g):
    """A gradient hook's replacement, which must keep the gradient's shape and dtype (torch's)."""
    arr = out.array if isinstance(out, _tensor_type()) else out
    if tuple(arr.shape) != tuple(g.shape):
        raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the size of value: "
                           f"expected {list(g.shape)}, got {list(arr.shape)}")
    if arr.dtype != g.dtype:
        raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the type of value "
                           f"(was {g.dtype} got {arr.dtype})")
    return arr


class GradHook:
    """A Tensor.register_hook hook on a leaf, kept in the leaf's hook list: it sees (and may
    replace) the incoming gradient before accumulation; the other entries run after it."""
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


def run_leaf_hooks(p, g, owned):
    """p's Tensor.register_hook hooks on its incoming gradient g -> (g, owned)."""
    for hook in list(p._hooks):
        if type(hook) is GradHook:
            owned = False  # the hook saw g and may keep it
            out = hook.fn(_tensor_type()._wrap(g, p.device))
            if out is not None:
                g = _hook_result(hook.fn, out, g)
    return g, owned
