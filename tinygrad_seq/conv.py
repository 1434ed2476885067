"""1-D convolution and pooling over time, as torch.nn.functional's: conv1d, max_pool1d,
avg_pool1d, adaptive_max_pool1d, adaptive_avg_pool1d. Each unfolds the input into windows with
one index gather ([N, C, L] -> [N, C, L_out, K]) and reduces them with Tensor ops, so autograd
differentiates it (the gather's gradient adds up where windows overlap). Sequence models use
them beside the recurrent layers (character CNNs, CNN-LSTM front ends, max-over-time pooling).
"""
import numpy as np

from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.conv2d import Conv2dFunction, batched, check_conv, expand_arg, resolve_padding
from tinygrad_seq.grad_fn_names import named, reading_input
from tinygrad_seq.half_opmath import HALF, rounded_once
from tinygrad_seq.memory_formats import keeps_channels_last_1d, laid_as_pool1d
from tinygrad_seq.errors import InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import require_float, torch_type_name
from tinygrad_seq.pool1d_checks import check_adaptive_input, check_pool_input, single_int
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.writes import keep_for_write_check


def _single(v, name, op=None):
    return single_int(v, name, op)


def _windows(x, kernel, stride, dilation):
    """[N, C, L] -> [N, C, L_out, kernel]: the positions each output reads."""
    length = x.shape[-1]
    span = dilation * (kernel - 1) + 1
    if length < span:
        raise ShapeMismatch(f"Calculated output size is too small: input length {length} is shorter than the "
                            f"kernel's span {span}")
    starts = np.arange(0, length - span + 1, stride)
    idx = (starts[:, None] + dilation * np.arange(kernel)[None, :]).reshape(-1)
    picked = x.index_select(-1, Tensor(idx.astype(np.int64), device=x.device))
    return picked.reshape((*x.shape[:-1], len(starts), kernel))


def _batched(input, name):
    """[C, L] -> ([1, C, L], True); [N, C, L] -> (itself, False): the rank checked before
    (pool1d_checks.py)."""
    return (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of input [N, C_in, L] (or [C_in, L]) with weight [C_out, C_in / groups, K]
    (+ bias [C_out]) -> [N, C_out, L_out]: a 2-D convolution of height 1 (conv2d.py's product over
    gathered windows: 2-4x faster than the windows through index_select and a batched matmul,
    2026-12-05), with conv2d's argument checks and torch's messages."""
    require_tensor_argument(input, "conv1d", "input", 1)   # torch's TypeError (None has no .ndim)
    require_tensor_argument(weight, "conv1d", "weight", 2)
    if input.dtype == HALF and weight.dtype == HALF and bias is not None and bias.dtype == HALF:
        # the bias added before rounding, as torch's; the float16 gradients as its (half_opmath.py)
        return rounded_once(lambda x, w, b: conv1d(x, w, None, stride, padding, dilation, groups) + b.reshape(-1, 1),
                            input, weight, bias, name="ConvolutionBackward0")
    x, unbatched = batched(input, "conv1d", 1)
    stride, dilation = expand_arg(stride, 1, "stride"), expand_arg(dilation, 1, "dilation")
    if weight.ndim != 3:
        raise ShapeMismatch(f"conv1d: expected a 3-D weight [C_out, C_in / groups, K], got weight of size "
                            f"{list(weight.shape)}")
    pads = resolve_padding(padding, weight.shape[2:], stride, dilation, 1)
    check_conv("conv1d", x, weight, bias, 1, stride, list(pads[0]), dilation, int(groups))
    span = dilation[0] * (weight.shape[2] - 1) + 1
    if x.shape[-1] + sum(pads[0]) < span:
        raise ShapeMismatch(f"Calculated padded input size per channel: ({x.shape[-1] + sum(pads[0])}). Kernel "
                            f"size: ({span}). Kernel size can't be greater than actual input size")
    out = Conv2dFunction.apply(x.unsqueeze(2), weight.unsqueeze(2), *([bias] if bias is not None else []),
                               stride=(1, stride[0]), pads=((0, 0), pads[0]), dilation=(1, dilation[0]),
                               groups=int(groups)).squeeze(2)
    out = named(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def _pool_args(kernel_size, stride, padding, dilation, max_pool1d_checks, op):
    """(kernel, stride, padding, dilation) as ints, refused where torch refuses them: with
    max_pool1d_checks (max_pool1d without indices) max_pool1d's own checks and messages, else
    those of the 2-d pools that torch's avg_pool1d and max_pool1d_with_indices run."""
    op = "max_pool1d_impl" if max_pool1d_checks else op
    kernel = _single(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _single(stride, "stride", op)
    padding, dilation = _single(padding, "padding", op), _single(dilation, "dilation", op)
    if max_pool1d_checks:
        for name, value in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
            if value <= 0:
                raise InvalidArgument(f"max_pool1d() {name} must be greater than zero, but got {value}")
        if padding < 0:
            raise InvalidArgument(f"max_pool1d() padding must be non-negative, but got {padding}")
        if padding > kernel // 2:
            raise InvalidArgument(f"max_pool1d() padding should be at most half of kernel size, but got "
                                  f"padding={padding} and kernel_size={kernel}")
        return kernel, stride, padding, dilation
    if stride == 0:
        raise InvalidArgument("stride should not be zero")
    for name, value in (("kernel size", kernel), ("stride", stride), ("dilation", dilation)):
        if value <= 0:
            raise InvalidArgument(f"{name} should be greater than zero, but got {value}")
    if padding < 0:
        raise InvalidArgument(f"pad must be non-negative, but got pad: {padding}")
    if padding > kernel // 2:
        raise InvalidArgument(f"pad should be at most half of effective kernel size, but got pad={padding}, "
                              f"kernel_size={kernel} and dilation={dilation}")
    return kernel, stride, padding, dilation


def _pool_windows(x, kernel, stride, padding, dilation, ceil_mode, fill):
    """([.., L_out, K] window values, [L_out, K] input positions, [L_out] window starts) as torch
    lays pooling windows out (ceil_mode: a last partial window when it starts inside the input or
    its left padding). Slots outside the input hold `fill`, or with fill=None (max pooling) the
    window's first input element, so a window's first maximum is never a padding slot (torch's
    index and gradient go to the first input element of an all -inf window) and integer inputs
    need no -inf; a window wholly in the padding holds the dtype's lowest value, its index the
    window's first position >= 0, as torch's. The positions come back as the slots read them."""
    length, span = x.shape[-1], dilation * (kernel - 1) + 1
    room = length + 2 * padding - span
    count = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (count - 1) * stride >= length + padding:
        count -= 1
    if count <= 0:
        raise ShapeMismatch(f"Given input size {length} (padding {padding}): calculated output size {max(count, 0)} "
                            f"is too small for kernel span {span}")
    starts = np.arange(count) * stride - padding
    positions = starts[:, None] + dilation * np.arange(kernel)[None, :]
    valid = (positions >= 0) & (positions < length)
    read = positions   # the input position each slot stands for (its index when it is a window's max)
    if fill is None:
        read = np.where(valid, positions, positions[np.arange(count), (positions >= 0).argmax(1)][:, None])
        valid = valid | valid.any(1, keepdims=True)
        fill = float("-inf") if x.dtype.kind in "fc" else np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False
    idx = Tensor(np.clip(read, 0, length - 1).reshape(-1).astype(np.int64), device=x.device)
    values = x.index_select(-1, idx).reshape((*x.shape[:-1], count, kernel))
    if not valid.all():
        values = values.masked_fill(Tensor(~valid, device=x.device), fill)
    return values, read, starts


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each window; its gradient goes to the window's first maximum, and
    return_indices gives that element's position in the input, as torch's."""
    require_tensor_argument(input, "max_pool1d", "input", 1)
    check_pool_input(input, "max_pool1d", max_pool1d_impl=not return_indices)
    x, unbatched = _batched(input, "max_pool1d")
    if not return_indices:   # torch's kernel without indices is float-only; the one with them is not
        require_float(x, "max_pool1d_impl")
    elif x.dtype == np.bool_:
        raise NotImplementedError('"max_pool2d" not implemented for \'Bool\'')
    kernel, stride, padding, dilation = _pool_args(kernel_size, stride, padding, dilation, not return_indices,
                                                   "max_pool1d")
    values, read, _ = _pool_windows(x, kernel, stride, padding, dilation, ceil_mode, None)
    out, which = _max_last_nan(values)
    reading_input(out)   # torch's max pool node: its gradient under create_graph requires grad
    if unbatched:
        out, which = out.squeeze(0), which.squeeze(0)
    # torch's 1-d pools run the 2-d ones and squeeze; its node saves the input (written in place
    # before the backward, it raises: writes.keep_for_write_check)
    out = keep_for_write_check(named(out, "SqueezeBackward1"), input)
    if not return_indices:
        return out
    rows = np.arange(read.shape[0])
    where = read[rows, which.numpy()] if which.ndim else read[0, which.numpy()]
    # torch's kernel with indices (not the one without) lays both out as its 2-d pools do
    return laid_as_pool1d((out, Tensor(np.asarray(where, np.int64), device=input.device)), input)


@keeps_channels_last_1d
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window: divided by the window's size within the padded input
    (count_include_pad) or within the input itself, as torch's. An int64 input gives int64 means,
    truncated toward zero (torch's); other integer and bool inputs are refused, as torch's."""
    require_tensor_argument(input, "avg_pool1d", "input", 1)
    check_pool_input(input, "avg_pool1d")
    x, unbatched = _batched(input, "avg_pool1d")
    if x.dtype.kind not in "fc" and x.dtype != np.int64:
        raise NotImplementedError(f'"avg_pool2d" not implemented for \'{torch_type_name(x.dtype)}\'')
    kernel, stride, padding, _ = _pool_args(kernel_size, stride, padding, 1, False, "avg_pool1d")
    values, _, starts = _pool_windows(x, kernel, stride, padding, 1, ceil_mode, 0.0)
    length = x.shape[-1]
    ends = np.minimum(starts + kernel, length + padding)
    divisor = ends - starts if count_include_pad else np.minimum(ends, length) - np.maximum(starts, 0)
    if x.dtype == np.int64:
        sums = values.sum(-1).numpy()
        out = Tensor(np.sign(sums) * (np.abs(sums) // divisor), device=x.device)
    else:
        out = values.sum(-1) / Tensor(divisor.astype(values.dtype), device=x.device)
    return named(out.squeeze(0) if unbatched else out, "SqueezeBackward1")


def _max_last_nan(values):
    """values.max(-1) (out, which), but a window holding nan takes its last nan, as torch's max pool
    kernels (pool2d.nan_last); its gradient goes there."""
    out, which = values.max(-1)
    if values.dtype.kind == "f" and np.isnan(out.numpy()).any():
        from tinygrad_seq.pool2d import nan_last
        which = Tensor(nan_last(values.detach().numpy(), which.numpy()), device=values.device)
        out = values.gather(-1, which.unsqueeze(-1)).squeeze(-1)
    return out, which


def _adaptive(input, output_size, reduce, name):
    """[.., L] -> [.., output_size]: `reduce` over each of torch's adaptive bins."""
    size = check_adaptive_input(input, output_size, name)
    x, unbatched = _batched(input, name)
    length = x.shape[-1]
    if size == 0:   # torch's empty [.., 0] result
        out = x.narrow(-1, 0, 0)
    else:
        # torch's bins: [floor(i L / size), ceil((i + 1) L / size))
        pieces = [reduce(x.narrow(-1, (i * length) // size, -(-(i + 1) * length // size) - (i * length) // size))
                  for i in range(size)]
        from tinygrad_seq.functions import stack
        out = stack(pieces, -1)
    return named(out.squeeze(0) if unbatched else out, "SqueezeBackward1")


@keeps_channels_last_1d
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over torch's adaptive bins (gradient to each bin's first maximum); return_indices: the
    positions in the input."""
    require_tensor_argument(input, "adaptive_max_pool1d", "input", 1)
    require_float(input, "adaptive_max_pool2d")
    out = _adaptive(input, output_size, lambda t: reading_input(_max_last_nan(t)[0]), "adaptive_max_pool1d")
    if not return_indices:
        return out
    x = input.detach().numpy()
    size, length = single_int(output_size, "output_size"), x.shape[-1]
    starts = [(i * length) // size for i in range(size)]
    ends = [-(-(i + 1) * length // size) for i in range(size)]
    from tinygrad_seq.pool2d import nan_last
    where = [nan_last(x[..., a:b], np.argmax(x[..., a:b], -1)) + a for a, b in zip(starts, ends)]
    where = np.stack(where, -1) if where else np.zeros((*x.shape[:-1], 0), np.int64)
    return out, Tensor(where.astype(np.int64), device=input.device)


@keeps_channels_last_1d
def adaptive_avg_pool1d(input, output_size):
    require_tensor_argument(input, "adaptive_avg_pool1d", "input", 1)
    require_float(input, "adaptive_avg_pool2d")
    out = _adaptive(input, output_size, lambda t: t.mean(-1), "adaptive_avg_pool1d")
    if out._ctx is not None:   # torch's AdaptiveAvgPool node saves its input (its means save nothing)
        out._ctx.holds_saved = True
    return out
