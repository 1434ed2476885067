"""kernels/numba_threads.py: the kernels' read of Numba's thread count is numba.get_num_threads(),
per thread as numba.set_num_threads sets it."""
import threading

import numba
import pytest

from tinygrad_seq.kernels.numba_threads import num_threads


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads to tell counts apart")
def test_the_count_is_numbas_per_thread():
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        assert num_threads() == numba.get_num_threads() == 2
        seen = []

        def one_thread():
            numba.set_num_threads(1)
            seen.append((num_threads(), numba.get_num_threads()))

        worker = threading.Thread(target=one_thread)
        worker.start()
        worker.join()
        assert seen == [(1, 1)]
        assert num_threads() == 2   # this thread's count untouched
    finally:
        numba.set_num_threads(before)
