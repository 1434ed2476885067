"""Fused ops as compositions of the primitive ops, for the create_graph=True backward
(higher_order.py): each function takes a node and its inputs (Tensors) and recomputes the
node's outputs with differentiable ops, whose nested sweep gives gradients with graphs. The
fused recurrent layers recompose into their reference (cellspec.run_sequence)."""
import string

import numpy as np

from tinygrad_seq import autograd, cellspec, functional, losses, ops, ops_extra, recurrent
from tinygrad_seq.activation_nodes import Prelu, prelu_graph_backward
from tinygrad_seq.batch_norm_node import BatchNormFunction
from tinygrad_seq.cdist_mm import EuclideanDist, euclidean_dist_graph_backward
from tinygrad_seq.einsum import Einsum
from tinygrad_seq.layer_norm_node import LayerNormFunction
from tinygrad_seq.functional_2d import Col2Im, Im2Col, col2im_graph_backward, im2col_graph_backward
from tinygrad_seq.functions_numeric import Frexp, frexp_graph_backward
from tinygrad_seq.host_derivatives import logcumsumexp_graph_backward, special_unary_graph_backward
from tinygrad_seq.linalg_graph_backward import LINALG_GRAPH_BACKWARD
from tinygrad_seq.linalg_norms import VectorNorm, vector_norm_graph_backward
from tinygrad_seq.no_graph import NoGraph  # noqa: F401 (re-exported: higher_order, saved_as_tensors)
from tinygrad_seq.pad_sequence_op import PadSequence, pad_sequence_graph_backward
from tinygrad_seq.ops_host import LogCumSumExp
from tinygrad_seq.ops_special import LogitWithEps, Polygamma, SpecialUnary, logit_graph_backward, polygamma_graph_backward
from tinygrad_seq.recompose_2d import RECOMPOSE_2D


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
        x = x.unsqueeze(0) if ctx.one_step_input else x   # a cell's step (B, I): a sequence of one
        name = ("rnn_relu" if ctx.relu else "rnn_tanh") if cell == "rnn" else cell
        H = w_hh.shape[-1]
        states = [s.reshape(s.shape[-2], H) if ctx.layered else s for s in states]
        params = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
        lengths = np.full(x.shape[1], x.shape[0], np.int64) if ctx.lengths is None else np.asarray(ctx.lengths)
        y, finals = cellspec.run_sequence(CELLS[name], params, x, states, H, lengths, ctx.reverse)
        return (y, *[f.reshape(1, *f.shape) if ctx.layered else f for f in finals])
    return recompose


def _cell(ctx, ps):
    """A generated cell's fused call (recurrent.CellFunction) as its reference composition: the
    step of its description once per time step (cellspec.run_sequence), from the call's inputs
    (x, the entering states, weight_ih, the product weights, the pointwise parameters)."""
    if ctx.spec is None:
        raise NoGraph()
    L = ctx.kern.LAYOUT
    S, mats = ctx.n_states, list(ctx.mats)
    x, states = ps[0], list(ps[1:1 + S])
    x = x.unsqueeze(0) if ctx.one_step_input else x
    names = [L["w_ih"], *mats, *(name for name, _ in L["pv_names"])]
    params = dict(zip(names, ps[1 + S:]))
    H = states[0].shape[-1]
    states = [s.reshape(s.shape[-2], H) if ctx.layered else s for s in states]
    ext = None if ctx.ext is None else autograd._Tensor._wrap(ctx.ext, x.device)
    y, finals = cellspec.run_sequence(ctx.spec, params, x, states, H, np.asarray(ctx.lengths), ctx.reverse, ext)
    return (y, *[f.reshape(1, *f.shape) if ctx.layered else f for f in finals])


RECOMPOSE = {
    losses._ClassNLL: _class_nll,
    functional._Embedding: _embedding,
    LayerNormFunction: _layer_norm,
    BatchNormFunction: _batch_norm,
    recurrent.LSTMFunction: _recurrent("lstm"),
    recurrent.GRUFunction: _recurrent("gru"),
    recurrent.RNNFunction: _recurrent("rnn"),
    recurrent.CellFunction: _cell,
    ops_extra.ReciprocalTimes: lambda ctx, ps: ops_extra.Reciprocal.apply1(ps[0]) * ctx.number,
    **RECOMPOSE_2D,
}


def _einsum_backward(ctx, ps, grads):
    """Einsum's gradients as einsums of the Tensors (its backward, einsum.py, on arrays): the
    gradient of operand k contracts g with the other operands onto k's letters (a letter repeated
    in operand k, a diagonal, once: the result then goes onto that diagonal)."""
    g, terms, grads_out = grads[0], ctx.terms, []
    for k, need in enumerate(ctx.needs_input_grad):
        if not need:
            grads_out.append(None)
            continue
        spelled = terms[k]
        target = "".join(dict.fromkeys(spelled))   # a repeated letter once
        sizes = {c: ps[k].shape[spelled.index(c)] for c in target}
        others = [t for j, t in enumerate(terms) if j != k]
        given = set(ctx.out).union(*others)
        kept = "".join(c for c in target if c in given)
        part = Einsum.apply(g, *[p for j, p in enumerate(ps) if j != k], terms=(ctx.out, *others), out=kept)
        if kept != target:   # letters only operand k has: summed away, so the gradient is constant along them
            part = part.reshape(tuple([part.shape[kept.index(c)] if c in kept else 1 for c in target]))
        shape = tuple(sizes[c] for c in target)
        if tuple(part.shape) != shape:
            part = part.expand(*np.broadcast_shapes(tuple(part.shape), shape))
        if target != spelled:
            part = _onto_diagonal(part, target, spelled, "".join(terms) + ctx.out)
        grads_out.append(part)
    return tuple(grads_out)


def _onto_diagonal(part, target, spelled, taken):
    """part (over target: operand spelled's letters, each once) on spelled's diagonals, zeros
    elsewhere ("ii": part's i-th entry at [i, i]), as an einsum with constant 0/1 deltas, one per
    repeated letter over its occurrences (each after the first renamed to an unused letter), so
    the result keeps part's graph."""
    fresh = iter(c for c in string.ascii_letters if c not in taken)
    renamed, deltas, delta_terms = [], [], []
    for c in target:
        count = spelled.count(c)
        if count == 1:
            continue
        letters = c + "".join(next(fresh) for _ in range(count - 1))
        n = part.shape[target.index(c)]
        delta = np.zeros((n,) * count, part.dtype)
        delta[(np.arange(n),) * count] = 1
        deltas.append(autograd._Tensor._wrap(delta, part.device))
        delta_terms.append(letters)
    seen = {c: iter(t) for c, t in zip((t[0] for t in delta_terms), delta_terms)}
    renamed = "".join(next(seen[c]) if c in seen else c for c in spelled)
    return Einsum.apply(part, *deltas, terms=(target, *delta_terms), out=renamed)


# op -> fn(ctx, inputs, output gradients) -> input gradients, with graphs
DIRECT = {Einsum: _einsum_backward, Prelu: prelu_graph_backward, VectorNorm: vector_norm_graph_backward,
          Polygamma: polygamma_graph_backward, LogitWithEps: logit_graph_backward, Frexp: frexp_graph_backward,
          PadSequence: pad_sequence_graph_backward, EuclideanDist: euclidean_dist_graph_backward,
          Im2Col: im2col_graph_backward, Col2Im: col2im_graph_backward, LogCumSumExp: logcumsumexp_graph_backward,
          SpecialUnary: special_unary_graph_backward, **LINALG_GRAPH_BACKWARD}
