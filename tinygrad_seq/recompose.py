"""Fused ops as compositions of the primitive ops, for the create_graph=True backward
(higher_order.py): each function takes a node and its inputs (Tensors) and recomputes the
node's outputs with differentiable ops, whose nested sweep gives gradients with graphs. The
fused recurrent layers recompose into their reference (cellspec.run_sequence)."""
import numpy as np

from tinygrad_seq import autograd, cellspec, functional, losses, ops, ops_extra, recurrent
from tinygrad_seq.activation_nodes import Prelu, prelu_graph_backward
from tinygrad_seq.batch_norm_node import BatchNormFunction
from tinygrad_seq.einsum import Einsum
from tinygrad_seq.layer_norm_node import LayerNormFunction
from tinygrad_seq.linalg_norms import VectorNorm
from tinygrad_seq.recompose_2d import RECOMPOSE_2D


class NoGraph(Exception):
    """This node's call cannot be recomposed (an option the composition lacks): the node runs
    first-order only."""


class NormalCdf(autograd.Function):
    """Phi(x), the standard normal CDF (the exact GELU's factor), on the host via scipy."""
    @staticmethod
    def forward(ctx, x):
        from scipy.special import erf
        h = ctx.b.to_host(x)
        ctx.save_for_backward(x)
        return ctx.b.asarray((0.5 * (1.0 + erf(h / np.sqrt(2.0)))).astype(h.dtype))

    @staticmethod
    def backward(ctx, g):
        B, (x,) = ctx.b, ctx.saved_tensors
        return B.mul(g, B.mul(B.exp(B.mul(B.mul(x, x), -0.5)), 1.0 / np.sqrt(2.0 * np.pi)))


def _class_nll(ctx, ps):
    """_ClassNLL's loss from its input with the primitive ops (losses.py, forward)."""
    x = ps[0]
    lp_saved, safe, wt, valid = ctx.saved_tensors
    M, C = x.shape
    from_logits = getattr(ctx, "cpu_softmax", False) or ctx.from_logits   # losses._logits_forward_cpu's
    lp = ops_extra.LogSoftmax.apply(x, dim=1) if from_logits else x
    picked = ops.GetItem.apply(lp, idx=(ctx.rows, safe), advanced=True)
    out = -(picked * autograd._Tensor._wrap(wt, x.device))
    eps = ctx.smoothing
    if eps:
        wl = lp if ctx.weight is None else lp * autograd._Tensor._wrap(ctx.weight, x.device)
        smooth = -(wl.sum(1) * autograd._Tensor._wrap(valid, x.device))
        out = out * (1.0 - eps) + smooth * (eps / C)
    if ctx.reduction == "none":
        return out
    if ctx.reduction == "sum":
        return out.sum()
    if isinstance(ctx.count, (np.ndarray, np.generic)) and not ctx.count:
        # weight sum 0 (every row ignored, or weights 0): as torch's backward, an ignored row's
        # gradient is 0 and the others' g / 0 (nan), where total / 0 made every one nan
        scale = np.where(np.asarray(valid) != 0, np.inf, 0.0).astype(np.asarray(valid).dtype)
        return (out * autograd._Tensor._wrap(scale, x.device)).sum()
    return out.sum() / float(ctx.count)


def _vector_norm(ctx, ps):
    x = ps[0]
    p = ctx.ord
    if p == 2:
        out = ops_extra.Root.apply((x * x).sum(ctx.dims, keepdim=True), p=2.0)
    elif p == 1:
        out = x.abs().sum(ctx.dims, keepdim=True)
    elif p == np.inf:
        out = ops.Max.apply(x.abs(), axis=ctx.dims, keepdim=True)
    elif p == -np.inf:
        out = -ops.Max.apply(-x.abs(), axis=ctx.dims, keepdim=True)
    elif p > 0:
        out = ops_extra.Root.apply((x.abs() ** p).sum(ctx.dims, keepdim=True), p=float(p))
    else:
        raise NoGraph()
    shape = ctx.saved_tensors[1].shape
    return out.reshape(shape)


def _embedding(ctx, ps):
    """The rows picked from the weight; the padding row's copies carry no gradient."""
    if ctx.by_freq:
        raise NoGraph()
    w = ps[0]
    idx = ctx.b.to_host(ctx.idx) if hasattr(ctx.b, "to_host") else ctx.idx
    rows = ops.GetItem.apply(w, idx=(np.asarray(idx),), advanced=True)
    if ctx.padding_idx is None:
        return rows
    keep = (np.asarray(idx) != ctx.padding_idx)[..., None]
    return ops.Where.apply(rows, rows.detach(), cond=keep)


def _layer_norm(ctx, ps):
    """LayerNormFunction as its reference composition (functional_extra.layer_norm_composite)."""
    from tinygrad_seq.functional_extra import layer_norm_composite
    rest = list(ps[1:])
    weight = rest.pop(0) if ctx.has_weight else None
    bias = rest.pop(0) if ctx.has_bias else None
    return layer_norm_composite(ps[0], ctx.params_shape, weight, bias, ctx.eps)


def _batch_norm(ctx, ps):
    """BatchNormFunction as its composition: the batch's statistics per channel, normalized."""
    from tinygrad_seq.functional_extra import normalized
    x, rest = ps[0], list(ps[1:])
    weight = rest.pop(0) if ctx.has_weight else None
    bias = rest.pop(0) if ctx.has_bias else None
    dims = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    return normalized(x, mean, var, weight, bias, ctx.eps, (1, x.shape[1]) + (1,) * (x.ndim - 2))


def _recurrent(cell):
    """A fused LSTM / GRU / RNN call as its reference composition (cellspec.run_sequence) from
    the call's inputs (x, h0[, c0], w_ih, w_hh, b_ih, b_hh): its outputs (y, h_n[, c_n])."""
    def recompose(ctx, ps):
        from tinygrad_seq.cell_library import CELLS
        n_states = 2 if cell == "lstm" else 1
        x, states, (w_ih, w_hh, b_ih, b_hh) = ps[0], list(ps[1:1 + n_states]), ps[1 + n_states:]
        name = ("rnn_relu" if ctx.relu else "rnn_tanh") if cell == "rnn" else cell
        H = w_hh.shape[-1]
        states = [s.reshape(s.shape[-2], H) if ctx.layered else s for s in states]
        params = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
        y, finals = cellspec.run_sequence(CELLS[name], params, x, states, H, np.asarray(ctx.lengths), ctx.reverse)
        return (y, *[f.reshape(1, *f.shape) if ctx.layered else f for f in finals])
    return recompose


RECOMPOSE = {
    losses._ClassNLL: _class_nll,
    VectorNorm: _vector_norm,
    functional._Embedding: _embedding,
    LayerNormFunction: _layer_norm,
    BatchNormFunction: _batch_norm,
    recurrent.LSTMFunction: _recurrent("lstm"),
    recurrent.GRUFunction: _recurrent("gru"),
    recurrent.RNNFunction: _recurrent("rnn"),
    **RECOMPOSE_2D,
}


def _einsum_backward(ctx, ps, grads):
    """Einsum's gradients as einsums of the Tensors (its backward, einsum.py, on arrays): the
    gradient of operand k contracts g with the other operands onto k's letters. A letter
    repeated in one operand (a diagonal) has no graph here."""
    g, terms, grads_out = grads[0], ctx.terms, []
    for k, need in enumerate(ctx.needs_input_grad):
        if not need:
            grads_out.append(None)
            continue
        spelled = terms[k]
        if len(set(spelled)) != len(spelled):
            raise NoGraph()
        others = [t for j, t in enumerate(terms) if j != k]
        given = set(ctx.out).union(*others)
        kept = "".join(c for c in spelled if c in given)
        part = Einsum.apply(g, *[p for j, p in enumerate(ps) if j != k], terms=(ctx.out, *others), out=kept)
        shape = tuple(ps[k].shape)
        if kept != spelled:   # letters only operand k has: summed away, so the gradient is constant along them
            part = part.reshape(tuple([part.shape[kept.index(c)] if c in kept else 1 for c in spelled]))
        if tuple(part.shape) != shape:
            part = part.expand(*np.broadcast_shapes(tuple(part.shape), shape))
        grads_out.append(part)
    return tuple(grads_out)


# op -> fn(ctx, inputs, output gradients) -> input gradients, with graphs
DIRECT = {Einsum: _einsum_backward, Prelu: prelu_graph_backward}
