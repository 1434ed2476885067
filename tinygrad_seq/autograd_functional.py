"""torch.autograd.functional's first-order tools: vjp and jacobian (reverse mode, one backward
per output element for jacobian, through autograd.grad). The ones that need a gradient of a
gradient (hessian, jvp, hvp, vhp) raise: backward builds no graph here (README, "Different
from torch")."""
from tinygrad_seq.autograd_api import grad


def _as_tuple(x):
    return ((x,), False) if not isinstance(x, (tuple, list)) else (tuple(x), True)


def _prepared(inputs, create_graph):
    """Fresh leaves that require grad, over the inputs' data (torch's _grad_preprocess)."""
    if create_graph:
        raise NotImplementedError("autograd.functional with create_graph=True needs higher-order gradients, "
                                  "which tinygrad_seq does not have")
    from tinygrad_seq.tensor import Tensor
    out = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"The inputs given to autograd.functional must be Tensors or a tuple of Tensors, "
                            f"but input {i} is {type(t).__name__}")
        if t.dtype.kind != "f":
            raise RuntimeError(f"autograd.functional: input {i} has dtype {t.dtype}; only floating point "
                               f"inputs can be differentiated")
        out.append(Tensor._wrap(t.array, t.device, requires_grad=True))
    return tuple(out)


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
        vs, _ = _as_tuple(v)
        if len(vs) != len(outs):
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(outs)} but got {len(vs)}.")
        for o, w in zip(outs, vs):
            if tuple(w.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: v has shape {tuple(w.shape)} and the output has "
                                   f"shape {tuple(o.shape)}")
    total = None
    for o, w in zip(outs, vs):
        if not o.requires_grad:
            continue
        term = o.sum() if w is None else (o * w.detach()).sum()
        total = term if total is None else total + term
    if total is None:
        grads = (None,) * len(xs)
    else:
        grads = grad(total, xs, allow_unused=True)
    grads = tuple(_zeros_if_none(g, x, strict, "vjp") for g, x in zip(grads, xs))
    detached = tuple(o.detach() for o in outs)
    return (detached if out_tuple else detached[0]), (grads if in_tuple else grads[0])


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
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian(strategy='forward-mode') needs forward-mode autograd, which "
                                  "tinygrad_seq does not have; use strategy='reverse-mode'")
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
                gs = grad(flat[k], xs, retain_graph=True, allow_unused=True)
            else:
                gs = (None,) * len(xs)
            for j, (g, x) in enumerate(zip(gs, xs)):
                per_input[j].append(_zeros_if_none(g, x, strict, "jacobian"))
        blocks = []
        for j, x in enumerate(xs):
            if per_input[j]:
                block = stack(per_input[j], 0).reshape(*(tuple(o.shape) + tuple(x.shape)))
            else:
                block = x.new_zeros(tuple(o.shape) + tuple(x.shape))
            blocks.append(block)
        rows.append(tuple(blocks) if in_tuple else blocks[0])
    return tuple(rows) if out_tuple else rows[0]


def _needs_second_order(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"autograd.functional.{name} needs the gradient of a gradient, which "
                                  f"tinygrad_seq does not have (backward builds no graph); jacobian and vjp work")
    fn.__name__ = name
    return fn


hessian, jvp, hvp, vhp = (_needs_second_order(n) for n in ("hessian", "jvp", "hvp", "vhp"))
