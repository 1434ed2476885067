"""Module forms of the 2-D and transposed convolutions (tinygrad_seq/conv2d.py,
conv_transpose.py): nn.Conv2d (padding modes 'zeros', 'reflect', 'replicate', 'circular'),
nn.ConvTranspose1d and nn.ConvTranspose2d, with torch's attributes, init (kaiming_uniform_ with
a = sqrt(5), then the bias), repr and state-dict keys (weight, bias). _ConvNd is their base, as
torch's (torch.nn.modules.conv._ConvNd); Conv1d (nn/conv.py) is registered with it, so
`isinstance(m, _ConvNd)` finds every convolution."""
from abc import ABCMeta

import numpy as np

from tinygrad_seq import dtypes
from tinygrad_seq.conv2d import conv2d, same_padding
from tinygrad_seq.conv_transpose import conv_transpose1d, conv_transpose2d, output_padding_for
from tinygrad_seq.nn.conv import Conv1d, conv_extra_repr, reset_conv_parameters
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * n


class _ConvNd(Module, metaclass=ABCMeta):
    """Weight [out, in / groups, *kernel] ([in, out / groups, *kernel] when transposed)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None, n=2):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride, dilation = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.transposed = stride, padding, dilation, transposed
        self.output_padding, self.groups, self.padding_mode = _ntuple(output_padding, n), groups, padding_mode
        # F.pad's order: (left, right) of the last dim first
        if padding == "valid":
            pairs = ((0, 0),) * n
        elif padding == "same":
            pairs = same_padding(kernel_size, dilation)
        else:
            pairs = tuple((p, p) for p in padding)
        self._reversed_padding_repeated_twice = [p for pair in reversed(pairs) for p in pair]
        dt = np.dtype(dtype or dtypes.get_default_dtype())
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(Tensor(np.zeros(shape + kernel_size, dt)))
        if bias:
            self.bias = Parameter(Tensor(np.zeros(out_channels, dt)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        reset_conv_parameters(self)

    def extra_repr(self):
        return conv_extra_repr(self)


_ConvNd.register(Conv1d)


class Conv2d(_ConvNd):
    """out[n, o] = bias[o] + sum_c weight[o, c] (*) input[n, c] (2-D cross-correlation), with
    input [N, C_in, H, W] or [C_in, H, W]."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, device, dtype, n=2)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            from tinygrad_seq.functional import pad
            return conv2d(pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                          self.stride, 0, self.dilation, self.groups)
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                 dilation, padding_mode, device, dtype, n):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype, n=n)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        return output_padding_for(input.shape, output_size, self.stride, self.padding, self.kernel_size,
                                  self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d: input [N, C_in, L] -> [N, C_out, (L - 1) * stride - 2 * padding +
    dilation * (kernel_size - 1) + output_padding + 1]."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                         dilation, padding_mode, device, dtype, n=1)

    def forward(self, input, output_size=None):
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d (a learned upsampling): input [N, C_in, H, W] -> [N, C_out, H_out,
    W_out], H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                         dilation, padding_mode, device, dtype, n=2)

    def forward(self, input, output_size=None):
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)
