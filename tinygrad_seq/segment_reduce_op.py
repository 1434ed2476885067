"""torch.segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
unsafe=False, initial=None), as torch 2.13's CPU kernels: the segments of data along axis that
lengths (or offsets) give, per row of the leading dims (lengths [*data.shape[:axis], S], offsets
[..., S + 1]), reduced by sum / mean / max / min / prod -> [*data.shape[:axis], S,
*data.shape[axis+1:]]. initial joins every segment (mean: (initial + sum) / length) and fills an
empty one; without it an empty segment is 0 (sum), 1 (prod), -inf (max), inf (min), nan (mean).
A nan propagates. Backward as torch's: sum g, mean g / length, max / min g to the elements
equal to the result (or nan), over their count where g > 0 (torch's kernel divides only there),
prod g * result / element, or g times the product of the others (initial included) for an
element that is 0 or nan."""
import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.grad_fn_names import named

_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
_EMPTY = {"sum": 0.0, "mean": np.nan, "prod": 1.0, "max": -np.inf, "min": np.inf}
_NAMES = {"amax": "max", "amin": "min"}


def _segments(offsets, length):
    """Per segment (flattened over the leading rows): its start in data's rows flattened to
    [P * length] and its length (>= 0). offsets [P, S + 1] int64."""
    rows = np.arange(offsets.shape[0], dtype=np.int64)[:, None] * length
    starts = (offsets[:, :-1] + rows).reshape(-1)
    return starts, np.maximum((offsets[:, 1:] - offsets[:, :-1]).reshape(-1), 0)


class SegmentReduce(Function):
    """data, seen as [P, L, R] (leading dims, axis, trailing dims flattened) -> out_shape
    ([P * S, R] in memory)."""
    @staticmethod
    def forward(ctx, data, reduce="sum", offsets=None, initial=None, rows=(), out_shape=()):
        x = ctx.b.to_host(data)
        work = (x.astype(np.float32) if x.dtype == np.float16 else x).reshape(rows)
        P, L, R = rows
        starts, lengths = _segments(offsets, L)
        flat = np.concatenate([work.reshape(P * L, R), np.zeros((1, R), work.dtype)])   # a row for ends == P * L
        out = np.full((starts.size, R), _EMPTY[reduce] if initial is None else initial, work.dtype)
        full = lengths > 0
        if full.any():
            bounds = np.stack([starts[full], starts[full] + lengths[full]], -1).reshape(-1)
            part = _UFUNC[reduce].reduceat(flat, bounds, axis=0)[::2]
            if initial is not None:
                part = _UFUNC[reduce](part, work.dtype.type(initial))
            if reduce == "mean":
                part = part / lengths[full][:, None].astype(work.dtype)
            out[full] = part
        ctx.reduce, ctx.initial, ctx.starts, ctx.lengths = reduce, initial, starts, lengths
        ctx.shape, ctx.dtype = x.shape, x.dtype
        ctx.save_for_backward(work, out)
        return ctx.b.asarray(out.astype(x.dtype).reshape(out_shape))

    @staticmethod
    def backward(ctx, g):
        work, out = ctx.saved_tensors
        P, L, R = work.shape
        gh = np.asarray(ctx.b.to_host(g), dtype=work.dtype).reshape(out.shape)
        starts, lengths = ctx.starts, ctx.lengths
        seg = np.repeat(np.arange(starts.size), lengths)   # each element's segment
        first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        pos = np.repeat(starts, lengths) + np.arange(seg.size) - first   # its row in [P * L]
        vals, gs = work.reshape(P * L, R)[pos], gh[seg]
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.reduce == "sum":
                part = gs
            elif ctx.reduce == "mean":
                part = gs / lengths[seg][:, None].astype(work.dtype)
            elif ctx.reduce in ("max", "min"):
                hit = (vals == out[seg]) | np.isnan(vals)
                counts = np.zeros(out.shape)
                np.add.at(counts, seg, hit)
                # torch divides by the tie count only where the gradient is positive
                part = np.where(hit, np.where(gs > 0, gs / counts[seg].astype(work.dtype), gs), 0)
            else:
                part = _prod_grads(vals, gs, out[seg], seg, lengths, ctx.initial)
        grad = np.zeros((P * L, R), work.dtype)
        np.add.at(grad, pos, part.astype(work.dtype))
        return ctx.b.asarray(grad.reshape(ctx.shape).astype(ctx.dtype))


def _prod_grads(vals, gs, result, seg, lengths, initial):
    """g * result / element; for an element that is 0 or nan, g times the product of the other
    elements of its segment (and initial). vals, gs, result [E, R] per element."""
    part = gs * result / vals
    special = (vals == 0) | np.isnan(vals)
    if special.any():
        bounds = np.cumsum(lengths) - lengths
        for s in np.unique(seg[special.any(1)]):
            a, k = bounds[s], lengths[s]
            block = vals[a:a + k]
            before = np.cumprod(np.vstack([np.ones((1, block.shape[1]), vals.dtype), block[:-1]]), 0)
            after = np.cumprod(np.vstack([block[1:], np.ones((1, block.shape[1]), vals.dtype)])[::-1], 0)[::-1]
            others = before * after * (1 if initial is None else vals.dtype.type(initial))
            part[a:a + k] = np.where(special[a:a + k], gs[a:a + k] * others, part[a:a + k])
    return part


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None):
    from tinygrad_seq.functional_checks import torch_type_name
    reduce = _NAMES.get(reduce, reduce)
    if reduce not in _UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    axis = wrap_dim(axis, data.ndim)
    if indices is not None and lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if np.dtype(data.dtype).kind not in "f":
        name = torch_type_name(np.dtype(data.dtype))
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for '{name}'")
    given = lengths if lengths is not None else offsets
    bounds = given.numpy()
    if bounds.dtype.kind not in "iu":
        kernel = "_segment_reduce_lengths_cpu_kernel1" if lengths is not None else "_segment_reduce_offsets_cpu_kernel1"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{torch_type_name(bounds.dtype)}'")
    if data.ndim < bounds.ndim:
        raise RuntimeError("Expected data.dim() >= lengths_value.dim() to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request to PyTorch.)")
    if axis != bounds.ndim - 1:
        raise RuntimeError(f"Expected axis to be the last dimension of lengths but got {axis}.")
    bounds = bounds.astype(np.int64).reshape(-1, bounds.shape[-1])
    if lengths is not None:
        if not unsafe and np.any(bounds.sum(-1) != data.shape[axis]):
            raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                               "data.size(lengths.dim()-1) when !unsafe.")
        if not unsafe and np.any(bounds < 0):
            raise RuntimeError("lengths contains negative value!")
        bounds = np.concatenate([np.zeros((bounds.shape[0], 1), np.int64), np.cumsum(bounds, -1)], -1)
    shape = tuple(data.shape)
    lead, trail = int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis + 1:], dtype=np.int64))
    initial = None if initial is None else float(initial)
    out_shape = shape[:axis] + (bounds.shape[1] - 1,) + shape[axis + 1:]
    out = SegmentReduce.apply(data, reduce=reduce, offsets=bounds, initial=initial,
                              rows=(lead, shape[axis], trail), out_shape=out_shape)
    return named(out, "SegmentReduceBackward0")
