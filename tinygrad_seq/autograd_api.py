"""torch.autograd's functions over the engine's sweep (autograd.backward_from): backward of one
tensor or several (optionally into chosen inputs only), grad (gradients returned, no .grad
touched) and gradcheck. Re-exported by tinygrad_seq.autograd (ts.autograd.backward, .grad,
.gradcheck)."""
import warnings

from tinygrad_seq import autograd
from tinygrad_seq.engine_messages import grad_output_shape
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.graph_walk import sweep_floor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """torch.autograd.backward: the gradients of one tensor or a sequence of them (grad_tensors:
    one gradient each, None for a scalar) summed into the leaves' .grad; with inputs=, into
    those tensors' .grad only (a non-leaf's too, as torch's)."""
    root, gradient = _one_root(tensors, grad_variables if grad_tensors is None else grad_tensors)
    if create_graph:
        return _backward_with_graph(root, gradient, inputs)
    if inputs is None:
        return autograd.backward_from(root, gradient, bool(retain_graph))
    inputs = list({id(t): t for t in _checked_inputs(inputs, "backward(inputs=)")}.values())   # once each
    capture = Capture(inputs)
    autograd.backward_from(root, gradient, bool(retain_graph), capture)
    for t, g in zip(inputs, capture.grads):
        if g is None:
            continue
        b = autograd._device.backend(t.device)
        if t._ctx is None:   # the capture ran its register_hook hooks already
            autograd._finish_leaf(t, g, b, True, hooked=True)
        elif not (t._ctx._retained and t._idx in t._ctx._retained):   # retain_grad() filled .grad in the sweep
            held = t._grad_value   # (read as stored: the public .grad of a non-leaf warns)
            t.grad = autograd._Tensor._wrap(g if held is None else b.add(held.array, g), t.device)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs, returned as a tuple
    (one per input, leaf or not); no tensor's .grad changes. Not reached inputs raise unless
    allow_unused (None) or materialize_grads (zeros)."""
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads)
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    if materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    inputs = _checked_inputs(inputs, "autograd.grad")
    root, gradient = _one_root(outputs, grad_outputs)
    if create_graph:
        grads = _graph_sweep(root, gradient, inputs)
    else:
        capture = Capture(inputs)
        autograd.backward_from(root, gradient, bool(retain_graph), capture)
        grads = capture.grads
    result = []
    for k, (t, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if not allow_unused:   # torch 2.13's text, naming the input
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not have been used in "
                                   f"the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(autograd._device.backend(t.device).zeros(t.shape, t.dtype) if materialize_grads else None)
        else:
            result.append(g)
    return tuple(g if g is None or isinstance(g, autograd._Tensor) else autograd._Tensor._wrap(g, t.device)
                 for t, g in zip(inputs, result))


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """is_grads_batched=True: the first dim of each grad_output indexes independent vectors; one
    backward per vector (torch vmaps it), the results stacked along a new first dim."""
    from tinygrad_seq.functions import stack
    outs = [outputs] if isinstance(outputs, autograd._Tensor) else list(outputs)
    gos = [grad_outputs] if grad_outputs is None or isinstance(grad_outputs, autograd._Tensor) else list(grad_outputs)
    if any(g is None for g in gos):
        raise RuntimeError("autograd.grad(is_grads_batched=True) needs a grad_output for every output")
    n = gos[0].shape[0]
    for o, g in zip(outs, gos):
        if g.shape[0] != n or tuple(g.shape[1:]) != tuple(o.shape):
            raise RuntimeError(f"is_grads_batched: expected grad_outputs of shape (N, *output.shape) with one N, got "
                               f"{tuple(g.shape)} for an output of shape {tuple(o.shape)}")
    per = [grad(outs, inputs, [g[k] for g in gos], retain_graph=True if k < n - 1 else retain_graph,
                create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
           for k in range(n)]
    return tuple(None if per[0][j] is None else stack([p[j] for p in per], 0) for j in range(len(per[0])))


def _graph_sweep(root, gradient, inputs=None):
    """The create_graph=True backward (higher_order.py): gradients with graphs of their own,
    returned for inputs, or into the leaves' .grad when inputs is None."""
    from tinygrad_seq import higher_order
    if root._view is not None:   # a view whose base was written in place since: its node again
        from tinygrad_seq.view_regen import refresh_view_node
        refresh_view_node(root)
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    T = autograd._Tensor
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got a tensor of "
                               f"shape {root.shape}: pass backward(gradient)")
        g = T._wrap(autograd._device.backend(root.device).ones(root.shape, root.dtype), root.device)
    else:
        g = gradient if isinstance(gradient, T) else T(gradient)
        if tuple(g.shape) != tuple(root.shape):
            raise ShapeMismatch(grad_output_shape(0, g.shape, root.shape))
        if g.dtype != root.dtype:
            g = g.to(root.dtype)
    st = autograd._state
    outer, st.callbacks = st.callbacks, []   # queue_callback works here too (a multi-grad hook's)
    try:
        out = higher_order.backward(root, g, inputs)
        while st.callbacks:
            st.callbacks.pop(0)()
        return out
    finally:
        st.callbacks = outer


_warned_cycle = False


def _backward_with_graph(root, gradient, inputs):
    """backward(create_graph=True): into .grad, or with inputs= into theirs only (a non-leaf's
    too), each a Tensor with the graph of its gradient."""
    global _warned_cycle
    if inputs is None and not _warned_cycle:   # once a process, as torch's TORCH_WARN_ONCE
        _warned_cycle = True
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
                      "creating the graph to avoid this. If you have to use this function, make sure to reset the "
                      ".grad fields of your parameters to None after use to break the cycle and avoid the leak.",
                      UserWarning, stacklevel=4)
    if inputs is None:
        _graph_sweep(root, gradient)
        return
    inputs = list({id(t): t for t in _checked_inputs(inputs, "backward(inputs=)")}.values())
    for t, g in zip(inputs, _graph_sweep(root, gradient, inputs)):
        if g is not None:
            t.grad = g.clone() if t.grad is None else t.grad + g


class Capture:
    """Where a sweep delivers the gradients of chosen tensors instead of into .grad: a leaf's
    when it is final (after its register_hook hooks), a non-leaf's when its node runs."""

    def __init__(self, tensors):
        self.grads = [None] * len(tensors)
        self.leaves, self.nodes = {}, {}
        for k, t in enumerate(tensors):
            if t._ctx is None:
                self.leaves.setdefault(id(t), []).append(k)
            else:
                self.nodes.setdefault(id(t._ctx), []).append((t._idx, k))
        self.floor = sweep_floor(tensors)   # (graph_walk.py: the sweep walks no further back)

    def leaf(self, p, g, b, owned=False):
        slots = self.leaves.get(id(p))
        if slots is None:
            return
        if p._hooks:
            g, owned = autograd.run_leaf_hooks(p, g, owned)
        for k in slots:
            self.grads[k] = g if owned and k == slots[0] else b.copy(g)

    def node(self, ctx, grads):
        # a view node read again from a later base (autograd._view_at) stands for its view too:
        # the gradients of the view's nodes add up
        for i, k in self.nodes.get(ctx._origin if ctx._reread else id(ctx), ()):
            if grads[i] is not None:
                prev = self.grads[k]
                self.grads[k] = ctx.b.copy(grads[i]) if prev is None else ctx.b.add(prev, grads[i])


def _checked_inputs(inputs, what):
    inputs = [inputs] if isinstance(inputs, autograd._Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError(f"{what}: inputs cannot be empty")
    for i, t in enumerate(inputs):
        if not isinstance(t, autograd._Tensor):
            raise TypeError(f"{what}: inputs[{i}] is a {type(t).__name__}, expected a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"{what}: one of the differentiated Tensors (inputs[{i}]) does not require grad")
    return inputs


def _one_root(tensors, grads):
    """(root, its gradient) for one tensor or several: several run as one sweep from
    sum_k (root_k * grad_k).sum(), whose gradients are theirs summed."""
    roots = [tensors] if isinstance(tensors, autograd._Tensor) else list(tensors)
    grads = [grads] if grads is None or isinstance(grads, autograd._Tensor) else list(grads)
    if len(grads) == 1 and len(roots) > 1 and grads[0] is None:
        grads = grads * len(roots)
    if len(grads) != len(roots):
        raise ShapeMismatch(f"backward: got {len(roots)} tensors and {len(grads)} gradients")
    for i, r in enumerate(roots):
        if not isinstance(r, autograd._Tensor):
            raise TypeError(f"backward: tensors[{i}] is a {type(r).__name__}, expected a Tensor")
    if len(roots) == 1:
        return roots[0], grads[0]
    for i, (r, g) in enumerate(zip(roots, grads)):
        if not r.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is not None and tuple(getattr(g, "shape", r.shape)) != tuple(r.shape):
            raise ShapeMismatch(grad_output_shape(i, g.shape, r.shape))
    total = None
    with autograd.enable_grad():
        for r, g in zip(roots, grads):
            if g is None and r.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got a tensor of "
                                   f"shape {r.shape}: pass its gradient in grad_tensors")
            term = r.sum() if g is None else (r * (g if isinstance(g, autograd._Tensor) else autograd._Tensor(g))).sum()
            total = term if total is None else total + term
    return total, None


def gradcheck(*args, **kwargs):
    """ts.autograd.gradcheck: tinygrad_seq.gradcheck's (imported at call time: it builds on Tensor,
    which imports tinygrad_seq.autograd and so this module)."""
    from tinygrad_seq.gradcheck import gradcheck as check
    return check(*args, **kwargs)


def gradgradcheck(*args, **kwargs):
    """ts.autograd.gradgradcheck: tinygrad_seq.gradcheck's (imported at call time, as gradcheck)."""
    from tinygrad_seq.gradcheck import gradgradcheck as check
    return check(*args, **kwargs)
