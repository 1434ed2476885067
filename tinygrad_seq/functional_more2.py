"""More of torch.nn.functional, composed from Tensor ops: channel_shuffle /
native_channel_shuffle, feature_alpha_dropout, triplet_margin_with_distance_loss,
multilabel_margin_loss, max_pool1d_with_indices / adaptive_max_pool1d_with_indices (the pools
that always return (values, indices)) and multi_head_attention_forward (nn.MultiheadAttention's
forward on given weights). Re-exported by tinygrad_seq.functional."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.functional_more import _reduce
from tinygrad_seq.memory_formats import keeps_channels_last
from tinygrad_seq.tensor import Tensor


@keeps_channels_last
def channel_shuffle(input, groups):
    """(N, C, *) with C = g k: channel i k + j goes to j g + i (ShuffleNet's shuffle)."""
    if input.ndim <= 2:
        raise ShapeMismatch(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                            f"{list(input.shape)}")
    if groups <= 0:
        raise InvalidArgument(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise InvalidArgument(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    rest = tuple(input.shape[2:])
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout with one draw per channel input[n, c] (broadcast over the other dims): a
    dropped channel is set to -alpha' and every value mapped by a x + b, a = 1 / sqrt((alpha'^2
    p + 1)(1 - p)), b = alpha' a p (torch's _dropout_impl with feature noise)."""
    from tinygrad_seq.functional_aten import feature_noise_dropout
    return feature_noise_dropout(input, p, training, True, inplace)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d = distance_function (default
    pairwise_distance); swap: d(a, n) replaced by min(d(a, n), d(p, n))."""
    from tinygrad_seq.functional_extra import pairwise_distance
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeMismatch(f"The anchor, positive, and negative tensors are expected to have the same number of "
                            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                            f"{negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    dist_pos, dist_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        dist_neg = dist_neg.minimum(distance(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """input (C,) or (N, C) (a 0-d input is one class); target int64, of input's shape (any 0-D or
    1-D target of C elements for a 0-D or 1-D input, as torch's): each row's class indices, ended
    by the first -1. Per row: sum over its targets j and non-target classes i of
    max(0, 1 - (x[j] - x[i])), divided by C."""
    from tinygrad_seq.functional_more import _legacy
    reduction = _legacy(size_average, reduce, reduction)
    if not (input.ndim == 0 or input.ndim in (1, 2) and input.shape[-1] != 0):   # torch's check, first
        raise ShapeMismatch(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                            f"{list(input.shape)}")
    if input.ndim <= 1:
        C = input.shape[0] if input.ndim else 1
        fits = target.ndim <= 1 and target.numel() == C
    else:
        fits = input.ndim == 2 and tuple(target.shape) == tuple(input.shape)
    if not fits:
        raise ShapeMismatch(f"inconsistent target size: {list(target.shape)} for input of size: "
                            f"{list(input.shape)}")
    if target.dtype != np.int64:
        raise DTypeMismatch(f"expected scalar type Long but found {torch_type_name(target.dtype)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    N, C = x.shape
    t = target.numpy().reshape(N, C)
    if ((t < -1) | (t >= C)).any():
        raise IndexOutOfRange("argument #2 'target' is out of range")
    valid = np.cumprod(t != -1, axis=1).astype(bool)          # [N, C]: entries before the first -1
    labels = np.where(valid, t, 0)
    is_target = np.zeros((N, C + 1), bool)                   # column C takes the entries past the -1
    is_target[np.repeat(np.arange(N), C), np.where(valid, t, C).ravel()] = True
    is_target = is_target[:, :C]
    x_target = x.gather(1, Tensor(labels, device=x.device))     # [N, C]: x at each listed target
    pairs = Tensor((valid[:, :, None] & ~is_target[:, None, :]).astype(x.dtype), device=x.device)
    hinge = (1.0 - x_target.unsqueeze(2) + x.unsqueeze(1)).relu() * pairs   # [N, target j, class i]; no gradient at 0 (torch's)
    loss = hinge.sum((1, 2)) / C
    if input.ndim <= 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool1d's (values, indices), whatever return_indices says (torch's)."""
    from tinygrad_seq.conv import max_pool1d
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d's (values, indices), whatever return_indices says (torch's)."""
    from tinygrad_seq.conv import adaptive_max_pool1d
    return adaptive_max_pool1d(input, output_size, return_indices=True)


class _AttentionWeights:
    """The attributes nn.MultiheadAttention.forward reads, over given weights, so that
    multi_head_attention_forward runs the module's own code."""

    def __init__(self, E, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                 out_proj_weight, out_proj_bias, training, separate, q_proj_weight, k_proj_weight, v_proj_weight):
        from tinygrad_seq.nn.multihead import MultiheadAttention
        self.embed_dim, self.num_heads, self.head_dim = E, num_heads, E // num_heads
        self.batch_first, self.dropout, self.training, self.add_zero_attn = False, dropout_p, training, add_zero_attn
        self._qkv_same_embed_dim = not separate
        self.in_proj_weight, self.in_proj_bias = in_proj_weight, in_proj_bias
        self.q_proj_weight, self.k_proj_weight, self.v_proj_weight = q_proj_weight, k_proj_weight, v_proj_weight
        self.bias_k, self.bias_v = bias_k, bias_v
        self._project = MultiheadAttention._project.__get__(self)
        self._mask = MultiheadAttention._mask.__get__(self)
        self.forward = MultiheadAttention.forward.__get__(self)
        self.out_proj_weight, self.out_proj_bias = out_proj_weight, out_proj_bias

    def out_proj(self, x):
        from tinygrad_seq.functional import linear
        return linear(x, self.out_proj_weight, self.out_proj_bias)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """nn.MultiheadAttention's forward on the given weights (torch's positional signature):
    query [L, N, E] or [L, E], key / value [S, N, E_k / E_v] -> (output, weights or None).
    static_k / static_v (precomputed per-head keys / values) are not supported."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not supported by "
                                  "tinygrad_seq; pass key and value instead")
    E = query.shape[-1]
    if E != embed_dim_to_check:
        raise ShapeMismatch(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    if E % num_heads:
        raise ShapeMismatch(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError("use_separate_proj_weight is True but q_proj_weight, k_proj_weight or v_proj_weight "
                             "is None")
    elif in_proj_weight is None:
        raise ValueError("use_separate_proj_weight is False but in_proj_weight is None")
    attention = _AttentionWeights(E, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                  dropout_p, out_proj_weight, out_proj_bias, training, use_separate_proj_weight,
                                  q_proj_weight, k_proj_weight, v_proj_weight)
    return attention.forward(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights,
                             is_causal)
