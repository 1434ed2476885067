"""The image / spectrogram front-end functions of torch.nn.functional that sit next to conv2d:
pixel_shuffle / pixel_unshuffle (reshape + permute), unfold / fold (im2col / col2im over the
window helpers of conv2d.py, each the other's gradient), max_unpool1d / max_unpool2d (a scatter
into zeros whose gradient is the matching gather), instance_norm, local_response_norm and
lp_pool1d / lp_pool2d (compositions of Tensor ops and the pools, as torch writes them).
Re-exported by tinygrad_seq.functional. The arrays of unfold / fold / max_unpool go through host
memory on "cuda", as conv2d's do.
"""
import numbers

import numpy as np

from tinygrad_seq import conv as pool1d, pool2d
from tinygrad_seq.autograd import Function, no_grad
from tinygrad_seq.conv2d import fold_windows, window_view
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import require_float, require_norm_params, torch_type_name
from tinygrad_seq.functional_extra import normalized
from tinygrad_seq.functional_pad import pad
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.memory_formats import keeps_channels_last, row_major_result
from tinygrad_seq.size import Size


# ---- pixel_shuffle / pixel_unshuffle ------------------------------------------------------------

def _shuffle_factor(value, op, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}(): argument '{what}' (position 2) must be int, not {type(value).__name__}")
    if value <= 0:
        raise InvalidArgument(f"{op} expects a positive {what}, but got {value}")
    return int(value)


@keeps_channels_last
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel c r^2 + i r + j goes to pixel (h r + i, w r + j)."""
    r = _shuffle_factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3:
        raise ShapeMismatch(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                            f"{input.ndim} dimension(s)")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise ShapeMismatch(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(batch)
    x = input.reshape((*batch, c // (r * r), r, r, h, w))                       # [*, C, i, j, H, W]
    order = tuple(range(nb)) + tuple(nb + d for d in (0, 3, 1, 4, 2))        # [*, C, H, i, W, j]
    return x.permute(*order).reshape((*batch, c // (r * r), h * r, w * r))


@keeps_channels_last
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    r = _shuffle_factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3:
        raise ShapeMismatch(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                            f"{input.ndim} dimension(s)")
    *batch, c, h, w = input.shape
    for size, what, dim in ((h, "height", -2), (w, "width", -1)):
        if size % r:
            raise ShapeMismatch(f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                                f"input.size({dim})={size} is not divisible by {r}")
    nb = len(batch)
    x = input.reshape((*batch, c, h // r, r, w // r, r))                        # [*, C, H, i, W, j]
    order = tuple(range(nb)) + tuple(nb + d for d in (0, 2, 4, 1, 3))        # [*, C, i, j, H, W]
    return x.permute(*order).reshape((*batch, c * r * r, h // r, w // r))


# ---- unfold / fold ------------------------------------------------------------------------------

def _pair(value, name):
    v = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(v) != 2:
        raise InvalidArgument(f"It is expected {name} equals to 2, but got size {len(v)}")
    return tuple(int(a) for a in v)


def _window_args(kernel_size, dilation, padding, stride):
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    for values, what, rule in ((kernel, "kernel size", "greater than zero"), (stride, "stride", "greater than zero"),
                               (dilation, "dilation", "greater than zero")):
        if min(values) <= 0:
            name = "kernel" if what == "kernel size" else what
            raise InvalidArgument(f"{what} should be {rule}, but got {name}_height: {values[0]} "
                                  f"{name}_width: {values[1]}")
    if min(padding) < 0:
        raise InvalidArgument(f"padding should be non-negative, but got pad_height: {padding[0]} "
                              f"pad_width: {padding[1]}")
    return kernel, dilation, padding, stride


def _block_counts(spatial, kernel, dilation, padding, stride, floor=False):
    """The number of sliding blocks along H and W: torch's col2im (fold) divides as C truncates,
    its im2col (unfold) rounds toward minus infinity (floor=True: a kernel wider than the padded
    input gives 0 blocks there, an error, not 1)."""
    return tuple((n // st if floor else int(n / st)) + 1
                 for n, st in ((s + 2 * p - (d * (k - 1) + 1), st)
                               for s, k, d, p, st in zip(spatial, kernel, dilation, padding, stride)))


def _columns(xp, kernel, dilation, stride, count):
    """xp [N, C, Hp, Wp] -> [N, C kh kw, Ho Wo]: torch's im2col row order (c, i, j)."""
    view = window_view(xp, kernel, stride, dilation, count)                    # [N, C, Ho, Wo, kh, kw]
    n, c = xp.shape[:2]
    return np.ascontiguousarray(view.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kernel[0] * kernel[1],
                                                                          count[0] * count[1])


def _fold_columns(cols, out_shape, kernel, dilation, padding, stride, count):
    """cols [N, C kh kw, Ho Wo] summed into [N, C, H, W] (out_shape) where each block reads."""
    n, c, h, w = out_shape
    blocks = cols.reshape(n, c, kernel[0], kernel[1], count[0], count[1])
    padded = fold_windows(blocks, (n, c, h + 2 * padding[0], w + 2 * padding[1]), stride, dilation)
    return np.ascontiguousarray(padded[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w])


def _pad_planes(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2)) if any(padding) else x


class Im2Col(Function):
    """out [N, C kh kw, L] = the blocks of x [N, C, H, W]; backward folds the gradient back."""
    @staticmethod
    def forward(ctx, x, kernel=None, dilation=None, padding=None, stride=None, count=None):
        xh = ctx.b.to_host(x)
        ctx.args = (xh.shape, kernel, dilation, padding, stride, count)
        return ctx.b.asarray(_columns(_pad_planes(xh, padding), kernel, dilation, stride, count))

    @staticmethod
    def backward(ctx, grad):
        return ctx.b.asarray(_fold_columns(ctx.b.to_host(grad), *ctx.args))


class Col2Im(Function):
    """out [N, C, H, W] = the sum of the blocks cols [N, C kh kw, L]; backward is im2col."""
    @staticmethod
    def forward(ctx, cols, out_shape=None, kernel=None, dilation=None, padding=None, stride=None, count=None):
        ctx.args = (kernel, dilation, padding, stride, count)
        return ctx.b.asarray(_fold_columns(ctx.b.to_host(cols), out_shape, kernel, dilation, padding, stride, count))

    @staticmethod
    def backward(ctx, grad):
        kernel, dilation, padding, stride, count = ctx.args
        return ctx.b.asarray(_columns(_pad_planes(ctx.b.to_host(grad), padding), kernel, dilation, stride, count))


def im2col_graph_backward(ctx, ps, grads):
    """The create_graph=True backward (recompose.DIRECT): the gradient folded back by Col2Im, a
    differentiable op (its own gradient is Im2Col again)."""
    shape, kernel, dilation, padding, stride, count = ctx.args
    return (Col2Im.apply(grads[0], out_shape=shape, kernel=kernel, dilation=dilation, padding=padding,
                         stride=stride, count=count),)


def col2im_graph_backward(ctx, ps, grads):
    """The create_graph=True backward of fold: the gradient's blocks, by Im2Col."""
    kernel, dilation, padding, stride, count = ctx.args
    return (Im2Col.apply(grads[0], kernel=kernel, dilation=dilation, padding=padding, stride=stride, count=count),)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of input [N, C, H, W] (or [C, H, W]) -> [N, C kh kw, L] (or [C kh kw, L]),
    L = Ho Wo blocks in row-major order, each block's values in (c, i, j) order, as torch's im2col."""
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride)
    if input.ndim < 3:
        raise IndexError(f"unfold: Dimension out of range: expected a 3D or 4D input, got shape {list(input.shape)}")
    if input.ndim > 4 or 0 in input.shape[-3:]:
        raise ShapeMismatch(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                            f"dimensions for input, but got: {list(input.shape)}")
    if input.dtype.kind not in "fb":
        raise NotImplementedError(f'"im2col_out_cpu" not implemented for \'{torch_type_name(input.dtype)}\'')
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    count = _block_counts(x.shape[2:], kernel, dilation, padding, stride, floor=True)
    if min(count) < 1:
        raise ShapeMismatch(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={kernel}, "
                            f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding "
                            f"blocks as {count}, but its components must be at least one.")
    out = Im2Col.apply(x, kernel=kernel, dilation=dilation, padding=padding, stride=stride, count=count)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: blocks [N, C kh kw, L] (or [C kh kw, L]) summed into
    [N, C, *output_size] (or [C, *output_size]); overlapping blocks add up."""
    out_hw = _pair(output_size, "output_size")
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise ShapeMismatch(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                            f"non-zero dimensions for input, but got: {list(input.shape)}")
    require_float(input, "col2im_out_cpu")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    n, rows, length = x.shape
    k = kernel[0] * kernel[1]
    if rows % k:
        raise ShapeMismatch(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                            f"but got input.size(1)={rows} and kernel_size={kernel}.")
    count = _block_counts(out_hw, kernel, dilation, padding, stride)
    if count[0] * count[1] != length or min(count) < 1:
        raise ShapeMismatch(f"Given output_size={out_hw}, kernel_size={kernel}, dilation={dilation}, "
                            f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match "
                            f"the calculated number of sliding blocks {count[0]} * {count[1]} = "
                            f"{count[0] * count[1]}, but got input.size(2)={length}.")
    out = Col2Im.apply(x, out_shape=(n, rows // k) + out_hw, kernel=kernel, dilation=dilation, padding=padding,
                       stride=stride, count=count)
    return out.squeeze(0) if unbatched else out


# ---- max_unpool1d / max_unpool2d ----------------------------------------------------------------

class ScatterPlanes(Function):
    """out [N, C, P] = zeros with x [N, C, L] written at positions index [N, C, L] of each plane
    (a repeated position keeps its last value); backward gathers the gradient at index."""
    @staticmethod
    def forward(ctx, x, index=None, plane_size=None):
        xh = ctx.b.to_host(x)
        out = np.zeros(xh.shape[:2] + (plane_size,), xh.dtype)
        np.put_along_axis(out, index, xh, -1)
        ctx.index = index
        return ctx.b.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        return ctx.b.asarray(np.take_along_axis(ctx.b.to_host(grad), ctx.index, -1))


def _unpool_output_size(input, kernel, stride, padding, output_size):
    """torch's _unpool_output_size: the default (L_in - 1) stride + kernel - 2 padding per spatial
    dim, or output_size (n or n + 2 numbers) checked to lie strictly within stride of it."""
    n = len(kernel)
    default = [(input.shape[-n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == n + 2:
            size = size[2:]
        if len(size) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a "
                             f"length of '{len(size)}'")
        for d in range(n):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    for d in range(n):
        if size[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={size[d]}")
    return [int(s) for s in size]


def _ints(value, n):
    v = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    return tuple(int(a) for a in (v * n if len(v) == 1 else v))


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, n):
    """max_unpool{n}d: input and indices [N, C, *L] (or [C, *L]) -> zeros [N, C, *output] with
    each value at its flat position in the output plane (h * W + w for 2-D)."""
    op = f"max_unpool{n}d"
    kernel = _ints(kernel_size, n)
    stride = _ints(stride, n) if stride is not None else kernel
    size = _unpool_output_size(input, kernel, stride, _ints(padding, n), output_size)
    if indices.dtype != np.int64:
        raise DTypeMismatch(f"elements in indices should be type int64 but got: {torch_type_name(indices.dtype)}")
    if input.ndim not in (n + 1, n + 2):
        raise ShapeMismatch(f"Input to {op} should be a {n + 1}d or {n + 2}d Tensor, but got a tensor with "
                            f"{input.ndim} dimensions.")
    if tuple(indices.shape) != tuple(input.shape):
        raise ShapeMismatch(f"Expected shape of indices to be same as that of the input tensor "
                            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    require_float(input, op)
    unbatched = input.ndim == n + 1
    lead = ((1,) if unbatched else ()) + tuple(input.shape[:-n])                # (N, C)
    plane = int(np.prod(size))
    index = indices.numpy().reshape(lead + (-1,))
    bad = (index < 0) | (index >= plane)
    if bad.any():
        raise IndexOutOfRange(f"Found an invalid max index: {int(index[bad][0])} (output volumes are of size "
                              f"{'x'.join(str(s) for s in size)})")
    out = ScatterPlanes.apply(input.reshape((*lead, -1)), index=index, plane_size=plane)
    return out.reshape((*input.shape[:-n], *size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d(..., return_indices=True): zeros except at the indices."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d(..., return_indices=True): zeros except at the indices."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


# ---- instance_norm, local_response_norm ---------------------------------------------------------

def _check_instance_params(input, running_mean, running_var, weight, bias):
    """torch runs instance_norm as batch_norm over (1, N C, *): its sizes are N times the channels'."""
    n, c = input.shape[0], input.shape[1]
    for p, name in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"), (running_var, "running_var")):
        if p is not None and p.numel() != c:
            raise ShapeMismatch(f"{name} should contain {n * c} elements not {n * p.numel()} "
                                f"(input has {c} channels, {name} has shape {list(p.shape)})")


@row_major_result   # (torch runs it as batch_norm of a reshaped input)
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) of input [N, C, *] over its spatial dims (biased variance),
    then weight / bias [C]. use_input_stats with running_mean / running_var [C]: those move by
    momentum toward the instances' mean statistics (variance unbiased), as torch's; without
    use_input_stats the running statistics normalize instead."""
    if use_input_stats and int(np.prod(input.shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {Size(input.shape)}")
    require_norm_params("batch_norm", input, running_mean, running_var, weight, bias)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if not use_input_stats and running_mean is None:
        raise InvalidArgument("Expected running_mean and running_var to be defined when use_input_stats is false")
    _check_instance_params(input, running_mean, running_var, weight, bias)
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if use_input_stats:
        dims = tuple(range(2, input.ndim))
        mean = input.mean(dims, keepdim=True)                                   # [N, C, 1, ...]
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None:
            count = int(np.prod(input.shape[2:]))
            with no_grad():
                m = float(momentum)
                c = input.shape[1]
                running_mean.mul_(1 - m).add_(mean.detach().reshape(-1, c).mean(0) * m)
                running_var.mul_(1 - m).add_(var.detach().reshape(-1, c).mean(0) * (m * count / (count - 1)))
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    # torch's node: its batch norm of [1, N*C, *] viewed back
    return named(normalized(input, mean, var, weight, bias, eps, shape), "ViewBackward0")


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input [N, C, *] / (k + alpha * mean of x^2 over the `size` channels around each)^beta, the
    window zero-padded (size // 2 before, (size - 1) // 2 after) and always divided by size."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    n, c = input.shape[:2]
    squares = (input * input).reshape(n, 1, c, -1)                             # [N, 1, C, rest]
    squares = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    div = pool2d.avg_pool2d(squares, (size, 1), stride=1).reshape(input.shape)
    return input / (div * alpha + k) ** beta


# ---- lp_pool1d / lp_pool2d ----------------------------------------------------------------------

def _power_average(input, norm_type, window, avg_pool, max_pool, kernel_size, stride, ceil_mode):
    """(sum over each window of x^p)^(1/p), as torch's: the mean of x^p times the window size."""
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu() * window) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over the last dim of input [N, C, L] (or [C, L])."""
    if isinstance(kernel_size, (tuple, list)):
        raise TypeError(f"lp_pool1d: kernel_size must be an int, got {kernel_size!r}")
    return _power_average(input, norm_type, kernel_size, pool1d.avg_pool1d, pool1d.max_pool1d, kernel_size, stride,
                          ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over the last two dims of input [N, C, H, W] (or [C, H, W])."""
    kh, kw = _ints(kernel_size, 2)
    return _power_average(input, norm_type, kh * kw, pool2d.avg_pool2d, pool2d.max_pool2d, kernel_size, stride,
                          ceil_mode)
