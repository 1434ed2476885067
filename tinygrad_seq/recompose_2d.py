"""The 2-D (transposed) convolution, pooling and interpolation nodes as compositions of the primitive ops, for the
create_graph=True backward (recompose.py, higher_order.py): a WGAN-GP critic's Conv2d, max and
average pooling. Windows are gathered by advanced indexing (GetItem), whose gradient is an
index-add; the products are matmuls. Memory: the gathered windows, [N, C, Kh, Kw, Ho, Wo]."""
import numpy as np

from tinygrad_seq import ops, ops_extra
from tinygrad_seq.conv2d import Conv2dFunction
from tinygrad_seq.conv_transpose import ConvTranspose2dFunction
from tinygrad_seq.functional_pad import _ConstantPad
from tinygrad_seq.interpolate import ResampleAxis
from tinygrad_seq.pool2d import TakePlanes, WindowMean


def _conv2d(ctx, ps):
    """out [N, O, Ho, Wo] = w_g [G, O/G, C/G*K] @ windows of x [N, G, C/G*K, HoWo] (+ bias)."""
    x, w = ps[0], ps[1]
    bias = ps[2] if len(ps) > 2 else None
    x_shape, _, pads, kernel, count = ctx.shapes
    stride, dilation, groups = ctx.args
    n, c = x_shape[:2]
    o = w.shape[0]
    if any(p for pair in pads for p in pair):
        x = _ConstantPad.apply(x, widths=((0, 0), (0, 0)) + tuple(tuple(p) for p in pads), value=0.0)
    hi = np.arange(kernel[0])[:, None] * dilation[0] + np.arange(count[0])[None, :] * stride[0]   # [Kh, Ho]
    wi = np.arange(kernel[1])[:, None] * dilation[1] + np.arange(count[1])[None, :] * stride[1]   # [Kw, Wo]
    idx = (slice(None), slice(None), hi[:, None, :, None], wi[None, :, None, :])
    cols = ops.GetItem.apply(x, idx=idx, advanced=True)                 # [N, C, Kh, Kw, Ho, Wo]
    cols = cols.reshape(n, groups, c // groups * kernel[0] * kernel[1], count[0] * count[1])
    out = (w.reshape(1, groups, o // groups, -1) @ cols).reshape(n, o, count[0], count[1])
    return out if bias is None else out + bias.reshape(1, o, 1, 1)


def _conv_transpose2d(ctx, ps):
    """out = the windows' products w_g^T @ x_g [N, O, Kh, Kw, H, W] added into their output
    positions (IndexAdd: fold), cropped by padding (+ bias)."""
    from tinygrad_seq.graph_backend import IndexAdd
    x, w = ps[0], ps[1]
    bias = ps[2] if len(ps) > 2 else None
    stride, padding, dilation, groups, full, kernel = ctx.args
    n, c, h, wd = x.shape
    o = w.shape[1] * groups
    x_g = x.reshape(n, groups, c // groups, h * wd)                          # [N, G, C/G, HW]
    w_g = w.reshape(groups, c // groups, -1).transpose(1, 2)                 # [G, O/G*K, C/G]
    cols = (w_g.reshape(1, *w_g.shape) @ x_g).reshape(n, o, kernel[0], kernel[1], h, wd)
    hi = np.arange(kernel[0])[:, None] * dilation[0] + np.arange(h)[None, :] * stride[0]    # [Kh, H]
    wi = np.arange(kernel[1])[:, None] * dilation[1] + np.arange(wd)[None, :] * stride[1]   # [Kw, W]
    idx = (slice(None), slice(None), hi[:, None, :, None], wi[None, :, None, :])
    out = IndexAdd.apply(cols, shape=(n, o) + tuple(full), idx=idx, advanced=True)
    size = [f - 2 * p for f, p in zip(full, padding)]
    out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return out if bias is None else out + bias.reshape(1, o, 1, 1)


def _take_planes(ctx, ps):
    """Max pooling's picks: x's planes at the flat positions ctx.index [N, C, Ho, Wo]."""
    n, c, h, w = ctx.shape
    flat = ctx.index.reshape(n, c, -1)
    picked = ops_extra.Gather.apply(ps[0].reshape(n, c, h * w), dim=2, index=flat)
    return picked.reshape(ctx.index.shape)


def _window_mean(ctx, ps):
    """Average pooling: each window's values inside the input, summed, over ctx.divisor."""
    (h_pos, _), (w_pos, _) = ctx.rows, ctx.cols
    _, _, h, w = ctx.shape
    hi = np.clip(h_pos, 0, h - 1)[:, None, :, None]
    wi = np.clip(w_pos, 0, w - 1)[None, :, None, :]
    values = ops.GetItem.apply(ps[0], idx=(slice(None), slice(None), hi, wi), advanced=True)   # [N, C, Ho, Wo, Kh, Kw]
    inside = ctx.inside.astype(values.dtype)
    sums = (values * values.new_tensor(inside) if not ctx.inside.all() else values).sum((-2, -1))
    return sums / sums.new_tensor(ctx.divisor.astype(sums.dtype))


def _resample_axis(ctx, ps):
    """interpolate along one axis: sum_k x[..., i_k] * w_k there (nearest: x[..., i_0])."""
    axis, _, taps = ctx.args
    x = ps[0].movedim(axis, -1)
    y = None
    for i, w in taps:
        term = ops.GetItem.apply(x, idx=(Ellipsis, i), advanced=True)
        term = term if w is None else term * term.new_tensor(w)
        y = term if y is None else y + term
    return y.movedim(-1, axis)


RECOMPOSE_2D = {Conv2dFunction: _conv2d, ConvTranspose2dFunction: _conv_transpose2d, TakePlanes: _take_planes,
                WindowMean: _window_mean, ResampleAxis: _resample_axis}
