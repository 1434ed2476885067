"""torch.nn.utils' inference-time folding of a BatchNorm into the layer before it
(fuse_conv_bn_eval / fuse_conv_bn_weights, fuse_linear_bn_eval / fuse_linear_bn_weights),
skip_init, and the memory-format converters (no-ops here).

Folding: in eval a batch norm is y = (z - mean) / sqrt(var + eps) * w + b, an affine map per
channel, so with scale = w / sqrt(var + eps) the layer z = W x + c becomes
W' = W * scale (per output channel), c' = (c - mean) * scale + b."""
import copy
import inspect

from tinygrad_seq import random
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.nn.module import Module, Parameter


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters of the convolution followed by the eval-mode batch norm; conv_w
    [out, in / g, *k] ([in, out / g, *k] with transpose=True), the BN tensors [out]. None for
    conv_b / bn_w / bn_b means zeros / ones / zeros. dtypes stay the convolution's."""
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    with no_grad():
        conv_b_t = conv_b if conv_b is not None else bn_rm * 0.0
        bn_w = bn_w if bn_w is not None else bn_rm * 0.0 + 1.0
        bn_b = bn_b if bn_b is not None else bn_rm * 0.0
        rsqrt = (bn_rv + bn_eps).rsqrt()
        shape = [1, -1] + [1] * (conv_w.ndim - 2) if transpose else [-1, 1] + [1] * (conv_w.ndim - 2)
        fused_w = (conv_w * (bn_w * rsqrt).reshape(shape)).to(dtype=weight_dtype)
        fused_b = ((conv_b_t - bn_rm) * rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return (Parameter(fused_w, conv_w.requires_grad),
            Parameter(fused_b, conv_b.requires_grad if conv_b is not None else False))


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of conv (in eval, as bn must be) with bn folded into its weight and bias."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of the Linear ([out, in], [out]) followed by the eval-mode batch
    norm ([out] or [1]); linear_b None means zeros."""
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    with no_grad():
        linear_b_t = linear_b if linear_b is not None else bn_rm * 0.0
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        fused_w = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
        fused_b = ((linear_b_t - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return (Parameter(fused_w, linear_w.requires_grad),
            Parameter(fused_b, linear_b.requires_grad if linear_b is not None else False))


def fuse_linear_bn_eval(linear, bn):
    """A copy of linear (in eval, as bn must be) with bn folded in; bn.num_features must be
    linear.out_features or 1."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(linear)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(f"To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
                             f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) whose parameter values are unspecified, as torch's (which
    builds it on the meta device, then allocates): here the constructor runs on `device`
    (default cpu) and the random stream is put back as it was, so that skipping the init
    leaves later draws unchanged, as in torch. The class must take a `device` argument."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.get("device") or "cpu"
    state = random.get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        random.set_rng_state(state)


def convert_conv2d_weight_memory_format(module, memory_format):
    """Returns module unchanged: tinygrad_seq has no memory formats (every array is row-major,
    torch.contiguous_format), so there is no channels_last layout to convert the 2-D
    convolutions' weights to."""
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """Returns module unchanged: tinygrad_seq has no memory formats (see
    convert_conv2d_weight_memory_format)."""
    return module
