"""Thread-equivalence tests need two Numba threads. Under NUMBA_NUM_THREADS=1 (the README's
setting per MPI process) Numba cannot start a second one, so the test function runs again, all
its parameters at once, in a fresh process with NUMBA_NUM_THREADS=2, and passes or fails with it."""
import os
import subprocess
import sys

import numba

_runs = {}


def rerun_with_two_threads(request):
    """True when this process has fewer than two Numba threads and the test function (every
    parameter set) passed in a process with two; raises AssertionError with its output when it
    failed there. False when two threads are available here: the caller runs the test itself."""
    if numba.config.NUMBA_NUM_THREADS >= 2:
        return False
    node = request.node.nodeid.split("[")[0]
    if node not in _runs:
        env = dict(os.environ, NUMBA_NUM_THREADS="2")
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node], env=env,
                             capture_output=True, text=True, cwd=str(request.config.rootpath), timeout=900)
        _runs[node] = (out.returncode, out.stdout[-4000:] + out.stderr[-2000:])
    code, output = _runs[node]
    assert code == 0, f"{node} with NUMBA_NUM_THREADS=2 failed:\n{output}"
    return True


class ChunkSpy:
    """Wraps run_chunks in the given modules and records the largest chunk count a call used,
    so a test can check that the threaded path actually ran."""

    def __init__(self, monkeypatch, *modules):
        from tinygrad_seq.kernels import blas_cpu

        self.most = 0
        original = blas_cpu.run_chunks

        def spy(task, n_chunks):
            self.most = max(self.most, n_chunks)
            return original(task, n_chunks)

        for module in (blas_cpu, *modules):
            monkeypatch.setattr(module, "run_chunks", spy)
