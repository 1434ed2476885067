"""nn.BatchNorm1d and nn.BatchNorm2d: torch's normalization over the batch and spatial dims of
(N, C), (N, C, L) or (N, C, H, W) inputs (F.batch_norm, functional_extra.py), with running
statistics (momentum, or the cumulative average when momentum is None), affine weight / bias,
and torch's state-dict keys (running_mean, running_var, num_batches_tracked). _BatchNorm holds
it all; each subclass only says which input ranks it takes, as torch's."""
import numpy as np

from tinygrad_seq import dtypes, functional as F
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.running_stats import count_batch
from tinygrad_seq.tensor import Tensor


class _NormBase(Module):
    """torch's _NormBase: the parameters (weight, bias), running statistics and their resets that
    batch norm and instance norm share; torch's defaults differ by subclass (affine and
    track_running_stats: True for batch norm, False for instance norm)."""
    _version = 2   # torch's: its state dicts have num_batches_tracked

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = np.dtype(dtype or dtypes.get_default_dtype())
        if affine:
            self.weight = Parameter(Tensor(np.ones(num_features, dt)))
            if bias:   # torch 2.13's bias=False: a scale without a shift
                self.bias = Parameter(Tensor(np.zeros(num_features, dt)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        if device is not None:
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """The running statistics reset; weight ones, bias zeros."""
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()



class _BatchNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input):
        raise NotImplementedError(f"{type(self).__name__} must define _check_input_dim")

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ShapeMismatch(f"{type(self).__name__}: input has {input.shape[1]} channels (shape {input.shape}), "
                                f"expected num_features={self.num_features}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            count_batch(self.num_batches_tracked)   # += 1, one recorded write
            if self.momentum is None:   # the cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                          self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) inputs."""
    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ShapeMismatch(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) inputs: the statistics of each channel over N, H and W."""
    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ShapeMismatch(f"expected 4D input (got {input.ndim}D input)")
