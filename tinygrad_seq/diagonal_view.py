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


class Diagonal(autograd.Function):
    """out = diagonal(a, offset, dim1, dim2), a view (host arrays); backward: g on the diagonal of zeros."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, a, offset=0, dim1=0, dim2=1):
        ctx.shape, ctx.diag = tuple(a.shape), (offset, dim1, dim2)
        return host_diagonal(a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape, g.dtype)
        d = host_diagonal(out, *ctx.diag)
        d[...] = g
        return out


def view_fns_of_diagonal(offset, dim1, dim2):
    """tensor_shape.view_fns of kind "diagonal": (the view of a base, the base with it replaced)."""
    from tinygrad_seq.tensor_fill_math import diagonal_scatter
    from tinygrad_seq.tensor_shape import mark_view
    return (lambda b: mark_view(Diagonal.apply(b, offset=offset, dim1=dim1, dim2=dim2), b),
            lambda b, v: diagonal_scatter(b, v, offset, dim1, dim2))
