"""torch.nn.grad: a convolution's gradients with respect to its input and to its weight, given
the gradient of its output, with torch's signatures. torch computes them with its
convolution_backward; here the autograd of conv1d / conv2d itself does, through a stand-in
operand of the given size (zeros: a convolution is linear in each operand, so the gradient with
respect to one does not depend on the other's values)."""
from tinygrad_seq.autograd import enable_grad
from tinygrad_seq.autograd_api import grad as autograd_grad
from tinygrad_seq.conv import conv1d
from tinygrad_seq.conv2d import conv2d
from tinygrad_seq.creation import zeros


def _stand_in(size, like):
    """Zeros of `size` that require grad, in like's dtype and on its device."""
    return zeros(tuple(int(s) for s in size), dtype=like.dtype, device=like.device, requires_grad=True)


def _input_grad(conv, input_size, weight, grad_output, stride, padding, dilation, groups):
    with enable_grad():
        stand_in = _stand_in(input_size, grad_output)
        out = conv(stand_in, weight.detach(), None, stride, padding, dilation, groups)
        return autograd_grad(out, stand_in, grad_output)[0]


def _weight_grad(conv, input, weight_size, grad_output, stride, padding, dilation, groups):
    with enable_grad():
        stand_in = _stand_in(weight_size, grad_output)
        out = conv(input.detach(), stand_in, None, stride, padding, dilation, groups)
        return autograd_grad(out, stand_in, grad_output)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d loss / d input of conv1d: input_size (N, C_in, L), weight [C_out, C_in / groups, K],
    grad_output [N, C_out, L_out] -> [N, C_in, L]."""
    return _input_grad(conv1d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d loss / d weight of conv1d: input [N, C_in, L], weight_size (C_out, C_in / groups, K),
    grad_output [N, C_out, L_out] -> [C_out, C_in / groups, K]."""
    return _weight_grad(conv1d, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d loss / d input of conv2d: input_size (N, C_in, H, W), weight [C_out, C_in / groups, kH, kW],
    grad_output [N, C_out, H_out, W_out] -> [N, C_in, H, W]."""
    return _input_grad(conv2d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d loss / d weight of conv2d: input [N, C_in, H, W], weight_size (C_out, C_in / groups, kH, kW),
    grad_output [N, C_out, H_out, W_out] -> [C_out, C_in / groups, kH, kW]."""
    return _weight_grad(conv2d, input, weight_size, grad_output, stride, padding, dilation, groups)


def __getattr__(name):
    """A torch name this module lacks (conv3d_input, ...): an AttributeError that says so."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn.grad", "tinygrad_seq.nn.grad", name)
