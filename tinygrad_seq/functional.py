"""tinygrad_seq.functional: PyTorch's torch.nn.functional subset (softmax, losses, dropout, ...)."""
import numpy as np

from tinygrad_seq import random
from tinygrad_seq.autograd import Function
from tinygrad_seq.tensor import Tensor


def _dim(dim, ndim):
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"dimension {dim} out of range for a tensor of {ndim} dimensions")
    return dim % max(ndim, 1)


class _LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        out = ctx.b.log_softmax(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        B, (out,) = ctx.b, ctx.saved_tensors
        return B.sub(g, B.mul(B.exp(out), B.sum(g, axis=ctx.dim, keepdims=True)))


class _Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        out = ctx.b.softmax(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        B, (out,) = ctx.b, ctx.saved_tensors
        return B.mul(out, B.sub(g, B.sum(B.mul(g, out), axis=ctx.dim, keepdims=True)))


def softmax(x, dim):
    return _Softmax.apply(x, dim=_dim(dim, x.ndim))


def log_softmax(x, dim):
    return _LogSoftmax.apply(x, dim=_dim(dim, x.ndim))


def _check_targets(name, n_classes, n_rows, target, ignore_index):
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must be an integer tensor, got {target.dtype}")
    if target.shape != (n_rows,):
        raise ValueError(f"{name}: expected target of shape ({n_rows},), got {target.shape}")
    t = target.numpy()
    bad = t[((t < 0) | (t >= n_classes)) & (t != ignore_index)]
    if bad.size:
        raise IndexError(f"{name}: target {int(bad[0])} is out of bounds for {n_classes} classes")


class _NLL(Function):
    """Negative log likelihood of picked classes. x: (N, C) log-probabilities (or logits when
    from_logits: then the log_softmax is fused in and the gradient is softmax - onehot)."""
    @staticmethod
    def forward(ctx, x, target=None, ignore_index=-100, reduction="mean", from_logits=False):
        B = ctx.b
        lp = B.log_softmax(x, 1) if from_logits else x
        valid = B.ne(target, ignore_index)
        safe = B.where(valid, target, 0)
        w = B.astype(valid, x.dtype)
        losses = B.neg(B.mul(B.pick(lp, safe), w))                  # (N,)
        ctx.save_for_backward(lp, safe, w)
        ctx.reduction, ctx.from_logits = reduction, from_logits
        if reduction == "none":
            return losses
        total = B.sum(losses)
        if reduction == "sum":
            return total
        ctx.count = B.sum(w)
        return B.div(total, ctx.count)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        lp, safe, w = ctx.saved_tensors
        if ctx.reduction == "none":
            scale = B.mul(g, w)
        elif ctx.reduction == "sum":
            scale = B.mul(w, g)
        else:
            scale = B.mul(w, B.div(g, ctx.count))
        onehot = B.pick_backward(lp.shape, safe, B.ones(safe.shape, lp.dtype))  # (N, C)
        if ctx.from_logits:
            grad = B.sub(B.exp(lp), onehot)
        else:
            grad = B.neg(onehot)
        return B.mul(grad, B.reshape(scale, (-1, 1)))


def _loss_inputs(name, x, target):
    if x.ndim == 1:  # unbatched (C,) with a 0-d target
        return x.reshape(1, -1), target.reshape(1), True
    if x.ndim != 2:
        raise ValueError(f"{name}: expected input of shape (N, C) or (C,), got {x.shape}")
    return x, target, False


def cross_entropy(logits, target, ignore_index=-100, reduction="mean"):
    """Mean (or sum / per-row) of -log softmax(logits)[target]; rows whose target is
    ignore_index count neither in the sum nor in the mean's denominator (PyTorch)."""
    return _nll_common("cross_entropy", logits, target, ignore_index, reduction, True)


def nll_loss(input, target, ignore_index=-100, reduction="mean"):
    return _nll_common("nll_loss", input, target, ignore_index, reduction, False)


def _nll_common(name, x, target, ignore_index, reduction, from_logits):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target), device=x.device)
    x2, t2, unbatched = _loss_inputs(name, x, target)
    _check_targets(name, x2.shape[1], x2.shape[0], t2, ignore_index)
    out = _NLL.apply(x2, target=t2.array, ignore_index=ignore_index, reduction=reduction,
                     from_logits=from_logits)
    return out.reshape(()) if unbatched and reduction == "none" else out


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    d = (input - target) ** 2
    if reduction == "mean":
        return d.mean()
    if reduction == "sum":
        return d.sum()
    if reduction == "none":
        return d
    raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    mask = random.bernoulli_mask(1.0 - p, x.shape, x.dtype)
    return x * Tensor(mask, device=x.device)


def tanh(x):
    return x.tanh()


def sigmoid(x):
    return x.sigmoid()


def relu(x):
    return x.relu()


def linear(x, weight, bias=None):
    """x @ weight^T + bias; x (..., in), weight (out, in), bias (out,)."""
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}), "
                         f"weight expects {weight.shape[1]} (shape {weight.shape})")
    return _Linear.apply(x, weight, bias) if bias is not None else _Linear.apply(x, weight)


class _Linear(Function):
    """Fused x @ W^T (+ b): one node instead of three, no transposed copy of W."""
    @staticmethod
    def forward(ctx, x, w, b=None):
        B = ctx.b
        ctx.save_for_backward(x, w)
        out = B.matmul(x, B.transpose(w, (1, 0)))
        return out if b is None else B.add(out, b)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x, w = ctx.saved_tensors
        gx = B.matmul(g, w) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            g2 = B.reshape(g, (-1, g.shape[g.ndim - 1]))
            x2 = B.reshape(x, (-1, x.shape[x.ndim - 1]))
            gw = B.matmul(B.transpose(g2, (1, 0)), x2)
        if len(ctx.needs_input_grad) == 2:
            return gx, gw
        gb = B.sum(B.reshape(g, (-1, g.shape[g.ndim - 1])), axis=0) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


class _Embedding(Function):
    @staticmethod
    def forward(ctx, weight, idx=None, padding_idx=None):
        ctx.shape, ctx.idx, ctx.padding_idx = weight.shape, idx, padding_idx
        return ctx.b.take_rows(weight, idx)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.index_add_rows(ctx.shape, ctx.idx, g, ctx.padding_idx)


def embedding(input, weight, padding_idx=None):
    """Rows of weight (num, dim) picked by integer input (any shape) -> input.shape + (dim,).
    The padding_idx row gets no gradient."""
    idx = input if isinstance(input, Tensor) else Tensor(np.asarray(input), device=weight.device)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    num = weight.shape[0]
    host = idx.numpy()
    bad = host[(host < 0) | (host >= num)]
    if bad.size:
        raise IndexError(f"embedding: index {int(bad.flat[0])} is out of range for a table of {num} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return _Embedding.apply(weight, idx=idx.array, padding_idx=padding_idx)
