"""Tensor.repeat as one node (it was six: reshape, expand, reshape, contiguous and their checks,
61-74 us for a decoder's (16, 64) -> (16, 12, 64); torch's 15). Forward: numpy's tile on the
host (a new contiguous array, never a view of the input); backward: the gradient seen as
(r0, d0, r1, d1, ...) summed over the repeats, through the backend's ops (so that a graph
backend builds its double backward)."""
import numpy as np

from tinygrad_seq.autograd import Function


class Repeat(Function):
    saved_are_inputs = True   # saves nothing: create_graph runs the backward below on Tensors

    @staticmethod
    def forward(ctx, a, sizes=None):
        if isinstance(a, np.generic):   # a 0-d reduction's numpy scalar: an array (never its read-only broadcast)
            a = np.asarray(a)
        lead = len(sizes) - len(a.shape)
        shape = (1,) * lead + tuple(a.shape)   # the input with the repeats' leading dims
        ctx.in_shape, ctx.shape, ctx.sizes = tuple(a.shape), shape, sizes
        B = ctx.b
        if type(a) is np.ndarray:   # (tile's copy at all repeats 1 keeps a's order: torch's is row-major)
            out = np.tile(a.reshape(shape), sizes)
            return out if out.flags.c_contiguous else np.ascontiguousarray(out)
        pairs = tuple(v for d in shape for v in (1, d))
        big = tuple(v for s, d in zip(sizes, shape) for v in (s, d))
        return B.ascontiguous(B.reshape(B.ascontiguous(B.broadcast_to(B.reshape(a, pairs), big)),
                                        tuple(s * d for s, d in zip(sizes, shape))))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        pairs = tuple(v for s, d in zip(ctx.sizes, ctx.shape) for v in (s, d))
        summed = B.sum(B.reshape(g, pairs), axis=tuple(range(0, len(pairs), 2)), keepdims=False)
        return B.reshape(summed, ctx.in_shape)
