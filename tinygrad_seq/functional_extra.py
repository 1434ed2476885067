"""More of torch.nn.functional, composed from Tensor ops (autograd differentiates the
composition): layer_norm, the smaller activations (glu, mish, softsign, hardsigmoid,
hardswish, relu6, selu, celu), cosine_similarity, pairwise_distance, kl_div,
scaled_dot_product_attention and batch_norm. Re-exported by tinygrad_seq.functional."""
import math
import numbers
import warnings

import numpy as np

from tinygrad_seq.autograd import no_grad
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.tensor import Tensor


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims
    (biased variance, as torch's)."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if input.ndim < k or input.shape[input.ndim - k:] != normalized_shape:
        raise ShapeMismatch(f"layer_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
                            f"got {input.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != normalized_shape:
            raise ShapeMismatch(f"layer_norm: {name} has shape {p.shape}, expected normalized_shape {normalized_shape}")
    dims = tuple(range(input.ndim - k, input.ndim))
    d = input - input.mean(dims, keepdim=True)
    y = d / ((d * d).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ------------------------------------------------------------------ activations
def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of input along dim."""
    n = input.shape[dim]
    if n % 2:
        raise ShapeMismatch(f"glu: Halving dimension must be even, but dimension {dim % input.ndim} is size {n}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def mish(input, inplace=False):
    from tinygrad_seq.functional import softplus
    return input * softplus(input).tanh()


def softsign(input):
    return input / (input.abs() + 1)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; gradient 1/6 strictly inside (-3, 3), as torch's."""
    inside = ((input > -3) & (input < 3)).to(dtype=input.dtype) * _ONE_SIXTH
    return (input / 6 + 0.5).clamp(0.0, 1.0).detach() + (input - input.detach()) * inside


_ONE_SIXTH = float(np.float32(1.0 / 6.0))   # torch's backward multiplies by a float 1/6


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6; gradient (2x + 3) / 6 inside [-3, 3], 0 below, 1 above (torch's)."""
    y = input * (input + 3).clamp(0.0, 6.0) / 6
    slope = ((input * 2 + 3) / 6 * ((input >= -3) & (input <= 3)) + (input > 3)).to(dtype=input.dtype)
    return y.detach() + (input - input.detach()) * slope.detach()


def relu6(input, inplace=False):
    from tinygrad_seq.functional import hardtanh
    return hardtanh(input, 0.0, 6.0, inplace)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    from tinygrad_seq.functional import elu
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise ZeroDivisionError("ZeroDivisionError: celu's alpha must not be 0")
    return input.relu() + ((input / alpha).exp() - 1).clamp(max=0.0) * alpha


# ------------------------------------------------------------------ distances
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along dim (x1, x2 broadcast), as torch's."""
    n1 = x1.norm(dim=dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(dim=dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return (x1 - x2 + eps).norm(p=p, dim=-1, keepdim=keepdim)


# ------------------------------------------------------------------ loss
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input) (input: log-probabilities; 0 where target is 0), or with
    log_target exp(target) * (target - input); reduction 'batchmean' is sum / batch size, the
    KL divergence; 'mean' divides by every element and warns, as torch's."""
    if size_average is not None or reduce is not None:
        from tinygrad_seq.losses import _legacy_reduction
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = target.masked_fill(~positive, 1.0)
        loss = (target * safe.log()).masked_fill(~positive, 0.0) - target * input
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
        return loss.mean()
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return loss.sum() if reduction == "sum" else loss


# ------------------------------------------------------------------ attention
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v over [..., L, E] queries and [..., S, E] keys; a bool mask
    marks the pairs that take part (True), a float mask is added; is_causal keeps j <= i."""
    from tinygrad_seq.functional import dropout, softmax
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention(enable_gqa=True) is not supported; "
                                  "repeat the key/value heads with repeat_interleave")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass attn_mask or is_causal, not both")
        attn_mask = Tensor(np.tril(np.ones((L, S), dtype=bool)), device=query.device)
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


# ------------------------------------------------------------------ normalization
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize input over every dim but 1 (the channels). training: by the batch's statistics,
    folding them into running_mean / running_var in place (the variance unbiased there, as
    torch's); otherwise by the running ones."""
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // input.shape[1]
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        mean = input.mean(dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                m = momentum
                running_mean.mul_(1 - m).add_(mean.detach().reshape(-1) * m)
                running_var.mul_(1 - m).add_(var.detach().reshape(-1) * (m * n / (n - 1)))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed when not training")
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    y = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
