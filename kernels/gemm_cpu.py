"""numpy's matmul for the engine's CPU products, kept off numpy's BLAS threads (gemm_cuda.py is
its CUDA twin).

Why: numpy's OpenBLAS has its own thread pool, whose workers spin for a while after each
multi-threaded GEMM. The recurrent kernels run in Numba's pool (see blas_cpu), so an engine
product on numpy's threads between two kernel calls leaves two pools spinning on the same cores.
Measured here (2 cores, one seq2seq training step, B=32, S=T=20, H=256, medians of 6 blocks of 3
steps, configurations interleaved): 228-244 ms with the engine's products on numpy's two BLAS
threads, 154 ms with them as below.

So a product numpy would thread (OpenBLAS threads a GEMM above 65536 * 4 multiply-adds) runs:
- with many rows (at least tuning.ROWS_PER_THREAD per Numba thread, after merging the batch dimensions
  of a C-ordered [..., M, K] @ [K, N]) split by rows over the kernels' threads, each calling
  numpy's OpenBLAS pinned to one thread: the recipe of the kernels' input projections;
- a transposed left operand (x^T @ g, a weight gradient) with many rows of x: split by those
  rows (the reduction dimension) into partial products, one per thread, then added;
- otherwise on numpy's BLAS pinned to one thread for the call (blas_cpu.numpy_blas_one_thread,
  process-wide while it lasts). Few rows: a split would re-pack the whole right operand per
  thread for little work, and numpy's OpenBLAS ran these faster than scipy's here ([32,768] @
  [768,256]: 193 vs 261 us).
Smaller products stay on plain np.matmul, which numpy runs on one thread anyway.
"""
from . import blas_cpu  # before numba: it trims numba's import of scipy

import numpy as np

from . import split_cpu, tuning
from .numba_threads import num_threads
from .blas_cpu import chunk_bounds, gemm_into, gemm_route, kernel_threads, numpy_blas_one_thread, panels_fit, run_chunks, swaps

# the settings (tuning.NUMPY_SINGLE_THREAD_MACS, SPLIT_MIN_MACS, ROWS_PER_THREAD) are read per call;
# this name stays for the engine, which routes by it before importing numba
NUMPY_SINGLE_THREAD_MACS = tuning.NUMPY_SINGLE_THREAD_MACS


def _product_2d(a, b):
    """a [M, K] (C-ordered, or a transposed C-ordered array) @ b [K, N] C- or F-ordered (a
    transposed weight), rows split over the kernels' threads (one chunk while another thread runs
    a parallel kernel)."""
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    rows = a.shape[0]
    route = gemm_route(a.dtype)
    with kernel_threads(rows, 1, rows * a.shape[1] * b.shape[1]) as n_chunks:
        def rows_of(c):
            lo, hi = chunk_bounds(c, n_chunks, rows)
            gemm_into(a[lo:hi], b, out[lo:hi], route)

        run_chunks(rows_of, n_chunks)
    return out


def _product_2d_k_split(a, b):
    """a [M, K] F-ordered (a transposed C-ordered [K, M], the x^T of a weight gradient x^T @ g) @
    b [K, N] C-ordered, the reduction dimension split over the kernels' threads: chunk c sums its
    rows of the C-ordered arrays into a partial product of its own, then the partials are added.
    Chunks of a's rows instead would be strided in both dimensions, which OpenBLAS ran slower
    than the whole product on one thread (a [10000, 700] of a word LM's output layer, measured
    here: 30 ms for half the rows against 41 ms for all); split by K, 22-26 ms on 2 threads."""
    k = a.shape[1]
    route = gemm_route(a.dtype)
    with kernel_threads(k, 1, a.shape[0] * k * b.shape[1]) as n_chunks:
        parts = np.empty((n_chunks, a.shape[0], b.shape[1]), a.dtype)

        def rows_of(c):
            lo, hi = chunk_bounds(c, n_chunks, k)
            gemm_into(a[:, lo:hi], b[lo:hi], parts[c], route)

        run_chunks(rows_of, n_chunks)
    out = parts[0]
    for c in range(1, n_chunks):
        out += parts[c]
    return out


def matmul(a, b):
    """np.matmul(a, b) for float32 / float64 operands of at least 2 dimensions (numpy's
    broadcasting of the batch dimensions included); other operands go to np.matmul. A product
    that can split (_split_kind) splits over the kernels' threads where that pays on this machine
    (split_cpu "gemm", measured per way of splitting, class of multiply-adds and dtype; rule:
    from tuning.SPLIT_MIN_MACS, twice that for the output-rows split of x^T @ g)."""
    if (a.dtype != b.dtype or a.dtype not in (np.float32, np.float64) or a.ndim < 2 or b.ndim < 2
            or a.shape[-1] != b.shape[-2] or 0 in a.shape or 0 in b.shape):
        return np.matmul(a, b)
    k, n = b.shape[-2:]
    rows = a.size // k  # [..., M, K] @ [K, N] is one [rows, K] @ [K, N] product
    macs = rows * k * n
    threads = num_threads()
    if threads > 1 and macs >= tuning.setting("SPLIT_MIN_MACS"):
        # an operand in neither order is copied once, whether the product then splits or not (the
        # one-thread routes, swap and panels, take C-ordered operands)
        a, b = _ordered(a), _ordered(b)
    kind = _split_kind(a, b, rows, k) if threads > 1 else None
    if kind is not None and split_cpu.splits("gemm", kind, macs // 2 if kind == "out_rows" else macs, a.dtype,
                                             lambda: _one_thread(a, b, rows, k, n), lambda: _split(kind, a, b)):
        return _split(kind, a, b)
    return _one_thread(a, b, rows, k, n)


def _split_kind(a, b, rows, k):
    """How a [.., M, K] @ [K, N] product splits over the threads, or None: "rows" (a C-ordered,
    or copied to it, b 2-D, enough rows), "k" (a an F-ordered 2-D x^T, b C-ordered, enough rows
    of x: partial products by K), "out_rows" (the same x^T @ g with too few rows of x but
    enough output rows), "cols" (a few rows of a, a large b: by output columns). An operand in
    neither order (the broadcast ones of `.sum().backward()`, stride 0, or a strided slice) is
    copied by _split: a Linear 1600x512 -> 512 under `out.sum().backward()` took 28.4 ms with its dx and dW products on one thread, 15.6
    ms with them split (AMD EPYC, 2 threads, 2026-12-05)."""
    per_thread = tuning.setting("ROWS_PER_THREAD") * num_threads()
    a_c = a.flags.c_contiguous or not (a.ndim == 2 and a.flags.f_contiguous)   # C, or copied to C
    b_c = b.flags.c_contiguous or not (b.ndim == 2 and b.flags.f_contiguous)
    if b.ndim == 2 and a_c and rows >= per_thread:
        return "rows"
    if a.ndim == 2 and b.ndim == 2 and not a_c and b_c:
        if k >= per_thread:
            return "k"
        if rows >= per_thread:
            # its output rows split ([1024, 32] @ [32, 256]: 178 -> 134-152 us, [1024, 64] @ [64,
            # 1024] 1258 -> 721-869, [10000, 32] @ [32, 256] 1889 -> 964-999; at half the
            # multiply-adds, [256, 32] @ [32, 512], 99 -> 91-113; AMD EPYC Zen 4, 2 threads, 2026-12-06)
            return "out_rows"
    if (b.ndim == 2 and tuning.setting("COLUMNS_SPLIT_MIN_ROWS") <= rows < per_thread
            and b.size >= tuning.setting("COLUMNS_SPLIT_MIN_WEIGHT")):
        # few rows and a large weight (a decoder step's vocabulary projection): each thread its
        # columns, streaming its share of the weight. One thread / split, us, two rounds ([16, 512]
        # @ [512, 5000]: 1957 / 1576 and 2129 / 1843; [32, 256] @ [256, 8000] 3013 / 2266; [8, 512] @
        # [512, 4096] 1027 / 851; [4, 512] @ [512, 4096] 873 / 730; weights of 0.25-0.5M elements
        # 0.91-1.35x: kept on one thread; AMD EPYC Zen 3, 512 KiB L2 a core, 32 MiB L3, numpy
        # matmul 151-177 GFLOP/s, 2 threads, load ~1, 2026-12-07)
        return "cols"
    return None


def _ordered(x):
    """x, or a C-ordered copy of it where it is in neither C order nor (2-D) F order."""
    return x if x.flags.c_contiguous or (x.ndim == 2 and x.flags.f_contiguous) else np.ascontiguousarray(x)


def _split(kind, a, b):
    a, b = _ordered(a), _ordered(b)
    if kind == "k":
        return _product_2d_k_split(a, b)
    if kind == "out_rows":
        return _product_2d(a, b)
    if kind == "cols":
        return _product_columns(a, b)
    k = b.shape[0]
    return _product_2d(a.reshape(-1, k), b).reshape(a.shape[:-1] + (b.shape[1],))


def _product_columns(a, b):
    """a [.., M, K] @ b [K, N] with each thread writing its range of the N output columns."""
    k, n = b.shape
    a2 = a.reshape(-1, k)
    out = np.empty((a2.shape[0], n), a.dtype)
    route = gemm_route(a.dtype)
    with kernel_threads(n, 1, out.size * k) as n_chunks:
        def columns_of(c):
            lo, hi = chunk_bounds(c, n_chunks, n)
            gemm_into(a2, b[:, lo:hi], out[:, lo:hi], route)

        run_chunks(columns_of, n_chunks)
    return out.reshape(a.shape[:-1] + (n,))


def _one_thread(a, b, rows, k, n):
    if a.shape[-2] * k * n <= tuning.setting("NUMPY_SINGLE_THREAD_MACS"):
        # numpy calls BLAS once per product of the batch, each small enough for one thread
        return np.matmul(a, b)
    with numpy_blas_one_thread():
        if b.ndim == 2 and a.flags.c_contiguous and swaps(a.reshape(rows, k), b):
            # as gemm_into runs it (blas_cpu.swaps), without asking again
            return np.ascontiguousarray(np.matmul(b.T, a.reshape(rows, k).T).T).reshape(a.shape[:-1] + (n,))
        if a.ndim == 2 and b.ndim == 2 and rows >= tuning.setting("PANEL_GEMM_MIN_ROWS") and gemm_route(a.dtype) == "panels":
            out = np.empty((rows, n), a.dtype)
            if panels_fit(a, b, out):
                gemm_into(a, b, out, "panels")   # its columns past the last panel by numpy, one thread
                return out
        return np.matmul(a, b)
