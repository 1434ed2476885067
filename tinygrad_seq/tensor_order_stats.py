"""torch's order statistics that were missing: quantile / nanquantile (the five interpolations,
differentiable through sort + gather), nanmedian, mode, histc, unique_consecutive (the last three
on the host without gradients, as torch has none). Attached to Tensor by tensor_fill_in.attach."""
import numpy as np

from tinygrad_seq import device as _device, shape_copies
from tinygrad_seq.dim_alias import dim_from_axis
from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.tensor_fill_math import _norm_dim
from tinygrad_seq.median_cummax import empty_median, no_bool_median, spread_over_ties


def _quantile_core(self, q, dim, keepdim, interpolation, ignore_nan, name):
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or "
                           f"nearest. Got {interpolation}")
    if self.dtype.kind != "f" or self.dtype == np.float16:   # torch has no float16 kernel (nanquantile's too)
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if hasattr(q, "numpy") and q.dtype != self.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    qs = np.atleast_1d(np.asarray(q.numpy() if hasattr(q, "numpy") else q, dtype=np.float64))
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]" if qs.ndim <= 1 else
                           f"{name}() q must be a scalar or 1D tensor")
    x = self.reshape(-1) if dim is None else self
    d = 0 if dim is None else _norm_dim(dim, self.ndim)
    if x.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    sorted_x = x.sort(dim=d).values   # nan last
    host = sorted_x.numpy()
    n = x.shape[d] if x.ndim else 1
    isnan = np.isnan(host)
    valid = (n - isnan.sum(axis=d, keepdims=True)) if ignore_nan else np.full_like(isnan.sum(axis=d, keepdims=True), n)
    # a row whose answer is nan (quantile: any nan; nanquantile: all nan) takes its last sorted
    # element, a nan, so the gradient goes to it as torch's does
    bad = (valid == 0) if ignore_nan else isnan.any(axis=d, keepdims=True)
    outs = []
    from tinygrad_seq.creation import tensor
    dt = self.dtype
    q_grad = getattr(q, "requires_grad", False) and interpolation == "linear"   # a q tensor differentiated too
    q_flat = q.reshape(-1) if q_grad else None
    for k, qv in enumerate(qs):
        # the rank in the input's dtype, as torch computes it (0.9 * 15 is 13.5 in float32 and
        # 13.4999... in float64: "nearest" picks another element)
        pos = dt.type(qv) * (valid - 1).clip(min=0).astype(dt)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        if interpolation == "nearest":
            lo = hi = np.round(pos).astype(np.int64)   # half to even, as torch's round
        lo, hi, pos = np.where(bad, n - 1, lo), np.where(bad, n - 1, hi), np.where(bad, n - 1, pos)
        v_lo = shape_copies.gather(sorted_x, d, tensor(lo, device=self.device))
        v_hi = shape_copies.gather(sorted_x, d, tensor(hi, device=self.device))
        if interpolation == "linear":
            frac = tensor((pos - lo).astype(self.dtype), device=self.device)
            if q_grad:   # torch's weight q * (valid - 1) - lo, 0 where the row is nan: d/dq = (v_hi - v_lo) * (valid - 1)
                frac = (q_flat[k] * tensor((valid - 1).clip(min=0).astype(dt), device=self.device)
                        - tensor(lo.astype(dt), device=self.device)).masked_fill(tensor(bad, device=self.device), 0.0)
            v = v_lo.lerp(v_hi, frac)   # torch's lerp: its value where an end is inf
        elif interpolation == "midpoint":
            v = v_lo.lerp(v_hi, 0.5)
        elif interpolation == "higher":
            v = v_hi
        else:
            v = v_lo
        if not keepdim or dim is None:
            v = v.squeeze(d) if dim is not None else v.reshape(())
        if keepdim and dim is None:
            v = v.reshape([1] * self.ndim)
        outs.append(v)
    if np.ndim(q.numpy() if hasattr(q, "numpy") else q) == 0:
        return outs[0]
    from tinygrad_seq.functions import stack
    return stack(outs, 0)


def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear", axis=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "quantile")
    return _quantile_core(self, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear", axis=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "nanquantile")
    return _quantile_core(self, q, dim, keepdim, interpolation, True, "nanquantile")


def nanmedian(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower median of the non-nan values (nan where all are nan); with dim, (values,
    indices) as torch.return_types.nanmedian."""
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "nanmedian")
    if dim is None:   # the flattened tensor's (any dtype, as torch's)
        if not self.numel():
            return empty_median(self)
        no_bool_median(self, None)
        m = nanmedian(self.reshape(-1).detach(), 0).values
        if self.dtype.kind != "f":
            return m
        return spread_over_ties(self.reshape(-1), m.item(), "NanmedianBackward0")   # torch's gradient
    no_bool_median(self, dim)
    d = _norm_dim(dim, self.ndim)
    sorted_x = self.sort(dim=d, stable=True)   # torch orders ties by index
    host = sorted_x.values.numpy()
    valid = self.shape[d] - np.isnan(host).sum(axis=d, keepdims=True) if self.ndim else 1 - np.isnan(host)
    n = self.shape[d] if self.ndim else 1
    from tinygrad_seq.sort_order import all_nan_median_index   # all nan: where torch's nth_element leaves one
    pos = np.where(valid == 0, all_nan_median_index(n), np.maximum(valid - 1, 0) // 2)
    from tinygrad_seq.creation import tensor
    from tinygrad_seq.tensor_reduce import return_type
    idx = tensor(np.asarray(pos, dtype=np.int64), device=self.device)
    values = shape_copies.gather(sorted_x.values, d, idx) if self.ndim else sorted_x.values
    indices = shape_copies.gather(sorted_x.indices, d, idx) if self.ndim else sorted_x.indices
    if not keepdim and self.ndim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return return_type("nanmedian")(values, indices)


def mode(self, dim=-1, keepdim=False, *, axis=None, keepdims=None):
    """The most frequent value along dim and an index of it, those torch's CPU mode picks (see
    mode_order); no gradient to the indices."""
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "mode", -1)
    from tinygrad_seq.creation import tensor
    from tinygrad_seq.mode_order import mode_rows
    from tinygrad_seq.tensor_reduce import return_type
    x = self.numpy()
    d = _norm_dim(dim, max(self.ndim, 1))   # (a 0-d tensor takes dims -1 and 0, as torch's)
    if self.ndim and self.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    d = d if self.ndim else 0
    moved = np.moveaxis(x.reshape(1) if x.ndim == 0 else x, d, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    idxs = mode_rows(flat).reshape(moved.shape[:-1])
    if keepdim and self.ndim:
        idxs = np.expand_dims(idxs, d)
    values = shape_copies.gather(self, d, tensor(np.expand_dims(idxs, d) if not keepdim and self.ndim else idxs,
                                   device=self.device)) if self.ndim else self.clone()
    if not keepdim and self.ndim:
        values = values.squeeze(d)
    return return_type("mode")(values, tensor(idxs, device=self.device))


def histc(self, bins=100, min=0, max=0):
    """Counts in `bins` equal bins between min and max (both 0: the data's range); elements
    outside are ignored; float counts of self's dtype, as torch's."""
    if bins <= 0:   # torch checks bins first, with histogram's wording
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if self.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{torch_type_name(self.dtype)}'")
    x = self.numpy().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo == hi:   # +-1 is lost on inf: torch steps one float of self's dtype ([inf]: [3.40282e+38, inf])
        step = lambda v, to: float(np.nextafter(self.dtype.type(v), self.dtype.type(to)))
        lo, hi = step(lo, -np.inf), step(hi, np.inf)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    # torch's kernel: the bin by linear interpolation in self's dtype (not a search of edges in
    # float64, np.histogram's: values at the edges landed one bin off), max in the last bin
    dt = self.dtype.type if self.dtype.itemsize >= 4 else np.float32   # (half: in float, no overflow)
    left, right = dt(self.dtype.type(lo)), dt(self.dtype.type(hi))
    x = x.astype(dt, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        x = x[(x >= left) & (x <= right)]
        pos = ((x - left) * dt(bins) / (right - left)).astype(np.int64)
    pos[pos == bins] = bins - 1
    counts = np.bincount(pos, minlength=bins)
    return self._wrap(_device.backend(self.device).asarray(counts.astype(self.dtype)), self.device)


def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (flattened when dim is None), as torch's."""
    from tinygrad_seq.creation import tensor
    x = self.numpy()
    if dim is None:
        flat = x.reshape(-1)
        change = np.ones(flat.size, dtype=bool)
        change[1:] = flat[1:] != flat[:-1]
        out = flat[change]
    else:
        d = _norm_dim(dim, self.ndim)
        moved = np.moveaxis(x, d, 0)
        flat = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))   # -1 fails on 0 rows
        change = np.ones(moved.shape[0], dtype=bool)
        change[1:] = (flat[1:] != flat[:-1]).any(axis=1)
        out = np.moveaxis(moved[change], 0, d)
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, change.size))
    inverse = np.cumsum(change) - 1
    if dim is None:
        inverse = inverse.reshape(x.shape)
    result = [self._wrap(_device.backend(self.device).asarray(np.ascontiguousarray(out)), self.device)]
    if return_inverse:
        result.append(tensor(inverse.astype(np.int64), device=self.device))
    if return_counts:
        result.append(tensor(counts.astype(np.int64), device=self.device))
    return result[0] if len(result) == 1 else tuple(result)




METHODS = dict(quantile=quantile, nanquantile=nanquantile, nanmedian=nanmedian, mode=mode, histc=histc,
               unique_consecutive=unique_consecutive)
