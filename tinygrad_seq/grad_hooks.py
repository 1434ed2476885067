"""The gradient hooks of the backward sweep. Tensor.register_hook: on a non-leaf, hook(grad)
runs when its node's output gradient is complete; on a leaf (a GradHook in its hook list),
before accumulation. grad_fn.register_prehook / register_hook: a node's hooks around its
backward (NodeHooks). A returned tensor replaces the gradient and must keep its shape and dtype,
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
    """A gradient hook's replacement, a tensor that keeps the gradient's shape and dtype (torch's
    errors otherwise)."""
    if not isinstance(out, _tensor_type()):
        raise TypeError(f"expected Variable, but hook returned '{_tp_name(type(out))}'")
    arr = out.array
    if tuple(arr.shape) != tuple(g.shape):
        raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the size of value: "
                           f"expected {list(g.shape)}, got {list(arr.shape)}")
    if arr.dtype != g.dtype:
        raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the type of value "
                           f"(was {g.dtype} got {arr.dtype})")
    return arr


def _tp_name(t):
    """A type's name as CPython's tp_name gives it in torch's messages: a class defined in Python
    by its name, an extension's type with its module ('numpy.ndarray')."""
    if t.__flags__ & (1 << 9) or t.__module__ == "builtins":   # Py_TPFLAGS_HEAPTYPE
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


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


def run_post_accumulate_hooks(p):
    """p's register_post_accumulate_grad_hook hooks, after its .grad got its final value; each
    returns None or p itself (torch's RuntimeError for another tensor, TypeError for the rest)."""
    for hook in list(p._hooks):
        if type(hook) is not GradHook:
            out = hook(p)
            if out is not None and out is not p:
                if not isinstance(out, _tensor_type()):
                    raise TypeError(f"expected Variable, but hook returned '{_tp_name(type(out))}'")
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")


# ------------------------------------------------------------------ grad_fn.register_(pre)hook
class NodeHooks:
    """A node's hooks (Function._node_hooks, None until one is registered: the sweep's only cost):
    pre: fn(grad_outputs) before its backward, post: fn(grad_inputs, grad_outputs) after it; each
    may return a tuple that replaces the gradients it was given (torch's Node hooks)."""
    __slots__ = ("pre", "post")

    def __init__(self):
        self.pre, self.post = [], []


def _registered(node, kind, fn):
    from tinygrad_seq.tensor import _HookHandle
    hooks = node._node_hooks
    if hooks is None:
        hooks = node._node_hooks = NodeHooks()
    entries = getattr(hooks, kind)
    entries.append(fn)
    return _HookHandle(entries, fn)


def register_node_prehook(node, fn):
    """grad_fn.register_prehook(fn): fn(grad_outputs) runs before the node's backward (grad_outputs
    a tuple, None where an output got no gradient); a tuple it returns replaces them. -> a handle
    with remove()."""
    return _registered(node, "pre", fn)


def register_node_hook(node, fn):
    """grad_fn.register_hook(fn): fn(grad_inputs, grad_outputs) runs after the node's backward
    (grad_inputs in the inputs' shapes, None for an input that needs no gradient); a tuple it
    returns replaces grad_inputs. -> a handle with remove()."""
    return _registered(node, "post", fn)


def _replaced(fn, out, grads, arrays):
    """A node hook's returned tuple as the new gradients, checked as torch checks it."""
    if type(out) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type(out).__name__}'")
    if len(out) != len(grads):
        raise RuntimeError(f"hook '{getattr(fn, '__name__', 'hook')}' has returned an incorrect number of values "
                           f"(got {len(out)}, but expected {len(grads)})")
    new = []
    for o, g in zip(out, grads):
        if o is None or g is None:
            new.append(None if o is None else (o.array if arrays else o))
            continue
        arr = _hook_result(fn, o, g.array if not arrays else g)
        new.append(arr if arrays else o)
    return new


def _as_tensors(grads, device, arrays):
    if not arrays:
        return tuple(grads)
    wrap = _tensor_type()._wrap
    return tuple(None if g is None else wrap(g, device) for g in grads)


def run_node_prehooks(ctx, grads, arrays=True):
    """ctx's register_prehook hooks on its output gradients (backend arrays, or Tensors where
    arrays is False: a create_graph backward) -> the gradients its backward receives."""
    for fn in list(ctx._node_hooks.pre):
        out = fn(_as_tensors(grads, ctx.device, arrays))
        if out is not None:
            grads = _replaced(fn, out, grads, arrays)
    return grads


def run_node_posthooks(ctx, in_grads, grads, arrays=True):
    """ctx's register_hook hooks on its input gradients in_grads (already in the inputs' shapes and
    dtypes, None where an input needs none) and its output gradients grads -> in_grads."""
    outputs = _as_tensors(grads, ctx.device, arrays)
    for fn in list(ctx._node_hooks.post):
        out = fn(_as_tensors(in_grads, ctx.device, arrays), outputs)
        if out is not None:
            in_grads = tuple(_replaced(fn, out, in_grads, arrays))
    return in_grads


def backward_with_node_hooks(ctx, grads):
    """ctx's backward between its node hooks (autograd._sweep calls this only for a node that has
    some) -> its input gradients, a tuple; for post hooks in the inputs' shapes and dtypes, as
    torch's grad_inputs (the sweep's own fitting then finds nothing to do)."""
    hooks = ctx._node_hooks
    if hooks.pre:
        grads = run_node_prehooks(ctx, grads)
    in_grads = type(ctx).backward(ctx, *grads)
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if hooks.post and len(in_grads) == len(ctx.parents):   # (a wrong count: the sweep's error)
        in_grads = run_node_posthooks(ctx, _fitted(ctx, in_grads), grads)
    return in_grads


def _fitted(ctx, in_grads):
    """in_grads in the shapes and dtypes of ctx's inputs, None for an input that needs none."""
    from tinygrad_seq.autograd import _unbroadcast
    from tinygrad_seq.outer_grad import DEFERRED
    fitted = []
    for p, g, needed in zip(ctx.parents, in_grads, ctx.needs_input_grad):
        if g is None or not needed:
            fitted.append(None)
            continue
        if type(g) in DEFERRED:
            g = g.materialize(ctx.b)
        if g.shape != p.array.shape:
            g = _unbroadcast(ctx.b, g, tuple(p.array.shape))
        fitted.append(g if g.dtype == p.array.dtype else ctx.b.astype(g, p.array.dtype))
    return tuple(fitted)
