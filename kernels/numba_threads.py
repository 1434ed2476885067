"""numba.get_num_threads() without its locks, for the calls the kernels make a few times per layer call.

Numba's function takes two locks on every call to make sure its threading layer has started
(2.2 us a call, against 0.17 us for the read itself: AMD EPYC Zen 3, 2 vCPUs, 512 KiB L2 a
core, numpy matmul 160-190 GFLOP/s, load about 1, 2026-12-06 12:58 UTC);
once the layer has started, `num_threads` reads the count directly. The count stays Numba's:
per thread, as numba.set_num_threads sets it. Should Numba's private names change, this is
numba.get_num_threads().
"""
import ctypes
import os

import numba
from numba.np.ufunc import parallel as _parallel


def num_threads():
    """This thread's Numba thread count (numba.get_num_threads())."""
    if getattr(_parallel, "_is_initialized", False):
        n = _parallel._get_num_threads()
        if n > 0:
            return n
    return numba.get_num_threads()


def honour_omp_num_threads():
    """OMP_NUM_THREADS=n (and no NUMBA_NUM_THREADS) runs the kernels on n threads, as it runs
    torch and OpenBLAS: Numba sizes its pool by the CPU count alone. The pool keeps its size, so
    ts.set_num_threads may raise the count later, as torch.set_num_threads may. Numba's OpenMP
    layer starts its pool with omp_set_num_threads(pool size) in the process's OpenMP runtime,
    which torch shares: the count torch reads (torch.get_num_threads()) is put back as it was."""
    omp = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()   # "4,2": 4 at the outer level
    if "NUMBA_NUM_THREADS" in os.environ or not omp.isdigit() or not 1 <= int(omp) < numba.config.NUMBA_NUM_THREADS:
        return
    try:
        gomp = ctypes.CDLL("libgomp.so.1")   # the runtime loaded once per process (by soname)
        before = gomp.omp_get_max_threads()
    except (OSError, AttributeError):
        gomp = None
    numba.set_num_threads(int(omp))   # starts the pool
    if gomp is not None and numba.threading_layer() == "omp" and gomp.omp_get_max_threads() != before:
        gomp.omp_set_num_threads(before)


honour_omp_num_threads()
