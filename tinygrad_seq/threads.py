"""ts.set_num_threads / ts.get_num_threads (PyTorch's names): one knob for the CPU thread pools.

The CPU path runs on two BLAS libraries (numpy's OpenBLAS for the engine's matmuls, scipy's
OpenBLAS for the GEMMs inside the Numba kernels) and Numba's own pool. The recurrent kernels
split their work over Numba's threads and call scipy's OpenBLAS on one thread each, so their
thread count is Numba's (see kernels/blas_cpu.py). OpenBLAS threads spin
while they wait for work, so on a machine whose cores are busy with other processes (or with
several training processes, one per core) two-thread BLAS makes small GEMMs many times slower;
one thread per process is then the right setting. The default leaves every pool as it starts.
"""
_threads = None


def set_num_threads(n: int):
    """Use n threads in numpy's and scipy's BLAS and in Numba's parallel loops."""
    global _threads
    if not isinstance(n, int) or n < 1:
        from tinygrad_seq.errors import InvalidArgument   # torch's RuntimeError, and a ValueError
        raise InvalidArgument(f"set_num_threads expects a positive integer, got {n!r}")
    import numba
    import scipy.linalg.cython_blas  # noqa: F401  loads scipy's BLAS so its pool is limited too
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=n, user_api="blas")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    _threads = n


def get_num_threads() -> int:
    """The thread count set by set_num_threads, else the BLAS pools' current maximum."""
    if _threads is not None:
        return _threads
    from threadpoolctl import threadpool_info
    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(counts) if counts else 1
