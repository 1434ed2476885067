"""The max reductions' Functions: Max (amax, and max() of all elements with torch's evenly
distributed gradient) and MaxAlong (max(dim)'s values, the gradient to the argmax). min is
-max(-x) (tensor_reduce.py)."""
from tinygrad_seq.autograd import Function
from tinygrad_seq.ops import _norm_axes


class Max(Function):
    """Reduce max; the gradient is split evenly between tied maxima. amax (torch's
    scale_grad_by_count) multiplies by the mask, so an inf gradient or a nan maximum gives nan;
    max() of all elements (evenly=True, torch's evenly_distribute_backward) writes g / count
    into the maxima only, and a nan maximum sends the gradient to the nans."""
    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False, evenly=False):
        ctx.axes, ctx.evenly = _norm_axes(axis, a.ndim), evenly
        out = ctx.b.max(a, axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(a, out)
        return out if keepdim else ctx.b.reshape(out, tuple(s for i, s in enumerate(a.shape) if i not in ctx.axes))

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        B = ctx.b
        hit = B.eq(a, out)
        if ctx.evenly:
            hit = B.logical_or(hit, B.logical_and(B.ne(a, a), B.ne(out, out)))   # nan maximum: the nans
        hit = B.astype(hit, g.dtype)
        count = B.sum(hit, axis=ctx.axes, keepdims=True)
        if ctx.evenly:
            share = B.broadcast_to(B.div(B.reshape(g, out.shape), count), a.shape)
            return B.zero_where(B.eq(hit, 0), share)
        return B.mul(B.reshape(g, out.shape), B.div(hit, count))


class MaxAlong(Function):
    """max(dim) returning values; the gradient goes to the index argmax picked (torch.max(dim))."""
    holds_saved = True   # its indices, saved in torch's node: a second backward raises
    @staticmethod
    def forward(ctx, a, dim=0, keepdim=False, index=None):
        ctx.shape, ctx.dim, ctx.index = tuple(a.shape), dim, index
        out = ctx.b.max(a, axis=dim, keepdims=True)
        return out if keepdim else ctx.b.reshape(out, tuple(a.shape)[:dim] + tuple(a.shape)[dim + 1:])

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        shape, dim = ctx.shape, ctx.dim
        idx = B.reshape(ctx.index, shape[:dim] + (1,) + shape[dim + 1:])
        positions = B.reshape(B.asarray(_arange(shape[dim])), (1,) * dim + (shape[dim],) + (1,) * (len(shape) - dim - 1))
        # a select, as torch's scatter into zeros: an inf upstream gradient gives 0 off the argmax
        g = B.broadcast_to(B.reshape(g, shape[:dim] + (1,) + shape[dim + 1:]), shape)
        return B.zero_where(B.ne(positions, idx), g)


def _arange(n):
    import numpy as np
    return np.arange(n)
