"""torch's CPU tie order for sort, topk and kthvalue: libstdc++'s std::sort, std::partial_sort and
std::nth_element, and ATen's quick_select_template, ported move for move on (value, index) pairs.

Equal values leave these algorithms in an order fixed by every swap they make, so only an exact
port reproduces torch's indices. The comparators compare values only, nan ranking as the largest:
ascending `(!isnan(a) && isnan(b)) || a < b`, descending `(isnan(a) && !isnan(b)) || a > b`.

Every function is plain Python that Numba can compile: a short row runs in the interpreter with
no compile and without importing numba, a long one through kernels/sort_cpu.py's `njit(cache=True)`
drivers of the same functions (sort_rows / topk_rows / kthvalue_rows below choose).
No recursion: ranges wait on an explicit stack; they are disjoint, so the order they are
processed in does not change the result. Iterators of the C++ are int64 positions into a row.
"""
import sys

import numpy as np

_THRESHOLD = 16   # libstdc++'s _S_threshold: introsort leaves ranges this short to insertion sort


def _before(a, b, descending):
    """Whether value a goes before value b (nan is the largest; `x != x` is isnan for ints too)."""
    if descending:
        return (a != a and b == b) or a > b
    return (a == a and b != b) or a < b


def _swap(vals, idx, i, j):
    v, k = vals[i], idx[i]
    vals[i], idx[i] = vals[j], idx[j]
    vals[j], idx[j] = v, k


def _floor_log2(n):
    """std::__lg(n) for n >= 1."""
    out = 0
    while n > 1:
        n >>= 1
        out += 1
    return out


def _push_heap(vals, idx, first, hole, top, value, value_idx, descending):
    """libstdc++ __push_heap: sift the held pair up from hole towards top."""
    parent = (hole - 1) // 2
    while hole > top and _before(vals[first + parent], value, descending):
        vals[first + hole], idx[first + hole] = vals[first + parent], idx[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    vals[first + hole], idx[first + hole] = value, value_idx


def _adjust_heap(vals, idx, first, hole, length, value, value_idx, descending):
    """libstdc++ __adjust_heap: move the hole down to a leaf along the larger children, then push
    the held pair back up."""
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if _before(vals[first + child], vals[first + child - 1], descending):
            child -= 1
        vals[first + hole], idx[first + hole] = vals[first + child], idx[first + child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        vals[first + hole], idx[first + hole] = vals[first + child - 1], idx[first + child - 1]
        hole = child - 1
    _push_heap(vals, idx, first, hole, top, value, value_idx, descending)


def _make_heap(vals, idx, first, last, descending):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(vals, idx, first, parent, length, vals[first + parent], idx[first + parent], descending)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(vals, idx, first, last, result, descending):
    """Move the heap's top to result and re-heap [first, last) around result's old pair."""
    value, value_idx = vals[result], idx[result]
    vals[result], idx[result] = vals[first], idx[first]
    _adjust_heap(vals, idx, first, 0, last - first, value, value_idx, descending)


def _heap_select(vals, idx, first, middle, last, descending):
    _make_heap(vals, idx, first, middle, descending)
    for i in range(middle, last):
        if _before(vals[i], vals[first], descending):
            _pop_heap(vals, idx, first, middle, i, descending)


def _sort_heap(vals, idx, first, last, descending):
    while last - first > 1:
        last -= 1
        _pop_heap(vals, idx, first, last, last, descending)


def partial_sort(vals, idx, first, middle, last, descending):
    """std::partial_sort: the (middle - first) first pairs of [first, last), in order."""
    _heap_select(vals, idx, first, middle, last, descending)
    _sort_heap(vals, idx, first, middle, descending)


def _move_median_to_first(vals, idx, result, a, b, c, descending):
    if _before(vals[a], vals[b], descending):
        if _before(vals[b], vals[c], descending):
            _swap(vals, idx, result, b)
        elif _before(vals[a], vals[c], descending):
            _swap(vals, idx, result, c)
        else:
            _swap(vals, idx, result, a)
    elif _before(vals[a], vals[c], descending):
        _swap(vals, idx, result, a)
    elif _before(vals[b], vals[c], descending):
        _swap(vals, idx, result, c)
    else:
        _swap(vals, idx, result, b)


def _partition_pivot(vals, idx, first, last, descending):
    """__unguarded_partition_pivot: median of three moved to first, then Hoare's partition of
    [first + 1, last) around it; returns the cut."""
    mid = first + (last - first) // 2
    _move_median_to_first(vals, idx, first, first + 1, mid, last - 1, descending)
    pivot = first
    lo, hi = first + 1, last
    while True:
        while _before(vals[lo], vals[pivot], descending):
            lo += 1
        hi -= 1
        while _before(vals[pivot], vals[hi], descending):
            hi -= 1
        if not lo < hi:
            return lo
        _swap(vals, idx, lo, hi)
        lo += 1


def _unguarded_linear_insert(vals, idx, last, descending):
    value, value_idx = vals[last], idx[last]
    prev = last - 1
    while _before(value, vals[prev], descending):
        vals[last], idx[last] = vals[prev], idx[prev]
        last = prev
        prev -= 1
    vals[last], idx[last] = value, value_idx


def _insertion_sort(vals, idx, first, last, descending):
    for i in range(first + 1, last):
        if _before(vals[i], vals[first], descending):
            value, value_idx = vals[i], idx[i]
            for j in range(i, first, -1):   # move_backward(first, i, i + 1)
                vals[j], idx[j] = vals[j - 1], idx[j - 1]
            vals[first], idx[first] = value, value_idx
        else:
            _unguarded_linear_insert(vals, idx, i, descending)


def std_sort(vals, idx, first, last, descending):
    """std::sort of the pairs in [first, last): introsort down to ranges of 16 (heap sort where
    the depth limit 2*floor(log2(n)) runs out), then one insertion sort over the whole range."""
    n = last - first
    if n < 2:
        return
    depth0 = 2 * _floor_log2(n)
    stack = np.empty((depth0 + 2, 3), np.int64)   # (first, last, depth); depths fall strictly upwards
    stack[0, 0], stack[0, 1], stack[0, 2] = first, last, depth0
    top = 1
    while top > 0:
        top -= 1
        lo, hi, depth = stack[top, 0], stack[top, 1], stack[top, 2]
        while hi - lo > _THRESHOLD:
            if depth == 0:
                partial_sort(vals, idx, lo, hi, hi, descending)
                break
            depth -= 1
            cut = _partition_pivot(vals, idx, lo, hi, descending)
            stack[top, 0], stack[top, 1], stack[top, 2] = cut, hi, depth
            top += 1
            hi = cut
    if n > _THRESHOLD:
        _insertion_sort(vals, idx, first, first + _THRESHOLD, descending)
        for i in range(first + _THRESHOLD, last):
            _unguarded_linear_insert(vals, idx, i, descending)
    else:
        _insertion_sort(vals, idx, first, last, descending)


def nth_element(vals, idx, first, nth, last, descending):
    """std::nth_element (__introselect): the pair that sorts to nth lands there, none after it
    goes before it."""
    if first == last or nth == last:
        return
    depth = 2 * _floor_log2(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(vals, idx, first, nth + 1, last, descending)
            _swap(vals, idx, first, nth)
            return
        depth -= 1
        cut = _partition_pivot(vals, idx, first, last, descending)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(vals, idx, first, last, descending)


def topk_row(vals, idx, k, largest, sort_k):
    """ATen's topk_impl_loop on one row (pairs in place): the k first pairs come out in torch's
    order; with sort_k False (topk's sorted=False) nth_element's selection stays unsorted."""
    n = len(vals)
    descending = largest
    if k * 64 <= n:   # partial_sort sorts whatever `sorted` says
        partial_sort(vals, idx, 0, k, n, descending)
    else:
        nth_element(vals, idx, 0, k - 1, n, descending)
        if sort_k:   # torch sorts the k - 1 before the nth, which is already in place
            std_sort(vals, idx, 0, k - 1, descending)


def quick_select(vals, idx, k):
    """ATen's quick_select_template with kthvalue's `gt_or_nan`: the pair of rank k (0-based,
    ascending, nan largest) lands at k."""
    lo, hi = 0, len(vals) - 1
    while True:
        if hi <= lo:
            return
        if hi == lo + 1:
            if _before(vals[lo], vals[hi], True):
                _swap(vals, idx, lo, hi)
            return
        _swap(vals, idx, (lo + hi) >> 1, lo + 1)
        if _before(vals[lo + 1], vals[hi], True):
            _swap(vals, idx, lo + 1, hi)
        if _before(vals[lo], vals[hi], True):
            _swap(vals, idx, lo, hi)
        if _before(vals[lo + 1], vals[lo], True):
            _swap(vals, idx, lo + 1, lo)
        i, j = lo + 1, hi
        pivot = vals[lo]
        while True:
            i += 1
            while _before(pivot, vals[i], True):
                i += 1
            j -= 1
            while _before(vals[j], pivot, True):
                j -= 1
            if j < i:
                break
            _swap(vals, idx, i, j)
        _swap(vals, idx, lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1


# --- row drivers: keys (R, n) in, int64 indices out; the same source interpreted or compiled ---

def _sort_rows(keys, rows, descending, out):
    """out[r] = torch's sort order of keys[r] for each r in rows (keys: [R, n], out: int64 [R, n])."""
    n = keys.shape[1]
    for r in rows:
        vals = keys[r].copy()
        idx = np.arange(n)
        std_sort(vals, idx, 0, n, descending)
        out[r] = idx


def _topk_rows(keys, k, largest, sort_k, out):
    """out[r] = torch's topk indices of keys[r] (keys: [R, n], out: int64 [R, k], k >= 1)."""
    n = keys.shape[1]
    for r in range(keys.shape[0]):
        vals = keys[r].copy()
        idx = np.arange(n)
        topk_row(vals, idx, k, largest, sort_k)
        out[r] = idx[:k]


def _kthvalue_rows(keys, k, out):
    """out[r] = the index kthvalue picks in keys[r] (keys: [R, n], out: int64 [R], k 0-based)."""
    n = keys.shape[1]
    for r in range(keys.shape[0]):
        vals = keys[r].copy()
        idx = np.arange(n)
        quick_select(vals, idx, k)
        out[r] = idx[k]


# --- the same drivers for the interpreter: each row as Python lists (list items read and written
# ~10x faster than numpy scalars, and a float32's Python float compares as it does)

def _sort_rows_listed(keys, rows, descending, out):
    n = keys.shape[1]
    for r in rows:
        vals, idx = keys[r].tolist(), list(range(n))
        std_sort(vals, idx, 0, n, descending)
        out[r] = idx


def _topk_rows_listed(keys, k, largest, sort_k, out):
    n = keys.shape[1]
    for r in range(keys.shape[0]):
        vals, idx = keys[r].tolist(), list(range(n))
        topk_row(vals, idx, k, largest, sort_k)
        out[r] = idx[:k]


def _kthvalue_rows_listed(keys, k, out):
    n = keys.shape[1]
    for r in range(keys.shape[0]):
        vals, idx = keys[r].tolist(), list(range(n))
        quick_select(vals, idx, k)
        out[r] = idx[k]


# Pairs a call handles from which it runs compiled. The interpreter takes ~3.6 us a pair on lists
# (argsort of 1,000 integers with ties: 3.6 ms; compiled ~0.02 ms); loading the first cached
# driver of a process takes ~0.35 s (Numba's machinery; an RNN program has paid it already), the
# next ~10 ms, and a first compile on an empty cache ~5 s a driver, once per machine (announced).
# Below this, a call stays interpreted (~1 ms at most) until the compiled driver is loaded.
COMPILED_FROM = 256

_INTERPRETED = {"sort": _sort_rows_listed, "topk": _topk_rows_listed, "kthvalue": _kthvalue_rows_listed}


def key_dtype(dtype):
    """The dtype rows are compared in: float64 for every float and for integers and bools of up to
    32 bits (exact there, so one compiled signature serves them all), int64 for 64-bit integers."""
    dtype = np.dtype(dtype)
    return np.dtype(np.int64) if dtype.kind == "i" and dtype.itemsize == 8 else np.dtype(np.float64)


def runs_compiled(kind, dtype, work):
    """Whether `kind` ("sort", "topk", "kthvalue") on `work` pairs of `dtype` runs compiled: from
    COMPILED_FROM pairs; below, where numba is imported already (an RNN program's kernels) and the
    driver needs no compile (a short sort never imports numba nor waits for a compile)."""
    if work >= COMPILED_FROM:
        return True
    if "numba" not in sys.modules:
        return False
    from . import sort_cpu
    return sort_cpu.ready(kind, key_dtype(dtype))


def _runner(kind, keys, work):
    if not runs_compiled(kind, keys.dtype, work):
        return _INTERPRETED[kind]
    from . import sort_cpu
    return sort_cpu.driver(kind, keys.dtype)


def _as_keys(x):
    """Rows Numba can compare in the same order, C-contiguous."""
    return np.ascontiguousarray(x, dtype=key_dtype(x.dtype))


def sort_rows(keys, rows, descending, out):
    """Write torch's (std::sort) order of keys[r] into out[r] for the rows listed
    (keys: [R, n], rows: int64 [m], out: int64 [R, n], C-contiguous)."""
    keys = _as_keys(keys)
    _runner("sort", keys, len(rows) * keys.shape[1])(keys, np.asarray(rows, np.int64), bool(descending), out)
    return out


def topk_rows(keys, k, largest, sort_k=True):
    """torch's topk indices of every row (keys: [R, n]) -> int64 [R, k], in torch's order
    (sort_k: topk's `sorted`)."""
    keys = _as_keys(keys)
    out = np.empty((keys.shape[0], k), np.int64)
    if k:
        _runner("topk", keys, keys.size)(keys, int(k), bool(largest), bool(sort_k), out)
    return out


def kthvalue_rows(keys, k):
    """The index torch's kthvalue picks in every row (keys: [R, n], k 1-based) -> int64 [R]."""
    keys = _as_keys(keys)
    out = np.empty(keys.shape[0], np.int64)
    _runner("kthvalue", keys, keys.size)(keys, int(k) - 1, out)
    return out
