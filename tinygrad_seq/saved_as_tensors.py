"""The double backward's view of what each op saved (higher_order.node_backward): the saved
arrays as the Tensors they stand for (the parents, or an output recomputed from them by the same
op), so that an op's backward, run on Tensors, builds a graph. An op missing here has no graph
backward of its own (higher_order's recompositions and first-order fallback)."""
import numpy as np

from tinygrad_seq import autograd, functional, losses, ops, ops_extra, writes
from tinygrad_seq.diagonal_view import Diagonal
from tinygrad_seq.graph_backend import IndexAdd
from tinygrad_seq.recompose import NoGraph, NormalCdf


class ConstantOf(autograd.Function):
    """A gradient that does not change with the tensors its formula read (sign(x) of abs, the
    mask of relu): as in torch, it is their function all the same, with zero derivative."""
    @staticmethod
    def forward(ctx, *inputs, value=None):
        ctx.shapes = [(a.shape, a.dtype) for a in inputs]
        return value

    @staticmethod
    def backward(ctx, g):
        return tuple(ctx.b.zeros(shape, dtype) for shape, dtype in ctx.shapes)


def parents(ctx, ps):
    """Each saved array as the parent whose array it is (None stays None)."""
    out = []
    for s in ctx.saved_tensors:
        if s is None:
            out.append(None)
            continue
        for p in ps:
            if p.array is s:
                out.append(p)
                break
        else:
            out.append(_scalar_parent(s, ps))
    return tuple(out)


def parents_as_seen(ctx, seen):
    """ctx's parents as it saw them, for an op whose saved arrays are its parents' arrays: a
    parent rewritten in place after ctx used it (or a view read after its base was written) as
    a tensor over its array whose node is the one ctx used. None when an array ctx saved was
    written since (its values are no longer those ctx read)."""
    saved = [s for s in ctx.saved_tensors if s is not None]
    out = []
    for p, pc, i, req in seen:
        if pc is p._ctx and (pc is None or i == p._idx):
            out.append(p)
            continue
        arr = p.array
        if any(s is arr for s in saved) and (type(arr) is not np.ndarray or writes._host_written(arr, ctx._clock)):
            return None
        q = autograd._Tensor._wrap(arr, p.device, req)
        q._ctx, q._idx = pc, i
        out.append(q)
    return out


def _scalar_parent(s, ps):
    """The one parent holding saved numpy scalar s as a 0-d array since (a .numpy() of it after
    the op: Tensor._shared_array); none or two alike: no graph. One tensor that is both parents
    (m * m) is one."""
    found = {id(p): p for p in ps if isinstance(s, np.generic) and p is not None and type(p.array) is np.ndarray
             and p.array.ndim == 0 and p.array.dtype == s.dtype and (p.array == s or s != s and p.array != p.array)}
    found = list(found.values())
    if len(found) != 1:
        raise NoGraph()
    return found[0]


def kept(ctx, ps):
    """Saved arrays read only through comparisons or shapes: kept as they are."""
    return ctx.saved_tensors


def compared(ctx, ps):
    """Saved arrays the backward reads only through comparisons (clamp's bounds, max's ties):
    kept as they are, and, unlike kept's, not counted as read (torch's gradient then requires
    grad only when the incoming one does)."""
    return ctx.saved_tensors


def _recomputed(op, **kw):
    """The node's output as the saved array: its output tensor, when the sweep met it as a
    later node's input (a hook on it sees the gradient through it, as in torch), else the
    output recomputed from the parent by the same op."""
    def saved(ctx, ps, out=None):
        return (out if out is not None else op.apply(*ps, **{k: getattr(ctx, v) for k, v in kw.items()}),)
    saved.reads_output = saved.output_only = True   # (inputs rewritten since do not matter when out is known)
    return saved


def _pow_saved(ctx, ps, out=None):
    if ctx.saved_tensors[2] is None:   # the output is saved only for the exponent's gradient
        return ps[0], ps[1], None
    return ps[0], ps[1], out if out is not None else ops.Pow.apply(ps[0], ps[1])


_pow_saved.reads_output = True


def _logsumexp_saved(ctx, ps, out=None):
    """logsumexp saved its input and its output (recomputed from the input when not met)."""
    return ps[0], out if out is not None else ops_extra.LogSumExp.apply(ps[0], dims=ctx.dims, keepdim=ctx.keepdim)


_logsumexp_saved.reads_output = True

SAVED = {
    **{op: parents for op in (ops.Add, ops.Sub, ops.Mul, ops.Div, ops.Neg, ops.Log,
                                ops.Abs, ops.Where, ops.MaskedFill, ops.Cast, ops.Sum,
                                ops.MaxAlong, ops.Reshape, ops.Permute, ops.Expand, ops.GetItem,
                                ops.Cat, ops.Stack, ops.MatMul, ops_extra.Clone, ops_extra.Sin,
                                ops_extra.Cos, ops_extra.Log1p, ops_extra.Rounding, ops_extra.CumSum,
                                ops_extra.Gather, ops_extra.Scatter, ops_extra.IndexPut,
                                ops_extra.IndexPutInto, ops_extra.Softplus, ops_extra.FloorDivide, IndexAdd, NormalCdf,
                                ConstantOf, Diagonal)},
    ops.Relu: kept,
    ops.Exp: _recomputed(ops.Exp),
    ops.Tanh: _recomputed(ops.Tanh),
    ops.Sigmoid: _recomputed(ops.Sigmoid),
    ops.Sqrt: _recomputed(ops.Sqrt),
    ops_extra.Expm1: _recomputed(ops_extra.Expm1),
    ops_extra.Reciprocal: _recomputed(ops_extra.Reciprocal),
    ops_extra.LogSoftmax: _recomputed(ops_extra.LogSoftmax, dim="dim"),
    ops_extra.Softmax: _recomputed(ops_extra.Softmax, dim="dim"),
    ops.Pow: _pow_saved,
    ops_extra.LogSumExp: _logsumexp_saved,
    ops.Max: compared,
    ops.Maximum: compared,   # (a and b only compared: the gradient requires grad when g does, as torch's)
    ops.Clamp: compared,
    ops_extra.Prod: lambda ctx, ps: (ps[0].reshape(-1) if ctx.dim is None else ps[0],),
    ops_extra.Root: lambda ctx, ps: (ps[0], ops_extra.Root.apply(ps[0], p=ctx.p)),
    # the input as the 2-D rows the forward multiplied (sizes explicit: -1 cannot be worked out with 0 features)
    functional._Linear: lambda ctx, ps: (ops.Reshape.apply(ps[0], shape=(int(np.prod(ps[0].shape[:-1], dtype=np.int64)),
                                                                         ps[0].shape[-1])), ps[1]),
    functional._ErfGelu: lambda ctx, ps: (ps[0], NormalCdf.apply(ps[0])),
    losses._BCE: lambda ctx, ps: (ps[0], ps[1], ops.Clamp.apply(ops.Log.apply(ps[0]), lo=-100.0),
                                  ops.Clamp.apply(ops.Log.apply(1.0 - ps[0]), lo=-100.0)),
}
