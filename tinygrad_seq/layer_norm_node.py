"""Layer normalization as one node (torch's native_layer_norm): y = (x - mean) * rstd * w + b
over the last dims, flattened to rows [M, N]. Backward recomputes x_hat from the input it kept
(so an untracked .data write to the input after the call is seen, as torch's backward sees it)
and the row statistics: 3-7x faster forward+backward than the composition of mean / sub / mul /
sqrt nodes, which stays as the reference (composite) and as the create_graph recomposition.
C-contiguous float32 / float64 inputs of tuning.ROWS_KERNEL_MIN_ELEMENTS+ elements run
kernels/rows_cpu.py's row kernels (one pass a row, threaded), the rest numpy's passes."""
import numpy as np

from tinygrad_seq import backend_cpu
from tinygrad_seq.autograd import Function


class LayerNormFunction(Function):
    """x [..., *normalized] with weight / bias [normalized] or None (flattened to [N])."""
    fresh_grads = True   # every gradient is a new array

    @staticmethod
    def forward(ctx, x, *params, eps=1e-5, n=1, has_weight=False, has_bias=False):
        x2 = x.reshape(-1, n)                                             # [M, N]
        if type(x2) is np.ndarray and not x2.flags.c_contiguous:
            x2 = np.ascontiguousarray(x2)   # torch's: a contiguous result whatever x's layout
        w = params[0].reshape(n) if has_weight else None
        b = params[-1].reshape(n) if has_bias else None
        kernels = _kernels(x2, w, b)
        if kernels is not None:
            y, mean, rstd = kernels.layer_norm(x2, w, b, eps)                # mean, rstd [M]
            mean, rstd = mean[:, None], rstd[:, None]
        else:
            y, mean, rstd = _forward_numpy(x2, w, b, eps)
        ctx.save_for_backward(x, mean, rstd, w)
        ctx.eps, ctx.n, ctx.has_weight, ctx.has_bias = eps, n, has_weight, has_bias
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, mean, rstd, w = ctx.saved_tensors
        n = ctx.n
        g2 = g.reshape(-1, n)
        need = ctx.needs_input_grad
        need_w, need_b = ctx.has_weight and need[1], ctx.has_bias and need[-1]
        kernels = _kernels(x.reshape(-1, n), w, None, g2)
        if kernels is not None:
            gx, gw, gb = kernels.layer_norm_backward(g2, x.reshape(-1, n), mean.reshape(-1), rstd.reshape(-1), w,
                                                     need[0], need_w, need_b)
        else:
            gx, gw, gb = _backward_numpy(g2, x.reshape(-1, n), mean, rstd, w, need[0], need_w, need_b)
        shape = ctx.params_shape
        grads = [None if gx is None else gx.reshape(x.shape)]
        if ctx.has_weight:
            grads.append(None if gw is None else gw.reshape(shape))
        if ctx.has_bias:
            grads.append(None if gb is None else gb.reshape(shape))
        return tuple(grads)


def _kernels(x2, w, b, g2=None):
    """kernels.rows_cpu when this call runs there (backend_cpu._row_kernels: C-contiguous float32 /
    float64 of enough elements; w and b contiguous of x's dtype), else None."""
    if any(p is not None and (p.dtype != x2.dtype or not p.flags.c_contiguous) for p in (w, b)):
        return None
    return backend_cpu._row_kernels(x2, -1, g2)


def _forward_numpy(x2, w, b, eps):
    """(y [M, N], mean [M, 1], rstd [M, 1]) in numpy's passes."""
    n = x2.shape[1]
    mean = x2.mean(1, keepdims=True)
    d = x2 - mean
    var = np.einsum("ij,ij->i", d, d)[:, None] / n                       # one pass, no [M, N] temporary
    rstd = 1.0 / np.sqrt(var + eps)                                      # [M, 1]
    y = d * rstd
    if w is not None:
        y *= w
    if b is not None:
        y += b
    return y, mean, rstd


def _backward_numpy(g2, x2, mean, rstd, w, need_x, need_w, need_b):
    """(dx [M, N], dw [N], db [N]; None where not needed) in numpy's passes."""
    n = x2.shape[1]
    xhat = (x2 - mean) * rstd
    gxhat = g2 * w if w is not None else g2
    gx = gw = gb = None
    if need_x:
        # d/dx of (x - mean) * rstd: rstd (gxhat - mean(gxhat) - xhat mean(gxhat xhat))
        dot = np.einsum("ij,ij->i", gxhat, xhat)[:, None] / n
        gx = rstd * (gxhat - gxhat.mean(1, keepdims=True) - xhat * dot)
    if need_w:
        gw = np.einsum("ij,ij->j", g2, xhat)
    if need_b:
        gb = g2.sum(0)
    return gx, gw, gb
