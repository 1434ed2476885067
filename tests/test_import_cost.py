"""`import tinygrad_seq` loads no compiler: numba (0.2-0.4 s, and its first compile pulls in
scipy.linalg) is imported by the first call that runs a compiled kernel, never by the import."""
import subprocess
import sys


def test_import_loads_neither_numba_nor_scipy_linalg():
    code = ("import sys\n"
            "import tinygrad_seq as ts\n"
            "ts.tensor([3, 1, 3, 2, 1]).sort(descending=True)   # a short sort with ties: interpreted\n"
            "print('numba' in sys.modules, 'scipy.linalg' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
