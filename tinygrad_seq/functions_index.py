"""torch's free functions for searching, index grids and stacking that were missing:
searchsorted, bucketize, tril_indices / triu_indices, block_diag, cartesian_prod, combinations,
dstack, column_stack, hstack / vstack (0-d inputs too), broadcast_shapes, vander. Compositions
of differentiable ops where torch's are differentiable; index results are int64 (int32 with
out_int32=True), as torch's."""
import itertools
import numbers

import numpy as np

from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.functions import _takes_out
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor import Size, Tensor


def _host(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _index_tensor(arr, out_int32, device="cpu"):
    dt = np.int32 if out_int32 else np.int64
    return Tensor._wrap(np.ascontiguousarray(np.asarray(arr, dtype=dt)).reshape(np.shape(arr)),   # 0-d stays 0-d
                        device)


@_takes_out
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where input would be inserted into the last dim of sorted_sequence to keep it
    sorted (side "right" / right=True: after equal elements)."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    seq = _host(sorted_sequence)
    scalar = isinstance(input, numbers.Number)
    vals = np.asarray(input) if scalar else _host(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, _checked_sorter(seq, sorter), axis=-1)
    if seq.ndim <= 1:
        out = _binary_search(seq.reshape(1, -1), vals.reshape(1, -1), right).reshape(vals.shape)
    else:
        if scalar or seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first "
                               f"N-1 dimensions of boundaries tensor and input value tensor must match, but we "
                               f"got boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
        rows_s, rows_v = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        out = _binary_search(rows_s, rows_v, right).reshape(vals.shape)
    device = sorted_sequence.device if isinstance(sorted_sequence, Tensor) else "cpu"
    return _index_tensor(out, out_int32, device)


def _checked_sorter(seq, sorter):
    """sorter as int64 host indices after torch's checks: long dtype, seq's shape, in range."""
    order = _host(sorter)
    if order.dtype != np.int64:
        from tinygrad_seq.tensor_matmul import scalar_name
        raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                           f"{scalar_name(order.dtype)}")
    if order.shape != seq.shape:
        raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                           f"boundary tensor {list(seq.shape)}and got sorter tensor {list(order.shape)}")
    if order.size and (order.min() < 0 or order.max() >= seq.shape[-1]):
        raise RuntimeError("torch.searchsorted(): sorter index out of range")
    return order


def _binary_search(seq, vals, right):
    """torch's cus_lower_bound / cus_upper_bound on every row at once (seq: [R, n] sorted rows,
    vals: [R, m]) -> int64 [R, m]. Step right unless seq[mid] >= v (right: > v): a comparison
    with nan is false, so a nan boundary or value sends the search right, as torch's does
    (numpy's searchsorted orders nan last instead)."""
    n = seq.shape[-1]
    lo = np.zeros(vals.shape, np.int64)
    hi = np.full(vals.shape, n, np.int64)
    rows = np.arange(seq.shape[0])[:, None]
    while n and (lo < hi).any():
        active = lo < hi
        mid = lo + ((hi - lo) >> 1)
        at_mid = seq[rows, np.minimum(mid, n - 1)]
        go_right = ~(at_mid > vals) if right else ~(at_mid >= vals)
        lo = np.where(active & go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    return lo


@_takes_out
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each input element among 1-D boundaries: boundaries[i-1] < x <= boundaries[i]
    (right=True: boundaries[i-1] <= x < boundaries[i])."""
    b = _host(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    scalar = isinstance(input, numbers.Number)
    vals = np.asarray(input) if scalar else _host(input)
    out = _binary_search(b.reshape(1, -1), vals.reshape(1, -1), right).reshape(vals.shape)
    return _index_tensor(out, out_int32, "cpu" if scalar else input.device)


def tril_indices(row, col, offset=0, *, dtype=None, device="cpu", layout=None, pin_memory=None, requires_grad=False):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    _check_tri_sizes(row, col, dtype)
    r, c = np.tril_indices(row, offset, col)
    return _indices_pair(r, c, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device="cpu", layout=None, pin_memory=None, requires_grad=False):
    _check_tri_sizes(row, col, dtype)
    r, c = np.triu_indices(row, offset, col)
    return _indices_pair(r, c, dtype, device)


def _check_tri_sizes(row, col, dtype):
    """torch's checks: sizes non-negative (numpy would give no indices), integer dtypes only."""
    for name, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{name} must be non-negative, got{n}")   # (torch's spacing)
    if dtype is not None:
        from tinygrad_seq import dtypes
        from tinygrad_seq.tensor_matmul import scalar_name
        dt = dtypes.as_dtype(dtype)
        if dt.kind not in "iu":
            raise NotImplementedError(f'"tril_indices" not implemented for \'{scalar_name(dt)}\'')


def _indices_pair(r, c, dtype, device):
    from tinygrad_seq import dtypes
    dt = dtypes.as_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return Tensor._wrap(np.stack([r, c]).astype(dt), "cpu").to(device)


def block_diag(*tensors):
    """The tensors (0-d, 1-D rows or 2-D) on the diagonal of a zero matrix, dtype promoted."""
    from tinygrad_seq.creation import zeros
    from tinygrad_seq.functions import cat
    mats = []
    for k, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} "
                               f"has {t.ndim} dimensions")
        mats.append(t.reshape(1, 1) if t.ndim == 0 else (t.reshape(1, -1) if t.ndim == 1 else t))
    if not mats:
        return zeros(1, 0)
    from functools import reduce
    from tinygrad_seq.functions_more import promote_types
    dtype = reduce(promote_types, [m.dtype for m in mats])   # torch's rule: int64 with float32 is float32
    total = sum(m.shape[1] for m in mats)
    rows, before = [], 0
    for m in mats:
        r, c = m.shape
        parts = [zeros(r, before, dtype=dtype, device=m.device), m.to(dtype=dtype),
                 zeros(r, total - before - c, dtype=dtype, device=m.device)]
        rows.append(cat(parts, 1))
        before += c
    return named(cat(rows, 0), "BlockDiagBackward0")


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, (N, k) (a single tensor: itself)."""
    from tinygrad_seq.functions import stack
    from tinygrad_seq.meshgrid import meshgrid
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")   # torch's: cartesian_prod is meshgrid's
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a 1-D tensor's elements, (M, r), as itertools orders them."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(make(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[Tensor(idx, device=input.device)]   # none (r > len(input)): shape (0, r), as torch's


def atleast(t, n):
    from tinygrad_seq.functions_more import atleast_1d, atleast_2d, atleast_3d
    return (atleast_1d, atleast_2d, atleast_3d)[n - 1](t)


def hstack(tensors):
    """torch.hstack: 1-D (and 0-d) tensors end to end, others along dim 1."""
    from tinygrad_seq.functions import cat
    tensors = [atleast(t, 1) for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """torch.vstack: rows on rows (a 1-D or 0-d tensor is one row)."""
    from tinygrad_seq.functions import cat
    return cat([atleast(t, 2) for t in tensors], 0)


def dstack(tensors):
    """Along the third dim, after atleast_3d ([n] -> [1, n, 1], [m, n] -> [m, n, 1])."""
    from tinygrad_seq.functions import cat
    return cat([atleast(t, 3) for t in tensors], 2)


def column_stack(tensors):
    """Columns side by side: 0-d and 1-D tensors become columns, others stack along dim 1."""
    from tinygrad_seq.functions import cat
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


def broadcast_shapes(*shapes):
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeMismatch(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                            f"{[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]}") from None


def vander(x, N=None, increasing=False):
    """Columns x^(N-1) ... x^0 (increasing: x^0 ... x^(N-1)) of a 1-D tensor."""
    from tinygrad_seq.functions import stack
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    xx = x if x.dtype.kind == "f" else x.to(dtype=np.int64)
    powers = [xx ** k if k else xx.new_ones(xx.shape) for k in range(n)]   # x^0 is 1 even for inf / nan
    if not increasing:
        powers = powers[::-1]
    return stack(powers, 1) if powers else x.new_empty(x.shape[0], 0)


def split(tensor, split_size_or_sections, dim=0):
    """torch.split, with torch's parameter names (DCRNN calls torch.split(tensor=value,
    split_size_or_sections=n, dim=-1)): tensor.split(...)."""
    return tensor.split(split_size_or_sections, dim)
