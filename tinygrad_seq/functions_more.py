"""More of torch's free functions: dtype rules (result_type, promote_types, can_cast), unique,
cdist, atleast_*d, the top-level forms of some nn.functional ones (cosine_similarity,
pairwise_distance, selu, celu); torch._foreach_* is foreach_ops.py. Re-exported by tinygrad_seq."""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_matmul import same_scalar_type, scalar_name

cosine_similarity, pairwise_distance, selu, celu = F.cosine_similarity, F.pairwise_distance, F.selu, F.celu


def _category(dt):
    return {"b": 0, "u": 1, "i": 1, "f": 2}[np.dtype(dt).kind]


def promote_types(type1, type2):
    """torch's rule: the higher category wins (bool < integer < float) and keeps its own width;
    within a category the wider type."""
    a, b = np.dtype(type1), np.dtype(type2)
    if _category(a) != _category(b):
        return a if _category(a) > _category(b) else b
    return np.promote_types(a, b)


def result_type(tensor, other):   # torch's parameter names
    """The dtype a binary op of the two gives (tensors or Python numbers), by this library's
    rules, which are torch's: a dimensioned tensor's dtype over a 0-d one's or a number's of
    the same category."""
    def probe(x):
        if isinstance(x, Tensor):
            return Tensor._wrap(np.zeros((1,) * x.ndim, dtype=x.dtype))   # _wrap keeps int32 (API.md: data -> int64)
        return x
    a, b = probe(tensor), probe(other)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(np.asarray(a)) if not isinstance(a, float) else Tensor(a)
    if all(isinstance(x, Tensor) and x.dtype == np.bool_ for x in (a, b)):
        return np.dtype(np.bool_)
    return (a + b).dtype if isinstance(a, Tensor) else (b + a).dtype


def can_cast(from_, to):
    """torch's rule: no float to integer or bool, nothing but bool to bool."""
    src, dst = np.dtype(from_), np.dtype(to)
    return _category(src) <= _category(dst) and not (dst == np.bool_ and src != np.bool_)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted; along dim: the distinct slices), and optionally each
    element's index into them and their counts (no gradient, as torch's)."""
    a = input.numpy()
    if dim is not None:
        _check_unique_dim(a.shape, dim % max(a.ndim, 1))
    # torch keeps every nan apart (nan != nan); numpy's default merges them
    nan_apart = {} if dim is not None else {"equal_nan": False}
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=dim, **nan_apart)
    out = [Tensor(values, dtype=values.dtype, device=input.device)]   # int32 / uint8 kept, as torch's
    if return_inverse:
        out.append(Tensor(inverse.reshape(a.shape if dim is None else -1).astype(np.int64), device=input.device))
    if return_counts:
        out.append(Tensor(counts.astype(np.int64), device=input.device))
    return out[0] if len(out) == 1 else tuple(out)


def _check_unique_dim(shape, dim):
    """torch's unique_dim on an empty tensor: only the selected dim may have size 0."""
    zero_dims = [d for d, n in enumerate(shape) if n == 0]
    if len(zero_dims) > 1:
        raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot be applied ")
    if zero_dims and zero_dims[0] != dim:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Distances between the rows of x1 [.., P, M] and x2 [.., R, M] -> [.., P, R]. torch's checks,
    in its order: compute_mode (ValueError), >= 2-D inputs, column counts, float dtypes, p >= 0,
    one dtype. p = 2 takes torch's matrix-product path where compute_mode does (cdist_mm.py);
    the other distances are computed directly."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise InvalidArgument(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind != "f":
            raise InvalidArgument(f"cdist only supports floating-point dtypes, {name} got: {scalar_name(x.dtype)}")
    if not p >= 0:   # nan too
        raise InvalidArgument("cdist only supports non-negative p values")
    same_scalar_type(x1, x2)   # torch's: no promotion
    from tinygrad_seq.cdist_mm import EuclideanDist, mm_mode
    if p == 2 and x1.numel() and x2.numel() and x1.device == "cpu" and mm_mode(compute_mode, x1.shape[-2], x2.shape[-2]):
        batch = np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))   # torch's product path
        a, b = x1.expand(*batch, *x1.shape[-2:]), x2.expand(*batch, *x2.shape[-2:])
        return named(EuclideanDist.apply(a, b), "CdistBackward0")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)   # [.., P, R, M]
    if x1.shape[-1] == 0:   # no columns: every distance 0 (inf's max over nothing included), as torch's
        return named(d.abs().sum(-1), "CdistBackward0")
    if p == 0:   # the count of differing columns; torch's backward gives zero gradients, not none
        from tinygrad_seq.functional_extra import _count_nonzero_with_zero_grad
        return named(_count_nonzero_with_zero_grad(d, False), "CdistBackward0")
    if p == float("inf"):   # every tied coordinate takes the whole gradient, as torch's
        from tinygrad_seq.cdist_mm import chebyshev_distance
        return named(chebyshev_distance(d), "CdistBackward0")
    return named(d.norm(p=p, dim=-1), "CdistBackward0")


def atleast_1d(*tensors):
    out = [t.reshape(1) if t.ndim == 0 else t for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, -1) if t.ndim < 2 else t for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    def three(t):
        return t.reshape(1, 1, 1) if t.ndim == 0 else t.reshape(1, -1, 1) if t.ndim == 1 else \
            t.unsqueeze(-1) if t.ndim == 2 else t
    out = [three(t) for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def _flat(tensors):
    return list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
