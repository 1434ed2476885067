"""2-D convolution as torch.nn.functional.conv2d: im2col (a strided view of the padded input,
copied once into GEMM layout) and one batched numpy matmul per call; backward is two more GEMMs
(weight: columns x gradient, input: weight x gradient folded back with col2im). The window
helpers and the argument checks here are shared with conv_transpose.py and pool2d.py. On "cuda"
the arrays go through host memory (convolutions are not on this library's recurrent hot path).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.memory_formats import keeps_channels_last
from tinygrad_seq.user_warning import warn_once


def expand_arg(value, n, name):
    """An int or an n-sequence -> a tuple of n ints, refusing other lengths as torch's."""
    v = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(v) == 1:
        v = v * n
    if len(v) != n:
        raise InvalidArgument(f"expected {name} to be a single integer value or a list of {n} values to match "
                              f"the convolution dimensions, but got {name}={list(v)}")
    return tuple(int(a) for a in v)


def _torch_type(dtype):
    kind = {"Float": "FloatTensor", "Double": "DoubleTensor", "Half": "HalfTensor", "Long": "LongTensor"}
    name = torch_type_name(dtype)
    return f"torch.{kind.get(name, name + 'Tensor')}"


def check_conv(name, x, weight, bias, n_spatial, stride, padding, dilation, groups, transposed=False):
    """torch's checks of a convolution's operands (x already batched), with its messages."""
    if x.dtype.kind == "b":
        raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
    if weight.ndim != n_spatial + 2:
        raise ShapeMismatch(f"{name}: expected a {n_spatial + 2}-D weight, got weight of size {list(weight.shape)}")
    for other, what in ((weight, "weight"), (bias, "bias")):
        if other is not None and other.dtype != x.dtype:
            raise DTypeMismatch(f"Input type ({_torch_type(x.dtype)}) and {what} type ({_torch_type(other.dtype)}) "
                                f"should be the same")
    if any(s <= 0 for s in stride):
        raise InvalidArgument("non-positive stride is not supported")
    if not isinstance(padding, str) and any(p < 0 for p in padding):
        raise InvalidArgument("negative padding is not supported")
    if any(d < 0 for d in dilation):
        raise InvalidArgument("dilation should be greater than zero")
    if groups <= 0:
        raise InvalidArgument("non-positive groups is not supported")
    if weight.shape[0] < groups:
        raise ShapeMismatch(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                            f"weight of size {list(weight.shape)} instead")
    if weight.shape[0] % groups:
        raise ShapeMismatch(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                            f"but got weight of size [{list(weight.shape)}] instead")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != expected:
        given = f"transposed=1, weight of size {list(weight.shape)}" if transposed else \
            f"groups={groups}, weight of size {list(weight.shape)}"
        raise ShapeMismatch(f"Given {given}, expected input{list(x.shape)} to have {expected} channels, but got "
                            f"{x.shape[1]} channels instead")
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise ShapeMismatch(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead")
    if 0 in weight.shape[2:]:   # torch's kernels see a 1-D kernel as 2-D: height 1
        height, width = ((1,) + tuple(weight.shape[2:]))[-2:]
        raise InvalidArgument(f"kernel size should be greater than zero, but got kernel_height: {height} "
                              f"kernel_width: {width}")
    if 0 in dilation:   # torch's kernels refuse it after the shape checks (a 1-D one seen as 2-D)
        shown = ((1,) if n_spatial == 1 else ()) + tuple(dilation)
        names = ("dilation_depth", "dilation_height", "dilation_width")[-len(shown):]
        got = ", ".join(f"{a}: {d}" for a, d in zip(names, shown)) if transposed else str(list(shown))
        raise InvalidArgument(f"dilation should be greater than zero, but got {got}")


def batched(input, name, n_spatial):
    """(input with a batch dim, whether one was added): torch's unbatched (C, *spatial) form."""
    if input.ndim not in (n_spatial + 1, n_spatial + 2):
        raise ShapeMismatch(f"Expected {n_spatial + 1}D (unbatched) or {n_spatial + 2}D (batched) input to {name}, "
                            f"but got input of size: {list(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == n_spatial + 1 else (input, False)


def window_view(xp, kernel, stride, dilation, count):
    """xp [N, C, Hp, Wp] -> read-only view [N, C, Ho, Wo, kh, kw]: window (oh, ow) starts at
    (oh * stride, ow * stride) and reads every dilation-th element; count = (Ho, Wo)."""
    n, c = xp.shape[:2]
    s_n, s_c, s_h, s_w = xp.strides
    return as_strided(xp, (n, c) + tuple(count) + tuple(kernel),
                      (s_n, s_c, s_h * stride[0], s_w * stride[1], s_h * dilation[0], s_w * dilation[1]),
                      writeable=False)


def fold_windows(cols, padded_shape, stride, dilation):
    """The adjoint of window_view: cols [N, C, kh, kw, Ho, Wo] summed into zeros of padded_shape
    [N, C, Hp, Wp] where each window reads; one strided add per kernel offset (kh * kw of them)."""
    out = np.zeros(padded_shape, cols.dtype)
    kh, kw, ho, wo = cols.shape[2:]
    for i in range(kh):
        top = i * dilation[0]
        rows = slice(top, top + stride[0] * (ho - 1) + 1, stride[0])
        for j in range(kw):
            left = j * dilation[1]
            out[:, :, rows, left:left + stride[1] * (wo - 1) + 1:stride[1]] += cols[:, :, i, j]
    return out


def gemm_columns(xp, kernel, stride, dilation, count, groups):
    """[N, G, C/G * kh * kw, Ho * Wo]: the im2col matrix of each sample and group."""
    view = window_view(xp, kernel, stride, dilation, count)       # [N, C, Ho, Wo, kh, kw]
    n, c = xp.shape[:2]
    cols = view.transpose(0, 1, 4, 5, 2, 3)                       # [N, C, kh, kw, Ho, Wo]
    return cols.reshape(n, groups, (c // groups) * kernel[0] * kernel[1], count[0] * count[1])


def _sum_over_batch_gemm(a, b):
    """sum_n a[n] @ b[n] for a [N, G, P, Q], b [N, G, Q, R]: one GEMM per group over N * Q."""
    n, g, p, q = a.shape
    left = a.transpose(1, 2, 0, 3).reshape(g, p, n * q)
    right = b.transpose(1, 0, 2, 3).reshape(g, n * q, b.shape[-1])
    return left @ right                                           # [G, P, R]


class Conv2dFunction(Function):
    """out [N, O, Ho, Wo] = conv(x [N, C, H, W], weight [O, C/G, kh, kw]) (+ bias [O]);
    pads = ((top, bottom), (left, right)) zeros."""
    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        B = ctx.b
        x, w = B.to_host(x), B.to_host(weight)
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads)) if any(p for pair in pads for p in pair) else x
        kernel = w.shape[2:]
        span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        if xp.shape[2] < span[0] or xp.shape[3] < span[1]:
            raise ShapeMismatch(f"Calculated padded input size per channel: ({xp.shape[2]} x {xp.shape[3]}). "
                                f"Kernel size: ({span[0]} x {span[1]}). Kernel size can't be greater than actual "
                                f"input size")
        count = tuple((p - s) // st + 1 for p, s, st in zip(xp.shape[2:], span, stride))
        ctx.empty_channels = (x.shape[1] == 0, x.shape, w.shape)
        if x.shape[1] == 0:   # torch's empty-input convolution: [N, 0, Ho, Wo], the bias unused
            return B.asarray(np.zeros((x.shape[0], 0) + count, x.dtype))
        cols = gemm_columns(xp, kernel, stride, dilation, count, groups)        # [N, G, C/G*K, HoWo]
        o = w.shape[0]
        w_g = w.reshape(groups, o // groups, -1)                                # [G, O/G, C/G*K]
        out = (w_g[None] @ cols).reshape(x.shape[0], o, *count)
        if bias is not None:
            out += B.to_host(bias).reshape(1, o, 1, 1)
        ctx.shapes = (x.shape, xp.shape, pads, kernel, count)
        ctx.args = (stride, dilation, groups)
        # the input itself, padded again in backward: a later write to it is seen there (an
        # untracked one through .data, as torch's backward reads it) or refused (a tracked one)
        ctx.save_for_backward(x, w)
        return B.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        B = ctx.b
        empty, x_shape, w_shape = ctx.empty_channels
        if empty:   # nothing read any input, weight or bias: zero gradients, as torch's
            zeros = (np.zeros(x_shape, grad.dtype), np.zeros(w_shape, grad.dtype), np.zeros(w_shape[0], grad.dtype))
            return tuple(B.asarray(z) for z in zeros)[:len(ctx.needs_input_grad)]
        x, w = ctx.saved_tensors
        x_shape, xp_shape, pads, kernel, count = ctx.shapes
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads)) if any(p for pair in pads for p in pair) else x
        stride, dilation, groups = ctx.args
        g = B.to_host(grad)
        n, o = g.shape[:2]
        g_g = g.reshape(n, groups, o // groups, count[0] * count[1])           # [N, G, O/G, HoWo]
        w_g = w.reshape(groups, o // groups, -1)
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dcols = w_g.transpose(0, 2, 1)[None] @ g_g                          # [N, G, C/G*K, HoWo]
            dcols = dcols.reshape(n, xp_shape[1], kernel[0], kernel[1], *count)
            dxp = fold_windows(dcols, xp_shape, stride, dilation)
            (top, _), (left, _) = pads
            dx = B.asarray(np.ascontiguousarray(dxp[:, :, top:top + x_shape[2], left:left + x_shape[3]]))
        if ctx.needs_input_grad[1]:
            cols = gemm_columns(xp, kernel, stride, dilation, count, groups)
            dw = B.asarray(_sum_over_batch_gemm(g_g, cols.transpose(0, 1, 3, 2)).reshape(w.shape))
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            db = B.asarray(g.sum((0, 2, 3)))
        return (dx, dw, db)[:len(ctx.needs_input_grad)]


def same_padding(kernel, dilation):
    """((before, after), ...) per spatial dim for padding='same': the odd extra goes after, as torch's."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _warn_asymmetric_same_padding_once():
    """torch's TORCH_WARN_ONCE: the first padding='same' needing more zeros after than before
    (an even kernel with odd dilation) in the process warns, whatever the warnings filters say."""
    warn_once("conv_same_padding", "Using padding='same' with even kernel lengths and odd dilation may require a "
              "zero-padded copy of the input be created")


def resolve_padding(padding, kernel, stride, dilation, n):
    """padding (int, tuple, 'same', 'valid') -> ((before, after), ...) per spatial dim."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise InvalidArgument(f"Invalid padding string: {padding!r}")
        if any(s != 1 for s in stride):
            raise InvalidArgument("padding='same' is not supported for strided convolutions")
        pads = same_padding(kernel, dilation)
        if any(before != after for before, after in pads):
            _warn_asymmetric_same_padding_once()
        return pads
    return tuple((p, p) for p in expand_arg(padding, n, "padding"))


@keeps_channels_last
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of input [N, C_in, H, W] (or [C_in, H, W]) with weight
    [C_out, C_in / groups, kH, kW] (+ bias [C_out]) -> [N, C_out, H_out, W_out]."""
    require_tensor_argument(input, "conv2d", "input", 1)
    require_tensor_argument(weight, "conv2d", "weight", 2)
    x, unbatched = batched(input, "conv2d", 2)
    stride, dilation = expand_arg(stride, 2, "stride"), expand_arg(dilation, 2, "dilation")
    pads = resolve_padding(padding, weight.shape[2:], stride, dilation, 2)
    check_conv("conv2d", x, weight, bias, 2, stride, [p for pair in pads for p in pair], dilation, int(groups))
    operands = (x, weight) if bias is None else (x, weight, bias)
    out = Conv2dFunction.apply(*operands, stride=stride, pads=pads, dilation=dilation, groups=int(groups))
    return out.squeeze(0) if unbatched else out
