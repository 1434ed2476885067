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
Grad mode is per thread (_ThreadState); a backward() nested deep inside node backwards moves to
a fresh thread (reentrant.py); anomaly mode (anomaly_mode.py) adds its checks only while on. A
tensor rebased by an in-place op keeps its earlier nodes in _hist (inplace.py), which backward
reads for nodes that used it before the write.
"""
from __future__ import annotations

import sys as _sys

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq import writes as _writes
from tinygrad_seq import outer_grad as _outer
from tinygrad_seq import anomaly_mode as _anomaly
from tinygrad_seq.engine_messages import BACKWARD_TWICE, grad_output_shape, saved_modified
from tinygrad_seq.reentrant import MAX_DEPTH, run_in_fresh_thread
from tinygrad_seq.backward_kind import set_partial_backward
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.autograd_function import TorchContext
from tinygrad_seq.leaf_grads import adoptable
from tinygrad_seq.grad_hooks import (GradHook, _run_grad_hooks, backward_with_node_hooks,  # noqa: F401  (GradHook: tensor.py)
                                     register_node_hook, register_node_prehook, run_leaf_hooks,
                                     run_post_accumulate_hooks)
from tinygrad_seq.grad_mode import (_state, enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                                    no_grad, set_grad_enabled)


def queue_callback(fn):
    """Run fn() once when the backward() in progress has finished (PyTorch's
    Variable._execution_engine.queue_callback). Only valid from inside a backward hook."""
    if _state.callbacks is None:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _state.callbacks.append(fn)


class Function(TorchContext):
    """Autograd node. Subclasses define static forward(ctx, *arrays, **kw) and backward(ctx, *grads)."""
    __slots__ = ("parents", "needs_input_grad", "saved_tensors", "b", "device", "_clock", "__dict__")
    n_outputs = 1       # class defaults: set on the instance only by multi-output nodes
    _retained = None    # and by retain_grad() (saves two stores per op)
    _grad_hooks = None  # and by Tensor.register_hook: output index -> hooks
    _node_hooks = None  # and by grad_fn.register_hook / register_prehook (grad_hooks.NodeHooks)
    register_hook, register_prehook = register_node_hook, register_node_prehook   # torch's Node methods
    is_view = False     # set on the node of a view sharing its base's memory (tensor_shape.mark_view)
    _seq = 0            # creation number (torch's sequence_nr): the sweep runs later-made nodes first
    _reread = False     # set on a view node's copy that reads its base at a later clock (_view_at)
    # a subclass whose backward returns arrays it allocated for the call (none kept, saved or
    # returned twice) sets this: a leaf's first gradient is then taken as its .grad, not copied
    fresh_grads = False
    # a subclass keeping what its backward reads as attributes (indices, a mask) where torch's node saves it
    holds_saved = False   # sets this: freed by a backward without retain_graph as saved tensors are

    # forward/backward on raw backend arrays: the engine's ops (modules under tinygrad_seq). A
    # subclass defined elsewhere gets torch's Tensor interface (autograd_function.py) unless it
    # sets array_io = True itself.
    array_io = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.array_io is None:
            cls.array_io = cls.__module__.startswith("tinygrad_seq.")
        if not cls.array_io:
            from tinygrad_seq import autograd_function
            autograd_function.install(cls)

    def save_for_backward(self, *arrays):
        self.saved_tensors = graph.pack(self, arrays) if graph.STACK else arrays   # saved_tensors_hooks

    @classmethod
    def apply1(cls, t0):
        """apply(t0) without keyword arguments: the path of the elementwise functions."""
        dev = t0.device
        ctx = cls.__new__(cls)
        ctx.device = dev
        b = _device._backends.get(dev)
        ctx.b = b if b is not None else _device.backend(dev)
        ctx.saved_tensors = ()
        requires = t0.requires_grad and _state.grad
        ctx.needs_input_grad = _GRAD1 if requires else _NO_GRAD1
        out = cls.forward(ctx, t0.array)
        t = _Tensor.__new__(_Tensor)
        t.array, t._grad_value, t._ver, t._hooks, t.device, t._idx = out, None, 0, None, dev, 0
        if requires and out.dtype.kind == "f":
            ctx.parents, ctx._clock, ctx._seq = (t0,), _writes.clock, _next_seq()
            t.requires_grad, t._ctx = True, ctx
        else:
            t.requires_grad, t._ctx = False, None
            if _state.inference:
                t._inference = True
        return t

    @classmethod
    def apply2(cls, t0, t1):
        """apply(t0, t1) without keyword arguments: the path of every binary operator, kept
        free of argument packing (Tensor._binary calls it)."""
        dev = t0.device
        if t1.device is not dev and t1.device != dev:
            t0, t1 = _scalar_to_device(cls, t0, t1)
            dev = t0.device
        ctx = cls.__new__(cls)
        ctx.device = dev
        b = _device._backends.get(dev)
        ctx.b = b if b is not None else _device.backend(dev)
        ctx.saved_tensors = ()
        r0, r1 = t0.requires_grad, t1.requires_grad
        requires = (r0 or r1) and _state.grad
        ctx.needs_input_grad = (r0, r1) if requires else _NO_GRADS2
        out = cls.forward(ctx, t0.array, t1.array)
        t = _Tensor.__new__(_Tensor)
        t.array, t._grad_value, t._ver, t._hooks, t.device, t._idx = out, None, 0, None, dev, 0
        if requires and out.dtype.kind == "f":
            ctx.parents, ctx._clock, ctx._seq = (t0, t1), _writes.clock, _next_seq()
            t.requires_grad, t._ctx = True, ctx
        else:
            t.requires_grad, t._ctx = False, None
            if _state.inference:
                t._inference = True
        return t

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """inputs: Tensors (all on one device); kwargs: non-differentiable arguments."""
        # the hot path of every op: no comprehensions or imports for the common 1- and 2-input case
        ctx = cls.__new__(cls)
        t0 = inputs[0]
        dev = t0.device
        n = len(inputs)
        if n == 1:
            needs, datas = (t0.requires_grad,), (t0.array,)
        elif n == 2:
            t1 = inputs[1]
            if t1.device is not dev and t1.device != dev:
                t0, t1 = _scalar_to_device(cls, t0, t1)
                inputs, dev = (t0, t1), t0.device
            needs, datas = (t0.requires_grad, t1.requires_grad), (t0.array, t1.array)
        else:
            for t in inputs:
                if t.device != dev:
                    _device_mismatch(cls, dev, t.device)
            needs, datas = tuple([t.requires_grad for t in inputs]), [t.array for t in inputs]
        ctx.device = dev
        b = _device._backends.get(dev)
        ctx.b = b if b is not None else _device.backend(dev)
        ctx.saved_tensors = ()
        requires = True in needs and _state.grad
        # forward may read needs_input_grad to save only what backward will use
        ctx.needs_input_grad = needs if requires else (False,) * n
        out = cls.forward(ctx, *datas, **kwargs)
        new = _Tensor.__new__
        if type(out) is not tuple:
            t = new(_Tensor)
            t.array, t._grad_value, t._ver, t._hooks, t.device = out, None, 0, None, dev
            if requires and out.dtype.kind == "f":
                ctx.parents, ctx._clock, ctx._seq = inputs, _writes.clock, _next_seq()
                t.requires_grad, t._ctx, t._idx = True, ctx, 0
            else:
                t.requires_grad, t._ctx, t._idx = False, None, 0
                if _state.inference:
                    t._inference = True
            return t
        if requires:
            ctx.parents, ctx._clock, ctx.n_outputs, ctx._seq = inputs, _writes.clock, len(out), _next_seq()
        tensors = []
        for i, o in enumerate(out):
            t = new(_Tensor)
            t.array, t._grad_value, t._ver, t._hooks, t.device = o, None, 0, None, dev
            if requires and o.dtype.kind == "f":
                t.requires_grad, t._ctx, t._idx = True, ctx, i
            else:
                t.requires_grad, t._ctx, t._idx = False, None, 0
                if _state.inference:
                    t._inference = True
            tensors.append(t)
        return tuple(tensors)


_NO_GRADS2, _GRAD1, _NO_GRAD1 = (False, False), (True,), (False,)
_Tensor = None  # tinygrad_seq.tensor sets this on import (the engine cannot import it: cycle)


# two tensors on two devices in one op (a 0-d cpu one joins the other's): device_pairs.py
from tinygrad_seq.device_pairs import _device_mismatch, _scalar_to_device  # noqa: E402


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


from tinygrad_seq.graph_walk import DROPPED, _parent_state, _toposort, next_seq as _next_seq, torch_order  # noqa: E402,F401


def backward_from(root, gradient=None, retain_graph=False, capture=None):
    """Reverse-mode sweep from tensor `root` (Tensor.backward calls this). capture (a
    autograd_api.Capture): the gradients of its tensors are kept there and no .grad is touched
    (torch.autograd.grad, backward(inputs=))."""
    st, depth = _state, _state.depth
    if depth >= MAX_DEPTH:   # deep inside nested backwards: a fresh thread's stack
        return run_in_fresh_thread(backward_from, root, gradient, retain_graph, capture)
    if root._view is not None:   # a view whose base was written in place since: its node again
        from tinygrad_seq.view_regen import refresh_view_node
        refresh_view_node(root)
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    b = _device.backend(root.device)
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                               f"got a tensor of shape {root.shape}: pass backward(gradient)")
        g = b.ones(root.shape, root.dtype)
    else:
        g = gradient.array if isinstance(gradient, _Tensor) else gradient
        g = b.asarray(g, root.dtype)
        if g.shape != root.shape:
            raise ShapeMismatch(grad_output_shape(0, g.shape, root.shape))
    outer, st.callbacks, st.depth = st.callbacks, [], depth + 1
    outer_partial = set_partial_backward(capture is not None)   # backward_kind.py: checkpoint reads it
    try:
        if root._ctx is None:   # a leaf's own backward: its hooks run with grad mode off, as in a sweep
            prev_mode, st.grad = st.grad, False
            try:
                (_finish_leaf if capture is None else capture.leaf)(root, g, b)
            finally:
                st.grad = prev_mode
        else:
            _sweep(root, g, retain_graph, capture)
        while st.callbacks:
            st.callbacks.pop(0)()
    finally:
        st.callbacks, st.depth = outer, depth
        set_partial_backward(outer_partial)


def _needed_nodes(order, edges, capture):
    """ids of the nodes a sweep for `capture` runs: those with a path to a captured tensor. torch
    runs only these; the others keep their saved arrays (a later backward through them works)
    and their hooks do not fire."""
    leaves, nodes = capture.leaves, capture.nodes
    needed = set()
    for ctx, seen in zip(order, edges):   # parents before children
        for p, pc, _, req in seen:
            if req and (id(p) in leaves if pc is None else
                        id(pc) in needed or (pc._origin if pc._reread else id(pc)) in nodes):
                needed.add(id(ctx))
                break
    return needed


def _sweep(root, g, retain_graph, capture=None):
    floor = 0 if capture is None else capture.floor
    order, edges = torch_order(*_toposort(root._ctx, floor))   # (graph_walk.py: parents as each node saw them)
    finish = _finish_leaf if capture is None else capture.leaf
    needed = None if capture is None else _needed_nodes(order, edges, capture)
    # how many graph edges feed each leaf: its gradient is final when all have arrived
    pending, leaf_grad, owned, sums = {}, {}, {}, _outer.SlotSums()
    for ctx, seen in zip(order, edges):
        if needed is not None and id(ctx) not in needed:
            continue
        for p, pc, _, req in seen:
            if pc is None and req:
                k = id(p)
                pending[k] = pending.get(k, 0) + 1
    root_ctx = root._ctx
    out_grads = {id(root_ctx): [None] * root_ctx.n_outputs}
    out_grads[id(root_ctx)][root._idx] = g
    st = _state
    prev_mode, st.grad = st.grad, False   # this thread's mode only
    anomaly = _anomaly.state.enabled
    check_nan = anomaly and _anomaly.state.check_nan
    try:
        for ctx, seen in zip(reversed(order), reversed(edges)):
            grads = out_grads.pop(id(ctx), None)
            if sums.factored and grads is not None:
                grads = sums.arrays(ctx, grads)
            if needed is not None and id(ctx) not in needed:
                # off every path to the captured tensors: only a captured output's gradient is taken
                if (grads is not None and (ctx._origin if ctx._reread else id(ctx)) in capture.nodes
                        and any(x is not None for x in grads)):
                    _take_output_grads(ctx, grads, capture)
                continue
            if grads is not None and (grads[0] is not None if ctx.n_outputs == 1
                                      else any(x is not None for x in grads)):
                try:   # free unless raised (3.11): anomaly mode names the failed node's forward
                    _take_output_grads(ctx, grads, capture)
                    if ctx.saved_tensors is None:
                        raise RuntimeError(BACKWARD_TWICE)
                    if ctx._packed_saves is not None:   # packed by saved_tensors_hooks (autograd_graph.py)
                        graph.unpack(ctx)
                    if ctx._clock != _writes.clock and _writes.saved_was_written(ctx):
                        raise RuntimeError(saved_modified(ctx))
                    in_grads = (type(ctx).backward(ctx, *grads) if ctx._node_hooks is None
                                else backward_with_node_hooks(ctx, grads))
                    in_grads = list(in_grads) if type(in_grads) is tuple else [in_grads]   # (sums.settle writes it)
                    if len(in_grads) != len(ctx.parents):
                        raise RuntimeError(f"{type(ctx).__name__}.backward returned {len(in_grads)} "
                                           f"gradients for {len(ctx.parents)} inputs")
                    if check_nan:
                        _anomaly.check_nan(ctx, in_grads)
                except Exception:
                    if anomaly:
                        _anomaly.report_failed_node(ctx)
                    raise
                fresh = ctx.fresh_grads
            else:
                in_grads = (None,) * len(ctx.parents)
                fresh = False
            b = ctx.b
            for (p, pc, i, req), pg in zip(seen, in_grads):
                if not req:
                    continue
                if pg is not None:
                    pd = p.array
                    deferred = type(pg) in _outer.DEFERRED
                    if deferred and (pg.shape != pd.shape or pg.dtype != pd.dtype):
                        pg, deferred = pg.materialize(b), False   # factored only as it will stay
                    if not deferred:
                        if pg.shape != pd.shape:
                            pg = _unbroadcast(b, pg, tuple(pd.shape))
                        if pg.dtype != pd.dtype:
                            pg = b.astype(pg, pd.dtype)
                if pc is None:
                    key = id(p)
                    left = pending[key] - 1
                    pending[key] = left
                    prev = leaf_grad.pop(key, None) if leaf_grad else None
                    if pg is not None:
                        # a sum is a new array; a single gradient is the leaf's to keep only when
                        # its Function allocated it for this call (leaf_grads.adoptable)
                        if prev is None:
                            own = fresh and adoptable(pg, grads, in_grads)
                        else:
                            pg, own = _outer.add(b, prev, pg, owned[key]), True
                    elif prev is not None:
                        pg, own = prev, owned[key]
                    if pg is not None:
                        if left:
                            leaf_grad[key], owned[key] = pg, own
                        else:   # (its hooks may write parameters that waiting factors read: multiplied first)
                            if p._hooks:
                                sums.settle(b, out_grads, leaf_grad, owned, in_grads)
                            finish(p, _outer.array(b, pg), b, own or type(pg) in _outer.DEFERRED)
                elif pg is not None:
                    slot = out_grads.get(id(pc))
                    if slot is None:
                        slot = out_grads[id(pc)] = [None] * pc.n_outputs
                    sums.add(b, slot, i, pg, id(pc))
            if not retain_graph and (ctx.saved_tensors or ctx.holds_saved):
                ctx.saved_tensors = None
    finally:
        st.grad = prev_mode


def _take_output_grads(ctx, grads, capture):
    """A node's output gradients, before its backward: its outputs' hooks (which may replace
    them), the captured ones (autograd.grad, backward(inputs=)) and retain_grad()'s .grad."""
    if ctx._grad_hooks:
        _run_grad_hooks(ctx, grads)
    if capture is not None:
        capture.node(ctx, grads)
    if ctx._retained:   # retain_grad()'s .grad fills under autograd.grad too, as torch's
        for i, t in ctx._retained.items():
            if grads[i] is not None:
                t._grad_value = _Tensor._wrap(ctx.b.copy(grads[i]) if t.grad is None else ctx.b.add(t.grad.array, grads[i]),
                                              t.device)


def _finish_leaf(p, g, b, owned=False, hooked=False):
    """Run p's gradient hooks on g, accumulate it into leaf p.grad, then run the
    post-accumulate hooks. owned: g is a new array nothing else holds (a sum, or a fresh_grads
    Function's own), which p.grad may take without a copy (as PyTorch takes a gradient tensor
    no one else references)."""
    if p._hooks and not hooked:
        g, owned = run_leaf_hooks(p, g, owned)
    # .grad: a new Tensor on p's device (p.device is canonical already: no Tensor._wrap)
    t = _Tensor.__new__(_Tensor)
    if p.grad is None:
        # own the memory: a gradient array may alias an input of some backward (a 0-d sum comes
        # back from numpy as a scalar, which in-place gradient ops could not write), laid out as
        # p is, as torch's AccumulateGrad lays it out
        if type(g) is np.ndarray and g.strides == p.array.strides:
            t.array = g if owned else b.copy(g)
        else:   # another layout, a numpy scalar, a device array
            from tinygrad_seq.leaf_grads import new_grad_array
            t.array = new_grad_array(p.array, g, b, owned)
    elif p.grad.requires_grad:   # a create_graph=True backward's gradient: the sum keeps its graph, as torch's
        prev_mode, _state.grad = _state.grad, True
        try:
            p.grad = p.grad + _Tensor._wrap(g, p.device)
        finally:
            _state.grad = prev_mode
        t = None
    else:
        a = p.grad.array
        if type(a) is not np.ndarray and isinstance(a, np.generic):   # a 0-d sum's numpy scalar
            a = p.grad._shared_array()
        if type(a) is np.ndarray and a.shape == g.shape and a.dtype == g.dtype and a.flags.writeable:
            np.add(a, g, out=a)   # in place, as torch's AccumulateGrad: a reference to .grad sees the sum
            t = None
        else:
            t.array = b.add(a, g)
    if t is not None:
        # the slot itself: the engine's gradient has p's shape, dtype and device (the public
        # setter's checks are for assignments by users)
        t._grad_value, t.requires_grad, t.device, t._ctx, t._idx, t._ver, t._hooks = None, False, p.device, None, 0, 0, None
        p._grad_value = t
    if p._hooks:
        run_post_accumulate_hooks(p)


def __getattr__(name):
    # ts.autograd.X for a torch.autograd name this engine lacks
    if name.startswith("__"):
        raise AttributeError(name)
    from tinygrad_seq.missing import _message
    raise AttributeError(_message("torch.autograd", name, None))


# torch.autograd's names kept for old programs (Variable, set_detect_anomaly); backward of several
# tensors, gradcheck (autograd_api.py); torch.autograd.function / functional / graph / profiler
from tinygrad_seq.autograd_legacy import Variable, detect_anomaly, set_detect_anomaly  # noqa: E402,F401
from tinygrad_seq.autograd_api import backward, grad, gradcheck, gradgradcheck  # noqa: E402,F401
from tinygrad_seq import autograd_function as function, autograd_functional as functional  # noqa: E402,F401
from tinygrad_seq import autograd_graph as graph, autograd_profiler as profiler, grad_mode  # noqa: E402,F401
from tinygrad_seq.autograd_function import once_differentiable  # noqa: E402,F401
for _name, _module in (("function", function), ("functional", functional), ("grad_mode", grad_mode)):
    _sys.modules[f"{__name__}.{_name}"] = _module   # from torch.autograd.function import ... (torch's modules)
