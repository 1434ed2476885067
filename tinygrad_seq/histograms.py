"""torch.histogram and torch.histogramdd (and Tensor.histogram) on floating CPU tensors: counts
(or weight sums, or densities) in bins given as a count over a range or as explicit edges, in
the input's dtype, with the edges returned; numpy's histogram rules, which are torch's (a range
of one value widens by 0.5 each side, the last bin includes its right edge)."""
import numpy as np

from tinygrad_seq.creation import _torch_linspace
from tinygrad_seq.tensor_reduce import return_type

HistogramResult = return_type("histogram", ("hist", "bin_edges"))
HistogramddResult = return_type("histogramdd", ("hist", "bin_edges"))


def _host_float(input, what="histogramdd"):
    from tinygrad_seq.functional_checks import torch_type_name
    if input.dtype.kind != "f":
        raise NotImplementedError(f"\"{what}\" not implemented for '{torch_type_name(input.dtype)}'")
    return input.detach().cpu().numpy()


def _edges(values, bins, bounds, dtype):
    """bins + 1 edges from bounds (min, max), else from the data's min and max (numpy's)."""
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histogram: bins must be an int or a 1-D tensor of edges, got {type(bins).__name__}")
    if bins <= 0:
        raise RuntimeError(f"torch.histogramdd(): expected bins to be positive, but got {bins}")
    if bounds is None:
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd(): range of [{lo}, {hi}] is not finite")
    else:
        lo, hi = (float(b) for b in bounds)
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd(): for dim 0, expected leftmost edge ({lo}) to be less than or "
                               f"equal to rightmost edge ({hi})")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    # torch fills the edges with its own linspace kernel in the input's dtype; np.linspace can differ
    # by an ulp, which moves a value lying on an edge into the neighbouring bin
    if np.dtype(dtype) == np.float64 and bins < _EXACT_EDGES_UP_TO:
        return _float64_linspace(lo, hi, int(bins) + 1)
    if np.dtype(dtype) in (np.float32, np.float64):
        return _torch_linspace(lo, hi, int(bins) + 1, dtype)
    return np.linspace(lo, hi, int(bins) + 1).astype(dtype)


_EXACT_EDGES_UP_TO = 100_000   # past this many bins the rational arithmetic below gets slow (~1 s)


def _float64_linspace(lo, hi, steps):
    """torch's float64 linspace bit for bit: start + step i (first half) or end - step (steps-1-i),
    each one fused multiply-add rounded once; done in exact rationals, since numpy has no FMA and
    long double is too narrow to stand in for one (creation._torch_linspace is off by an ulp at a
    few percent of edges in float64)."""
    from fractions import Fraction
    start, end = np.float64(lo), np.float64(hi)
    step = np.float64((end - start) / np.float64(steps - 1))
    s, e, d = Fraction(float(start)), Fraction(float(end)), Fraction(float(step))
    return np.array([float(s + d * i) if i < steps // 2 else float(e - d * (steps - 1 - i)) for i in range(steps)],
                    np.float64)


def _given_edges(edges, dtype):
    from tinygrad_seq.tensor import Tensor
    if not isinstance(edges, Tensor) or edges.ndim != 1:
        raise RuntimeError("torch.histogramdd(): bins tensors must be 1-D")
    return edges.detach().cpu().numpy().astype(dtype)


def _weights(weight, shape):
    if weight is None:
        return None
    w = weight.detach().cpu().numpy()
    if tuple(w.shape) != tuple(shape):
        raise RuntimeError(f"torch.histogramdd(): if weight tensor is provided it should have the same shape as "
                           f"the input tensor excluding its innermost dimension, but got input with shape "
                           f"{list(shape)} and weight with shape {list(w.shape)}")
    return w.reshape(-1)


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges) of input's elements; bins an int (with range=(min, max) or the data's)
    or a 1-D tensor of increasing edges."""
    from tinygrad_seq.tensor import Tensor
    x = _host_float(input)
    edges = _given_edges(bins, x.dtype) if isinstance(bins, Tensor) else _edges(x, bins, range, x.dtype)
    w = _weights(weight, x.shape)
    hist, _ = np.histogram(x.reshape(-1), edges, weights=w, density=density)
    result = HistogramResult(Tensor(hist.astype(x.dtype), device=input.device), Tensor(edges, device=input.device))
    if out is None:
        return result
    from tinygrad_seq.out_param import write_out   # torch's: out's dtypes must be the input's
    return write_out("histogram", out, result, same_dtype=True)


def histogramdd(input, bins, range=None, weight=None, density=False, *, out=None):   # (torch's are positional)
    """(hist, bin_edges) of the points input [..., D]: hist has one dimension per coordinate;
    bins an int, D ints, or D 1-D tensors of edges; range the flat [min_0, max_0, min_1, ...]."""
    from tinygrad_seq.tensor import Tensor
    if out is not None:
        raise TypeError("histogramdd: out= is not supported; use the returned tensors")
    x = _host_float(input)
    if x.ndim < 2:
        raise RuntimeError("torch.histogramdd(): input tensor should have at least 2 dimensions, but got "
                           f"{x.ndim}")
    d = x.shape[-1]
    points = x.reshape(-1, d)
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * d
    if len(per_dim) != d:
        raise RuntimeError(f"torch.histogramdd(): expected {d} bins (one per dimension of the points), "
                           f"got {len(per_dim)}")
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"torch.histogramdd(): expected range of length {2 * d}, got {len(range)}")
    edges = [_given_edges(b, x.dtype) if isinstance(b, Tensor) else
             _edges(points[:, i], b, None if range is None else range[2 * i:2 * i + 2], x.dtype)
             for i, b in enumerate(per_dim)]
    w = _weights(weight, x.shape[:-1])
    hist, _ = np.histogramdd(points, edges, weights=w, density=density)
    return HistogramddResult(Tensor(hist.astype(x.dtype), device=input.device),
                             tuple(Tensor(e, device=input.device) for e in edges))


FUNCTIONS = dict(histogram=histogram, histogramdd=histogramdd)
