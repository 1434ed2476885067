"""The rest of torch.nn.functional that sequence models reach for, composed from Tensor ops:
rms_norm, group_norm, prelu, threshold, tanhshrink, bilinear, embedding_bag, gumbel_softmax,
dropout1d, and the ranking / embedding / count losses (margin_ranking, cosine_embedding,
triplet_margin, hinge_embedding, soft_margin, multilabel_soft_margin, multi_margin,
poisson_nll, gaussian_nll), each with torch's formula and reductions. Re-exported by
tinygrad_seq.functional."""
import math
import numbers

import numpy as np

from tinygrad_seq.activation_nodes import prelu  # noqa: F401  (F.prelu: its node beside it)
from tinygrad_seq.argument_types import require_tensor_argument, require_tensor_method, require_tensor_or_number
from tinygrad_seq.autograd import is_grad_enabled, no_grad
from tinygrad_seq.embedding_bag_layout import torch_fast_path as _torch_fast_bag_path
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import (refuse_float_into, require_float, require_norm_params,
                                            torch_type_name)
from tinygrad_seq.functional_ints import integer_dropout, integer_threshold_args
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.half_opmath import HALF, opmath
from tinygrad_seq.internal_overlap import has_internal_overlap, write_elementwise_expanded
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.memory_formats import keeps_channels_last


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    from tinygrad_seq.losses import _legacy_reduction
    return _legacy_reduction(size_average, reduce, reduction)


# ------------------------------------------------------------------ normalization, activations
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing normalized_shape dims; eps defaults
    to the dtype's machine epsilon, as torch's. The result has the input's dtype whatever the
    weight's (torch's type_as; a float64 weight used to promote a float32 input)."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if input.shape[input.ndim - len(shape):] != shape:
        raise ShapeMismatch(f"rms_norm: expected input with shape (*, {', '.join(map(str, shape))}), got {input.shape}")
    require_float(input, "rms_norm")
    if input.dtype == HALF:   # in float32 (eps too: torch's opmath epsilon), rounded once (half_opmath.py)
        return opmath(input, lambda u: rms_norm(u, shape, weight, eps))
    eps = float(np.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    y = input / ((input * input).mean(dims, keepdim=True) + eps).sqrt()
    if weight is None:
        return y
    y = y * weight
    return y if y.dtype == input.dtype else y.to(dtype=input.dtype)   # torch's: the input's dtype


@keeps_channels_last
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each of num_groups channel groups of (N, C, *) over its channels and positions."""
    require_norm_params("GroupNormKernelImpl", input, weight, bias)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    # torch's _verify_batch_size, before the divisibility check and in eval too: N*C//G
    # times the spatial sizes (one value per group only when N is 1) must not be 1
    grouped = [n * c // num_groups, num_groups] + list(input.shape[2:])
    if grouped[0] * math.prod(grouped[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {grouped}")
    if c % num_groups:
        raise InvalidArgument(f"Expected number of channels in input to be divisible by num_groups, but got input "
                              f"of shape {input.shape} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):   # torch's message
            raise ShapeMismatch(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                                f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    if input.dtype == HALF:   # in float32, rounded once (half_opmath.py)
        w, b = (None if p is None else p.float() for p in (weight, bias))
        return opmath(input, lambda u: group_norm(u, num_groups, w, b, eps), "NativeGroupNormBackward0")
    # [N, G, C/G * prod(spatial)]: sized explicitly, as -1 cannot be worked out when N is 0
    x = input.reshape(n, num_groups, c // num_groups * int(np.prod(input.shape[2:], dtype=np.int64)))
    d = x - x.mean(-1, keepdim=True)
    x = (d / ((d * d).mean(-1, keepdim=True) + eps).sqrt()).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return named(x, "NativeGroupNormBackward0")


def threshold(input, threshold, value, inplace=False):
    """x, except value where x <= threshold (a nan stays nan, as torch's). An integer x stays
    integer: threshold and value truncated to integers, as torch's."""
    from tinygrad_seq.functional import _applied
    if input.dtype.kind not in "fc":
        threshold, value = integer_threshold_args(input, threshold, value)
    fn = lambda t: named(t.where(~(t <= threshold), value), "ThresholdBackward0")   # noqa: E731
    arr = input.array
    if inplace and type(arr) is np.ndarray and has_internal_overlap(arr.shape, arr.strides) and not input._in_graph():
        return write_elementwise_expanded(input, fn)   # torch's threshold_ skips the overlap check (an expand)
    return _applied(input, fn, inplace)


def rrelu(input, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al. 2015): in training each negative element's slope is drawn
    from U(lower, upper) (the same slope scales its gradient), in eval the slope is their mean."""
    from tinygrad_seq.functional import _applied, leaky_relu
    from tinygrad_seq import random
    require_float(input, "rrelu_with_noise")
    if lower > upper:
        raise InvalidArgument(f"rrelu: Lower bound should be less than or equal to the upper bound, got lower={lower} "
                              f"and upper={upper}")
    if not training:
        return named(leaky_relu(input, (lower + upper) / 2.0, inplace), f"RreluWithNoiseBackward{int(inplace)}")
    x = input.numpy()
    noise = np.ones(x.shape, input.dtype)   # torch's: a double uniform slope for each x <= 0, in order
    negative = x <= 0
    bounds = (float(np.asarray(b, input.dtype)) for b in (lower, upper))   # torch's bounds in opmath (float)
    noise[negative] = random.generator().stream.uniform(int(negative.sum()), *bounds, np.float64)
    return _applied(input, lambda t: named(t * t.new_tensor(noise), "RreluWithNoiseBackward0"), inplace)


def tanhshrink(input):
    return input - input.tanh()


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T W_o x2 + b_o, weight [out, in1, in2]; all of one dtype (torch's RuntimeError:
    a float32 input against a float64 weight used to give float64), not bool."""
    from tinygrad_seq.einsum import einsum
    operands = (("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias))
    if any(t is not None and t.dtype != input1.dtype for _, t in operands):
        got = ", ".join(f"{name}: {t.dtype}" for name, t in operands if t is not None)
        raise DTypeMismatch(f"bilinear: All tensors must have the same dtype, got {got}")
    if input1.dtype.kind == "b":
        raise NotImplementedError('"bmm" not implemented for \'Bool\'')
    _check_bilinear_shapes(input1, input2, weight, bias)
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is None:
        return y
    try:   # torch adds it in place: it must broadcast to y's shape
        fits = np.broadcast_shapes(y.shape, bias.shape) == y.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeMismatch(f"bilinear(): bias of shape {tuple(bias.shape)} does not broadcast to the output's "
                            f"shape {tuple(y.shape)}")
    return y + bias


def _check_bilinear_shapes(input1, input2, weight, bias):
    """torch's checks, in its order and words: input1 [*, in1] and input2 [*, in2] of the same
    batch dims, weight [out, in1, in2], bias [out]."""
    if input1.ndim != input2.ndim:
        raise ShapeMismatch(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise ShapeMismatch(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                                f"{input1.shape[i]} and {input2.shape[i]}")
    if input1.ndim == 0 or weight.ndim != 3:
        raise ShapeMismatch(f"bilinear(): expected inputs of at least 1 dim and a 3-D weight [out, in1, in2], got "
                            f"inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} and weight of shape "
                            f"{tuple(weight.shape)}")
    for k, x in ((1, input1), (2, input2)):
        if x.shape[-1] != weight.shape[k]:
            raise ShapeMismatch(f"bilinear(): input{k} size does not match weight size: got {x.shape[-1]} but "
                                f"expected {weight.shape[k]}")
    if bias is not None and (bias.ndim == 0 or bias.shape[0] != weight.shape[0]):
        got = bias.shape[0] if bias.ndim else "a 0-d bias"
        raise ShapeMismatch(f"bilinear(): bias size does not match weight size: got {got} but expected "
                            f"{weight.shape[0]}")


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); hard: the one-hot of its argmax, with the soft
    sample's gradient (straight-through)."""
    from tinygrad_seq import random
    from tinygrad_seq.functional import softmax
    if logits.dtype.kind not in "fc":   # torch draws its noise in the logits' dtype
        raise InvalidArgument("Exponential distribution is a continuous probability distribution. dtype must be a "
                              f"floating point but you specified {torch_type_name(logits.dtype)}")
    draws = random.generator().stream.exponential(logits.numel(), 1.0).astype(logits.dtype)   # torch's exponential_
    noise = -np.log(draws).reshape(logits.shape)
    y = softmax((logits + Tensor(noise, device=logits.device)) / tau, dim)
    if not hard:
        return y
    one_hot = np.zeros(y.shape, y.dtype) if y.ndim else np.ones((), y.dtype)   # (a 0-d sample is its own one-hot)
    if y.ndim:
        index = y.detach().numpy().argmax(dim)
        np.put_along_axis(one_hot, np.expand_dims(index, dim), 1.0, dim)
    return Tensor(one_hot, device=y.device) - y.detach() + y


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the rest by 1/(1-p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (2, 3):
        raise ShapeMismatch(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input")
    if not training or p == 0:
        return input
    from tinygrad_seq import random
    from tinygrad_seq.functional import _applied
    if input.dtype.kind not in "fc":
        return integer_dropout(input, p, inplace)
    shape = input.shape[:-1] + (1,)   # torch's feature noise: bernoulli_(1 - p) per channel
    keep = random.bernoulli_mask(1.0 - p, shape, input.dtype) if p < 1 else np.zeros(shape, input.dtype)
    return _applied(input, lambda t: t * Tensor(keep, device=t.device), inplace)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sum / mean / max of the embeddings of each bag: the rows of a 2-D input, or the
    segments of a 1-D input that offsets start; padding_idx entries are left out (an empty bag
    gives zeros), per_sample_weights scale them (mode 'sum'). One node (embedding_bag_op.py);
    torch's checks in its order (embedding_bag_checks.py), bags as its CPU kernels make them
    (embedding_bag_layout.py)."""
    from tinygrad_seq import embedding_bag_checks as checks
    from tinygrad_seq.embedding_bag_layout import bag_layout
    from tinygrad_seq.embedding_bag_op import bags
    checks.check_sample_weights_shape(per_sample_weights, input)
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    idx = input.numpy() if isinstance(input, Tensor) else np.asarray(input)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        if idx.shape[1] == 0:   # torch's arange(0, numel, 0)
            raise RuntimeError("step must be nonzero")
        starts, include_last_offset = np.arange(0, idx.size, idx.shape[1]), False
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = np.asarray(offsets.numpy() if isinstance(offsets, Tensor) else offsets)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    checks.check_index_dtypes(input, offsets if idx.ndim == 1 else None)
    flat = idx.reshape(-1).astype(np.int64)
    if max_norm is not None:   # torch's embedding_renorm_ of every row the input names, in place
        from tinygrad_seq.functional import _renorm_rows
        checks.check_indices_in_range(flat, weight.shape[0], False)
        _renorm_rows(weight, np.unique(flat), max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "the Pytorch GitHub.")
    checks.check_padding_idx(padding_idx, weight.shape[0])
    starts = starts.astype(np.int64)
    if idx.ndim == 1:
        checks.check_offsets(starts, flat.size, include_last_offset)
    checks.check_per_sample_weights_dtype(per_sample_weights, weight)
    fast = _torch_fast_bag_path(weight, mode, padding_idx)
    checks.check_indices_in_range(flat, weight.shape[0], fast)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    keep = flat != padding_idx if padding_idx is not None else np.ones(flat.size, bool)
    layout = bag_layout(starts, flat.size, include_last_offset, fast, mode, keep)
    return bags(weight, flat, layout, mode, per_sample_weights, scale_grad_by_freq)


# ------------------------------------------------------------------ losses
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    for position, (argument, x) in enumerate((("input1", input1), ("input2", input2), ("target", target)), 1):
        require_tensor_method(x, "dim", "margin_ranking_loss", argument, position)   # torch reads x.dim()
    # clamp_min(0), as torch's: at the hinge (== 0) the gradient passes, where relu's would not
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), _legacy(size_average, reduce, reduction))


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, margin - x) where target is -1, x where it is 1. An integer input stays integer,
    the margin truncated (torch's; its 'mean' then refuses, as torch's)."""
    require_tensor_argument(target, "hinge_embedding_loss", "target", 2)
    if input.dtype.kind not in "fc":
        margin, zero = int(margin), 0
    else:
        zero = 0.0
    margin_part = (margin - input).clamp(min=zero).where(target != 1, zero)   # torch's clamp_min: gradient at 0
    loss = margin_part + input.where(target != -1, zero)
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log1p(exp(-input * target)) computed so, in the input's dtype, as torch's (its in-place
    neg / mul_ / exp_ / log1p_ into the input's dtype): past exp's range (-y x > ~88 in float32)
    the loss is inf and its gradient nan, as torch's; an integer input refused, as torch's."""
    require_tensor_argument(target, "soft_margin_loss", "target", 2)
    if target.requires_grad and is_grad_enabled():   # torch's derivatives.yaml: target non-differentiable
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect to argument "
                           "'target'. This input cannot have requires_grad True.")
    if input.dtype.kind not in "fc":
        refuse_float_into(input)
    margin = -input * target
    margin = margin if margin.dtype == input.dtype else margin.to(dtype=input.dtype)
    loss = margin.exp().log1p()
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1; max(0, cos - margin) where it is -1 (torch's clamp_min:
    the gradient passes at cos == margin), 0 elsewhere (torch's where). target (N,) with inputs
    (N, D), or () with (D,), as torch's checks."""
    eps = float(np.float32(1e-12))   # torch's EPSILON, a float constant (9.99999996e-13 in float64)
    require_tensor_argument(target, "cosine_embedding_loss", "target", 3)
    if target.ndim > 1:
        raise ShapeMismatch("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise ShapeMismatch(f"{target.ndim}D target tensor expects {target.ndim + 1}D input tensors, but found "
                            f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = input1.ndim - 1
    cos = (input1 * input2).sum(dim) / (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    from tinygrad_seq.creation import zeros_like
    from tinygrad_seq.functions import where
    zeros = zeros_like(cos)
    loss = where(target == 1, 1 - cos, zeros) + where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    if margin <= 0:   # torch.nn.functional's check (torch.triplet_margin_loss has none)
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    return triplet_margin_loss_any_margin(anchor, positive, negative, margin, p, eps, swap,
                                          _legacy(size_average, reduce, reduction))


def triplet_margin_loss_any_margin(anchor, positive, negative, margin, p, eps, swap, reduction):
    """max(0, d(a, p) - d(a, n) + margin), reduced: ATen's form, which takes a margin <= 0."""
    from tinygrad_seq.functional_extra import pairwise_distance
    if not anchor.ndim == positive.ndim == negative.ndim:   # pairwise_distance would broadcast them
        raise ShapeMismatch(f"The anchor, positive, and negative tensors are expected to have the same number of "
                            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                            f"{negative.ndim}D inputs")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = d_an.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((d_ap - d_an + margin).relu(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    from tinygrad_seq.functional import logsigmoid
    require_tensor_or_number(target, "multilabel_soft_margin_loss", "target", 2)   # a number broadcasts, as torch's
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1   # torch's: input's last dim (a (C,) input with a (1, C) weight sums dim 0)
    return _reduce(loss.sum(dim=class_dim) / input.shape[class_dim], _legacy(size_average, reduce, reduction))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """sum_{i != y} max(0, margin - x[y] + x[i])^p / C per sample (weight[y] scales it)."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    require_tensor_argument(target, "multi_margin_loss", "target", 2)
    require_float(input, "multi_margin_loss_cpu_kernel")
    if weight is not None and weight.dtype != input.dtype:
        raise DTypeMismatch(f"expected scalar type {torch_type_name(input.dtype)} but found "
                            f"{torch_type_name(weight.dtype)}")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input.ndim == 2 else input.reshape(1, -1)   # a 1-D or 0-d input: one sample
    if target.dtype != np.int64:
        raise DTypeMismatch(f"expected scalar type Long but found {torch_type_name(target.dtype)}")
    if weight is not None and weight.numel() != x.shape[1]:
        raise ShapeMismatch(f"inconsistent weight size, expected {x.shape[1]} but got {list(weight.shape)}")
    y = target.numpy().reshape(-1).astype(np.int64)
    if ((y < 0) | (y >= x.shape[1])).any():   # torch's check and message
        raise IndexOutOfRange("target out of range")
    n, c = x.shape
    picked = x.gather(1, Tensor(y.reshape(-1, 1), device=x.device))
    terms = (margin - picked + x).relu()
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * weight.reshape(-1)[Tensor(y, device=x.device)].reshape(-1, 1)
    not_target = np.ones((n, c), x.dtype)
    not_target[np.arange(n), y] = 0
    loss = (terms * Tensor(not_target, device=x.device)).sum(1) / c
    loss = loss if input.ndim == 2 or target.ndim else loss.reshape(())   # 1-D input: the target's shape, as torch's
    return named(_reduce(loss, _legacy(size_average, reduce, reduction)), "MultiMarginLossBackward0")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    require_tensor_argument(target, "poisson_nll_loss", "target", 2)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:   # Stirling's term where target > 1, in the graph: target's gradient goes through it too.
        # torch's formula on the whole target, then masked. Where target <= 0 torch's gradient is nan
        # (0 * log 0 in its backward): the logs here take nan there instead of 0 or a negative, which
        # gives that nan without numpy's warnings (the loss there is the mask's 0)
        logged = target.masked_fill(target <= 0, math.nan) if target.dtype.kind == "f" else target
        stirling = target * logged.log() - target + (logged * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0.0)
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) (+ 0.5 log 2 pi); var
    broadcasts (one dim fewer, or a last dim of 1), as torch's. target may be a number or a numpy
    array (torch's input - target takes both); a list is refused, as torch's."""
    if not isinstance(target, np.ndarray):
        require_tensor_or_number(target, "gaussian_nll_loss", "target", 2)
    require_tensor_or_number(var, "gaussian_nll_loss", "var", 3)
    if isinstance(var, numbers.Number):
        var = Tensor(np.full(input.shape, var, input.dtype), device=input.device)
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:   # one dim fewer: a homoscedastic last dim
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(a != b for a, b in zip(input.shape, var.shape)) == 1
                  and all(b == 1 for a, b in zip(input.shape, var.shape) if a != b)):
            raise ValueError("var is of incorrect size")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
