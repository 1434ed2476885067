"""Tensor.scatter_reduce(dim, index, src, reduce, include_self=True), as torch's: reduce is
"sum", "prod", "mean", "amax" or "amin" ("max" / "min" name the last two, as torch 2.13's).
Forward with numpy's unbuffered ufunc.at on the host (amax / amin: one pass of
kernels/bags_cpu.scatter_extreme, np.maximum.at ran 30x torch's time); backward as torch's: sum and mean pass the
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


def _strides(shape):
    """[ndim] int64: C-order strides in elements."""
    return np.cumprod((tuple(shape[1:]) + (1,))[::-1])[::-1].astype(np.int64)


def _flat_targets(index, dim, shape):
    """[index.size] int64: the flat (C order) position in self of shape `shape` that each index
    element writes."""
    strides = _strides(shape)
    lin = index.astype(np.int64) * strides[dim]
    for axis, n in enumerate(index.shape):
        if axis != dim:
            lin = lin + (np.arange(n, dtype=np.int64) * strides[axis]).reshape(
                [-1 if k == axis else 1 for k in range(index.ndim)])
    return np.ascontiguousarray(np.broadcast_to(lin, index.shape)).reshape(-1)


_KERNEL_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                              np.uint8, np.bool_))


def _extreme(x, s, index, dim, reduce, include_self):
    """amax / amin in one pass over index and src as they are laid out (an expanded index is not
    copied) -> out, self's shape."""
    from tinygrad_seq.kernels import bags_cpu
    from tinygrad_seq.kernels.compile_notice import announce
    announce("the scatter_reduce amax / amin CPU kernel", x.dtype, (bags_cpu.scatter_extreme,))
    out = np.array(x, order="C")
    touched = np.zeros(0 if include_self else x.size, np.uint8)
    inner = index.shape[-1]
    bags_cpu.scatter_extreme(out.reshape(-1), touched, index.reshape(-1, inner), s.reshape(-1, inner),
                             np.array(index.shape, np.int64), _strides(x.shape), dim, reduce == "amax", include_self)
    return out


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
        if reduce in ("amax", "amin") and x.dtype in _KERNEL_DTYPES:
            out = _extreme(x, s, index, dim, reduce, include_self)
            ctx.meta = (dim, index, reduce, include_self, None)
            ctx.save_for_backward(x, s, out, None)   # (the counts: sum and mean's backward only)
            return B.asarray(out)
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
        if reduce in ("amax", "amin"):
            return _extreme_grads(ctx, x, s, out, gh, index, dim, include_self)
        reached = np.zeros(x.shape, dtype=bool)
        reached[pos] = True
        if reduce in ("sum", "mean"):
            scale = gh / np.maximum(count, 1) if reduce == "mean" else gh
            g_self = np.where(reached & ~include_self, 0.0, scale if reduce == "mean" else gh)
            g_src = scale[pos]
        elif reduce == "prod":
            g_self, g_src = _prod_grads(x, s, out, gh, pos, include_self, reached)
        g_src_full = np.zeros(ctx.src_shape, dtype=x.dtype)
        g_src_full[tuple(slice(0, n) for n in index.shape)] = g_src
        return (B.asarray(np.ascontiguousarray(g_self.astype(x.dtype))) if ctx.needs_input_grad[0] else None,
                B.asarray(g_src_full) if ctx.needs_input_grad[1] else None)


def _extreme_grads(ctx, x, s, out, gh, index, dim, include_self):
    """amax / amin's gradients as torch's formula: g over the count of elements equal to the
    result (self's counted whatever include_self says), to each of them; where none is equal (a
    nan result) that is g / 0, times 0: nan, as torch's. On flat positions, bincount for the
    counts."""
    B = ctx.b
    lin = _flat_targets(index, dim, x.shape)
    out_f, x_f = out.reshape(-1), x.reshape(-1)
    src_hit = np.ascontiguousarray(s).reshape(-1) == out_f[lin]
    self_hit = x_f == out_f
    ties = (self_hit + np.bincount(lin, weights=src_hit, minlength=x.size)).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.asarray(gh, dtype=x.dtype).reshape(-1) / ties
        g_self = self_hit * share
        g_src = (src_hit * share[lin]).reshape(index.shape)
    if not include_self:   # the elements index wrote take none
        g_self[lin] = 0
    g_src_full = np.zeros(ctx.src_shape, dtype=x.dtype)
    g_src_full[tuple(slice(0, n) for n in index.shape)] = g_src
    return (B.asarray(np.ascontiguousarray(g_self.reshape(x.shape).astype(x.dtype))) if ctx.needs_input_grad[0]
            else None, B.asarray(g_src_full) if ctx.needs_input_grad[1] else None)


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
