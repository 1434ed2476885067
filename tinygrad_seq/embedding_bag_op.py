"""F.embedding_bag as one node (torch's EmbeddingBagBackward0): the bags' sums / means / maxima of
the weight's rows in one pass over the indices (kernels/bags_cpu.py), the gradient scattered into
a dense (num_embeddings, D) weight gradient in one more, and the per-sample weights' gradient
(each index's bag gradient dotted with its row). Which bag each index goes to, forward and
backward, is embedding_bag_layout.py's (torch's CPU kernels' rules, quirks included).

A bag loop of index_select + sum per bag made ~4 nodes per bag and a zero gradient of every
looked-up row per bag in the backward. float16 weights are summed in float32 and rounded once,
as torch's kernel accumulates. A create_graph=True backward gives the gradients torch's does,
whose own backward raises torch's errors (torch has no derivative of _embedding_bag_backward)."""
import numpy as np

from tinygrad_seq import autograd
from tinygrad_seq.autograd import Function
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.recompose import DIRECT

_kernels = []   # [kernels.bags_cpu], imported on first use (it imports numba)


def _bags_cpu(dtype):
    """kernels.bags_cpu, saying so when its first compile for dtype on this machine runs."""
    if not _kernels:
        from tinygrad_seq.kernels import bags_cpu
        _kernels.append(bags_cpu)
    from tinygrad_seq.kernels.compile_notice import announce
    k = _kernels[0]
    announce("the embedding_bag CPU kernels", dtype, (k.bag_sum, k.bag_max, k.bag_sum_backward, k.bag_max_backward))
    return k


def _work(a):
    """a as the kernels take it: C-contiguous float32 (for float16) or float64 / float32."""
    return np.ascontiguousarray(a, dtype=np.float32 if a.dtype == np.float16 else a.dtype)


class EmbeddingBag(Function):
    """weight [N, D] (and per_sample_weights [n]) -> [B, D]. flat [n] int64: the indices;
    layout: embedding_bag_layout.Layout; mode 'sum' / 'mean' / 'max'; by_freq: each row's
    gradient over its count in flat."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, weight, *sample_weights, flat=None, layout=None, mode="sum", by_freq=False):
        w = ctx.b.to_host(weight)
        work = _work(w)
        kernels = _bags_cpu(work.dtype)
        out = np.zeros((layout.num_bags, w.shape[1]), work.dtype)
        ctx.flat, ctx.layout, ctx.mode, ctx.by_freq, ctx.argpos = flat, layout, mode, by_freq, None
        ctx.weight_shape, ctx.dtype = w.shape, w.dtype
        psw = _work(ctx.b.to_host(sample_weights[0])) if sample_weights else None
        if mode == "max":
            ctx.argpos = np.full(out.shape, -1, np.int64)   # [B, D] the position each maximum came from
            kernels.bag_max(work, flat, layout.forward_bag, out, ctx.argpos)
        else:
            scale = psw if psw is not None else np.ones(flat.size, work.dtype)
            kernels.bag_sum(work, flat, layout.forward_bag, scale, out)
            if mode == "mean":   # torch's forward clamps the bag sizes at 1
                out /= np.maximum(layout.sizes, 1).astype(work.dtype)[:, None]
        needs = ctx.needs_input_grad
        # the weight's values for the per-sample weights' gradient; those weights for the weight's
        ctx.save_for_backward(w if len(needs) > 1 and needs[1] else None, psw)
        return ctx.b.asarray(out.astype(w.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        w_saved, psw = ctx.saved_tensors
        flat, layout = ctx.flat, ctx.layout
        gh = _work(ctx.b.to_host(g))
        kernels = _bags_cpu(gh.dtype)
        dtype, num_rows = ctx.dtype, ctx.weight_shape[0]
        g_weight = g_psw = None
        if ctx.needs_input_grad[0]:
            dense = np.zeros((num_rows, gh.shape[1]), gh.dtype)
            if ctx.mode == "max":
                kernels.bag_max_backward(gh, _max_rows(flat, ctx.argpos, layout.sizes), dense)
            else:
                scale = psw if psw is not None else np.ones(flat.size, gh.dtype)
                # mean's backward divides by the sizes as they are (0 taken as 1); sum's by 1
                sizes = layout.sizes if ctx.mode == "mean" else np.ones(layout.num_bags, np.int64)
                kernels.bag_sum_backward(gh, flat, layout.backward_bag, scale,
                                         np.where(sizes == 0, 1, sizes).astype(gh.dtype), dense)
            if ctx.by_freq and flat.size:
                counts = np.bincount(flat, minlength=num_rows)
                dense /= np.maximum(counts, 1).astype(gh.dtype)[:, None]
            g_weight = ctx.b.asarray(dense.astype(dtype, copy=False))
        if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
            g_psw = np.zeros(flat.size, gh.dtype)
            kernels.bag_sample_weight_grads(gh, _work(w_saved), flat, layout.backward_bag, g_psw)
            g_psw = ctx.b.asarray(g_psw.astype(dtype, copy=False))
        return (g_weight, g_psw) if len(ctx.needs_input_grad) > 1 else g_weight


def _max_rows(flat, argpos, sizes):
    """[B, D] int64: the weight row each bag maximum's gradient goes to (-1: none), as torch's
    max_indices: none for a bag of size 0; row 0 for an empty bag of another size (decreasing
    offsets make those)."""
    rows = np.where(argpos >= 0, flat[np.maximum(argpos, 0)] if flat.size else 0, 0)
    rows[sizes == 0] = -1
    return np.ascontiguousarray(rows, dtype=np.int64)


class _NoDerivative(Function):
    """A gradient of an EmbeddingBag node under create_graph=True: its value, with the inputs it
    depends on as parents; differentiating it raises torch's error."""
    @staticmethod
    def forward(ctx, *inputs, value=None, error=None):
        ctx.error = error
        return value

    @staticmethod
    def backward(ctx, g):
        raise ctx.error


def graph_backward(ctx, ps, grads):
    """The create_graph=True backward (recompose.DIRECT): the first-order gradients, each made by
    a node that torch cannot differentiate: the weight's depends on the output's gradient and the
    per-sample weights (torch's EmbeddingBagBackwardBackward0), theirs on it and the weight."""
    g = grads[0]
    if g is None:
        return (None,) * len(ps)
    with autograd.no_grad():
        arrays = EmbeddingBag.backward(ctx, g.array)
    arrays = arrays if type(arrays) is tuple else (arrays,)
    weight, psw = ps[0], (ps[1] if len(ps) > 1 else None)
    made = []
    for k, array in enumerate(arrays):
        if array is None:
            made.append(None)
            continue
        deps = [t for t in ((g, psw) if k == 0 else (g, weight)) if t is not None and t.requires_grad]
        if not deps:
            made.append(autograd._Tensor._wrap(array, ctx.device))
        elif k == 0:
            error = NotImplementedError("the derivative for '_embedding_bag_backward' is not implemented.")
            made.append(named(_NoDerivative.apply(*deps, value=array, error=error), "EmbeddingBagBackwardBackward0"))
        else:
            error = RuntimeError("derivative for aten::_embedding_bag_per_sample_weights_backward is not implemented")
            made.append(named(_NoDerivative.apply(*deps, value=array, error=error), "NotImplemented"))
    return tuple(made)


DIRECT[EmbeddingBag] = graph_backward


def bags(weight, flat, layout, mode, per_sample_weights=None, scale_grad_by_freq=False):
    """The (B, D) Tensor of F.embedding_bag: weight [N, D], flat [n] int64 (checked),
    layout from embedding_bag_layout.bag_layout, per_sample_weights [n] or None."""
    inputs = (weight,) if per_sample_weights is None else (weight, per_sample_weights.reshape(-1))
    out = EmbeddingBag.apply(*inputs, flat=flat, layout=layout, mode=mode, by_freq=bool(scale_grad_by_freq))
    return named(out, "EmbeddingBagBackward0")
