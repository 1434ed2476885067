"""A view's node made again from its base after the base was written in place (torch's "view +
inplace" rule, VariableHooks::grad_fn): a view taken before an in-place write to its base (or to
a base up its chain of views) shows the write in its elements, so its gradient must go through
the write. A node that USES such a view is read again from the base at backward (graph_walk's
_stale_view); this module covers the view itself where no later node sits in between: a backward
started from the view (autograd.backward_from, autograd_api._graph_sweep) and its grad_fn
(grad_fn_names.grad_fn_of). The view's node then
becomes the chain of views taken again from the root's current node, named AsStridedBackward0 as
torch's regenerated node is; the old node stays in the view's history (inplace._retarget) for the
nodes that used the view before.

Only tensors with a `_view` are looked at: callers test `t._view is not None` first, so the ops on
tensors that are not views pay nothing."""
from tinygrad_seq import writes
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.grad_mode import _state
from tinygrad_seq.graph_walk import _stale_view
from tinygrad_seq.tensor_shape import view_fns


def _is_stale(ctx):
    """True when view node ctx no longer sees its base as it is now (a base up its chain of views
    was rebased by an in-place op since ctx was made)."""
    try:
        return _stale_view(ctx, writes.clock + 1)
    except RuntimeError:   # the base's old nodes were dropped (write_history): written many times since
        return True


def refuse_multi_output_view(ctx, idx):
    """torch's error for view node ctx, stale, when it is an output of split / chunk / unbind
    (output idx): torch does not regenerate such a view's node."""
    name = _MULTI_VIEW_NODES.get(ctx.__dict__.get("_torch_name"))
    if name is not None:
        idx = ctx.__dict__.get("_multi_output_nr", idx)
        raise RuntimeError(f"Output {idx} of {name} is a view and its base or another view of its base has "
                           f"been modified inplace. This view is the output of a function that returns multiple "
                           f"views. Such functions do not allow the output views to be modified inplace. You "
                           f"should replace the inplace operation by an out-of-place one.")


def refresh_view_node(t):
    """Give view t (t._view is not None) a node taken from its root's current node when an
    in-place write to a base up its chain came after t's node was made. Returns t."""
    ctx = t._ctx
    if ctx is None or not ctx.is_view or not _is_stale(ctx):
        return t
    refuse_multi_output_view(ctx, t._idx)
    chain, root = [], t
    view = t._live_view()
    while view is not None:   # (kind, arg) of each view from t up to the root; a cut-off base ends it
        chain.append(view[1:])
        root = view[0]
        view = root._live_view()
    prev = _state.grad
    _state.grad = True   # the node is made whatever the caller's mode (a grad_fn read under no_grad)
    try:
        new = root
        for kind, arg in reversed(chain):
            new = view_fns(kind, arg)[0](new)
    finally:
        _state.grad = prev
    if new._ctx is not None:
        t._retarget(named(new, "AsStridedBackward0"))
    return t


# torch's nodes of functions returning several views, whose outputs it will not write in place
# in grad mode (their one node could not be rebased for one output): grad_fn_names.named's names
_MULTI_VIEW_NODES = {"SplitBackward0": "Split", "SplitWithSizesBackward0": "SplitWithSizes",
                     "UnbindBackward0": "Unbind"}


def refuse_inplace_on_multi_output_view(t):
    """Raise torch's error for an in-place op in grad mode on view t when t, or a view it was
    taken from, is an output of split / chunk / unbind (torch's views of such outputs inherit it)."""
    v = t
    while v is not None:
        ctx = v._ctx
        name = ctx.__dict__.get("_torch_name") if ctx is not None else None
        if name in _MULTI_VIEW_NODES:
            what = t.grad_fn.name().removesuffix("Backward0") if t._ctx is not None else "a function"
            raise RuntimeError(f"Output of {what} is a view and is being modified inplace. This view is "
                               f"the output of a function that returns multiple views ({_MULTI_VIEW_NODES[name]}). "
                               f"Such functions do not allow the output views to be modified inplace. You "
                               f"should replace the inplace operation by an out-of-place one (clone() the piece).")
        view = getattr(v, "_view", None)
        v = view[0] if view is not None else None
