"""The dense gradient of an embedding table on the CPU: zeros(num, dim) with each upstream row
added at the table row its index names (functional._Embedding.backward).

float32 / float64 gradients (made contiguous) with int64 / int32 indices take one compiled pass
(kernels/optim_cpu.embedding_grad): each thread zeroes its range of table rows and adds, in
order of appearance, the upstream rows whose index falls in it, as torch's
embedding_dense_backward_cpu does (the same sums in the same order: deterministic). Where the
time went before, for a 10000 x 512 float32 table and 1600 indices (AMD EPYC znver2, 2 cores,
2026-12-05): np.add.reduceat of the sorted rows 5.7 ms, np.zeros of the 20 MB table 1.5 ms (a
memset: the allocator keeps freed memory, so no fresh zero pages), the sort and gather 0.2 ms.
Other arrays keep the sort + np.add.reduceat composition."""
import numpy as np

_kernels = None   # (optim_cpu, blas_cpu, tuning, announce, split_cpu), loaded on first use (Numba: 0.5 s)


def _load():
    global _kernels
    if _kernels is None:
        from tinygrad_seq.kernels import blas_cpu, optim_cpu, split_cpu, tuning
        from tinygrad_seq.kernels.compile_notice import announce
        _kernels = (optim_cpu, blas_cpu, tuning, announce, split_cpu)
    return _kernels


def embedding_grad_cpu(shape, idx, g, skip_row):
    """zeros(shape) (num, dim) with row n of g (idx.shape + (dim,)) added at row idx.flat[n];
    row skip_row (the padding index, or None) stays zero. idx: host integers, all in range."""
    if (type(g) is np.ndarray and g.dtype.char in "fd"
            and type(idx) is np.ndarray and idx.dtype.char in "lqi" and idx.dtype.itemsize in (4, 8)):
        # a strided gradient (a batch_first layer's input gradient is a transposed view) is copied
        # once: the kernel's pass is several times the sort's speed (10 against 2.7 ms; AMD EPYC
        # Zen 3, 512 KiB L2 a core, matmul ~160 GFLOP/s, 2 threads, load ~1, 2026-12-07)
        return _by_kernel(shape, idx, np.ascontiguousarray(g), skip_row)
    return _by_sort(shape, idx, g, skip_row)


def _by_kernel(shape, idx, g, skip_row):
    optim_cpu, blas_cpu, tuning, announce, split_cpu = _load()
    num = shape[0]
    out = np.empty(shape, g.dtype)
    flat = np.ascontiguousarray(idx).reshape(-1)
    rows = g.reshape(-1, shape[1])
    skip = -1 if skip_row is None else int(skip_row) % num
    announce("the embedding gradient CPU kernel", g.dtype, (optim_cpu.embedding_grad,))

    def run_one():
        optim_cpu.embedding_grad(out, flat, rows, skip, 0, num)

    def run_split():
        # each thread its own table rows: no two threads write a row, and each row's sum is in order
        with blas_cpu.kernel_threads(1, num, max(out.size, tuning.setting("PARALLEL_MIN_MACS"))) as n_chunks:
            blas_cpu.run_chunks(lambda c: optim_cpu.embedding_grad(out, flat, rows, skip,
                                                                   *blas_cpu.chunk_bounds(c, n_chunks, num)), n_chunks)

    # split where that pays on this machine (split_cpu "embedding"; the call writes all of out,
    # so measuring it leaves the result; rule: from tuning.EMBEDDING_SPLIT_MIN_ELEMENTS)
    (run_split if split_cpu.splits("embedding", "embedding_grad", out.size, g.dtype, run_one, run_split)
     else run_one)()
    return out


def _by_sort(shape, idx, g, skip_row):
    """The rows sorted by index (stable, so repeats add in order of appearance) and summed per
    run with one reduceat."""
    flat = idx.reshape(-1)
    rows = g.reshape(-1, shape[1])
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    out = np.zeros(shape, g.dtype)
    out[s[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    if skip_row is not None:
        out[skip_row] = 0
    return out


def looked_up_rows(table, idx, padding_idx):
    """Note on table (an embedding weight used with sparse=True, a parameter of a SparseAdam) the
    rows a backward reached, the padding row left out: torch's sparse gradient lists them, a row
    whose gradient sums to zero included, and its SparseAdam steps every listed row. The note
    gathers the rows of every backward until SparseAdam's next step takes it or the gradient is
    cleared (zero_grad: the grad setter, leaf_grads.zero_in_place)."""
    rows = np.unique(np.asarray(idx).reshape(-1))
    if padding_idx is not None:
        rows = rows[rows != padding_idx]
    kept = getattr(table, "_sparse_rows", None)
    table._sparse_rows = rows if kept is None else np.union1d(kept, rows)
