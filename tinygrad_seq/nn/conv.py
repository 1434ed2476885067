"""Module forms of the 1-D convolution and pooling functions (tinygrad_seq/conv.py): nn.Conv1d
with torch's parameters, init and padding modes; MaxPool1d, AvgPool1d and the adaptive pools."""
import math

import numpy as np

from tinygrad_seq import conv as C
from tinygrad_seq import dtypes
from tinygrad_seq.nn import init
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.tensor import Tensor


def reset_conv_parameters(conv):
    """torch's _ConvNd init: weight kaiming_uniform_(a=sqrt(5)); bias U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) (Conv1d here, Conv2d and the transposed ones in nn/conv2d.py)."""
    init.kaiming_uniform_(conv.weight, a=math.sqrt(5))
    if conv.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(conv.weight)
        if fan_in:
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(conv.bias, -bound, bound)


def conv_extra_repr(conv):
    """torch's _ConvNd.extra_repr: the non-default arguments (output_padding for the transposed)."""
    n = len(conv.kernel_size)
    s = f"{conv.in_channels}, {conv.out_channels}, kernel_size={conv.kernel_size}, stride={conv.stride}"
    if conv.padding != (0,) * n:
        s += f", padding={conv.padding}"
    if conv.dilation != (1,) * n:
        s += f", dilation={conv.dilation}"
    if conv.output_padding != (0,) * n:
        s += f", output_padding={conv.output_padding}"
    if conv.groups != 1:
        s += f", groups={conv.groups}"
    if conv.bias is None:
        s += ", bias=False"
    if conv.padding_mode != "zeros":
        s += f", padding_mode={conv.padding_mode}"
    return s


class Conv1d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"but got padding_mode='{padding_mode}'")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of ('valid', 'same')")
        if padding == "same" and C._single(stride, "stride") != 1:
            raise ValueError("padding='same' is not supported for strided convolutions")
        k = C._single(kernel_size, "kernel_size")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (k,)
        self.stride, self.dilation = (C._single(stride, "stride"),), (C._single(dilation, "dilation"),)
        self.padding = padding if isinstance(padding, str) else (C._single(padding, "padding"),)
        self.groups, self.padding_mode = groups, padding_mode
        self.transposed, self.output_padding = False, (0,)   # torch's _ConvNd attributes
        dt = np.dtype(dtype or dtypes.get_default_dtype())
        self.weight = Parameter(Tensor(np.zeros((out_channels, in_channels // groups, k), dt)))
        self.bias = Parameter(Tensor(np.zeros(out_channels, dt))) if bias else None
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        reset_conv_parameters(self)

    def forward(self, input):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        if self.padding_mode != "zeros" and padding not in ("valid", 0):
            from tinygrad_seq.functional import pad
            if padding == "same":
                total = self.dilation[0] * (self.kernel_size[0] - 1)
                widths = (total // 2, total - total // 2)
            else:
                widths = (padding, padding)
            input, padding = pad(input, widths, mode=self.padding_mode), 0
        return C.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self):
        return conv_extra_repr(self)


class MaxPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        # stored as given, as torch's MaxPool1d (ints stay ints, 1-tuples stay tuples)
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return C.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        # 1-tuples, as torch's AvgPool1d stores them (_single)
        self.kernel_size = (C._single(kernel_size, "kernel_size"),)
        self.stride = (C._single(stride if stride is not None else kernel_size, "stride"),)
        self.padding = (C._single(padding, "padding"),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool1d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return C.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return C.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
