"""The shape ops' in-place forms (unsqueeze_, squeeze_, t_, transpose_) on a tensor in the graph,
as torch records them (`batch[t].unsqueeze_(0).clone()` in a DeepAR training loop): the tensor
takes the view's shape and a node of its own (torch's UnsqueezeBackward1, SqueezeBackward3/4/5,
TBackward1, TransposeBackward1) over its node before, its data unchanged, its version up.

Nodes that used the tensor before keep its node before (the rebase's write history), and get
their gradient in its shape then: the tensor's array as it was (the same memory, the old shape
and strides) is kept in its _shape_history, which the backward walk (shape_then, called by
graph_walk._toposort) hands such a node in the tensor's place. A view of the tensor taken before
stays valid (the same memory, the same elements: graph_walk._stale_view looks through the
reshape's node); a retain_grad() stays on the node before, as torch's. A view (batch[t]) stays a view of its base: of the
tensor it was (the old view), through a reshape or permute, so a later write through it still
reaches the base's graph."""
from tinygrad_seq import autograd, writes
from tinygrad_seq.grad_fn_names import named

# the view kind (tensor_shape.view_fns) that takes the old view to the new one, by op
_VIEW_KIND = {"unsqueeze_": "reshape", "squeeze_": "reshape", "t_": "permute", "transpose_": "permute"}


def reshape_in_graph(t, fn, name, node, order=None):
    """t after t = fn(t), recorded by autograd as torch records `name`; node: torch's node name;
    order(ndim): the axes of t_ / transpose_ as a permutation (None for the reshapes)."""
    Tensor = autograd._Tensor
    t._refuse_inplace(whole=False)
    old_view = t._view
    # the tensor as it was: the op's input and, for earlier nodes, the shape they saw
    before = Tensor._wrap(t.array, t.device, t.requires_grad)
    before._ctx, before._idx = t._ctx, t._idx
    if old_view is not None:
        before._view = old_view
    writes.tick()   # the op's node comes after every node that used t before (inplace._rebase's rule)
    out = named(fn(before), node)
    out._ctx._inplace_reshape = True   # graph_walk: no data changed here (views before stay valid)
    t._record_write()   # torch's version bump: a node that saved t raises at backward
    boundary = out._ctx._clock
    t._retarget(out, move_retain=False)
    t.array = out.array
    history = t._shape_history or []
    history.append((boundary, before))
    t._shape_history = history
    if old_view is not None:
        t._view = (before, _VIEW_KIND[name], tuple(out.shape) if order is None else order(before.ndim))
    return t


def transpose_order(dim0, dim1):
    """order(ndim): the permutation transpose(dim0, dim1) makes of an ndim tensor (the dims were
    checked by the op itself)."""
    def order(ndim):
        axes = list(range(ndim))
        if ndim:
            a, b = dim0 % ndim, dim1 % ndim
            axes[a], axes[b] = axes[b], axes[a]
        return tuple(axes)
    return order


def t_order(ndim):
    """The permutation t() makes: the two dims of a matrix swapped, a vector or scalar unchanged."""
    return tuple(reversed(range(ndim)))


def squeeze_node(dim):
    """torch's node of squeeze_: all dims, one dim, or a tuple of dims."""
    if dim is None:
        return "SqueezeBackward3"
    return "SqueezeBackward5" if isinstance(dim, (tuple, list)) else "SqueezeBackward4"


def shape_then(p, clock):
    """The tensor p as a node created at `clock` saw it, where p changed shape in place since
    (reshape_in_graph), else p."""
    for boundary, before in p._shape_history:
        if clock < boundary:
            return before
    return p


def reshaped_between(t, low, high):
    """True when tensor t changed shape in place in the graph after clock `low`, up to `high`."""
    return any(low < boundary <= high for boundary, _ in t._shape_history or ())


def refuse_write_through_view_of_reshaped(view, base):
    """A write in the graph through `view`, taken from `base` before base changed shape in place:
    its region of base is no longer what view_fn reads from the base now (refused, not wrong)."""
    ctx = view._ctx
    if ctx is not None and reshaped_between(base, ctx._clock, float("inf")):
        from tinygrad_seq.graph_walk import VIEW_OF_RESHAPED
        raise RuntimeError(VIEW_OF_RESHAPED)
