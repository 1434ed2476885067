"""torch.autograd.functional: vjp and jacobian (reverse mode, one backward per output element
for jacobian, through autograd.grad), and over create_graph=True backward (higher_order.py)
hessian, vhp, hvp and jvp (jvp by the double-backward trick: the vjp's gradient with respect to
its vector)."""
from tinygrad_seq.autograd_api import grad


def _as_tuple(x):
    return ((x,), False) if not isinstance(x, (tuple, list)) else (tuple(x), True)


def _prepared(inputs, create_graph):
    """Tensors that require grad over the inputs' data (torch's _grad_preprocess): fresh leaves,
    or with create_graph an input that requires grad itself as a view of it, so that the
    results' graphs reach it."""
    from tinygrad_seq.tensor import Tensor
    out = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"The inputs given to autograd.functional must be Tensors or a tuple of Tensors, "
                            f"but input {i} is {type(t).__name__}")
        if t.dtype.kind != "f":
            raise RuntimeError(f"autograd.functional: input {i} has dtype {t.dtype}; only floating point "
                               f"inputs can be differentiated")
        out.append(t.view_as(t) if create_graph and t.requires_grad
                   else Tensor._wrap(t.array, t.device, requires_grad=True))
    return tuple(out)


def _finished(ts_, create_graph):
    """torch's _grad_postprocess: results keep their graphs only under create_graph."""
    return tuple(t if create_graph or t is None else t.detach() for t in ts_)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs, as torch's."""
    inputs, in_tuple = _as_tuple(inputs)
    xs = _prepared(inputs, create_graph)
    outputs = func(*xs)
    outs, out_tuple = _as_tuple(outputs)
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               "Tensor with a single element.")
        vs = (None,)
    else:
        vs = _vectors(v, outs, "vjp", "output")
    total = None
    for o, w in zip(outs, vs):
        if not o.requires_grad:
            continue
        term = o.sum() if w is None else (o * w.detach()).sum()
        total = term if total is None else total + term
    if total is None:
        grads = (None,) * len(xs)
    else:
        grads = grad(total, xs, allow_unused=True, create_graph=create_graph)
    grads = _finished([_zeros_if_none(g, x, strict, "vjp") for g, x in zip(grads, xs)], create_graph)
    outs = _finished(outs, create_graph)
    return (outs if out_tuple else outs[0]), (grads if in_tuple else grads[0])


def _zeros_if_none(g, x, strict, name):
    if g is not None:
        return g
    if strict:
        raise RuntimeError(f"The output of the user-provided function is independent of an input. This "
                           f"is not allowed in strict mode ({name}).")
    return x.new_zeros(x.shape)   # (not x * 0: an unused input holding inf gives 0, not nan)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for output o and input x, a tensor of shape o.shape +
    x.shape; nested as torch's (tuple of outputs, then tuple of inputs) when either is a tuple."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:   # torch's rule; the values are computed in reverse mode
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                  "implemented for `vectorize=True`.")
    inputs, in_tuple = _as_tuple(inputs)
    xs = _prepared(inputs, create_graph)
    outputs = func(*xs)
    outs, out_tuple = _as_tuple(outputs)
    from tinygrad_seq.functions import stack
    rows = []
    for o in outs:
        per_input = [[] for _ in xs]
        flat = o.reshape(-1)
        for k in range(flat.shape[0]):
            if o.requires_grad:
                gs = grad(flat[k], xs, retain_graph=True, allow_unused=True, create_graph=create_graph)
            else:
                gs = (None,) * len(xs)
            for j, (g, x) in enumerate(zip(gs, xs)):
                per_input[j].append(_zeros_if_none(g, x, strict, "jacobian"))
        blocks = []
        for j, x in enumerate(xs):
            if per_input[j]:
                block = stack(per_input[j], 0).reshape(tuple(o.shape) + tuple(x.shape))
            else:
                block = x.new_zeros(tuple(o.shape) + tuple(x.shape))
            blocks.append(block if create_graph else block.detach())
        rows.append(tuple(blocks) if in_tuple else blocks[0])
    return tuple(rows) if out_tuple else rows[0]


def _scalar_output(func, xs, name):
    out = func(*xs)
    outs, is_tuple = _as_tuple(out)
    if is_tuple and len(outs) != 1:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    return outs[0].reshape(())


def _vectors(v, xs, name, what="input"):
    """v as a tuple, one tensor of each x's shape (torch's checks: its errors' words)."""
    vs, _ = _as_tuple(v)
    if len(vs) != len(xs):
        raise RuntimeError(f"{name}: v is a tuple of invalid length: should be {len(xs)} but got {len(vs)}.")
    for w, x in zip(vs, xs):
        if tuple(w.shape) != tuple(x.shape):
            raise RuntimeError(f"{name}: Mismatch in shape: v has shape {tuple(w.shape)} and the {what} has "
                               f"shape {tuple(x.shape)}")
    return vs


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar func at inputs: the jacobian of its gradient (torch's shapes:
    x.shape + x.shape, nested per pair of inputs when inputs is a tuple)."""
    inputs, in_tuple = _as_tuple(inputs)

    def gradient(*xs):
        out = _scalar_output(func, xs, "hessian")
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        gs = tuple(_zeros_if_none(g, x, strict, "hessian") for g, x in zip(gs, xs))
        return gs if in_tuple else gs[0]
    return jacobian(gradient, inputs if in_tuple else inputs[0], create_graph=create_graph, strict=strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of the scalar func."""
    inputs, in_tuple = _as_tuple(inputs)
    xs = _prepared(inputs, create_graph)
    out = _scalar_output(func, xs, "vhp")
    vs = _vectors(v, xs, "vhp") if v is not None else _single_input_vector(xs, "vhp")
    gs = grad(out, xs, create_graph=True, allow_unused=True)
    used = [(g, w) for g, w in zip(gs, vs) if g is not None]
    total = None
    for g, w in used:
        term = (g * w.detach()).sum()
        total = term if total is None else total + term
    if total is None or not total.requires_grad:
        res = (None,) * len(xs)
    else:
        res = grad(total, xs, create_graph=create_graph, allow_unused=True)
    res = _finished([_zeros_if_none(r, x, strict, "vhp") for r, x in zip(res, xs)], create_graph)
    out = _finished([out], create_graph)[0]
    return out, (res if in_tuple else res[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product (H is symmetric: v^T H's transpose)."""
    return vhp(func, inputs, v, create_graph, strict)


def _single_input_vector(xs, name):
    if len(xs) != 1 or xs[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if the input to the user-provided function "
                           f"is a single Tensor with a single element ({name}).")
    return (xs[0].new_ones(xs[0].shape),)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as the gradient of the vjp u^T J with
    respect to u (zeros), taken along v (torch's double-backward trick)."""
    inputs, in_tuple = _as_tuple(inputs)
    xs = _prepared(inputs, create_graph)
    vs = _vectors(v, xs, "jvp") if v is not None else _single_input_vector(xs, "jvp")
    outs, out_tuple = _as_tuple(func(*xs))
    us = [o.new_zeros(o.shape).requires_grad_(True) for o in outs]
    live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
    if live:
        total = None
        for o, u in live:
            term = (o * u).sum()
            total = term if total is None else total + term
        gs = grad(total, xs, create_graph=True, allow_unused=True)
        total = None
        for g, w in zip(gs, vs):
            if g is not None and g.requires_grad:
                term = (g * w.detach()).sum()
                total = term if total is None else total + term
    res = (None,) * len(us) if not live or total is None else grad(total, us, create_graph=create_graph,
                                                                   allow_unused=True)
    res = _finished([_zeros_if_none(r, o, strict, "jvp") for r, o in zip(res, outs)], create_graph)
    outs = _finished(outs, create_graph)
    return (outs if out_tuple else outs[0]), (res if out_tuple else res[0])
