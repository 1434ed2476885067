"""numba.get_num_threads() without its locks, for the calls the kernels make a few times per layer call.

Numba's function takes two locks on every call to make sure its threading layer has started
(2.2 us a call, against 0.17 us for the read itself: AMD EPYC Zen 3, 2 vCPUs, 512 KiB L2 a
core, numpy matmul 160-190 GFLOP/s, load about 1, 2026-12-06 12:58 UTC);
once the layer has started, `num_threads` reads the count directly. The count stays Numba's:
per thread, as numba.set_num_threads sets it. Should Numba's private names change, this is
numba.get_num_threads().
"""
import numba
from numba.np.ufunc import parallel as _parallel


def num_threads():
    """This thread's Numba thread count (numba.get_num_threads())."""
    if getattr(_parallel, "_is_initialized", False):
        n = _parallel._get_num_threads()
        if n > 0:
            return n
    return numba.get_num_threads()
