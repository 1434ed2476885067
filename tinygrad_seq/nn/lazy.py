"""Lazy modules (torch.nn.modules.lazy): LazyLinear, LazyConv1d / 2d, LazyConvTranspose1d / 2d,
LazyBatchNorm1d / 2d and LazyInstanceNorm1d / 2d, whose input size (in_features, in_channels,
num_features) is read from the first input.

As torch's LazyModuleMixin: the parameters start as UninitializedParameter /
UninitializedBuffer (nn/lazy_parameter.py); a forward pre-hook runs initialize_parameters(input)
at the first call, which materializes them (in place, so an optimizer made before that call
updates them) and draws their values with the layer's reset_parameters; then the hooks are
removed and the module's class becomes cls_to_become (LazyLinear -> Linear). state_dict() of an
uninitialized module holds the placeholders themselves; load_state_dict() of real arrays into
one materializes its parameters with their shapes first (a load pre-hook), and the first call
then keeps the loaded values and fills in the input size (torch leaves num_features and
in_channels 0 there, which this library's BatchNorm channel check would refuse)."""
import itertools

import numpy as np

from tinygrad_seq.nn.batchnorm import BatchNorm1d, BatchNorm2d, _BatchNorm, _NormBase
from tinygrad_seq.nn.conv import Conv1d
from tinygrad_seq.nn.conv2d import Conv2d, ConvTranspose1d, ConvTranspose2d
from tinygrad_seq.nn.layers import Linear
from tinygrad_seq.nn.layers_2d import InstanceNorm1d, InstanceNorm2d, _InstanceNorm
from tinygrad_seq.nn.lazy_parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from tinygrad_seq.state_array import state_array
from tinygrad_seq.tensor import Tensor


class LazyModuleMixin:
    """Put first among a lazy module's bases (class LazyLinear(LazyModuleMixin, Linear)); the
    subclass defines initialize_parameters(*args, **kwargs) and cls_to_become."""
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """As Module's, but a placeholder goes in as itself (torch's `<UninitializedParameter>`)."""
        for name, t in self._parameters.items():
            if t is not None:
                destination[prefix + name] = t if keep_vars or is_lazy(t) else state_array(t.numpy(), of_module=True)
        for name, t in self._buffers.items():
            if t is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = t if keep_vars or is_lazy(t) else state_array(t.numpy(), of_module=True)

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                        error_msgs):
        """Materializes each placeholder whose key the loaded dict holds a real array for, with
        that array's shape, so that load_state_dict can copy it in."""
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and t is not None and is_lazy(t):
                value = state_dict[key]
                if not is_lazy(value):
                    t.materialize(np.shape(value.numpy() if isinstance(value, Tensor) else value))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module is still a placeholder."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. "
                           "Run a dummy forward pass to correctly initialize the modules")


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is the last dim of the first input."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = int(out_features)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        if self.in_features == 0:   # materialized by load_state_dict (torch's check)
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                                     f"in_features from self.weight: {self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


class _LazyConvXdMixin(LazyModuleMixin):
    """torch's: in_channels from the input's channel dim (dim 1, or 0 for an unbatched input)."""
    _spatial_dims = None

    def _lazy_setup(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input):
        batched = self._spatial_dims + 2
        if input.ndim not in (batched - 1, batched):
            raise RuntimeError(f"Expected {batched - 1}D (unbatched) or {batched}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {input.shape}")
        return input.shape[1] if input.ndim == batched else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups) + tuple(self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups) + tuple(self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()
        elif self.in_channels == 0:   # materialized by load_state_dict: read it off the weight
            self.in_channels = self.weight.shape[0] if self.transposed else self.weight.shape[1] * self.groups


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """Conv1d whose in_channels is the first input's channel count."""
    cls_to_become = Conv1d
    _spatial_dims = 1

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self.__dict__.pop("bias", None)   # Conv1d keeps bias=False as a plain attribute
        self.register_parameter("bias", None)
        self._lazy_setup(out_channels, bias, device, dtype)


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """Conv2d whose in_channels is the first input's channel count."""
    cls_to_become = Conv2d
    _spatial_dims = 2

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_setup(out_channels, bias, device, dtype)


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    """ConvTranspose1d whose in_channels is the first input's channel count."""
    cls_to_become = ConvTranspose1d
    _spatial_dims = 1

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self._lazy_setup(out_channels, bias, device, dtype)


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    """ConvTranspose2d whose in_channels is the first input's channel count."""
    cls_to_become = ConvTranspose2d
    _spatial_dims = 2

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self._lazy_setup(out_channels, bias, device, dtype)


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """torch's: num_features from the input's dim 1 (also for an unbatched instance-norm input,
    as torch's); affine and track_running_stats default to True, also for instance norm."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = Tensor(np.array(0, np.int64), device=device or "cpu")

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()
        elif self.num_features == 0:   # materialized by load_state_dict: the loaded size
            self.num_features = input.shape[1]


# As torch's, the lazy norms derive from _BatchNorm / _InstanceNorm, not from the concrete class
# they become: isinstance(nn.LazyBatchNorm1d(), nn.BatchNorm1d) is False until the first call
class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """BatchNorm1d whose num_features is the first input's dim 1."""
    cls_to_become = BatchNorm1d
    _check_input_dim = BatchNorm1d._check_input_dim


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """BatchNorm2d whose num_features is the first input's dim 1."""
    cls_to_become = BatchNorm2d
    _check_input_dim = BatchNorm2d._check_input_dim


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """InstanceNorm1d whose num_features is the first input's dim 1."""
    cls_to_become = InstanceNorm1d
    _no_batch_dims = InstanceNorm1d._no_batch_dims


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """InstanceNorm2d whose num_features is the first input's dim 1."""
    cls_to_become = InstanceNorm2d
    _no_batch_dims = InstanceNorm2d._no_batch_dims
