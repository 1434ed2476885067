"""The inputs and results of one torch.func transform call (func.py): the transform's own copies
of the differentiated inputs ("lifting" them to the transform's level), its results as the outer
level sees them ("unlifting"), and the checks torch makes of both.

A copy is a fresh leaf that requires grad over the input's data, or, when the input requires grad
itself (an outer transform's input, a model's parameter) and the outer level records a graph, a
view of it, so that the results' graphs reach it. Forward-mode transforms (jvp, jacfwd) hand f a
clone of each copy, as torch's forward mode lets f write its inputs in place; what f wrote is
copied back into the caller's tensor afterwards, as torch's does. A result keeps its graph only
when that graph reaches a tensor requiring grad outside the transform; one that depends on the
copies alone comes back detached, as torch's does."""
from tinygrad_seq import autograd
from tinygrad_seq.func_vmap import tree_flatten, tree_unflatten
from tinygrad_seq.grad_mode import _state


def _tensor():
    from tinygrad_seq.tensor import Tensor
    return Tensor


def outer_records():
    """True when the level around the transform records a graph (grad mode on, not inference
    mode): only then may a result keep a graph reaching outside."""
    return _state.grad


def _lifted(x, outer_grad):
    """The transform's own copy of input x: a view of x when x requires grad in an outer graph
    that is recording, else a fresh leaf over x's data (never an inference tensor: the transform
    runs outside inference mode, grad_mode.transform_mode)."""
    Tensor = _tensor()
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x.dtype.kind != "f":
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if outer_grad and x.requires_grad:
        return x.view_as(x)
    copy = x.detach()
    copy._inference = False   # an alias made under inference_mode differentiates as torch's wrapper does
    return copy.requires_grad_(True)


def _reaches(t, targets, stop=()):
    """True when t's graph reaches a tensor whose id is in targets (stop: ids not walked past), or,
    with targets None, a leaf requiring grad that is not in stop."""
    pending, seen = [t], set()
    while pending:
        x = pending.pop()
        if targets is not None and id(x) in targets:
            return True
        if id(x) in stop:
            continue
        ctx = x._ctx
        if ctx is None:
            if targets is None and x.requires_grad:
                return True
            continue
        if id(ctx) in seen:
            continue
        seen.add(id(ctx))
        pending.extend(p for p in getattr(ctx, "parents", ()) if p is not None and getattr(p, "requires_grad", False))
    return False


def unlifted(t, own, outer_grad):
    """A result as the outer level sees it: its graph kept only when it reaches outside (a leaf
    requiring grad that is not one of the copies, own: their ids)."""
    if not isinstance(t, _tensor()) or not t.requires_grad:
        return t
    if outer_grad and _reaches(t, None, own):
        return t
    return t.detach()


def own_ids(copies):
    """The copies a walk stops at: the fresh leaves (a copy that is a view of an outer tensor
    leads outside)."""
    return {id(c) for c in copies if c._ctx is None}


def _argnums(argnums, args):
    """argnums checked as torch's, made non-negative: (tuple of ints, was it a tuple)."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums, is_tuple = (argnums,), False
    elif isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        for a in argnums:
            if not isinstance(a, int) or isinstance(a, bool):
                raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        nums, is_tuple = argnums, True
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    out = []
    for a in nums:
        if not -len(args) <= a < len(args):
            raise RuntimeError(f"Got argnum={a}, but only {len(args)} positional inputs")
        out.append(a % len(args))
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(out), is_tuple


class Lifted:
    """The differentiated arguments of one transform call: their copies (flat; what gradients are
    taken with respect to), the pytree they fill (one arg, or a tuple of args for a tuple
    argnums) and args, f's arguments with the copies in place. forward=True (jvp, jacfwd): f gets
    a clone of each copy, which it may write in place; write_back() copies such writes into the
    caller's tensors."""

    def __init__(self, args, argnums, outer_grad, forward=False):
        nums, is_tuple = _argnums(argnums, args)
        chosen = tuple(args[a] for a in nums) if is_tuple else args[nums[0]]
        self.inputs, self.spec = tree_flatten(chosen)
        self.copies = [_lifted(x, outer_grad) for x in self.inputs]
        self.own = own_ids(self.copies)
        self.given = [c.clone() for c in self.copies] if forward else self.copies
        self.versions = [g._version for g in self.given]
        tree = tree_unflatten(self.given, self.spec)
        args = list(args)
        for k, a in enumerate(nums):
            args[a] = tree[k] if is_tuple else tree
        self.args = tuple(args)

    def write_back(self):
        """Copy what f wrote in place into a clone of an input back into the caller's tensor."""
        if self.given is self.copies:
            return
        for x, g, v in zip(self.inputs, self.given, self.versions):
            if g._version != v:
                with autograd.no_grad():
                    x.copy_(g.detach())

    def gradients(self, outputs, cotangents, outer_grad):
        """d(sum_k <outputs[k], cotangents[k]>) / d copies, each unlifted (zeros where unused), as
        the pytree of the differentiated arguments."""
        from tinygrad_seq.autograd_api import grad as autograd_grad
        live = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
        grads = [None] * len(self.copies)
        if live:
            grads = autograd_grad([o for o, _ in live], self.copies, [c for _, c in live], retain_graph=True,
                                  create_graph=True, allow_unused=True)
        grads = [x.new_zeros(x.shape) if g is None else unlifted(g, self.own, outer_grad)
                 for g, x in zip(grads, self.copies)]
        return tree_unflatten(grads, self.spec)

    def depends(self, t):
        """True when output t depends on the differentiated inputs (its graph reaches a copy)."""
        return t.requires_grad and _reaches(t, {id(c) for c in self.copies})


def split_aux(out, has_aux, who):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def checked_aux(aux, own, outer_grad):
    Tensor = _tensor()
    leaves, spec = tree_flatten(aux)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return tree_unflatten([unlifted(x, own, outer_grad) for x in leaves], spec)


def tensor_outputs(out, who):
    """(flat outputs, their pytree spec), each checked to be a Tensor, at least one (torch's)."""
    Tensor = _tensor()
    flat, spec = tree_flatten(out)
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")
    if not flat:
        raise RuntimeError(f"{who}: Expected f to be a function that has non-empty output (got output = {flat})")
    return flat, spec


def only_tensors(flat, who, what):
    """torch's check of jvp's primals / tangents: a non-empty list of Tensors."""
    if not flat:
        raise RuntimeError(f"{who}: Expected {what} to contain at least one Tensor.")
    Tensor = _tensor()
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{who}: Expected {what} to only contain Tensors, got {type(x)}")
