"""torch.autograd's functions over the engine's sweep (autograd.backward_from): backward of one
tensor or several, and gradcheck. Re-exported by tinygrad_seq.autograd (ts.autograd.backward,
ts.autograd.gradcheck)."""
from tinygrad_seq import autograd
from tinygrad_seq.errors import ShapeMismatch


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """torch.autograd.backward: the gradients of one tensor or a sequence of them (grad_tensors:
    one gradient each, None for a scalar) summed into the leaves' .grad. Several roots run as one
    sweep from sum_k (root_k * grad_k).sum(), whose gradients are theirs summed."""
    if create_graph:
        raise NotImplementedError("backward(create_graph=True): tinygrad_seq has no higher-order gradients")
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...): tinygrad_seq accumulates into every leaf; "
                                  "set requires_grad=False on the leaves to leave out")
    grads = grad_variables if grad_tensors is None else grad_tensors
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
        return autograd.backward_from(roots[0], grads[0], bool(retain_graph))
    for i, r in enumerate(roots):
        if not r.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    total = None
    for r, g in zip(roots, grads):
        if g is None and r.array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got a tensor of "
                               f"shape {r.shape}: pass its gradient in grad_tensors")
        term = r.sum() if g is None else (r * (g if isinstance(g, autograd._Tensor) else autograd._Tensor(g))).sum()
        total = term if total is None else total + term
    return autograd.backward_from(total, None, bool(retain_graph))


def gradcheck(*args, **kwargs):
    """ts.autograd.gradcheck: tinygrad_seq.gradcheck's (imported at call time: it builds on Tensor,
    which imports tinygrad_seq.autograd and so this module)."""
    from tinygrad_seq.gradcheck import gradcheck as check
    return check(*args, **kwargs)
