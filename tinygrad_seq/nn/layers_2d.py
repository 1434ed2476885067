"""Module forms of the image / spectrogram front-end functions (tinygrad_seq/functional_2d.py and
F.pad's modes): the 2-D / 3-D padding modules and CircularPad1d, InstanceNorm1d/2d/3d,
PixelShuffle / PixelUnshuffle, Fold / Unfold, MaxUnpool1d / MaxUnpool2d, LocalResponseNorm and
LPPool1d / LPPool2d, with torch's constructor arguments, attributes, reprs and state-dict keys."""
import warnings

from tinygrad_seq import functional_2d as F2, functional_pad
from tinygrad_seq.nn.batchnorm import _NormBase
from tinygrad_seq.nn.module import Module


# ---- padding ------------------------------------------------------------------------------------

class _PadNd(Module):
    """F.pad(input, padding, mode) with padding (left, right, top, bottom, front, back): an int
    pads every side of the last `_dims` dims; a sequence is taken as given, as torch's."""
    _dims, _mode, _ranks = 1, "constant", None

    def __init__(self, padding):
        super().__init__()
        self.padding = (int(padding),) * (2 * self._dims) if isinstance(padding, int) else tuple(padding)

    def forward(self, input):
        if self._ranks is not None and input.ndim not in self._ranks:   # CircularPadNd's own check
            raise ValueError(f"expected {self._ranks[0]}D or {self._ranks[1]}D input (got {input.ndim}D input)")
        if self._mode == "constant":
            return functional_pad.pad(input, self.padding, value=self.value)
        return functional_pad.pad(input, self.padding, mode=self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(_ConstantPadNd):
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    _dims = 3


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad2d(_PadNd):
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    _dims, _mode = 3, "reflect"


class ReplicationPad2d(_PadNd):
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    _dims, _mode, _ranks = 1, "circular", (2, 3)


class CircularPad2d(_PadNd):
    _dims, _mode, _ranks = 2, "circular", (3, 4)


class CircularPad3d(_PadNd):
    _dims, _mode, _ranks = 3, "circular", (4, 5)


# ---- instance normalization ---------------------------------------------------------------------

class _InstanceNorm(_NormBase):
    r"""y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, the statistics of each sample's
    channel over its spatial dims (biased variance); torch's defaults affine=False,
    track_running_stats=False. With track_running_stats the training passes move running_mean /
    running_var by momentum (None: they stay put, as torch's) and eval normalizes by them;
    num_batches_tracked is kept for the state dict but, as in torch, never counts."""
    _no_batch_dims = None   # the rank of an unbatched input (C, *spatial)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        unbatched = self._no_batch_dims
        if input.ndim not in (unbatched, unbatched + 1):
            raise ValueError(f"expected {unbatched}D or {unbatched + 1}D input (got {input.ndim}D input)")
        feature_dim = input.ndim - unbatched
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        x = input.unsqueeze(0) if input.ndim == unbatched else input
        out = F2.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if input.ndim == unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Over (N, C, L) or unbatched (C, L) inputs."""
    _no_batch_dims = 2


class InstanceNorm2d(_InstanceNorm):
    """Over (N, C, H, W) or unbatched (C, H, W) inputs."""
    _no_batch_dims = 3


class InstanceNorm3d(_InstanceNorm):
    """Over (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""
    _no_batch_dims = 4


# ---- pixel shuffle, fold / unfold ---------------------------------------------------------------

class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = upscale_factor."""
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F2.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), r = downscale_factor."""
    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F2.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Fold(Module):
    """Blocks (N, C kh kw, L) summed into (N, C, *output_size) (F.fold)."""
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F2.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """(N, C, H, W) -> its sliding blocks (N, C kh kw, L) (F.unfold)."""
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F2.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


# ---- unpooling, local response norm, power-average pools -----------------------------------------

def _tuple(value, n):
    v = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return v * n if len(v) == 1 else v


class _MaxUnpoolNd(Module):
    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self._dims)
        self.stride = _tuple(stride if stride is not None else kernel_size, self._dims)
        self.padding = _tuple(padding, self._dims)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d(return_indices=True): forward(input, indices, output_size=None)."""
    _dims = 1

    def forward(self, input, indices, output_size=None):
        return F2.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d(return_indices=True): forward(input, indices, output_size=None)."""
    _dims = 2

    def forward(self, input, indices, output_size=None):
        return F2.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class LocalResponseNorm(Module):
    r"""b_c = a_c / (k + alpha / size * sum of a_c'^2 over the size channels around c)^beta."""
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F2.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    r"""(sum over each window of x^p)^(1/p) along L of (N, C, L) or (C, L) inputs."""
    def forward(self, input):
        return F2.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    r"""(sum over each window of x^p)^(1/p) over H, W of (N, C, H, W) or (C, H, W) inputs."""
    def forward(self, input):
        return F2.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)
