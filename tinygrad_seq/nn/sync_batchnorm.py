r"""nn.SyncBatchNorm (torch.nn.SyncBatchNorm): batch norm whose training statistics are those of
the whole batch across the ranks of a process group.

In training mode, with tinygrad_seq.distributed initialized and more than one rank in the group,
each rank sums its input x (N_r, C, *) and x^2 over every dim but 1 and counts its values per
channel; one all_reduce adds these over the ranks, so every rank normalizes by

    mean = sum_r S_r / n,  var = sum_r Q_r / n - mean^2,  n = sum_r n_r,

the biased variance of the concatenated batch (the running variance gets the unbiased one,
var * n / (n - 1), as torch's). The all_reduce is an autograd node whose backward all_reduces
the gradient too, so each rank's input gradient is its slice of the gradient of the
concatenated batch (torch's sync_batch_norm reduces sum_dy and sum_dy_xmu the same way), and
weight / bias get this rank's share (DistributedDataParallel then averages them, as with
torch). In eval mode, with one rank, or without a process group it is BatchNorm.
"""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.autograd import Function, no_grad
from tinygrad_seq.nn.batchnorm import _BatchNorm
from tinygrad_seq.tensor import Tensor


class _AllReduceSum(Function):
    """out = the sum over the group's ranks of x (every rank gets it); backward: likewise for
    the gradient. A collective in backward: every rank must run backward through it."""
    array_io = False

    @staticmethod
    def forward(ctx, x, group):
        from tinygrad_seq import distributed as dist
        ctx.group = group
        out = x.detach().clone()
        dist.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        from tinygrad_seq import distributed as dist
        g = grad.detach().clone()
        dist.all_reduce(g, group=ctx.group)
        return g, None


def sync_batch_norm(input, weight, bias, running_mean, running_var, eps, momentum, group):
    """Training-mode batch norm over the concatenation of every rank's input (module doc)."""
    import tinygrad_seq as ts
    C = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, C) + (1,) * (input.ndim - 2)
    local_count = Tensor(np.array([input.numel() // C], input.dtype), device=input.device)
    stats = _AllReduceSum.apply(ts.cat([input.sum(dims), (input * input).sum(dims), local_count]), group)
    n = float(stats[2 * C].item())
    mean = stats[:C] / n
    var = stats[C:2 * C] / n - mean * mean
    if running_mean is not None:
        with no_grad():
            running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
            running_var.mul_(1 - momentum).add_(var.detach() * (momentum * n / max(n - 1, 1)))
    out = (input - mean.reshape(shape)) * (var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


class SyncBatchNorm(_BatchNorm):
    """SyncBatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, process_group=None, device=None, dtype=None, *, bias=True):
    inputs (N, C, *) of any rank >= 2; process_group: a dist.new_group (default: the world)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def _group_size(self):
        """The process group and its size, or (None, 1) when nothing is to be synchronized."""
        from tinygrad_seq import distributed as dist
        if not dist.is_initialized():
            return None, 1
        group = self.process_group or dist.group.WORLD
        return group, dist.get_world_size(group)

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        running_mean = self.running_mean if track else None
        running_var = self.running_var if track else None
        group, world_size = self._group_size() if bn_training and self.training else (None, 1)
        if world_size <= 1:
            return F.batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training, factor,
                                self.eps)
        return sync_batch_norm(input, self.weight, self.bias, running_mean, running_var, self.eps, factor, group)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """The module with every BatchNorm*d in it (itself included) replaced by a SyncBatchNorm
        sharing its parameters and buffers and keeping its training flag, as torch's."""
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = cls(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                module_output.weight = module.weight
                if module.bias is not None:
                    module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return module_output
