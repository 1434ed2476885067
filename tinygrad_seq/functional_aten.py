"""torch's top-level forms of the functional ops (torch.layer_norm, torch.batch_norm,
torch.dropout, torch.kl_div, ...), with ATen's positional signatures, which differ from
torch.nn.functional's: reduction is an int (0 none, 1 mean, 2 sum), batch_norm takes weight and
bias before the running statistics, embedding takes the weight first, dropout's `train` is
required, adaptive_max_pool1d returns (values, indices). Each calls the functional op; the few
torch has only here (feature_dropout, feature_alpha_dropout, channel_shuffle, conv_tbc) compose
from Tensor ops."""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.functional_checks import require_float
from tinygrad_seq.functional_more2 import channel_shuffle  # noqa: F401  (torch.channel_shuffle)

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction):
    """ATen's int reduction as functional's name; a string is torch's TypeError."""
    if isinstance(reduction, bool) or not isinstance(reduction, (int, np.integer)) or reduction not in _REDUCTIONS:
        raise TypeError(f"reduction must be an int: 0 (none), 1 (mean) or 2 (sum), got {reduction!r}")
    return _REDUCTIONS[int(reduction)]


# ------------------------------------------------------------------ dropouts
def _check_p(p):
    """ATen's check, a RuntimeError even when not training (torch.nn.functional's is a ValueError)."""
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p, train):
    _check_p(p)
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    _check_p(p)
    return F.alpha_dropout(input, p, train)


def feature_noise_dropout(input, p, train, alpha, inplace):
    """torch's _dropout_impl with feature noise: one draw per (sample, channel) of input
    [N, C, *], broadcast over the rest; alpha: alpha dropout's affine correction."""
    from tinygrad_seq import random
    from tinygrad_seq.functional_dropout import _ALPHA_PRIME, _check_p as check_functional_p
    from tinygrad_seq.tensor import Tensor
    check_functional_p(p)   # F.feature_alpha_dropout's ValueError; the ATen forms check first
    if p == 0 or not train or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise ShapeMismatch(f"Feature dropout requires at least 2 dimensions in the input, got shape "
                            f"{tuple(input.shape)}")
    require_float(input, "bernoulli_scalar_cpu_")
    if p == 1:
        return F._applied(input, lambda t: t * 0.0, inplace)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = (random.bernoulli_mask(1.0 - p, shape, np.float64) > 0).astype(np.float64)
    if alpha:
        a = 1.0 / np.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
        scale, shift = keep * a, (keep - 1.0) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p
    else:
        scale, shift = keep / (1.0 - p), None
    scale = Tensor(scale.astype(input.dtype), device=input.device)
    if shift is None:
        return F._applied(input, lambda t: t * scale, inplace)
    shift = Tensor(shift.astype(input.dtype), device=input.device)
    return F._applied(input, lambda t: t * scale + shift, inplace)


def feature_dropout(input, p, train):
    """Zero whole channels input[n, c] with probability p, scale the rest by 1 / (1 - p)."""
    _check_p(p)
    return feature_noise_dropout(input, p, train, False, False)


def feature_alpha_dropout(input, p, train):
    """alpha_dropout with one draw per channel input[n, c] (torch's)."""
    _check_p(p)
    return feature_noise_dropout(input, p, train, True, False)


def dropout_(input, p, train):
    _check_p(p)
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    _check_p(p)
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_dropout_(input, p, train):
    _check_p(p)
    return feature_noise_dropout(input, p, train, False, True)


def feature_alpha_dropout_(input, p, train):
    _check_p(p)
    return feature_noise_dropout(input, p, train, True, True)


def native_dropout(input, p, train):
    """torch.native_dropout: (output, mask) with mask a bool tensor. Training (train True or
    None): a bernoulli(1 - p) mask in index order (torch draws it into a contiguous tensor, as
    F.dropout's into a contiguous input) and output = input * mask * 1 / (1 - p) (0 for p = 1);
    else (a copy of input, all-True mask). An empty input gives (input, an empty tensor like it)."""
    from tinygrad_seq import random
    from tinygrad_seq.creation import empty_like, ones
    from tinygrad_seq.functional_checks import torch_type_name
    from tinygrad_seq.grad_fn_names import named
    from tinygrad_seq.tensor import Tensor
    if input.numel() == 0:
        return input, empty_like(input)
    if train is not None and not train:
        return named(input.clone(), "NativeDropoutBackward0"), ones(input.shape, dtype=np.bool_, device=input.device)
    keep_prob = 1.0 - p
    if not 0.0 <= keep_prob <= 1.0:   # torch's check is bernoulli_'s, on 1 - p
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={keep_prob:g}")
    keep = random.generator(None).stream.bernoulli(input.numel(), keep_prob).reshape(input.shape).astype(np.bool_)
    if input.dtype.kind not in "fc":   # torch's input * mask then *= scale: a float scale into an integer result
        raise RuntimeError(f"result type Float can't be cast to the desired output type {torch_type_name(input.dtype)}")
    scale = np.asarray(0.0 if keep_prob == 0 else 1.0 / keep_prob, input.dtype)   # the scalar in input's dtype
    factor = Tensor(keep.astype(input.dtype) * scale, device=input.device)
    output = named(input * factor, "NativeDropoutBackward0")
    return output, Tensor(keep, device=input.device)


# ------------------------------------------------------------------ embeddings, norms
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """The rows of weight at indices (ATen's order: weight first); padding_idx < 0: none."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices) as torch's CPU kernel gives them, mode 0 sum,
    1 mean, 2 max. output is F.embedding_bag's; the other three are int64 bookkeeping: offset2bag
    the bag of each index ([] for a float32 / float16 sum without padding_idx; indices after
    offsets[-1] in the last bag), bag_size each bag's size (a sum: zeros, one per offset), max_indices
    the row chosen per bag and column for max (bag_size again for mean, zeros for sum)."""
    from tinygrad_seq.functional_more import _torch_fast_bag_path
    from tinygrad_seq.tensor import Tensor
    if mode not in (0, 1, 2):
        raise ValueError(f"embedding_bag: mode has to be 0 (sum), 1 (mean) or 2 (max), got {mode!r}")
    output = F.embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                             mode=("sum", "mean", "max")[mode], sparse=sparse, per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=padding_idx)
    idx = indices.numpy().astype(np.int64)
    n_bags = output.shape[0]
    if idx.ndim == 2:
        starts = np.arange(0, idx.size, idx.shape[1])
        idx = idx.reshape(-1)
    else:
        starts = offsets.numpy().astype(np.int64)[:n_bags]
    offset2bag = np.zeros(idx.size, np.int64)
    np.add.at(offset2bag, starts[1:][starts[1:] < idx.size], 1)
    offset2bag = np.cumsum(offset2bag)
    if padding_idx is not None:
        pad = padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx
        counted = idx != pad
    else:
        counted = np.ones(idx.size, bool)
    bag_size = np.bincount(offset2bag[counted], minlength=n_bags).astype(np.int64)
    if mode == 0:
        # torch's fast kernel (float32 / float16, no padding_idx) leaves offset2bag empty; a sum's
        # bag_size and max_indices are zeros with one entry per offset (n_bags + 1 with include_last_offset)
        if _torch_fast_bag_path(weight, "sum", padding_idx):
            offset2bag = np.zeros(0, np.int64)
        n_offsets = n_bags + 1 if include_last_offset and indices.ndim == 1 else n_bags
        bag_size, max_indices = np.zeros(n_offsets, np.int64), np.zeros(n_offsets, np.int64)
    elif mode == 1:
        max_indices = bag_size.copy()
    else:
        rows = weight.detach().numpy()[idx]
        max_indices = np.zeros((n_bags, weight.shape[1]), np.int64)
        for b in range(n_bags):
            members = np.nonzero((offset2bag == b) & counted)[0]
            if members.size:
                max_indices[b] = idx[members[np.argmax(rows[members], axis=0)]]
    device = weight.device
    return (output,) + tuple(Tensor(a, device=device) for a in (offset2bag, bag_size, max_indices))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


# ------------------------------------------------------------------ convolution, pooling, shuffles
def conv_tbc(input, weight, bias, pad=0):
    """Time-batch-channel 1-D convolution: input [T, B, C_in], weight [K, C_in, C_out], bias
    [C_out] -> [T + 2 pad - K + 1, B, C_out] (a cross-correlation, as conv1d)."""
    if input.ndim != 3 or weight.ndim != 3 or bias.ndim != 1:
        raise ShapeMismatch(f"conv_tbc: expected input [T, B, C_in] (3-D), weight [K, C_in, C_out] (3-D) and "
                            f"bias [C_out] (1-D), got {input.ndim}-D, {weight.ndim}-D and {bias.ndim}-D")
    if input.shape[2] != weight.shape[1] or weight.shape[2] != bias.shape[0]:
        raise ShapeMismatch(f"conv_tbc: input channels {input.shape[2]} must equal weight.shape[1] "
                            f"{weight.shape[1]}, and bias {bias.shape[0]} weight.shape[2] {weight.shape[2]}")
    out = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d(input, output_size):
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


def rrelu(input, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu: generator= is not supported; seed with ts.manual_seed")
    return F.rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu_: generator= is not supported; seed with ts.manual_seed")
    return F.rrelu_(input, lower, upper, training)


def threshold(input, threshold, value):
    return F.threshold(input, threshold, value)


# ------------------------------------------------------------------ losses (int reduction; unreduced by default, as torch 2.13 runs them)
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def kl_div(input, target, reduction=0, *, log_target=False):
    """Pointwise KL terms, their mean over every element (1, no batchmean warning: that is
    functional's) or sum (2)."""
    loss = F.kl_div(input, target, reduction="none", log_target=log_target)
    name = _reduction(reduction)
    return loss if name == "none" else loss.mean() if name == "mean" else loss.sum()


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    from tinygrad_seq.functional_more import triplet_margin_loss_any_margin   # F's refuses a margin <= 0
    return triplet_margin_loss_any_margin(anchor, positive, negative, margin, p, eps, swap, _reduction(reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction), zero_infinity)


FUNCTIONS = {name: globals()[name] for name in (
    "dropout alpha_dropout feature_dropout feature_alpha_dropout dropout_ alpha_dropout_ feature_dropout_ "
    "feature_alpha_dropout_ native_dropout embedding embedding_bag layer_norm group_norm batch_norm instance_norm conv_tbc "
    "max_pool1d max_pool1d_with_indices adaptive_max_pool1d channel_shuffle constant_pad_nd rrelu rrelu_ "
    "threshold binary_cross_entropy_with_logits cosine_embedding_loss hinge_embedding_loss kl_div "
    "margin_ranking_loss poisson_nll_loss triplet_margin_loss ctc_loss").split()}
# the same signature as functional's
FUNCTIONS.update({name: getattr(F, name) for name in (
    "conv1d adaptive_avg_pool1d avg_pool1d bilinear pixel_shuffle pixel_unshuffle pdist prelu selu_ celu_ "
    "threshold_").split()})
