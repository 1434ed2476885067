"""Transposed convolution as torch.nn.functional.conv_transpose1d / conv_transpose2d: the
adjoint of conv2d (conv2d.py). Forward is one GEMM (weight^T x input) into columns that col2im
folds onto the full output, cropped by `padding`; backward unfolds the output gradient into
columns (im2col) for the input's GEMM and the weight's. 1-D runs as 2-D with a height of 1.
"""
import numpy as np

from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.autograd import Function
from tinygrad_seq.conv2d import batched, check_conv, expand_arg, fold_windows, gemm_columns, _sum_over_batch_gemm
from tinygrad_seq.errors import InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.memory_formats import keeps_channels_last


class ConvTranspose2dFunction(Function):
    """out [N, O, Ho, Wo] = conv_transpose(x [N, C, H, W], weight [C, O/G, kh, kw]) (+ bias [O]),
    Ho = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1."""
    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1),
                groups=1):
        B = ctx.b
        x, w = B.to_host(x), B.to_host(weight)
        n, c, h, wd = x.shape
        kernel, o = w.shape[2:], w.shape[1] * groups
        full = tuple((size - 1) * s + d * (k - 1) + 1 + op
                     for size, s, d, k, op in zip((h, wd), stride, dilation, kernel, output_padding))
        out_size = tuple(f - 2 * p for f, p in zip(full, padding))
        if min(out_size) < 1:
            raise ShapeMismatch(f"Given input size per channel: ({h} x {wd}). Calculated output size per channel: "
                                f"({out_size[0]} x {out_size[1]}). Output size is too small")
        x_g = x.reshape(n, groups, c // groups, h * wd)                        # [N, G, C/G, HW]
        w_g = w.reshape(groups, c // groups, -1)                               # [G, C/G, O/G*K]
        cols = (w_g.transpose(0, 2, 1)[None] @ x_g).reshape(n, o, kernel[0], kernel[1], h, wd)
        out = fold_windows(cols, (n, o) + full, stride, dilation)
        out = out[:, :, padding[0]:padding[0] + out_size[0], padding[1]:padding[1] + out_size[1]]
        out = np.ascontiguousarray(out)
        if bias is not None:
            out += B.to_host(bias).reshape(1, o, 1, 1)
        ctx.args = (stride, padding, dilation, groups, full, kernel)
        ctx.save_for_backward(x, w)
        return B.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        B = ctx.b
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, full, kernel = ctx.args
        g = B.to_host(grad)
        n, c, h, wd = x.shape
        gp = np.zeros(g.shape[:2] + full, g.dtype)                            # the uncropped output
        gp[:, :, padding[0]:padding[0] + g.shape[2], padding[1]:padding[1] + g.shape[3]] = g
        cols = gemm_columns(gp, kernel, stride, dilation, (h, wd), groups)    # [N, G, O/G*K, HW]
        w_g = w.reshape(groups, c // groups, -1)
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = B.asarray((w_g[None] @ cols).reshape(x.shape))
        if ctx.needs_input_grad[1]:
            x_g = x.reshape(n, groups, c // groups, h * wd)
            dw = B.asarray(_sum_over_batch_gemm(x_g, cols.transpose(0, 1, 3, 2)).reshape(w.shape))
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            db = B.asarray(g.sum((0, 2, 3)))
        return (dx, dw, db)[:len(ctx.needs_input_grad)]


def _transposed(name, input, weight, bias, stride, padding, output_padding, groups, dilation, n):
    """The shared body of conv_transpose1d / 2d over n spatial dims (1-D gets a height of 1)."""
    require_tensor_argument(input, name, "input", 1)
    require_tensor_argument(weight, name, "weight", 2)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    x, unbatched = batched(input, name, n)
    stride, dilation = expand_arg(stride, n, "stride"), expand_arg(dilation, n, "dilation")
    padding, output_padding = expand_arg(padding, n, "padding"), expand_arg(output_padding, n, "output_padding")
    groups = int(groups)
    check_conv(name, x, weight, bias, n, stride, padding, dilation, groups, transposed=True)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)) or min(output_padding) < 0:
        raise InvalidArgument(f"output padding must be smaller than either stride or dilation, but got "
                              f"output_padding={list(output_padding)}, stride={list(stride)}, "
                              f"dilation={list(dilation)}")
    if n == 1:   # [N, C, L] -> [N, C, 1, L]; the height dim is a plain 1
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, dilation = (1,) + stride, (1,) + dilation
        padding, output_padding = (0,) + padding, (0,) + output_padding
    operands = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTranspose2dFunction.apply(*operands, stride=stride, padding=padding, output_padding=output_padding,
                                        dilation=dilation, groups=groups)
    if n == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """input [N, C_in, L] (or [C_in, L]), weight [C_in, C_out / groups, K] -> [N, C_out, L_out]."""
    out = _transposed("conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups, dilation, 1)
    return named(out, "ConvolutionBackward0") if input.ndim == 3 else out


@keeps_channels_last
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """input [N, C_in, H, W] (or [C_in, H, W]), weight [C_in, C_out / groups, kH, kW] -> [N, C_out, H_out, W_out]."""
    return _transposed("conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def output_padding_for(input_size, output_size, stride, padding, kernel, dilation):
    """The output_padding that makes a transposed convolution give output_size (its spatial
    entries: a batched input's size may also give N and C, an unbatched one's C), as torch's
    ConvTranspose*d forward(input, output_size) computes it, with its messages (torch's quirk
    included: an unbatched input's shape is shown from dim 2)."""
    n = len(kernel)
    non_spatial = 2 if len(input_size) == n + 2 else 1
    if len(output_size) == non_spatial + n:
        output_size = output_size[non_spatial:]
    if len(output_size) != n:
        raise ValueError(f"ConvTranspose{n}D: for {len(input_size)}D input, output_size must have {n} or "
                         f"{non_spatial + n} elements (got {len(output_size)})")
    spatial = list(input_size[-n:])
    smallest = [(size - 1) * s - 2 * p + d * (k - 1) + 1
                for size, s, p, k, d in zip(spatial, stride, padding, kernel, dilation)]
    largest = [low + s - 1 for low, s in zip(smallest, stride)]
    if any(not low <= want <= high for want, low, high in zip(output_size, smallest, largest)):
        raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {smallest} to "
                         f"{largest} (for an input of torch.Size({list(input_size[2:])}))")
    return tuple(int(want) - low for want, low in zip(output_size, smallest))
