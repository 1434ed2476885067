"""Tensor.diagonal as torch's: on the CPU a view of its input's memory, so a write through it
(`x.diagonal().fill_(0)`, `K.diagonal().add_(eps)`) reaches the input, recorded by autograd as
torch records it (the base's CopySlices, tensor_shape.view_fns kind "diagonal"). numpy's own
np.diagonal view is read-only; its memory is the input's, so it is made writable where the input
is. Other devices take a copy (functions.diagonal), written back after an in-place op on it."""
import numpy as np

from tinygrad_seq import autograd


def host_diagonal(a, offset, dim1, dim2):
    """The diagonal of numpy array a as a view (last dim: the diagonal), writable where a is."""
    d = np.diagonal(a, offset, dim1, dim2)
    if a.flags.writeable:
        try:
            d.flags.writeable = True
        except ValueError:   # numpy refuses for some empty diagonals: nothing to write there anyway
            d = d.copy()
    return d


def diagonal_index(shape, offset, dim1, dim2):
    """Index arrays, one per dim of an array of `shape`, that pick its diagonal as a[idx], shaped
    as the diagonal (the other dims in order, then the diagonal's)."""
    rest = [k for k in range(len(shape)) if k not in (dim1, dim2)]
    n1, n2 = shape[dim1], shape[dim2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    idx = [None] * len(shape)
    for pos, k in enumerate(rest):
        idx[k] = np.arange(shape[k]).reshape([shape[k] if i == pos else 1 for i in range(len(rest) + 1)])
    rows = np.arange(length).reshape([1] * len(rest) + [length]) + max(0, -offset)
    idx[dim1], idx[dim2] = rows, rows + offset
    return tuple(idx)


class Diagonal(autograd.Function):
    """out = diagonal(a, offset, dim1, dim2), a view (host arrays); backward: g on the diagonal of
    zeros, written with the backend's index_add where g is a Tensor (a create_graph backward's
    GraphBackend, higher_order.py: the gradient is then differentiable again)."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, a, offset=0, dim1=0, dim2=1):
        ctx.shape, ctx.diag = tuple(a.shape), (offset, dim1, dim2)
        return host_diagonal(a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            out = np.zeros(ctx.shape, g.dtype)
            host_diagonal(out, *ctx.diag)[...] = g
            return out
        return ctx.b.index_add(ctx.shape, g.dtype, diagonal_index(ctx.shape, *ctx.diag), g, True)


def view_fns_of_diagonal(offset, dim1, dim2):
    """tensor_shape.view_fns of kind "diagonal": (the view of a base, the base with it replaced)."""
    from tinygrad_seq.tensor_fill_math import diagonal_scatter
    from tinygrad_seq.tensor_shape import mark_view
    return (lambda b: mark_view(Diagonal.apply(b, offset=offset, dim1=dim1, dim2=dim2), b),
            lambda b, v: diagonal_scatter(b, v, offset, dim1, dim2))
