"""More torch.nn modules: Container (deprecated), Softmax2d, ChannelShuffle, FeatureAlphaDropout,
TripletMarginWithDistanceLoss and MultiLabelMarginLoss, the module forms of
functional_more2.py's functions with torch's arguments, attributes and reprs."""
import warnings

from tinygrad_seq import functional as F
from tinygrad_seq.nn.activation import PairwiseDistance
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.more_layers import _DropoutNd, _Loss

_CONTAINER_DEPRECATED = ("`nn.Container` is deprecated. All of its functionality is now implemented in "
                         "`nn.Module`. Subclass that instead.")


class Container(Module):
    """Deprecated (FutureWarning on use and on subclassing, as torch's): a Module whose keyword
    arguments are added as its children."""

    def __init_subclass__(cls, **kwargs):
        warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs):
        warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input (dim -3)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)


class ChannelShuffle(Module):
    """(N, C, *) -> (N, C, *) with the channels of `groups` groups interleaved (ShuffleNet)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (F.feature_alpha_dropout) in training; identity in eval."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)   # torch's module ignores inplace too


class TripletMarginWithDistanceLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0), d = distance_function (a PairwiseDistance() child
    module when None, as torch's)."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                             "instead")
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """F.multilabel_margin_loss: input (C,) or (N, C), target int64 class lists ended by -1."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)
