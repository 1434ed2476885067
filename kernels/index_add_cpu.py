"""Accumulating writes with repeated targets: index_add_ / index_put_(accumulate=True) by rows
and scatter_add_ along a dim, one pass in the order torch adds (index position by position, so
sums of repeats round as torch's).

numpy's ufunc.at, their portable form, ran 10-80x torch's time where many rows land on few
targets (5,000 rows of 300 into 10: 13.7 ms against torch's 0.27; subword-to-word pooling 9x).

Shapes, the dim of the write in the middle: out [P, N, Q], rows [K] int64 (each in 0..N-1),
src [P, K, Q]; scatter's index [P, K, Q] int64 (each in 0..N-1) and src [P, K, Q]. C-contiguous,
any numeric dtype (one compile each).

Imports numpy and numba only.
"""
from .cache_load import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def add_rows(out, rows, src):
    """out[p, rows[k], q] += src[p, k, q], k in order."""
    for p in range(out.shape[0]):
        for k in range(rows.shape[0]):
            r = rows[k]
            for q in range(out.shape[2]):
                out[p, r, q] += src[p, k, q]


@njit(**_JIT)
def scatter_add(out, index, src):
    """out[p, index[p, k, q], q] += src[p, k, q], k in order for each (p, q)."""
    for p in range(index.shape[0]):
        for k in range(index.shape[1]):
            for q in range(index.shape[2]):
                out[p, index[p, k, q], q] += src[p, k, q]
