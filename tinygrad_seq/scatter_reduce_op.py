"""Tensor.scatter_reduce(dim, index, src, reduce, include_self=True), as torch's: reduce is
"sum", "prod", "mean", "amax" or "amin" ("max" / "min" name the last two, as torch 2.13's).
Forward with numpy's unbuffered ufunc.at on the host; backward as torch's: sum and mean pass the
gradient (over the count for mean), prod the product of the others, amax / amin split the gradient
evenly among every element equal to the result (self's counted among them whatever include_self
says, as torch's formula does). The create_graph=True
backward runs scatter_reduce_grad's Tensor-op version of the same formulas (torch's)."""
import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.dim_alias import takes_axis
from tinygrad_seq.index_scatter_writes import check_scatter_overlap, same_dtype_src, scatter_args
from tinygrad_seq.recompose import DIRECT
from tinygrad_seq.scatter_reduce_grad import graph_backward
from tinygrad_seq.shape_copies import zero_d_dim

_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
_ALIASES = {"max": "amax", "min": "amin"}   # torch 2.13 takes these names too


def _targets(index, dim):
    """The positions of self that each index element writes, as a tuple of coordinate arrays."""
    coords = list(np.indices(index.shape, sparse=False))
    coords[dim] = index
    return tuple(coords)


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":   # False is the least bool, True the greatest
        return reduce == "amin"
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    low, high = (-np.inf, np.inf) if dtype.kind == "f" else (info.min, info.max)
    return low if reduce == "amax" else high


class ScatterReduce(Function):
    @staticmethod
    def forward(ctx, a, src, dim, index, reduce, include_self):
        B = ctx.b
        x, s = B.to_host(a), B.to_host(src)
        s = s[tuple(slice(0, n) for n in index.shape)]
        pos = _targets(index, dim)
        out = x.copy()
        if not include_self:
            out[pos] = _identity(reduce, x.dtype)
        _UFUNC[reduce].at(out, pos, s)
        count = np.full(x.shape, 1 if include_self else 0, dtype=np.int64)
        np.add.at(count, pos, 1)
        if reduce == "mean":
            safe = np.maximum(count, 1)
            out = out / safe if x.dtype.kind == "f" else np.floor_divide(out, safe)
            out = out.astype(x.dtype)
        out = np.where(count == 0, x, out)   # positions nothing reached keep self (include_self=False)
        ctx.meta = (dim, index, reduce, include_self, pos)
        ctx.save_for_backward(x, s, out, count)
        return B.asarray(np.ascontiguousarray(out))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        dim, index, reduce, include_self, pos = ctx.meta
        x, s, out, count = ctx.saved_tensors
        gh = B.to_host(g)
        reached = np.zeros(x.shape, dtype=bool)
        reached[pos] = True
        if reduce in ("sum", "mean"):
            scale = gh / np.maximum(count, 1) if reduce == "mean" else gh
            g_self = np.where(reached & ~include_self, 0.0, scale if reduce == "mean" else gh)
            g_src = scale[pos]
        elif reduce == "prod":
            g_self, g_src = _prod_grads(x, s, out, gh, pos, include_self, reached)
        else:   # amax / amin: evenly among the elements equal to the result
            ties = np.zeros(x.shape, dtype=np.float64)
            self_hit = x == out   # counted even with include_self=False, as torch's formula does
            ties += self_hit
            np.add.at(ties, pos, s == out[pos])
            share = gh / np.maximum(ties, 1)
            g_self = np.where(self_hit & (include_self | ~reached), share, 0.0)
            g_src = np.where(s == out[pos], share[pos], 0.0)
        g_src_full = np.zeros(ctx.src_shape, dtype=x.dtype)
        g_src_full[tuple(slice(0, n) for n in index.shape)] = g_src
        return (B.asarray(np.ascontiguousarray(g_self.astype(x.dtype))) if ctx.needs_input_grad[0] else None,
                B.asarray(g_src_full) if ctx.needs_input_grad[1] else None)


def _prod_grads(x, s, out, gh, pos, include_self, reached):
    """d out / d member = product of the other members of its group (exact with zeros)."""
    flat_pos = np.ravel_multi_index(pos, x.shape).reshape(-1)
    s_flat = s.reshape(-1)
    g_self = np.where(reached, 0.0, gh).astype(x.dtype)
    g_src = np.zeros(s_flat.shape, dtype=x.dtype)
    groups = {}
    for k, p in enumerate(flat_pos):
        groups.setdefault(int(p), []).append(k)
    x_flat, g_flat, gs = x.reshape(-1), gh.reshape(-1), g_self.reshape(-1)
    for p, members in groups.items():
        values = ([x_flat[p]] if include_self else []) + [s_flat[k] for k in members]
        for j, k in enumerate(([None] if include_self else []) + members):
            others = np.prod(values[:j] + values[j + 1:]) if len(values) > 1 else 1.0
            if k is None:
                gs[p] = g_flat[p] * others
            else:
                g_src[k] = g_flat[p] * others
    return g_self, g_src.reshape(s.shape)


# the create_graph=True backward of a ScatterReduce node (higher_order.node_backward reads DIRECT)
DIRECT[ScatterReduce] = graph_backward


@takes_axis
def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
    reduce = _ALIASES.get(reduce, reduce)
    if reduce not in _UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    same_dtype_src(self, src, "scatter_reduce")
    if reduce == "mean" and self.dtype == np.bool_:   # torch's kernel has no bool mean
        raise NotImplementedError('"scatter_gather_tensor_cpu_reduce_mean" not implemented for \'Bool\'')
    if self.ndim == 0:   # one element along dim 0, as torch's
        zero_d_dim(dim, "scatter_reduce")
        return scatter_reduce(self.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(())
    d, idx = scatter_args(self, dim, index, src, "scatter_reduce")   # scatter_'s checks
    if idx is None:   # an empty index reduces nothing: self, as a new tensor
        return self.clone()
    idx = np.asarray(index.numpy(), dtype=np.int64)
    return _apply(self, src, d, idx, reduce, bool(include_self))


def _apply(self, src, d, idx, reduce, include_self):
    out = ScatterReduce.apply(self, src, dim=d, index=idx, reduce=reduce, include_self=include_self)
    if out._ctx is not None:
        out._ctx.src_shape = tuple(src.shape)
    return out


@takes_axis
def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    check_scatter_overlap(self, index, src)
    return self._write("scatter_reduce_", lambda t, s: scatter_reduce(t, dim, index, s, reduce,
                                                                      include_self=include_self), src)
