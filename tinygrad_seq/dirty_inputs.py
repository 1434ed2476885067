"""ctx.mark_dirty of a custom autograd.Function: forward wrote an input in place and returns it.
As torch's, the returned tensor is the input itself and its history moves onto the Function's
node (the node's own edge reads the input as it was before, a snapshot tensor standing for its
old node), as an in-place op of the engine records it (inplace._rebase / _retarget)."""
from tinygrad_seq.grad_mode import is_grad_enabled


def adopt_dirty(ctx, t, index, differentiable):
    """t (an input of ctx's forward, marked dirty, returned as output `index`) made that output."""
    if t._view is not None:
        raise NotImplementedError(f"{type(ctx).__name__}: ctx.mark_dirty of a view is not supported; "
                                  f"write to the base tensor, or return a new tensor from forward")
    if t.requires_grad and t._ctx is None and is_grad_enabled():   # torch's text for mark_dirty
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    t._refuse_inplace()
    t._bump_version()   # torch counts mark_dirty as a write of its own (after forward's)
    if not differentiable:
        return t
    old = type(t)._wrap(t.array, t.device, t.requires_grad)   # the input as the node's edge sees it
    old._ctx, old._idx = t._ctx, t._idx
    ctx.parents = tuple(old if p is t else p for p in ctx.parents)
    made = type(t)._wrap(t.array, t.device, True)
    made._ctx, made._idx = ctx, index
    t._retarget(made)
    return t
