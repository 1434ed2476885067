"""scatter_reduce's backward written with differentiable Tensor ops, for the create_graph=True
backward (higher_order.py runs it as ScatterReduce's entry of recompose.DIRECT): the gradients
then have graphs of their own, in the input, the source and the incoming gradient. The formulas
are torch's scatter_reduce_backward (FunctionsManual.cpp), so second derivatives match torch's:

- sum: g to self, g gathered at index to src;
- mean: both over N, the count of values each position averaged (self counted when included);
- prod: the product of the others, as result / member, with a member that is 0 replaced by 1
  in a product recomputed without it (more than one 0 of src at one position: no graph, as torch's
  double backward refuses it);
- amax / amin: g split evenly among the members equal to the result (self always counted).
With include_self=False self's gradient is 0 where index wrote."""
import numpy as np

from tinygrad_seq import autograd
from tinygrad_seq.recompose import NoGraph


def graph_backward(ctx, ps, grads):
    """(grad of self, grad of src) of ScatterReduce node ctx as Tensors with graphs; ps: its
    inputs (None for one that needs no gradient), grads: its output's gradient."""
    from tinygrad_seq.scatter_reduce_op import scatter_reduce
    g = grads[0]
    if g is None:
        return None, None
    T = autograd._Tensor
    dim, index, reduce, include_self, _ = ctx.meta
    x_saved, s_saved = ctx.saved_tensors[:2]
    I = T._wrap(ctx.b.asarray(index), ctx.device)   # (index's shape) int64
    x = ps[0] if ps[0] is not None else T._wrap(ctx.b.asarray(x_saved), ctx.device)
    part = tuple(slice(0, n) for n in index.shape)   # the part of src that index reads
    if ps[1] is None:
        src = T._wrap(ctx.b.asarray(s_saved), ctx.device)
    else:
        src = ps[1] if tuple(ps[1].shape) == index.shape else ps[1][part]

    def const(shape, value):   # a constant of x's dtype
        return T._wrap(ctx.b.full(tuple(shape), value, x.dtype), ctx.device)

    def again(self_values, src_values):   # the forward on other values, differentiable
        return scatter_reduce(self_values, dim, I, src_values, reduce, include_self=include_self)

    if reduce == "sum":
        g_self, g_src = g, g.gather(dim, I)
    elif reduce == "mean":
        n = const(x.shape, 1 if include_self else 0).scatter_add(dim, I, const(index.shape, 1))
        n = n.masked_fill(n == 0, 1)   # (self's shape) the count each position averaged
        g_self, g_src = g / n, g.gather(dim, I) / n.gather(dim, I)
    elif reduce == "prod":
        g_self, g_src = _prod_grads(x, src, g, dim, I, again, const(x.shape, 0))
    else:   # amax / amin
        result = again(x, src)
        self_hit = (x == result).to(dtype=x.dtype)
        src_hit = (src == result.gather(dim, I)).to(dtype=x.dtype)
        share = g / self_hit.scatter_add(dim, I, src_hit)
        g_self, g_src = self_hit * share, src_hit * share.gather(dim, I)
    if not include_self:
        g_self = g_self.scatter(dim, I, 0.0)
    if ps[1] is not None and tuple(ps[1].shape) != index.shape:   # src's other elements: 0
        full = T._wrap(ctx.b.zeros(tuple(ps[1].shape), g_src.dtype), ctx.device)
        full[part] = g_src
        g_src = full
    need_self, need_src = ctx.needs_input_grad[:2]
    return g_self if need_self else None, g_src if need_src else None


def _prod_grads(x, src, g, dim, I, again, zeros):
    """prod's gradients as torch's: exact where a member is 0 (its product recomputed without it).
    again(self, src): the forward on those values; zeros: a constant 0 of self's shape."""
    masked_self = x.masked_fill(x == 0, 1)
    g_self = g * again(masked_self, src) / masked_self
    src_zero = src == 0
    zeros_at = zeros.scatter_add(dim, I, src_zero.to(dtype=x.dtype)).gather(dim, I)
    if bool(np.any(zeros_at.numpy() > 1)):   # torch: "Double backward is unsupported for src when >1 zeros"
        raise NoGraph()
    single_zero = src_zero & (zeros_at == 1)
    result = again(x, src)
    g_src = (g * again(x, src.masked_fill(single_zero, 1))).gather(dim, I).where(
        single_zero, (g * result).gather(dim, I) / src.masked_fill(src_zero, 1))
    return g_self, g_src
