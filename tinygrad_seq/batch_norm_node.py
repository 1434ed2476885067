"""Batch normalization in training mode as one node: y = (x - mean) * rstd * w + b with the
batch's statistics per channel (dim 1; x viewed as [N, C, L]). Backward recomputes x_hat from
the input it kept (an untracked .data write to the input after the call is seen, as torch's
backward sees it). The composition in functional_extra.batch_norm stays as the reference, the
create_graph recomposition and the float16 / cuda path."""
import numpy as np

from tinygrad_seq.autograd import Function


class BatchNormFunction(Function):
    """x [N, C, *] with weight / bias [C] or None; stats (a dict) receives the batch's mean and
    biased variance [C] for the running statistics."""
    fresh_grads = True   # every gradient is a new array

    @staticmethod
    def forward(ctx, x, *params, eps=1e-5, has_weight=False, has_bias=False, stats=None):
        n, c = x.shape[0], x.shape[1]
        x3 = x.reshape(n, c, -1)                                          # [N, C, L]
        count = n * x3.shape[2]
        mean = x3.sum((0, 2)) / count                                     # [C]
        d = x3 - mean[None, :, None]
        var = np.einsum("ncl,ncl->c", d, d) / count
        rstd = 1.0 / np.sqrt(var + eps)
        scale = rstd if not has_weight else rstd * params[0]
        y = d * scale[None, :, None]
        if has_bias:
            y += params[-1][None, :, None]
        if stats is not None:
            stats["mean"], stats["var"] = mean, var
        ctx.save_for_backward(x, mean, rstd, params[0] if has_weight else None)
        ctx.has_weight, ctx.has_bias, ctx.eps = has_weight, has_bias, eps
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, mean, rstd, w = ctx.saved_tensors
        n, c = x.shape[0], x.shape[1]
        g3 = g.reshape(n, c, -1)
        count = n * g3.shape[2]
        xhat = (x.reshape(n, c, -1) - mean[None, :, None]) * rstd[None, :, None]
        gsum = g3.sum((0, 2))                                             # [C]
        gdot = np.einsum("ncl,ncl->c", g3, xhat)                          # [C]
        grads = [None]
        if ctx.needs_input_grad[0]:
            scale = rstd if w is None else rstd * w
            gx = (g3 - (gsum / count)[None, :, None] - xhat * (gdot / count)[None, :, None]) * scale[None, :, None]
            grads[0] = gx.reshape(x.shape)
        if ctx.has_weight:
            grads.append(gdot if ctx.needs_input_grad[1] else None)
        if ctx.has_bias:
            grads.append(gsum if ctx.needs_input_grad[-1] else None)
        return tuple(grads)
