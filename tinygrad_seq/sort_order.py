"""Which indices sort, argsort, topk and kthvalue return on the CPU: torch's, ties included.

torch's CPU sort (stable=False) is libstdc++'s std::sort, topk is std::partial_sort or
std::nth_element, kthvalue ATen's quickselect; equal values come out in the order those
algorithms leave them (kernels/sort_steps.py ports them, kernels/sort_cpu.py compiles the
ports). numpy's stable argsort gives the same answer wherever the values that matter are all
distinct, so a sort runs it first and the port redoes only the rows holding ties (compiled from
sort_steps.COMPILED_FROM pairs, at about numpy's speed). topk and kthvalue run the compiled port
outright where it is in use (selection beats numpy's full sort many times over), else numpy's
order unless a tie reaches the answer. Host arrays in, int64 host arrays out (C-contiguous, as
torch's)."""
import numpy as np

from tinygrad_seq.kernels import sort_steps

_RADIX_FROM = 32768   # at::internal::GRAIN_SIZE: torch radix-sorts (stably) 1-D integers this long


def stable_order(x, dim, descending):
    """numpy's stable argsort of x along dim, nan ranking as the largest value (int64)."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    if x.dtype.kind != "f":
        # ~x reverses the order of every integer (and bool) without the overflow of -x
        # (-uint8 wraps, -int_min is int_min)
        return np.argsort(np.invert(x), axis=dim, kind="stable")
    order = np.argsort(np.where(np.isnan(x), -np.inf, -x), axis=dim, kind="stable")
    nan_sorted = np.take_along_axis(np.isnan(x), order, axis=dim)
    if nan_sorted.any():   # nan before +inf (both keyed -inf): nans first, stably
        order = np.take_along_axis(order, np.argsort(~nan_sorted, axis=dim, kind="stable"), axis=dim)
    return order


def _rows(x, dim):
    """x with dim moved last, as [R, n] rows (a copy only when dim is not last)."""
    moved = np.moveaxis(x, dim, -1)
    return moved.reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, moved.shape[-1])


def _back(rows2d, shape_moved, dim):
    """[R, m] rows -> the tensor layout with the row axis at dim, C-contiguous with the strides a
    fresh array has (a size-1 axis keeps its odd stride through ascontiguousarray)."""
    if dim % len(shape_moved) == len(shape_moved) - 1:   # rows2d is fresh: its reshape is too
        return rows2d.reshape(shape_moved)
    moved = np.moveaxis(rows2d.reshape(shape_moved), -1, dim)
    out = np.empty(moved.shape, moved.dtype)
    out[...] = moved
    return out


def _gather_rows(keys, order2d):
    """keys[r, order2d[r]] for every row: np.take_along_axis's result by one flat take (a
    third of its time on [32, 100])."""
    flat = order2d + (np.arange(order2d.shape[0]) * keys.shape[1])[:, None]
    return np.take(keys.reshape(-1), flat)


def _equal_next(sorted_keys):
    """[R, m-1] bool: sorted_keys[:, j] ties sorted_keys[:, j + 1] (two nans tie too; a row's nans
    sort to one end, so its ends say whether it has any)."""
    same = sorted_keys[:, 1:] == sorted_keys[:, :-1]
    if sorted_keys.dtype.kind == "f" and sorted_keys.shape[1] and (
            np.isnan(sorted_keys[:, 0]).any() or np.isnan(sorted_keys[:, -1]).any()):
        same |= np.isnan(sorted_keys[:, 1:]) & np.isnan(sorted_keys[:, :-1])
    return same


def sort_order(x, dim, descending, stable):
    """torch's CPU sort indices of host array x (ndim >= 1) along dim (int64, x's shape)."""
    n = x.shape[dim]
    radix = x.ndim == 1 and n >= _RADIX_FROM and x.dtype.kind in "iu" and not descending
    if stable or n < 3 or radix:   # two elements: std::sort keeps a tie in place too
        return stable_order(x, dim, descending)
    keys = _rows(x, dim)
    shape = np.moveaxis(x, dim, -1).shape
    order = stable_order(x, dim, descending)
    order2d = _rows(order, dim)
    tied = np.flatnonzero(_equal_next(_gather_rows(keys, order2d)).any(1))
    if not tied.size:
        return order
    out = np.ascontiguousarray(order2d)
    sort_steps.sort_rows(keys, tied, descending, out)
    return _back(out, shape, dim)


def topk_order(x, dim, k, largest, sorted):
    """torch's CPU topk indices of host array x (ndim >= 1, 0 <= k <= n) along dim: int64, x's
    shape with k at dim."""
    compiled = sort_steps.runs_compiled("topk", x.dtype, x.size)
    if x.ndim == 1 and sorted and k and not compiled and x.dtype.kind in "fiu" and not (
            x.dtype.kind == "f" and np.isnan(x).any()):
        # a beam's scores: the same rule as below without the row machinery (31-48 -> ~10 us)
        keys = (-x if x.dtype.kind == "f" else np.invert(x)) if largest else x
        order = np.argsort(keys, kind="stable")[:k + 1]
        top = x[order]
        if not (top[1:] == top[:-1]).any():
            return order[:k].copy()
    keys = _rows(x, dim)
    shape = np.moveaxis(x, dim, -1).shape[:-1] + (k,)
    n = keys.shape[1]
    if sorted and k and not compiled:
        # the first k of a stable order are torch's unless a tie reaches into them (the k-th
        # against the next counts); unsorted, torch's order is its selection's leftover
        order = stable_order(keys, 1, largest)[:, :min(k + 1, n)]
        tied = _equal_next(np.take_along_axis(keys, order, 1)).any(1)
        if not tied.any():
            return _back(order[:, :k].copy(), shape, dim)   # a fresh array: torch's strides
    return _back(sort_steps.topk_rows(keys, k, largest, sorted), shape, dim)


def kthvalue_order(x, dim, k):
    """The index torch's CPU kthvalue picks (k 1-based) in each row of host array x along dim:
    int64, x's shape without dim. A k-th value held once has one index; ties take quickselect's."""
    keys = _rows(x, dim)
    shape = np.moveaxis(x, dim, -1).shape[:-1]
    if sort_steps.runs_compiled("kthvalue", x.dtype, x.size):
        return sort_steps.kthvalue_rows(keys, k).reshape(shape)
    order = stable_order(keys, 1, False)
    kth = order[:, k - 1]
    near = order[:, max(k - 2, 0):k + 1]   # the k-th and its sorted neighbours
    if not _equal_next(np.take_along_axis(keys, near, 1)).any():
        return kth.reshape(shape)
    return sort_steps.kthvalue_rows(keys, k).reshape(shape)


def all_nan_median_index(n):
    """The index torch's nanmedian gives a row of n nans: its std::nth_element(first, first, last)
    finds every nan equivalent to every other and leaves this one at the front."""
    vals, idx = np.full(n, np.nan), np.arange(n)
    sort_steps.nth_element(vals, idx, 0, 0, n, False)
    return int(idx[0]) if n else 0
