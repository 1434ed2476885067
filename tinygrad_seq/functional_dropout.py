"""torch.nn.functional's channel and self-normalizing dropouts: dropout2d / dropout3d (whole
channels of (N, C, H, W) / (N, C, D, H, W)) and alpha_dropout (SELU networks: dropped units set
to SELU's negative saturation, then an affine map that keeps mean 0 and variance 1). Masks come
from tinygrad_seq.random (ts.manual_seed). Re-exported by tinygrad_seq.functional."""
import warnings

import numpy as np

from tinygrad_seq import random
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.functional_ints import integer_dropout
from tinygrad_seq.tensor import Tensor

# -scale * alpha of SELU: the value a dropped unit takes before the affine correction (torch's)
_ALPHA_PRIME = 1.7580993408473766


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (input[n, c]) with probability p, scaling the rest by 1/(1-p). As
    torch's: a 3-D input is taken as (N, C, L) (channel-wise 1-D dropout, with its warning), other
    ranks than 3 and 4 warn that they are deprecated."""
    from tinygrad_seq.functional import _applied
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", UserWarning, stacklevel=2)
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise ShapeMismatch(f"dropout2d: Feature dropout requires at least 2 dimensions in the input, "
                            f"got shape {input.shape}")
    if input.dtype.kind not in "fc":
        return integer_dropout(input, p, inplace)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = np.zeros(shape, input.dtype) if p == 1.0 else random.bernoulli_mask(1.0 - p, shape, input.dtype)
    return _applied(input, lambda t: t * Tensor(keep, device=t.device), inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels with probability p, scaling the rest by 1/(1-p). As torch's: a 5-D
    input is (N, C, D, H, W), any other rank is taken as unbatched (a 4-D (C, D, H, W) one, one
    draw per input[c]), and ranks other than 4 and 5 warn that they are deprecated."""
    from tinygrad_seq.functional import _applied
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                      "inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    channel_dims = 2 if input.ndim == 5 else 1   # torch unsqueezes an unbatched input to (1, C, ...)
    if input.ndim + (channel_dims == 1) < 2:
        raise ShapeMismatch("Feature dropout requires at least 2 dimensions in the input")
    if input.dtype.kind not in "fc":
        return integer_dropout(input, p, inplace)
    shape = tuple(input.shape[:channel_dims]) + (1,) * (input.ndim - channel_dims)   # one draw per channel
    keep = np.zeros(shape, input.dtype) if p == 1.0 else random.bernoulli_mask(1.0 - p, shape, input.dtype)
    return _applied(input, lambda t: t * Tensor(keep, device=t.device), inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """torch's alpha dropout (note training=False by default, as torch's): each element dropped
    with probability p is set to -alpha' and the result mapped by a x + b, with
    a = 1 / sqrt((alpha'^2 p + 1)(1 - p)) and b = alpha' a p, so that a unit-normal input keeps
    mean 0 and variance 1. p = 1 gives zeros."""
    from tinygrad_seq.functional import _applied
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if input.dtype.kind not in "fc":
        return integer_dropout(input, p, inplace, bool_name="Long")
    if p == 1.0:
        return _applied(input, lambda t: t * 0.0, inplace)
    keep = (random.bernoulli_mask(1.0 - p, tuple(input.shape), np.float64, random.element_strides(input.array)) > 0)
    a = 1.0 / np.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    scale = (keep * a).astype(input.dtype)
    shift = ((keep - 1.0) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p).astype(input.dtype)
    return _applied(input, lambda t: t * Tensor(scale, device=t.device) + Tensor(shift, device=t.device), inplace)
