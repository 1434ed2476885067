"""ts.set_num_threads limits every BLAS pool and Numba's pool (checked in a fresh process, so the
test's own pools stay as they are)."""
import subprocess
import sys

import pytest

import tinygrad_seq as ts


def test_set_num_threads_limits_all_blas_pools():
    code = ("import numpy, tinygrad_seq as ts, numba\n"
            "from threadpoolctl import threadpool_info\n"
            "ts.set_num_threads(1)\n"
            "blas = [l for l in threadpool_info() if l['user_api'] == 'blas']\n"
            "print(len(blas), max(l['num_threads'] for l in blas), numba.get_num_threads(), ts.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    n_libs, blas_threads, numba_threads, ts_threads = map(int, out.stdout.split())
    assert n_libs >= 2  # numpy's and scipy's OpenBLAS
    assert blas_threads == numba_threads == ts_threads == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2"])
def test_set_num_threads_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="positive integer"):
        ts.set_num_threads(bad)
