"""kernels/numba_threads.py: the kernels' read of Numba's thread count is numba.get_num_threads(),
per thread as numba.set_num_threads sets it."""
import threading

import numba

from tinygrad_seq.kernels.numba_threads import num_threads


def test_the_count_is_numbas_per_thread():
    assert num_threads() == numba.get_num_threads()
    seen = []

    def one_thread():
        numba.set_num_threads(1)
        seen.append((num_threads(), numba.get_num_threads()))

    worker = threading.Thread(target=one_thread)
    worker.start()
    worker.join()
    assert seen == [(1, 1)]
    assert num_threads() == numba.get_num_threads()   # this thread's count untouched
