"""Function (the autograd node) and the iterative reverse-mode engine.

A Function is both the node of the graph and the ctx its forward/backward see, as in PyTorch:

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):            # raw arrays in (numpy or device arrays)
            ctx.save_for_backward(a, b)
            return ctx.b.mul(a, b)         # ctx.b: the array backend of the inputs' device
        @staticmethod
        def backward(ctx, grad):           # one gradient (or None) per input
            a, b = ctx.saved_tensors
            return ctx.b.mul(grad, b), ctx.b.mul(grad, a)

Broadcasting is undone in one place (``_accumulate``), after each backward, never inside an op.
backward() walks the graph with an explicit stack: an unrolled 200,000-step chain is fine.
"""
from __future__ import annotations

import contextlib

from tinygrad_seq import device as _device

_grad_enabled = True
_queued_callbacks: list | None = None   # a list while a backward() runs (queue_callback)


def is_grad_enabled() -> bool:
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, self.enabled

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False


def no_grad():
    """Context manager (and decorator) that records no graph, like torch.no_grad()."""
    return _GradMode(False)


def enable_grad():
    return _GradMode(True)


def queue_callback(fn):
    """Run fn() once when the backward() in progress has finished (PyTorch's
    Variable._execution_engine.queue_callback). Only valid from inside a backward hook."""
    if _queued_callbacks is None:
        raise RuntimeError("queue_callback() can only be called while backward() is running")
    _queued_callbacks.append(fn)


class Function:
    """Autograd node. Subclasses define static forward(ctx, *arrays, **kw) and backward(ctx, *grads)."""
    __slots__ = ("parents", "needs_input_grad", "saved_tensors", "b", "device", "n_outputs",
                 "_versions", "_retained", "__dict__")

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def mark_non_differentiable(self, *outputs):
        pass

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """inputs: Tensors (all on one device); kwargs: non-differentiable arguments."""
        from tinygrad_seq.tensor import Tensor
        ctx = cls.__new__(cls)
        dev = inputs[0].device
        for t in inputs:
            if t.device != dev:
                raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, "
                                   f"got {dev} and {t.device}")
        ctx.device = dev
        ctx.b = _device.backend(dev)
        ctx.saved_tensors = ()
        out = cls.forward(ctx, *[t.data for t in inputs], **kwargs)
        requires = _grad_enabled and any(t.requires_grad for t in inputs)
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        tensors = []
        if requires:
            ctx.parents = inputs
            ctx.needs_input_grad = tuple(t.requires_grad for t in inputs)
            ctx._versions = tuple(t._version for t in inputs)
            ctx._retained = None
            ctx.n_outputs = len(outs)
        for i, o in enumerate(outs):
            t = Tensor.__new__(Tensor)
            t.data, t.grad, t._version, t._hooks = o, None, 0, None
            t.device = dev
            if requires and o.dtype.kind == "f":
                t.requires_grad, t._ctx, t._idx = True, ctx, i
            else:
                t.requires_grad, t._ctx, t._idx = False, None, 0
            tensors.append(t)
        return tuple(tensors) if multi else tensors[0]


def _unbroadcast(b, grad, shape):
    """Sum grad (broadcast result) back down to `shape`; the one place broadcasting is undone."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = b.sum(grad, axis=axes, keepdims=True)
    return b.reshape(grad, shape)


def _toposort(root_ctx):
    """Functions reachable from root_ctx, parents before children (iterative DFS)."""
    order, visited = [], {id(root_ctx)}
    stack = [(root_ctx, iter(root_ctx.parents))]
    while stack:
        node, it = stack[-1]
        for p in it:
            pc = p._ctx
            if pc is not None and id(pc) not in visited:
                visited.add(id(pc))
                stack.append((pc, iter(pc.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def backward(root, gradient=None, retain_graph=False):
    """Reverse-mode sweep from tensor `root` (Tensor.backward calls this)."""
    global _queued_callbacks
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    b = _device.backend(root.device)
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                               f"got a tensor of shape {root.shape}: pass backward(gradient)")
        g = b.ones(root.shape, root.dtype)
    else:
        g = gradient.data if hasattr(gradient, "data") and not hasattr(gradient, "__array_interface__") else gradient
        g = b.asarray(g, root.dtype)
        if g.shape != root.shape:
            raise ValueError(f"backward: gradient has shape {g.shape}, expected {root.shape}")
    outer = _queued_callbacks
    _queued_callbacks = []
    try:
        if root._ctx is None:
            _finish_leaf(root, g, b)
        else:
            _sweep(root, g, retain_graph)
        while _queued_callbacks:
            _queued_callbacks.pop(0)()
    finally:
        _queued_callbacks = outer


def _sweep(root, g, retain_graph):
    order = _toposort(root._ctx)
    # how many graph edges feed each leaf: its gradient is final when all have arrived
    pending, leaf_grad = {}, {}
    for ctx in order:
        for p in ctx.parents:
            if p._ctx is None and p.requires_grad:
                pending[id(p)] = pending.get(id(p), 0) + 1
    out_grads = {id(root._ctx): [None] * root._ctx.n_outputs}
    out_grads[id(root._ctx)][root._idx] = g
    with no_grad():
        for ctx in reversed(order):
            grads = out_grads.pop(id(ctx), None)
            if grads is not None and any(x is not None for x in grads):
                if ctx._retained:
                    for i, t in ctx._retained.items():
                        if grads[i] is not None:
                            t.grad = _wrap_like(t, grads[i] if t.grad is None else ctx.b.add(t.grad.data, grads[i]))
                if any(v != p._version for v, p in zip(ctx._versions, ctx.parents)):
                    raise RuntimeError(f"one of the variables needed for gradient computation "
                                       f"({type(ctx).__name__}) has been modified by an inplace operation")
                if ctx.n_outputs == 1:
                    in_grads = type(ctx).backward(ctx, grads[0])
                else:
                    in_grads = type(ctx).backward(ctx, *grads)
                if not isinstance(in_grads, tuple):
                    in_grads = (in_grads,)
                if len(in_grads) != len(ctx.parents):
                    raise RuntimeError(f"{type(ctx).__name__}.backward returned {len(in_grads)} "
                                       f"gradients for {len(ctx.parents)} inputs")
            else:
                in_grads = (None,) * len(ctx.parents)
            for p, pg in zip(ctx.parents, in_grads):
                if not p.requires_grad:
                    continue
                if pg is not None:
                    pg = _unbroadcast(ctx.b, pg, p.shape)
                    if pg.dtype != p.dtype:
                        pg = ctx.b.astype(pg, p.dtype)
                if p._ctx is None:
                    key = id(p)
                    if pg is not None:
                        prev = leaf_grad.get(key)
                        leaf_grad[key] = pg if prev is None else ctx.b.add(prev, pg)
                    pending[key] -= 1
                    if pending[key] == 0:
                        acc = leaf_grad.pop(key, None)
                        if acc is not None:
                            _finish_leaf(p, acc, ctx.b)
                elif pg is not None:
                    slot = out_grads.setdefault(id(p._ctx), [None] * p._ctx.n_outputs)
                    slot[p._idx] = pg if slot[p._idx] is None else ctx.b.add(slot[p._idx], pg)
            if not retain_graph:
                ctx.saved_tensors = None


def _wrap_like(t, arr):
    from tinygrad_seq.tensor import Tensor
    return Tensor._wrap(arr, t.device)


def _finish_leaf(p, g, b):
    """Accumulate a final gradient into leaf p.grad, then run its post-accumulate hooks."""
    if p.grad is None:
        # own the memory: a gradient array may alias an input of some backward
        p.grad = _wrap_like(p, b.copy(g))
    else:
        p.grad = _wrap_like(p, b.add(p.grad.data, g))
    if p._hooks:
        for hook in list(p._hooks):
            hook(p)
