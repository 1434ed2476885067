"""pad_sequence's node: B sequences (L_i, *) written into one (B, max L, *) array filled with the
padding value (torch writes them into one buffer too, CopySlices); each sequence's gradient is
its slice of the output's. One node for the batch: padding each sequence with F.pad and stacking
made 2B + 1 nodes (2000 sequences: 60 ms, 4x torch's; now one array write each)."""
import numpy as np

from tinygrad_seq.autograd import Function


class PadSequence(Function):
    @staticmethod
    def forward(ctx, *arrays, length=0, left=False, value=0.0):
        ctx.spans = []
        first = arrays[0]
        out = np.full((len(arrays), length) + first.shape[1:], value, dtype=np.result_type(*arrays))
        for k, a in enumerate(arrays):
            start = length - a.shape[0] if left else 0
            out[k, start:start + a.shape[0]] = a
            ctx.spans.append((start, a.shape[0]))
        return out

    @staticmethod
    def backward(ctx, g):
        return tuple(np.array(g[k, start:start + n]) if need else None
                     for k, ((start, n), need) in enumerate(zip(ctx.spans, ctx.needs_input_grad)))


def pad_sequence_graph_backward(ctx, ps, grads):
    """The create_graph=True backward (recompose.DIRECT): each sequence's slice of the gradient
    as a Tensor op, so a second derivative goes through it."""
    g = grads[0]
    return tuple(g[k, start:start + n] if need else None
                 for k, ((start, n), need) in enumerate(zip(ctx.spans, ctx.needs_input_grad)))
