"""The loss functions of tinygrad_seq.functional (torch.nn.functional's): cross_entropy and
nll_loss as one fused Function, the regression losses and the binary cross-entropies."""
import warnings

import numpy as np

from tinygrad_seq import ops_extra
from tinygrad_seq.argument_types import require_loss_target, require_tensor_argument
from tinygrad_seq.autograd import Function
from tinygrad_seq.cross_entropy_cpu import logits_backward_cpu, logits_forward_cpu
from tinygrad_seq.loss_dtypes import (bce_operands, class_weight, huber_target, in_dtype_of, logits_loss_dtype,
                                      pointwise_difference)
from tinygrad_seq.loss_reduction import (check_reduction as _check_reduction, legacy_reduction as _legacy_reduction,
                                         reduce_loss as _reduce, refuse_grad_arguments)
from tinygrad_seq.loss_pieces import piecewise_quadratic
from tinygrad_seq.loss_weights import weighted_reduce
from tinygrad_seq.nll_shapes import check_nll_shapes
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional import log_softmax
from tinygrad_seq.functional_checks import require_float, torch_type_name
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.size import Size
from tinygrad_seq.tensor import Tensor

def _as_tensor(x, like):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x), device=like.device)


class _ClassNLL(Function):
    """Loss of picked classes over rows. x: (M, C) log-probabilities, or logits when from_logits
    (the log_softmax is fused in). target (M,) int; weight (C,) or None.

    loss_m = (1 - eps) * w[t_m] * -lp[m, t_m] + eps / C * sum_c w_c * -lp[m, c], 0 where
    t_m == ignore_index (PyTorch's label smoothing); 'mean' divides by sum_m w[t_m] over rows
    that are not ignored. The backward never builds a dense one-hot: it scales softmax by each
    row's total and subtracts at the target column only."""
    @staticmethod
    def forward(ctx, x, target=None, weight=None, ignore_index=-100, reduction="mean",
                smoothing=0.0, from_logits=False):
        B = ctx.b
        M, C = x.shape
        if from_logits and isinstance(x, np.ndarray):
            return logits_forward_cpu(ctx, x, target, weight, ignore_index, reduction, smoothing)
        lp = B.log_softmax(x, 1) if from_logits else x
        valid = B.astype(B.ne(target, ignore_index), x.dtype)          # (M,)
        safe = B.astype(B.mul(target, B.astype(valid, target.dtype)), target.dtype)
        rows = B.asarray(np.arange(M))
        wt = valid if weight is None else B.mul(B.getitem(weight, (safe,)), valid)   # (M,)
        kept = B.ne(valid, 0)   # an ignored row adds 0 whatever its values (nan or inf: not times 0)
        zero = B.zeros((M,), x.dtype)
        losses = B.where(kept, B.neg(B.mul(B.getitem(lp, (rows, safe)), wt)), zero)
        if smoothing:
            wl = lp if weight is None else B.mul(lp, weight)
            smooth = B.where(kept, B.neg(B.sum(wl, axis=1)), zero)
            losses = B.add(B.mul(losses, 1.0 - smoothing), B.mul(smooth, smoothing / C))
        ctx.save_for_backward(lp, safe, wt, valid)
        ctx.rows, ctx.weight, ctx.reduction = rows, weight, reduction
        ctx.smoothing, ctx.from_logits = smoothing, from_logits
        if reduction == "none":
            return losses
        total = B.sum(losses)
        if reduction == "sum":
            return total
        ctx.count = B.sum(wt)
        with np.errstate(invalid="ignore", divide="ignore"):   # every weight 0: nan, as torch's, no warning
            out = B.div(total, ctx.count)
            # torch divides the smoothing term by the weight sum apart: x / 0 is inf there, and
            # the total nan (0 / 0 from the class term)
            return B.add(out, B.div(B.sub(ctx.count, ctx.count), ctx.count)) if smoothing else out

    @staticmethod
    def backward(ctx, g):
        if getattr(ctx, "cpu_softmax", False):
            return logits_backward_cpu(ctx, g)
        if ctx.reduction == "mean" and isinstance(ctx.count, (np.ndarray, np.generic)) and not ctx.count:
            with np.errstate(invalid="ignore", divide="ignore"):   # weight sum 0: nan, as torch's, no warning
                return _ClassNLL._backward(ctx, g)
        return _ClassNLL._backward(ctx, g)

    @staticmethod
    def _backward(ctx, g):
        B = ctx.b
        lp, safe, wt, valid = ctx.saved_tensors
        M, C = lp.shape
        eps = ctx.smoothing
        if ctx.reduction == "none":
            s = g                                                        # (M,)
        elif ctx.reduction == "sum":
            s = B.mul(B.ones((M,), lp.dtype), g)
        else:   # count 0: ignored rows get 0 and the others g / 0 times a weight 0, nan (torch's)
            s = B.where(B.ne(valid, 0), B.mul(B.ones((M,), lp.dtype), B.div(g, ctx.count)), B.zeros((M,), lp.dtype))
        pick = B.mul(B.mul(s, wt), -(1.0 - eps))                         # dL/dlp at [m, t_m]
        col = B.reshape(B.mul(B.mul(s, valid), -eps / C), (M, 1))        # dense part, times w_c
        if ctx.from_logits:
            # dx = dlp - softmax * rowsum(dlp)
            rowsum = pick
            if eps:
                wsum = float(C) if ctx.weight is None else B.sum(ctx.weight)
                rowsum = B.add(pick, B.mul(B.reshape(col, (M,)), wsum))
            grad = B.mul(B.exp(lp), B.reshape(B.neg(rowsum), (M, 1)))
        else:
            grad = B.zeros((M, C), lp.dtype)
        if eps:
            grad = B.add(grad, col if ctx.weight is None else B.mul(col, ctx.weight))
        at = (ctx.rows, safe)
        B.setitem(grad, at, B.add(B.getitem(grad, at), pick))
        return grad


_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))   # torch's Long or Byte class indices


def _class_targets(name, x, target, ignore_index):
    """Rows (M, C) with the class dim last and targets (M,), for input (C,), (N, C) or
    (N, C, d1, ...) with target (), (N,) or (N, d1, ...); and the shape of 'none' losses. torch's
    order: cross_entropy's log_softmax checks x first, then nll_loss's shape checks, then its
    kernel's dtype checks."""
    if name == "cross_entropy":
        require_float(x, "log_softmax_lastdim_kernel_impl")
    check_nll_shapes(x, target)
    if target.dtype not in _TARGET_DTYPES:
        raise DTypeMismatch(f"expected target dtype to be Long or Byte, but got {torch_type_name(target.dtype)}")
    require_float(x, "nll_loss_out_frame")
    if x.ndim == 1:
        target = target.reshape(())   # torch takes a one-element 1-D target too
    want = () if x.ndim == 1 else (x.shape[0],) + tuple(x.shape[2:])
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    t = target.numpy()
    # every class in [0, C) in one pass (a negative int64 is huge unsigned); else the exact check
    if t.size and t.view(np.uint64 if t.dtype.itemsize == 8 else np.uint8).max() >= C:
        bad = t[((t < 0) | (t >= C)) & (t != ignore_index)]
        if bad.size:
            raise IndexError(f"{name}: target {int(bad.flat[0])} is out of bounds for {C} classes")
    if x.ndim == 1:
        return x.reshape(1, C), target.reshape(1), want
    if x.ndim == 2:   # (N, C) and (N,) as they are: no view nodes (torch's nll_loss has none)
        return x, target, want
    x = x.permute(0, *range(2, x.ndim), 1)   # (N, C, d1, ...): the classes last
    return x.reshape(-1, C), target.reshape(-1), want


def _check_weight(name, weight, C, like):
    if weight is None:
        return None
    weight = _as_tensor(class_weight(weight, like), like)
    _check_weight_shape(name, weight, C)
    return weight.array.astype(like.dtype, copy=False) if like.device == "cpu" else weight.array


def _check_weight_shape(name, weight, C):
    if tuple(weight.shape) != (C,):
        raise InvalidArgument(f"{name}: weight tensor should be defined either for all {C} classes or no classes "
                              f"(weight must have shape ({C},)) but got weight tensor of shape: {list(weight.shape)}")


def _smoothing(smoothing):
    """label_smoothing above 1 is refused; torch smooths only when it is > 0 (a negative one is
    no smoothing there, so here too)."""
    if smoothing > 1.0:
        raise InvalidArgument(f"label_smoothing must be between 0.0 and 1.0. Got: {smoothing}")
    return max(float(smoothing), 0.0)


def _class_loss(name, x, target, weight, ignore_index, reduction, smoothing, from_logits):
    _check_reduction(name, reduction)
    smoothing = _smoothing(smoothing)   # target: a Tensor (the callers checked it, with torch's names)
    x2, t2, shape = _class_targets(name, x, target, ignore_index)
    w = _check_weight(name, weight, x2.shape[1], x)
    out = _ClassNLL.apply(x2, target=t2.array, weight=w, ignore_index=ignore_index,
                          reduction=reduction, smoothing=float(smoothing), from_logits=from_logits)
    node = "AddBackward0" if smoothing else "NllLoss2DBackward0" if x.ndim > 2 else "NllLossBackward0"   # torch's
    return named(out.reshape(shape) if reduction == "none" else out, node)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """PyTorch's F.cross_entropy: log_softmax over dim 1 (dim 0 for unbatched (C,) input) and
    the negative log likelihood, fused. input (N, C) / (N, C, d1, ...) / (C,); target class
    indices (N,) / (N, d1, ...) / (), or class probabilities of input's shape."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    require_tensor_argument(target, "cross_entropy_loss", "target", 2)
    if tuple(target.shape) == tuple(input.shape):   # torch's test: probabilities (else class indices)
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing, ignore_index)
    return _class_loss("cross_entropy", input, target, weight, ignore_index, reduction,
                       label_smoothing, True)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """PyTorch's F.nll_loss: -input[n, target[n]] (weighted) over log-probabilities input."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    require_tensor_argument(target, "nll_loss_nd", "target", 2)
    return _class_loss("nll_loss", input, target, weight, ignore_index, reduction, 0.0, False)


def _soft_cross_entropy(x, target, weight, reduction, smoothing, ignore_index=-100):
    """Class-probability targets: -sum_c w_c * t_c * log_softmax(x)_c per sample."""
    name = "cross_entropy"
    _check_reduction(name, reduction)
    smoothing = _smoothing(smoothing)
    if target.dtype.kind != "f":   # of input's shape, so taken as probabilities: torch's error
        raise DTypeMismatch(f"Expected floating point type for target with class probabilities, got "
                            f"{torch_type_name(target.dtype)}")
    if ignore_index >= 0:
        raise InvalidArgument(f"{name}: ignore_index is not supported for floating point target (got {ignore_index})")
    if tuple(target.shape) != tuple(x.shape):
        raise DTypeMismatch(f"{name}: target must be integer class indices, or float class probabilities of the "
                            f"input's shape {x.shape}; got {target.dtype} of shape {tuple(target.shape)}")
    if x.ndim == 0:   # torch's IndexError, from its softmax over dim 1
        raise IndexError("Dimension specified as 1 but tensor has no dimensions (cross_entropy: a 0-d input has no "
                         "class dim)")
    dim = 0 if x.ndim == 1 else 1
    C = x.shape[dim]
    lp = log_softmax(x, dim)
    if smoothing and C:   # zero classes: the target is empty, nothing to smooth
        target = target * (1.0 - smoothing) + smoothing / C
    prod = lp * target
    if weight is not None:
        w = _as_tensor(weight, x)
        _check_weight_shape(name, w, C)
        prod = prod * w.reshape((C,) + (1,) * (x.ndim - dim - 1))
    per = -prod.sum(dim)
    if reduction == "mean" and x.numel() == 0:   # no classes or no samples: torch's -(sum.fill_(nan)), a -nan
        return -(prod.sum() * float("nan"))
    if reduction == "mean":   # torch's node: a division by a number (1 for an unbatched (C,) input)
        return named(per.sum() / (x.numel() // C), "DivBackward1")
    return -prod.sum() if reduction == "sum" else per   # torch's -(sum): -0. when empty, NegBackward0


def _same_shape(name, input, target, strict=False):
    """target as a Tensor. Shapes that differ but broadcast warn and broadcast, as torch's
    pointwise losses do; shapes that do not broadcast raise (a RuntimeError, as torch's).
    strict (the binary cross-entropies): any difference raises a ValueError, as torch's ([N, 1]
    outputs against [N] targets broadcast to [N, N] and gave a wrong loss)."""
    require_loss_target(target, name)   # a list, number or array: torch's AttributeError / TypeError
    if tuple(input.shape) != tuple(target.shape):
        if strict:   # torch's texts (torch.Size([25, 1])); binary_cross_entropy's calls the broadcast deprecated
            t, i = Size(target.shape), Size(input.shape)
            raise ValueError(f"Using a target size ({t!r}) that is different to the input size ({i!r}) is "
                             "deprecated. Please ensure they have the same size." if name == "binary_cross_entropy"
                             else f"Target size ({t!r}) must be the same as input size ({i!r})")
        # torch's text (a program's filterwarnings(message="Using a target size") matches), warned
        # before a shape that does not broadcast raises, as torch's
        warnings.warn(f"Using a target size ({Size(target.shape)!r}) that is different to the input size "
                      f"({Size(input.shape)!r}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise ShapeMismatch(f"{name}: input shape {tuple(input.shape)} and target shape "
                                f"{tuple(target.shape)} differ and do not broadcast") from None
    return target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("mse_loss", reduction)
    d = pointwise_difference("mse_cpu", input, _same_shape("mse_loss", input, target))
    return named(weighted_reduce(d * d, weight, input, reduction, _reduce), "MseLossBackward0")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("l1_loss", reduction)
    return weighted_reduce((input - _same_shape("l1_loss", input, target)).abs(), weight, input, reduction, _reduce)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is l1_loss)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise InvalidArgument(f"smooth_l1_loss does not support negative values for beta (got {beta}).")
    d = pointwise_difference("smooth_l1_cpu", input, _same_shape("smooth_l1_loss", input, target))
    if beta == 0:
        return named(_reduce(d.abs(), reduction), "SmoothL1LossBackward0")
    return named(_reduce(piecewise_quadratic(d, beta, beta, 0.5 * beta, 1.0), reduction), "SmoothL1LossBackward0")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1_loss times delta."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise InvalidArgument(f"huber_loss does not support non-positive values for delta (got {delta}).")
    d = input - huber_target(input, _same_shape("huber_loss", input, target))
    pointwise = piecewise_quadratic(d, delta, 1.0, 0.5 * delta, delta)
    return named(weighted_reduce(in_dtype_of(pointwise, input), weight, input, reduction, _reduce,
                                 by_weight_sum=False), "HuberLossBackward0")


_BCE_EPSILON = float(np.float32(1e-12))


class _BCE(Function):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100 as PyTorch's; x in [0, 1]."""
    @staticmethod
    def forward(ctx, x, t):
        B = ctx.b
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 as PyTorch's
            lx = B.clip(B.log(x), -100.0, None)
            l1x = B.clip(B.log(B.sub(1.0, x)), -100.0, None)
        ctx.save_for_backward(x, t, lx, l1x)
        return B.neg(B.add(B.mul(t, lx), B.mul(B.sub(1.0, t), l1x)))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x, t, lx, l1x = ctx.saved_tensors
        # PyTorch's: g (x - t) / max(x (1 - x), EPSILON), its EPSILON a float (9.99999996e-13 in float64)
        gx = B.div(B.mul(g, B.sub(x, t)), B.clip(B.mul(x, B.sub(1.0, x)), _BCE_EPSILON, None))
        if not ctx.needs_input_grad[1]:
            return gx, None
        with np.errstate(divide="ignore"):   # torch's -logit(x), unclamped: +-inf at x = 0 / 1
            return gx, B.mul(g, B.neg(B.log(B.div(x, B.sub(1.0, x)))))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    target = _same_shape("binary_cross_entropy", input, target, strict=True)
    refuse_grad_arguments("binary_cross_entropy", weight=weight)
    bce_operands(input, target)
    x, t = input.numpy(), target.numpy()   # both in [0, 1], nan refused: one min and one max of the pair
    if not (np.minimum.reduce(np.minimum(x, t), axis=None, initial=0.0) >= 0
            and np.maximum.reduce(np.maximum(x, t), axis=None, initial=1.0) <= 1):
        bad = "input" if not ((x >= 0) & (x <= 1)).all() else "target"   # (the slow test names the culprit)
        raise InvalidArgument(f"binary_cross_entropy: all elements of {bad} should be between 0 and 1"
                              + (" (pass logits to binary_cross_entropy_with_logits)" if bad == "input" else ""))
    loss = _BCE.apply(input, target)
    if weight is not None:   # the loss keeps the input's dtype, as torch's
        loss = in_dtype_of(loss * _as_tensor(weight, input), input)
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """sigmoid and binary cross-entropy in one stable formula:
    (1 - t) x + (1 + (pos_weight - 1) t) (log(1 + exp(-|x|)) + max(-x, 0))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _same_shape("binary_cross_entropy_with_logits", input, target, strict=True)
    refuse_grad_arguments("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    dtype = logits_loss_dtype(input, target)
    softplus_neg = ops_extra.Softplus.apply(-input)    # log(1 + exp(-x)); its gradient 0.5 at 0, as torch's
    if pos_weight is not None:
        lw = (_as_tensor(pos_weight, input) - 1.0) * target + 1.0
        loss = (1.0 - target) * input + lw * softplus_neg
    else:
        loss = (1.0 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * _as_tensor(weight, input)
    return named(_reduce(loss if loss.dtype == dtype else loss.to(dtype=dtype), reduction),
                 "BinaryCrossEntropyWithLogitsBackward0")
