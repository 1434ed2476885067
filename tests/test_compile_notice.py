"""kernels/compile_notice.py: the first-run line on stderr appears when Numba's on-disk cache
lacks the kernel and not once it holds it (fresh processes over one fresh cache folder)."""
import os
import subprocess
import sys

import numpy as np

from tinygrad_seq.kernels import compile_notice, rnn_cpu

CODE = (
    "import numpy as np\n"
    "from tinygrad_seq.kernels import rnn_cpu\n"
    "x = np.ones((2, 1, 3)); h = np.zeros((1, 4)); w = np.full((4, 3), 0.1); u = np.full((4, 4), 0.1)\n"
    "b = np.zeros(4)\n"
    "print(rnn_cpu.rnn_forward(x, h, w, u, b, b, None, False, False)[0].sum())\n"
)


def test_notice_only_when_the_cache_lacks_the_kernel(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), TINYGRAD_SEQ_TUNE="off")
    runs = [subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=600)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    notice = "tinygrad_seq: compiling the RNN CPU forward kernels for float64 (first run on this machine"
    assert runs[0].stderr.count(notice) == 1
    assert "compiling" not in runs[1].stderr
    assert runs[0].stdout == runs[1].stdout


def test_is_cached_sees_kernels_compiled_in_this_process():
    x = np.ones((2, 1, 3), np.float32)
    h = np.zeros((1, 4), np.float32)
    rnn_cpu.rnn_forward(x, h, np.ones((4, 3), np.float32), np.ones((4, 4), np.float32), np.zeros(4, np.float32),
                        np.zeros(4, np.float32), None, False, False)
    assert compile_notice.is_cached(rnn_cpu._forward, np.float32)
