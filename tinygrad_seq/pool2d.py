"""2-D pooling as torch.nn.functional's: max_pool2d (return_indices, ceil_mode, dilation,
padding), avg_pool2d (count_include_pad, ceil_mode, divisor_override), adaptive_max_pool2d and
adaptive_avg_pool2d. Every pool is described per spatial axis by its windows' input positions
[L_out, K] and which of them lie inside the input; one gather of the input over both axes gives
[N, C, Ho, Wo, Kh, Kw], reduced by numpy. Max pools pick each window's (first) maximum and
differentiate as a gather of those elements; average pools scatter g / divisor back with one
bincount. The arrays go through host memory on "cuda".
"""
import numpy as np

from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import require_float, torch_type_name
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.writes import keep_for_write_check
from tinygrad_seq.memory_formats import keeps_channels_last


def _pool_pair(value, name, op, what, allow_none=False):
    """kernel_size / stride / padding / dilation: an int or 1-2 ints -> (h, w), as torch's."""
    if allow_none and (value is None or (isinstance(value, (tuple, list)) and len(value) == 0)):
        return None
    v = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(v) not in (1, 2):
        raise InvalidArgument(f"{op}: {name} must {what}")
    return (int(v[0]), int(v[-1]))


def _batched(input, message):
    if input.ndim not in (3, 4) or 0 in input.shape[1:]:
        raise ShapeMismatch(message)
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


def _sliding_positions(length, kernel, stride, padding, dilation, ceil_mode):
    """([L_out, K] input positions of each window, [L_out, K] whether inside the input), with
    torch's output length (ceil_mode: a last partial window if it starts inside the input or
    its left padding)."""
    span = dilation * (kernel - 1) + 1
    room = length + 2 * padding - span
    count = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (count - 1) * stride >= length + padding:
        count -= 1
    positions = (np.arange(max(count, 0)) * stride - padding)[:, None] + dilation * np.arange(kernel)[None, :]
    return positions, (positions >= 0) & (positions < length)


def _adaptive_positions(length, size):
    """torch's adaptive bins [floor(i L / size), ceil((i + 1) L / size)) as padded positions."""
    i = np.arange(size)
    starts, ends = (i * length) // size, -(-((i + 1) * length) // size)
    width = int((ends - starts).max()) if size else 0
    positions = starts[:, None] + np.arange(width)[None, :]
    return positions, positions < ends[:, None]


def _gather(x, rows, cols, fill):
    """x [N, C, H, W] (host) -> [N, C, Ho, Wo, Kh, Kw] values of every window, `fill` outside."""
    (h_pos, h_ok), (w_pos, w_ok) = rows, cols
    hi = np.clip(h_pos, 0, x.shape[2] - 1)[:, None, :, None]
    wi = np.clip(w_pos, 0, x.shape[3] - 1)[None, :, None, :]
    values = x[:, :, hi, wi]
    inside = h_ok[:, None, :, None] & w_ok[None, :, None, :]                  # [Ho, Wo, Kh, Kw]
    if not inside.all():
        values = np.where(inside, values, np.asarray(fill, x.dtype))
    return values, inside


def nan_last(windows, best):
    """best (argmax over the last axis of windows), but a window holding nan takes its last nan:
    torch's max pool kernels replace their running max by every nan they meet."""
    if windows.dtype.kind != "f":
        return best
    nans = np.isnan(windows)
    if not nans.any():
        return best
    last = windows.shape[-1] - 1 - nans[..., ::-1].argmax(-1)
    return np.where(nans.any(-1), last, best)


def _window_argmax(x, rows, cols):
    """[N, C, Ho, Wo] flat index (h * W + w) of each window's first maximum; a window of -inf
    values points at its first element inside the input, as torch's."""
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    values, inside = _gather(x, rows, cols, fill)
    n, c, ho, wo, kh, kw = values.shape
    best = nan_last(values.reshape(n, c, ho, wo, kh * kw), values.reshape(n, c, ho, wo, kh * kw).argmax(-1))
    (h_pos, _), (w_pos, _) = rows, cols
    h = h_pos[np.arange(ho)[:, None], best // kw]
    w = w_pos[np.arange(wo)[None, :], best % kw]
    chosen_inside = inside.reshape(ho, wo, kh * kw)[np.arange(ho)[:, None], np.arange(wo)[None, :], best]
    if not chosen_inside.all():
        first = inside.reshape(ho, wo, kh * kw).argmax(-1)                   # first position inside
        h = np.where(chosen_inside, h, h_pos[np.arange(ho)[:, None], first // kw])
        w = np.where(chosen_inside, w, w_pos[np.arange(wo)[None, :], first % kw])
    return (h * x.shape[3] + w).astype(np.int64)


class TakePlanes(Function):
    """out [N, C, Ho, Wo] = x [N, C, H, W] at flat positions index [N, C, Ho, Wo] of each plane;
    backward adds each gradient to the element it came from."""
    @staticmethod
    def forward(ctx, x, index=None):
        B = ctx.b
        xh = B.to_host(x)
        n, c, h, w = xh.shape
        ctx.shape = xh.shape
        ctx.index = index
        flat = index.reshape(n, c, int(np.prod(index.shape[2:])))   # explicit sizes: a zero batch reshapes too
        return B.asarray(np.take_along_axis(xh.reshape(n, c, h * w), flat, -1).reshape(index.shape))

    @staticmethod
    def backward(ctx, grad):
        n, c, h, w = ctx.shape
        g = ctx.b.to_host(grad)
        planes = (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
        dx = np.bincount((ctx.index + planes).ravel(), weights=g.ravel(), minlength=n * c * h * w)
        return ctx.b.asarray(dx.astype(g.dtype).reshape(ctx.shape))


class WindowMean(Function):
    """out [N, C, Ho, Wo] = (sum of each window's values inside the input) / divisor [Ho, Wo]."""
    @staticmethod
    def forward(ctx, x, rows=None, cols=None, divisor=None):
        B = ctx.b
        xh = B.to_host(x)
        values, inside = _gather(xh, rows, cols, 0)
        sums = values.sum((-2, -1))
        ctx.shape, ctx.rows, ctx.cols, ctx.divisor, ctx.inside = xh.shape, rows, cols, divisor, inside
        if xh.dtype.kind != "f":   # integer means truncate toward zero, as torch's
            return B.asarray((np.sign(sums) * (np.abs(sums) // divisor)).astype(xh.dtype))
        return B.asarray(sums / divisor.astype(xh.dtype))

    @staticmethod
    def backward(ctx, grad):
        n, c, h, w = ctx.shape
        g = ctx.b.to_host(grad) / ctx.divisor                                 # [N, C, Ho, Wo]
        (h_pos, _), (w_pos, _) = ctx.rows, ctx.cols
        flat = h_pos[:, None, :, None] * w + w_pos[None, :, None, :]          # [Ho, Wo, Kh, Kw]
        inside = ctx.inside
        planes = (np.arange(n * c) * (h * w))[:, None]
        where = (flat[inside][None, :] + planes).ravel()
        weights = np.broadcast_to(g[..., None, None], g.shape + inside.shape[2:])[..., inside]
        dx = np.bincount(where, weights=weights.ravel(), minlength=n * c * h * w)
        return ctx.b.asarray(dx.astype(grad.dtype).reshape(ctx.shape))


def _sliding_args(op, kernel_size, stride, padding, dilation):
    kernel = _pool_pair(kernel_size, "kernel_size", op, "either be a single int, or a tuple of two ints")
    stride = _pool_pair(stride, "stride", op, "either be omitted, a single int, or a tuple of two ints",
                        allow_none=True) or kernel
    padding = _pool_pair(padding, "padding", op, "either be a single int, or a tuple of two ints")
    dilation = _pool_pair(dilation, "dilation", op, "either be a single int, or a tuple of two ints")
    if min(kernel) <= 0:
        raise InvalidArgument(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if min(stride) <= 0:
        raise InvalidArgument("stride should not be zero")
    if min(dilation) <= 0:
        raise InvalidArgument(f"dilation should be greater than zero, but got dilationH: {dilation[0]} "
                              f"dilationW: {dilation[1]}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > k // 2:
            raise InvalidArgument(f"pad should be at most half of effective kernel size, but got pad={p}, "
                                  f"kernel_size={k} and dilation={d}")
    return kernel, stride, padding, dilation


def _sliding_windows(x, kernel, stride, padding, dilation, ceil_mode):
    rows = _sliding_positions(x.shape[2], kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    cols = _sliding_positions(x.shape[3], kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    if len(rows[0]) < 1 or len(cols[0]) < 1:
        c, h, w = x.shape[1:]
        raise ShapeMismatch(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                            f"({c}x{len(rows[0])}x{len(cols[0])}). Output size is too small")
    return rows, cols


def _finish(out, index, unbatched, return_indices, device):
    if unbatched:
        out, index = out.squeeze(0), index[0]
    return (out, Tensor(index, device=device)) if return_indices else out


@keeps_channels_last
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each window of input [N, C, H, W] (or [C, H, W]); its gradient goes to
    the window's first maximum; return_indices: that element's flat position h * W + w."""
    require_tensor_argument(input, "max_pool2d", "input", 1)
    x, unbatched = _batched(input, "non-empty 3D or 4D (batch mode) tensor expected for input")
    if x.dtype.kind == "b":
        raise NotImplementedError('"max_pool2d" not implemented for \'Bool\'')
    kernel, stride, padding, dilation = _sliding_args("max_pool2d", kernel_size, stride, padding, dilation)
    rows, cols = _sliding_windows(x, kernel, stride, padding, dilation, ceil_mode)
    index = _window_argmax(x.numpy(), rows, cols)
    planes = keep_for_write_check(TakePlanes.apply(x, index=index), input)   # torch's node saves the input
    return _finish(planes, index, unbatched, return_indices, input.device)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


@keeps_channels_last
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each window of input [N, C, H, W] (or [C, H, W]): divided by divisor_override,
    or by the window's size within the padded input (count_include_pad) or the input itself, as
    torch's. int64 inputs give int64 means truncated toward zero; other integer dtypes refuse."""
    require_tensor_argument(input, "avg_pool2d", "input", 1)
    x, unbatched = _batched(input, f"avg_pool2d: expected a 3D or 4D input, got shape {list(input.shape)}")
    if x.dtype.kind not in "f" and x.dtype != np.int64:
        raise NotImplementedError(f'"avg_pool2d" not implemented for \'{torch_type_name(x.dtype)}\'')
    if divisor_override is not None and int(divisor_override) == 0:
        raise InvalidArgument("divisor must be not zero")
    kernel, stride, padding, _ = _sliding_args("avg_pool2d", kernel_size, stride, padding, 1)
    rows, cols = _sliding_windows(x, kernel, stride, padding, (1, 1), ceil_mode)
    if divisor_override is not None:
        divisor = np.full((len(rows[0]), len(cols[0])), float(divisor_override))
    else:   # torch's pool_size: the window clipped to the padded input (or to the input itself)
        counts = []
        for (pos, ok), size, pad in zip((rows, cols), x.shape[2:], padding):
            padded = np.minimum(pos[:, 0] + pos.shape[1], size + pad) - pos[:, 0]
            counts.append(padded if count_include_pad else ok.sum(1))
        divisor = np.outer(counts[0], counts[1]).astype(np.float64)
    out = WindowMean.apply(x, rows=rows, cols=cols, divisor=divisor)
    return out.squeeze(0) if unbatched else out


def _adaptive_sizes(x, output_size, op):
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(size) != 2:
        raise InvalidArgument(f"{op}(): internal error: output_size.size() must be 2")
    return tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(size))


@keeps_channels_last
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive bins of input [N, C, H, W] (or [C, H, W]); output_size: an int,
    or a pair where None keeps that input size; return_indices: flat positions h * W + w."""
    x, unbatched = _batched(input, f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    require_float(x, "adaptive_max_pool2d")
    out_h, out_w = _adaptive_sizes(x, output_size, "adaptive_max_pool2d")
    rows, cols = _adaptive_positions(x.shape[2], out_h), _adaptive_positions(x.shape[3], out_w)
    index = _window_argmax(x.numpy(), rows, cols)
    return _finish(TakePlanes.apply(x, index=index), index, unbatched, return_indices, input.device)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


@keeps_channels_last
def adaptive_avg_pool2d(input, output_size):
    """The mean over torch's adaptive bins of input [N, C, H, W] (or [C, H, W])."""
    x, unbatched = _batched(input, f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    require_float(x, "adaptive_avg_pool2d")
    out_h, out_w = _adaptive_sizes(x, output_size, "adaptive_avg_pool2d")
    rows, cols = _adaptive_positions(x.shape[2], out_h), _adaptive_positions(x.shape[3], out_w)
    divisor = np.outer(rows[1].sum(1), cols[1].sum(1)).astype(np.float64)
    out = WindowMean.apply(x, rows=rows, cols=cols, divisor=divisor)
    return out.squeeze(0) if unbatched else out
