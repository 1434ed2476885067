"""More of torch.nn.functional, composed from Tensor ops (autograd differentiates the
composition): layer_norm, the smaller activations (glu, mish, softsign, hardsigmoid,
hardswish, relu6, selu, celu, hardshrink, softshrink), cosine_similarity, pairwise_distance,
pdist, kl_div, scaled_dot_product_attention (grouped-query heads too; and the zero-safe softmax
it shares) and batch_norm. Re-exported by tinygrad_seq.functional."""
import math
import warnings

import numpy as np

from tinygrad_seq.activation_nodes import elu_family
from tinygrad_seq.autograd import Function, no_grad
from tinygrad_seq.broadcast_errors import broadcast_shape
from tinygrad_seq.dim_alias import dim_from_axis
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.half_opmath import HALF, in_float32, opmath
from tinygrad_seq.functional_checks import (check_per_channel, require_float, require_float_argument,
                                           require_norm_params)
from tinygrad_seq.memory_formats import keeps_channels_last
from tinygrad_seq.tensor import Tensor


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dims, as torch's (float16 in float32)."""
    require_norm_params("LayerNormKernelImpl", input, weight, bias)
    normalized_shape = _shape_argument(normalized_shape)
    k = len(normalized_shape)
    if input.ndim < k or input.shape[input.ndim - k:] != normalized_shape:
        raise ShapeMismatch(f"layer_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
                            f"got {input.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != normalized_shape:
            raise ShapeMismatch(f"layer_norm: {name} has shape {p.shape}, expected normalized_shape {normalized_shape}")
    if input.numel() == 0:   # torch's empty result; weight and bias get zero gradients
        return named(input.clone() * (1 if weight is None else weight) + (0 if bias is None else bias),
                     "NativeLayerNormBackward0")
    if (input.device == "cpu" and input.dtype.kind == "f" and input.dtype != np.float16
            and all(p is None or p.dtype == input.dtype for p in (weight, bias))):
        from tinygrad_seq.layer_norm_node import LayerNormFunction   # one node (layer_norm_node.py)
        params = [p for p in (weight, bias) if p is not None]
        out = LayerNormFunction.apply(input, *params, eps=float(eps), n=int(np.prod(normalized_shape)),
                                      has_weight=weight is not None, has_bias=bias is not None)
        if out._ctx is not None:
            out._ctx.params_shape = normalized_shape
        return named(out, "NativeLayerNormBackward0")
    return layer_norm_composite(input, normalized_shape, weight, bias, eps)


def _shape_argument(normalized_shape):
    """normalized_shape as a tuple of ints, else torch's TypeError (an int alone too: F takes no int)."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                        f"not {type(normalized_shape).__name__}")
    for pos, s in enumerate(normalized_shape):
        if isinstance(s, (float, bool)) or not hasattr(s, "__index__"):
            raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                            f"but found element of type {type(s).__name__} at pos {pos}")
    return tuple(int(s) for s in normalized_shape)


def layer_norm_composite(input, normalized_shape, weight, bias, eps):
    """layer_norm as primitive ops: the reference of LayerNormFunction, its create_graph
    recomposition, and the path of float16 inputs and other devices."""
    if input.dtype == HALF:   # in float32 (with float32 parameters, as torch's), rounded once (half_opmath.py)
        return in_float32(lambda x, w, b: _layer_norm_steps(x, normalized_shape, w, b, eps), input, weight, bias)
    return _layer_norm_steps(input, normalized_shape, weight, bias, eps)


def _layer_norm_steps(input, normalized_shape, weight, bias, eps):
    k = len(normalized_shape)
    dims = tuple(range(input.ndim - k, input.ndim))
    d = input - input.mean(dims, keepdim=True)
    y = d / ((d * d).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return named(y if y.dtype == input.dtype else y.to(dtype=input.dtype), "NativeLayerNormBackward0")


# ------------------------------------------------------------------ activations
def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of input along dim (a float input, as torch's)."""
    require_float(input, "glu_cpu")
    if input.ndim == 0:
        raise ShapeMismatch("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise ShapeMismatch(f"glu: Halving dimension must be even, but dimension {dim % input.ndim} is size {n}")
    return opmath(input, lambda u: _glu_halves(*u.chunk(2, dim)), "GluBackward0")


def _glu_halves(a, b):
    return a * b.sigmoid()


def _applied(input, fn, inplace):
    from tinygrad_seq.functional import _applied
    return _applied(input, fn, inplace)


def mish(input, inplace=False):
    from tinygrad_seq.functional import softplus
    require_float(input, "mish_cpu")
    return _applied(input, lambda t: opmath(t, lambda u: u * softplus(u).tanh(), "MishBackward0"), inplace)


def softsign(input):
    if input.dtype.kind == "b":   # an integer input turns float, as torch's; a bool one is refused
        raise NotImplementedError('"abs_cpu" not implemented for \'Bool\'')
    return input / (input.abs() + 1)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; gradient 1/6 strictly inside (-3, 3), as torch's."""
    require_float(input, "hardsigmoid_cpu")
    return _applied(input, lambda t: opmath(t, _hardsigmoid, "HardsigmoidBackward0"), inplace)


def _hardsigmoid(x):
    inside = ((x > -3) & (x < 3)).to(dtype=x.dtype) * _ONE_SIXTH
    from tinygrad_seq.ops_extra import ZeroCarryingGrad
    return named((x / 6 + 0.5).clamp(0.0, 1.0).detach() + ZeroCarryingGrad.apply(x) * inside, "HardsigmoidBackward0")


_ONE_SIXTH = float(np.float32(1.0 / 6.0))   # torch's backward multiplies by a float 1/6


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6; gradient (2x + 3) / 6 strictly inside (-3, 3), 0 at and below -3, 1
    at and above 3 (torch's)."""
    require_float(input, "hardswish_cpu")
    return _applied(input, lambda t: opmath(t, _hardswish, "HardswishBackward0"), inplace)


def _hardswish(x):
    """The value, plus (x - x0) slope + (x - x0)^2 / 2 curvature at x0 = x's value: zero, but
    with torch's first derivative (the kinks' one-sided values) and second (1/3 inside (-3, 3),
    hardswish_backward's own gradient) for a create_graph=True backward."""
    y = x * (x + 3).clamp(0.0, 6.0) / 6
    xv = x.numpy()
    inside = (xv > -3) & (xv < 3)
    slope = x.new_tensor(np.where(inside, xv / 3 + 0.5, xv >= 3))   # torch's x / 3 + 0.5, in x's dtype
    curvature = x.new_tensor(inside / 6)
    from tinygrad_seq.ops_extra import ZeroCarryingGrad
    d = ZeroCarryingGrad.apply(x)   # (x - x.detach() would be nan at inf)
    return named(y.detach() + d * slope + d * d * curvature, "HardswishBackward0")


def relu6(input, inplace=False):
    from tinygrad_seq.functional import hardtanh
    return hardtanh(input, 0.0, 6.0, inplace)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with torch's constants, one node (its EluBackward0)."""
    require_float(input, "elu_cpu")
    return elu_family(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace, "EluBackward0")


def celu(input, alpha=1.0, inplace=False):
    """x where x > 0, alpha expm1(x / alpha) elsewhere: torch's elu with input_scale 1 / alpha
    (gradient 1 at 0, second derivative 0 there). alpha 0 is torch's RuntimeError."""
    if alpha == 0:
        raise InvalidArgument("ZeroDivisionError: alpha cannot be 0 for CELU")
    require_float(input, "elu_cpu")
    return elu_family(input, alpha, 1.0, 1.0 / alpha, inplace, "CeluBackward0")


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0 (gradient 1 outside [-lambd, lambd], 0 inside)."""
    require_float(input, "hardshrink_cpu")
    return named(input.masked_fill((input >= -lambd) & (input <= lambd), 0.0), "HardshrinkBackward0")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (lambd >= 0, as torch's)."""
    require_float(input, "softshrink_check")
    if lambd < 0:
        raise InvalidArgument(f"softshrink: lambda must be in range [0, inf) for input dtype "
                              f"{input.dtype}, but found {lambd}")
    return named((input - lambd).relu() - (-input - lambd).relu(), "SoftshrinkBackward0")


# ------------------------------------------------------------------ distances
def cosine_similarity(x1, x2, dim=1, eps=1e-8, *, axis=None):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along dim (x1, x2 broadcast), as torch's,
    the max outside the graph (torch's no_grad clamp_min_), in their common dtype (an int64 x1 against a float32 x2 is float32, as torch's)."""
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "cosine_similarity", 1)
    if x1.dtype != x2.dtype:
        x1, x2 = _common_float(x1, x2)
    if x1.shape != x2.shape:   # broadcast first, as torch's (its RuntimeError when they do not)
        shape = broadcast_shape(x1.shape, x2.shape)
        x1, x2 = x1.expand(*shape), x2.expand(*shape)
    n1 = _ClampMinValueOnly.apply(x1.norm(dim=dim, keepdim=True), eps=eps)
    n2 = _ClampMinValueOnly.apply(x2.norm(dim=dim, keepdim=True), eps=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


class _ClampMinValueOnly(Function):
    """max(n, eps) forward, the gradient passed through unchanged: torch's cosine_similarity
    clamps the norms in place under no_grad, so a norm below eps still gets its gradient."""
    saved_are_inputs = True   # its backward (g itself) runs on Tensors too: cosine_similarity's double backward

    @staticmethod
    def forward(ctx, n, eps=0.0):
        return ctx.b.clip(n, eps, None)

    @staticmethod
    def backward(ctx, g):
        return g


def _common_float(x1, x2):
    """x1 and x2 in torch's common dtype of the two, which must be a float one."""
    a, b = x1.dtype, x2.dtype
    if a.kind not in "fc" and b.kind not in "fc":
        raise DTypeMismatch(f"expected common dtype to be floating point, yet common dtype is {np.result_type(a, b)}")
    common = np.promote_types(a, b) if a.kind in "fc" and b.kind in "fc" else (a if a.kind in "fc" else b)
    return x1.to(dtype=common), x2.to(dtype=common)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim. p=0 counts the non-zero entries: the result
    requires grad and its backward leaves the inputs' .grad None, as torch's (the count alone
    was cut from the graph, and backward raised)."""
    d = x1 - x2 + eps
    if p == 0:
        return _NonzeroCount.apply(d, keepdim=keepdim)
    return named(d.norm(p=p, dim=-1, keepdim=keepdim), "NormBackward1")


class _NonzeroCount(Function):
    """The number of non-zero entries along the last dim; no gradient (torch's norm(p=0))."""
    @staticmethod
    def forward(ctx, d, keepdim=False):
        B = ctx.b
        return B.sum(B.astype(B.ne(d, 0), d.dtype), axis=-1, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return None


def _count_nonzero_with_zero_grad(d, keepdim):
    count = (d != 0).sum(-1, keepdim=keepdim).to(dtype=d.dtype)
    if not d.requires_grad:
        return count
    # d with every entry filled by 0: 0 forward (not nan for an inf entry), 0 gradient
    zero = d.masked_fill(Tensor(np.ones(d.shape, bool), device=d.device), 0.0).sum(-1, keepdim=keepdim)
    return count + zero


def pdist(input, p=2.0):
    """||x_i - x_j||_p for every pair of rows i < j of a 2-D input, in torch's order (row 0
    against 1, 2, ..., then row 1 against 2, ...); the gradient at a zero distance is 0."""
    if input.ndim != 2:
        raise ShapeMismatch(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise InvalidArgument(f"pdist only supports non-negative p values, got {p}")
    i, j = np.triu_indices(input.shape[0], k=1)
    d = (input.index_select(0, Tensor(i.astype(np.int64), device=input.device))
         - input.index_select(0, Tensor(j.astype(np.int64), device=input.device)))
    if p == math.inf:   # every tied coordinate takes the whole gradient, as torch's
        from tinygrad_seq.cdist_mm import chebyshev_distance
        return named(chebyshev_distance(d), "PdistBackward0")
    return named(_count_nonzero_with_zero_grad(d, False) if p == 0 else d.norm(p=p, dim=-1), "PdistBackward0")


# ------------------------------------------------------------------ loss
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """xlogy(target, target) - target * input (input: log-probabilities; 0 where target is 0), or with
    log_target exp(target) * (target - input); reduction 'batchmean' is sum / batch size, the
    KL divergence; 'mean' divides by every element and warns, as torch's."""
    if size_average is not None or reduce is not None:
        from tinygrad_seq.losses import _legacy_reduction
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if input.dtype.kind not in "fc" or target.dtype.kind not in "fc":
        raise InvalidArgument("kl_div: Integral inputs not supported.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input   # torch's: nan for a target < 0 or nan
    if reduction == "mean" and size_average is None and reduce is None:   # torch warns without the legacy args
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    if reduction == "mean":
        return loss.mean()
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return loss.sum() if reduction == "sum" else loss


# ------------------------------------------------------------------ attention
def softmax_zero_blocked_rows(scores, blocked):
    """softmax over the last dim of scores, with the rows where blocked (a host bool array of
    scores' shape but a last dim of 1, or None) is True all zero and their gradient zero: torch
    2.13's safe softmax for a query whose keys are all masked (the plain softmax is nan there).
    The blocked rows are zeroed before the softmax too, so that its backward sees no nan."""
    from tinygrad_seq.functional import softmax
    if blocked is None or not blocked.any():
        return softmax(scores, -1)
    fill = Tensor(np.broadcast_to(blocked, scores.shape), device=scores.device)
    return softmax(scores.masked_fill(fill, 0.0), -1).masked_fill(fill, 0.0)


def _blocked_rows(attn_mask):
    """Where every key of a query is masked out (bool mask all False, float mask all -inf)."""
    m = attn_mask.numpy()
    return ~m.any(-1, keepdims=True) if m.dtype == np.bool_ else np.isneginf(m).all(-1, keepdims=True)


def _flash_kernel_takes(query, key, value, attn_mask, dropout_p):
    """Whether torch 2.13's CPU flash kernel runs this call (else its math kernel): 4-D query,
    key and value of one head size, each with a unit last stride, no dropout, and a 2-D or 4-D
    mask that needs no gradient."""
    return (query.ndim == 4 and key.ndim == 4 and value.ndim == 4 and dropout_p <= 0.0
            and value.shape[-1] == query.shape[-1] and attn_mask.ndim in (2, 4) and not attn_mask.requires_grad
            and all(t.shape[-1] == 1 or t.stride(-1) == 1 for t in (query, key, value)))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v over [..., L, E] queries and [..., S, E] keys; a bool mask
    marks the pairs that take part (True), a float mask (of the query's dtype) is added;
    is_causal keeps j <= i (with a mask too, as torch's CPU flash kernel: 4-D inputs, no dropout). A query whose keys are all masked gets 0 (torch's safe softmax).
    enable_gqa: key / value may have fewer heads (dim -3) than the query, each shared by
    q_heads // kv_heads consecutive query heads (attention_heads.py)."""
    from tinygrad_seq.attention_heads import (check_attention_batches, check_attention_dtypes, check_mask_dtype,
                                              group_query_heads)
    from tinygrad_seq.functional import dropout
    check_attention_dtypes(query, key, value)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:   # torch's text, its double space kept
        raise ShapeMismatch(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if enable_gqa:
        key, value = group_query_heads(query, key, value)
    check_attention_batches(query, key, value)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    blocked = None
    check_mask_dtype(attn_mask, query)
    if is_causal:
        causal = np.tril(np.ones((L, S), dtype=bool))   # top-left aligned, as torch's
        if attn_mask is None:
            attn_mask = Tensor(causal, device=query.device)
        elif not _flash_kernel_takes(query, key, value, attn_mask, dropout_p):
            # torch's math kernel refuses both; its CPU flash kernel applies both
            raise InvalidArgument("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                                  "is_causal=True")
        else:
            not_causal = Tensor(~causal, device=query.device)
            attn_mask = (attn_mask & ~not_causal if attn_mask.dtype == np.bool_
                         else attn_mask.masked_fill(not_causal, float("-inf")))
            blocked = _blocked_rows(attn_mask)
    elif attn_mask is not None:
        blocked = _blocked_rows(attn_mask)
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = softmax_zero_blocked_rows(scores, blocked)
    if dropout_p > 0.0:
        if dropout_p > 1.0:   # torch's math kernel (a negative p there means no dropout, as here)
            raise InvalidArgument(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
        weights = dropout(weights, dropout_p, True)
        return weights @ value
    # torch's node: its CPU flash kernel for [N, H, L, E] inputs without dropout
    return named(weights @ value, "ScaledDotProductFlashAttentionForCpuBackward0") if query.ndim == 4 \
        else weights @ value


# ------------------------------------------------------------------ normalization
@keeps_channels_last
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize input over every dim but 1 (the channels). training: by the batch's statistics,
    folding them into running_mean / running_var in place (the variance unbiased there, as
    torch's); otherwise by the running ones."""
    momentum = require_float_argument(momentum, "batch_norm", "momentum", 7)
    require_norm_params("batch_norm", input, running_mean, running_var, weight, bias)
    check_per_channel(input.shape[1] if input.ndim > 1 else 0, weight=weight, bias=bias, running_mean=running_mean,
                      running_var=running_var)
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1] if input.ndim > 1 else 0) + (1,) * (input.ndim - 2)   # 1-D: 0 channels, as torch's
    n = input.shape[0] * math.prod(input.shape[2:])   # values per channel
    if training and n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.numel() == 0:
        # torch's: a copy (a view would cut the gradient chain) times the first channel's weight,
        # plus its bias; the running statistics stay as they are
        out = input.clone()
        out = out if weight is None else out * weight[0]
        return out if bias is None else out + bias[0]
    if training:
        if (input.device == "cpu" and input.dtype != np.float16
                and all(p is None or p.dtype == input.dtype for p in (weight, bias))):
            return _batch_norm_node(input, running_mean, running_var, weight, bias, momentum, eps, n)
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
    return named(normalized(input, mean, var, weight, bias, eps, shape), "NativeBatchNormBackward0")


def _batch_norm_node(input, running_mean, running_var, weight, bias, momentum, eps, n):
    """Training-mode batch norm as one node (batch_norm_node.py), the running statistics folded
    in from the batch's (the variance unbiased there, as torch's)."""
    from tinygrad_seq.batch_norm_node import BatchNormFunction
    from tinygrad_seq.running_stats import update_running
    stats = {}
    params = [p for p in (weight, bias) if p is not None]
    out = BatchNormFunction.apply(input, *params, eps=float(eps), has_weight=weight is not None,
                                  has_bias=bias is not None, stats=stats)
    if running_mean is not None:   # on the buffers' arrays, one write each (running_stats.py)
        update_running(running_mean, stats["mean"], momentum)
        update_running(running_var, stats["var"], momentum, n / (n - 1))
    return named(out, "NativeBatchNormBackward0")


def normalized(input, mean, var, weight, bias, eps, shape):
    """(input - mean) / sqrt(var + eps), then * weight + bias (each [C] reshaped to `shape`), in
    input's dtype: batch norm's and instance norm's last step."""
    y = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y if y.dtype == input.dtype else y.to(dtype=input.dtype)
