"""numba.get_num_threads() without its locks, for the calls the kernels make a few times per layer call.

Numba's function takes two locks on every call to make sure its threading layer has started
(2.2 us a call on the AMD EPYC Zen 3 host of 2026-12-06, against 0.17 us for the read itself);
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
