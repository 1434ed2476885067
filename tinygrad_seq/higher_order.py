"""Higher-order gradients: the create_graph=True backward (torch's double backward).

The sweep is autograd._sweep's, with Tensors for gradients and grad mode on, so that every
gradient it computes has a graph of its own. A node's gradient comes from one of three places:

- its own backward run on Tensors: ctx.b is a GraphBackend (graph_backend.py) and the arrays
  it saved are replaced by the Tensors they stand for (saved_as_tensors.py: the parents, or an output
  recomputed from them by the same op), so each op's backward is written once;
- a recomposition (RECOMPOSE): a fused op's output recomputed from its parents with the
  primitive ops (the fused layers' own reference compositions), differentiated by a nested
  sweep that stops at the parents (a cross-entropy, a norm, the fused LSTM / GRU / RNN);
- anything else: its first-order gradient, from its array backward, as the output of a node
  that raises if a later backward reaches it (torch's once_differentiable).

A node whose parents were rewritten in place after it used them also takes the last path: the
Tensors its saved arrays stand for are gone.
"""

import numpy as np

from tinygrad_seq import autograd, host_derivatives, ops
from tinygrad_seq import writes as _writes
from tinygrad_seq.backward_kind import backward_kind
from tinygrad_seq.engine_messages import BACKWARD_TWICE, saved_modified
from tinygrad_seq.graph_backend import GraphBackend
from tinygrad_seq.grad_fn_names import torch_name
from tinygrad_seq.grad_hooks import GradHook, _hook_result, run_node_posthooks, run_node_prehooks
from tinygrad_seq.graph_walk import _toposort, sweep_floor
from tinygrad_seq.ops_host import XLOG_FIRST_GRAD, HostBinary, HostUnary
from tinygrad_seq.outer_grad import DEFERRED
from tinygrad_seq.recompose import DIRECT, RECOMPOSE, NoGraph
from tinygrad_seq.saved_as_tensors import SAVED as _SAVED, ConstantOf, compared as _compared, kept as _kept, parents as _parents
from tinygrad_seq.saved_as_tensors import parents_as_seen


class FirstOrderOnly(autograd.Function):
    """The first-order gradient of an op without a graph backward, computed on arrays: its
    inputs are what that gradient depends on (the incoming gradients and the op's inputs), and
    differentiating it again raises, naming the op."""
    @staticmethod
    def forward(ctx, *inputs, value=None, op=""):
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx, g):
        if ctx.op.endswith("(once_differentiable)"):
            raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")
        raise RuntimeError(f"double backward through {ctx.op} is not supported: its gradient was computed "
                           f"without a graph (create_graph=True covers the engine's elementwise, reduction, "
                           f"shape, indexing, matmul, linear, softmax, loss, norm and fused recurrent ops)")


# piecewise-linear ops built from where / masked_fill / gathers (grad_fn_names): torch's backward
# formula reads the input, so their gradient requires grad (with a zero derivative); so does a
# node marked grad_fn_names.reading_input (a 1-d max pool's max)
_READS_INPUT = {"LeakyReluBackward0", "HardtanhBackward0", "HardshrinkBackward0", "ThresholdBackward0",
                "RreluWithNoiseBackward0", "NllLossBackward0", "NllLoss2DBackward0",
                "MaxPool2DWithIndicesBackward0", "MaxPool3DWithIndicesBackward0", "AdaptiveMaxPool2DBackward0",
                "AdaptiveMaxPool3DBackward0", "FractionalMaxPool2DBackward0", "FractionalMaxPool3DBackward0",
                *(f"{mode}Pad{k}DBackward0" for mode in ("Reflection", "Replication") for k in (1, 2, 3))}


def _proxy(ctx, b, saved):
    """A copy of node ctx for one backward on Tensors: ctx itself keeps its arrays (a later
    backward without create_graph runs on them)."""
    cls = type(ctx)
    twin = cls.__new__(cls)
    twin.__dict__.update(ctx.__dict__)
    twin.parents, twin.needs_input_grad, twin.device, twin._clock = (ctx.parents, ctx.needs_input_grad,
                                                                    ctx.device, ctx._clock)
    twin.b, twin.saved_tensors = b, saved
    return twin


# ---------------------------------------------------------------- one node
def _outputs(ctx, outs):
    return [outs.get((id(ctx), i)) for i in range(ctx.n_outputs)]


def node_backward(ctx, ps, grads, exact, outputs=None, seen=None):
    """The gradients of node ctx's inputs ps (Tensors, or None) from its output gradients grads
    (Tensors, or None), each a Tensor with a graph. exact: ps are the tensors ctx used (not
    rewritten in place since); outputs: ctx's output tensors, None where not known; seen: when
    not exact, the sweep's edges (tensor, its node as ctx saw it, output index, requires_grad)."""
    cls = type(ctx)
    outputs = outputs or [None] * ctx.n_outputs
    out = outputs[0]
    try:
        if not exact and seen is not None and _SAVED.get(cls) is _parents:
            as_seen = parents_as_seen(ctx, seen)
            if as_seen is not None:   # the saved arrays still hold the values ctx read
                ps, exact = as_seen, True
        if exact and getattr(cls, "_user_backward", None) is not None:
            return custom_backward(ctx, ps, grads, outputs)
        if exact and cls in DIRECT:
            return DIRECT[cls](ctx, ps, grads)
        if exact and (cls is HostUnary and ctx.fn_name in host_derivatives.UNARY
                      or cls is HostBinary and ctx.fn_name in host_derivatives.BINARY):
            return _host_backward(ctx, ps, grads[0], out)
        fn = _SAVED.get(cls) or (_parents if getattr(cls, "saved_are_inputs", False) else None)
        # a node that saved nothing reads no input's value: inputs rewritten since do not matter
        # (the clone an in-place activation runs on: F.relu(x, inplace=True)); nor do they to one
        # whose backward reads only its output, when that tensor is at hand (exp, tanh, sigmoid,
        # softmax), or saved arrays it compares (relu's; a write to those raised already)
        if fn is not None and (exact or (fn is _parents and not any(s is not None for s in ctx.saved_tensors))
                               or (getattr(fn, "output_only", False) and out is not None)
                               or fn is _kept or fn is _compared):
            b = GraphBackend(ctx.device)
            saved = fn(ctx, ps, out) if getattr(fn, "reads_output", False) else fn(ctx, ps)
            out = cls.backward(_proxy(ctx, b, saved), *grads)
            out = out if type(out) is tuple else (out,)
            # what the formula read: torch's gradient requires grad when one of them does
            reads_input = fn is _kept or _reads_input(ctx)
            read = [t for t in (*(ps if reads_input else saved), *grads)
                    if isinstance(t, autograd._Tensor) and t.requires_grad]
            return tuple(_as_tensor(g, b, ctx, read) for g in out)
        if exact and cls in RECOMPOSE:
            outs = RECOMPOSE[cls](ctx, ps)
            outs = outs if type(outs) is tuple else (outs,)
            in_grads = grads_through(outs, grads, ps, ctx.needs_input_grad)
            if not _reads_input(ctx):
                return in_grads
            read = [p for p in ps if p is not None and p.requires_grad]   # (a 2-d max pool's gather)
            return tuple(_as_tensor(g, GraphBackend(ctx.device), ctx, read) for g in in_grads)
    except NoGraph:
        pass
    return _first_order(ctx, ps, grads)


def _reads_input(ctx):
    return "_reads_input" in ctx.__dict__ or torch_name(ctx) in _READS_INPUT


def _host_backward(ctx, ps, g, y):
    """ops_host's functions: g times the derivative written with Tensor ops (host_derivatives)."""
    if type(ctx) is HostUnary:
        y = y if y is not None else HostUnary.apply(ps[0], name=ctx.fn_name)
        return (g * host_derivatives.UNARY[ctx.fn_name](ps[0], y),)
    y = y if y is not None else HostBinary.apply(ps[0], ps[1], name=ctx.fn_name)
    da, db = host_derivatives.BINARY[ctx.fn_name](ps[0], ps[1], y)
    # d None: torch's zeros_like, a constant (g * 0 would be nan where g is)
    zeros = autograd._Tensor._wrap(GraphBackend(ctx.device).zeros(tuple(y.shape), y.array.dtype), ctx.device)
    grads = [None if not need else g * d if d is not None else zeros for d, need in zip((da, db), ctx.needs_input_grad)]
    if ctx.fn_name in XLOG_FIRST_GRAD and grads[0] is not None:   # torch's xlogy(grad, y): 0 where grad is
        other = np.broadcast_to(np.asarray(ps[1].array), tuple(grads[0].shape))
        zero = np.broadcast_to(np.asarray(g.array) == 0, other.shape) & ~np.isnan(other)
        grads[0] = grads[0].masked_fill(autograd._Tensor._wrap(zero, ctx.device), 0.0)
    return tuple(grads)


def custom_backward(ctx, ps, grads, outputs):
    """A torch-style autograd.Function's own backward, run on Tensors with grad mode on (as
    torch records it under create_graph): its saved tensors are the inputs or outputs they are
    (tensors it computed inside forward are constants, as in torch: forward ran without grad)."""
    user = type(ctx)._user_backward
    if getattr(user, "once_differentiable", False):
        raise NoGraph()
    T = autograd._Tensor
    saved = []
    for s in ctx.saved_tensors:
        if isinstance(s, T):
            s = next((t for t in (*ps, *outputs) if t is not None and t.array is s.array), s)
        saved.append(s)
    twin = _proxy(ctx, ctx.b, tuple(saved))
    wrapped = [g if g is not None or not ctx._materialize or meta is None
               else T._wrap(ctx.b.zeros(meta[0], meta[1]), ctx.device)
               for g, meta in zip(grads, ctx._out_meta)]
    out = user(twin, *wrapped)
    out = out if isinstance(out, tuple) else (out,)
    result = [g for g, is_tensor in zip(out, ctx._arg_is_tensor) if is_tensor]
    if len(result) != len(ps):
        raise RuntimeError(f"function {type(ctx).__name__}Backward returned an incorrect number of gradients "
                           f"(expected {len(ctx._arg_is_tensor)}, got {len(out)})")
    return tuple(g if g is None or isinstance(g, T) else T._wrap(ctx.b.asarray(g, p.dtype), ctx.device)
                 for g, p in zip(result, ps))


def _as_tensor(g, b, ctx, read):
    if g is None:
        return g
    if type(g) in DEFERRED:
        g = g.materialize(b)
    if isinstance(g, autograd._Tensor):
        if g.requires_grad or not read:
            return g
        g = g.array
    if read:
        return ConstantOf.apply(*read, value=g)
    return autograd._Tensor._wrap(g, ctx.device)   # a constant (zeros: a piecewise-constant op)


def _first_order(ctx, ps, grads):
    arrays = [None if g is None else g.array for g in grads]
    with autograd.no_grad():
        out = type(ctx).backward(ctx, *arrays)
    out = out if type(out) is tuple else (out,)
    once = getattr(getattr(type(ctx), "_user_backward", None), "once_differentiable", False)
    # torch's once_differentiable wraps its gradients only when an incoming gradient requires grad
    deps = [t for t in (grads if once else (*grads, *ps)) if t is not None and t.requires_grad]
    result = []
    for g in out:
        if g is None:
            result.append(None)
            continue
        if type(g) in DEFERRED:
            g = g.materialize(ctx.b)
        if deps:
            result.append(FirstOrderOnly.apply(*deps, value=g, op=type(ctx).__name__ + (" (once_differentiable)" if once else "")))
        else:
            result.append(autograd._Tensor._wrap(g, ctx.device))
    return tuple(result)


# ---------------------------------------------------------------- sweeps
def _accumulate(slot, i, g):
    slot[i] = g if slot[i] is None else slot[i] + g


def _fit(g, p):
    """g reduced to p's shape (broadcasting undone) and cast to p's dtype, as Tensor ops."""
    if g.shape != p.shape:
        g = autograd._unbroadcast(GraphBackend(p.device), g, tuple(p.shape))
    if g.dtype != p.dtype:
        g = ops.Cast.apply(g, dtype=p.array.dtype)
    return g


def grads_through(outputs, grads, inputs, needs=None):
    """The gradients of inputs from grads of outputs (Tensors computed from inputs by nodes not
    rewritten in place), with graphs; the walk stops at inputs (a recomposition's nested
    sweep)."""
    stop = {id(t): k for k, t in enumerate(inputs)}
    result = [None] * len(inputs)
    order, visited = [], set()
    for o in outputs:   # iterative DFS, parents before children, not past the inputs
        if o._ctx is None or id(o) in stop or id(o._ctx) in visited:
            continue
        visited.add(id(o._ctx))
        stack = [(o._ctx, iter(o._ctx.parents))]
        while stack:
            node, it = stack[-1]
            for p in it:
                pc = p._ctx
                if pc is not None and id(p) not in stop and id(pc) not in visited:
                    visited.add(id(pc))
                    stack.append((pc, iter(pc.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    outs = {(id(o._ctx), o._idx): o for o in outputs if o._ctx is not None}
    for node in order:
        for p in node.parents:
            if p._ctx is not None:
                outs[(id(p._ctx), p._idx)] = p
    out_grads = {}
    for o, g in zip(outputs, grads):
        if g is None:
            continue
        if id(o) in stop:
            k = stop[id(o)]
            result[k] = g if result[k] is None else result[k] + g
        elif o._ctx is not None:
            _accumulate(out_grads.setdefault(id(o._ctx), [None] * o._ctx.n_outputs), o._idx, g)
    for node in reversed(order):
        gs = out_grads.pop(id(node), None)
        if gs is None or all(g is None for g in gs):
            continue
        ps = node.parents
        for p, pg in zip(ps, node_backward(node, ps, gs, True, _outputs(node, outs))):
            if pg is None or not p.requires_grad:
                continue
            pg = _fit(pg, p)
            if id(p) in stop:
                k = stop[id(p)]
                result[k] = pg if result[k] is None else result[k] + pg
            elif p._ctx is not None:
                _accumulate(out_grads.setdefault(id(p._ctx), [None] * p._ctx.n_outputs), p._idx, pg)
    if needs is not None:
        result = [g if n else None for g, n in zip(result, needs)]
    return tuple(result)


def backward(root, g, inputs=None):
    """The create_graph=True sweep from root with gradient g (a Tensor of root's shape). inputs
    None: the leaves' .grad accumulate the gradients (with their graphs); else the gradients of
    inputs are returned (a list, None where not reached) and no .grad changes."""
    leaf_slots, node_slots = {}, {}
    for k, t in enumerate(inputs or ()):
        if t._ctx is None:
            leaf_slots.setdefault(id(t), []).append(k)
        else:
            node_slots.setdefault(id(t._ctx), []).append((t._idx, k))
    captured = [None] * len(inputs or ())

    def finish(p, pg):
        if inputs is not None and id(p) not in leaf_slots:
            return
        pg = _leaf_hooks(p, pg)
        if inputs is not None:
            for k in leaf_slots[id(p)]:
                captured[k] = pg
            return
        p.grad = pg.clone() if p.grad is None else p.grad + pg   # its own memory, as torch's AccumulateGrad
        for hook in list(p._hooks or ()):
            if type(hook) is not GradHook:
                hook(p)

    with autograd.enable_grad(), backward_kind(inputs is not None):   # backward_kind.py: checkpoint reads it
        if root._ctx is None:
            finish(root, g)
            return captured
        _sweep(root, g, finish, node_slots, captured, leaf_slots if inputs is not None else None,
               sweep_floor(inputs) if inputs is not None else 0)
    return captured


def _sweep(root, g, finish, node_slots, captured, leaf_slots=None, floor=0):
    order, edges = _toposort(root._ctx, floor)
    needed = None if leaf_slots is None else _needed(order, edges, leaf_slots, node_slots)
    pending, leaf_grad = {}, {}
    for seen in edges:
        for p, pc, _, req in seen:
            if pc is None and req:
                pending[id(p)] = pending.get(id(p), 0) + 1
    out_grads = {id(root._ctx): [None] * root._ctx.n_outputs}
    out_grads[id(root._ctx)][root._idx] = g
    # each node's outputs as tensors, where a later node (or the root) holds them
    outs = {(id(root._ctx), root._idx): root}
    for seen in edges:
        for p, pc, i, _ in seen:
            if pc is not None and pc is p._ctx and i == p._idx:
                outs[(id(pc), i)] = p
    for ctx, seen in zip(reversed(order), reversed(edges)):
        grads = out_grads.pop(id(ctx), None)
        if needed is not None and id(ctx) not in needed:   # no path to an input: torch runs no such node
            if grads is not None:   # (an input's own node: its tensor hooks, then the capture)
                _hooks_and_capture(ctx, grads, node_slots, captured)
            grads = None
        if grads is not None and any(x is not None for x in grads):
            _node_extras(ctx, grads, node_slots, captured)
            if ctx._node_hooks is not None:   # grad_fn.register_prehook's
                grads = run_node_prehooks(ctx, grads, arrays=False)
            exact = not ctx._reread and all(pc is p._ctx and (pc is None or i == p._idx) for p, pc, i, _ in seen)
            in_grads = node_backward(ctx, [p for p, _, _, _ in seen], grads, exact, _outputs(ctx, outs),
                                     None if exact or ctx._reread else seen)
            if len(in_grads) != len(seen):
                raise RuntimeError(f"{type(ctx).__name__}.backward returned {len(in_grads)} gradients for "
                                   f"{len(seen)} inputs")
            if ctx._node_hooks is not None:   # grad_fn.register_hook's, on torch's grad_inputs
                in_grads = run_node_posthooks(ctx, tuple(None if pg is None or not req else _fit(pg, p) for
                                                         (p, _, _, req), pg in zip(seen, in_grads)), grads, arrays=False)
        else:
            in_grads = (None,) * len(seen)
        for (p, pc, i, req), pg in zip(seen, in_grads):
            if not req:
                continue
            if pg is not None:
                pg = _fit(pg, p)
            if pc is None:
                key = id(p)
                pending[key] -= 1
                prev = leaf_grad.pop(key, None)
                pg = prev if pg is None else (pg if prev is None else prev + pg)
                if pg is not None:
                    if pending[key]:
                        leaf_grad[key] = pg
                    else:
                        finish(p, pg)
            elif pg is not None:
                _accumulate(out_grads.setdefault(id(pc), [None] * pc.n_outputs), i, pg)


def _node_extras(ctx, grads, node_slots, captured):
    """Before node ctx's backward: its register_hook hooks, the captured and the retained
    gradients of its outputs, and the checks autograd._sweep makes."""
    _hooks_and_capture(ctx, grads, node_slots, captured)
    if ctx.saved_tensors is None:
        raise RuntimeError(BACKWARD_TWICE)
    if ctx._packed_saves is not None:   # saved_tensors_hooks: unpack before backward (autograd_graph.py)
        from tinygrad_seq.autograd_graph import unpack
        unpack(ctx)
    if ctx._clock != _writes.clock and _writes.saved_was_written(ctx):
        raise RuntimeError(saved_modified(ctx))


def _hooks_and_capture(ctx, grads, node_slots, captured):
    """ctx's outputs' register_hook hooks, then the captured and the retained gradients."""
    for i, hooks in (ctx._grad_hooks or {}).items():
        for hook in list(hooks):
            if grads[i] is not None:
                grads[i] = _hooked(hook, grads[i])
    _capture(ctx, grads, node_slots, captured)
    for i, t in (ctx._retained or {}).items():
        if grads[i] is not None:
            t.grad = grads[i].clone() if t.grad is None else t.grad + grads[i]


def _capture(ctx, grads, node_slots, captured):
    """The gradients of ctx's outputs that autograd.grad asked for (inputs made by ctx)."""
    for i, k in node_slots.get(ctx._origin if ctx._reread else id(ctx), ()):
        if grads[i] is not None:
            captured[k] = grads[i] if captured[k] is None else captured[k] + grads[i]


def _needed(order, edges, leaf_slots, node_slots):
    """ids of the nodes on a path to autograd.grad's inputs (order: parents before children):
    a rollout calling grad(create_graph=True) every step ran every node of its history each time
    (800 steps: 92 s, torch's 0.05), where only the last step's lead to its inputs."""
    needed = set()
    for ctx, seen in zip(order, edges):
        for p, pc, _, _ in seen:
            if (pc is None and id(p) in leaf_slots) or (pc is not None and (
                    id(pc) in needed or (pc._origin if pc._reread else id(pc)) in node_slots)):
                needed.add(id(ctx))
                break
    return needed


def _hooked(hook, g):
    """hook(g) on a Tensor gradient; a returned Tensor replaces it (shape and dtype kept)."""
    out = hook(g)
    if out is None:
        return g
    _hook_result(hook, out, g.array)
    return out if isinstance(out, autograd._Tensor) else autograd._Tensor._wrap(out, g.device)


def _leaf_hooks(p, g):
    for hook in list(p._hooks or ()):
        if type(hook) is GradHook:
            g = _hooked(hook.fn, g)
    return g
