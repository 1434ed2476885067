"""asv: handing a kernel call's chunks to the kernels' threads (kernels/workers_cpu.py).

Two chunks, each a nogil Numba call with 16 arguments that does about a microsecond of work, the
shape of a time loop's chunk call: through the kernels' workers (the library's path) and through
concurrent.futures (what a second caller gets, and what the library used before). One chunk on
the calling thread is the floor. Needs two Numba threads (skipped otherwise)."""
import numba
import numpy as np
from numba import njit

from tinygrad_seq.kernels import blas_cpu


@njit(nogil=True, cache=True)
def _chunk(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, lo, hi):
    total = 0.0
    for i in range(lo * 200, hi * 200):
        total += a0[i % a0.shape[0]]
    return total


class ChunkHandOff:
    params = (["workers", "futures", "one chunk"],)
    param_names = ["path"]

    def setup(self, path):
        if numba.get_num_threads() < 2:
            raise NotImplementedError("needs two Numba threads")
        self.args = [np.zeros(100, np.float32) for _ in range(14)]
        run = {"workers": blas_cpu.run_chunks, "futures": blas_cpu._run_on_executor,
               "one chunk": lambda task, n: task(0)}[path]

        def call():
            run(lambda c: _chunk(*self.args, c, c + 1), 2)

        self.call = call
        for _ in range(20):  # compiled, threads started, workers pinned
            call()

    def time_two_chunks(self, path):
        self.call()
