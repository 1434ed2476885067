"""Every CUDA kernel compiles to PTX for sm_90 (H100) and sm_80 (A100), without a GPU.

Each kernel module lists its kernels in ptx_kernels() as (name, py_func, argument types,
threads per block), both float dtypes. A subprocess without NUMBA_ENABLE_CUDASIM (the simulator
cannot compile) patches numba.cuda.dispatcher.get_current_device, which compile_ptx asks for a
compute capability when a kernel calls a device function or uses grid sync (CUDA_NOTES.md), and
compiles each kernel per capability. Where nvJitLink is installed, the register-critical kernels
(persistent recurrences, GEMM) are also assembled for sm_90 under the register cap of their
block size, to check that ptxas accepts them and to report registers and spills.
"""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

# every kernel module with a ptx_kernels(); the recurrent_*_cuda kernels are listed per cell by
# lstm, gru and rnn
MODULES = ["ops", "gemm", "reduce", "softmax", "gather", "lstm", "gru", "rnn", "cell"]

_SCRIPT = r"""
import glob, json, os, re, sys
import numba.cuda.dispatcher as dispatcher

class _Device:
    compute_capability = (9, 0)

dispatcher.get_current_device = lambda: _Device()
from numba import cuda as ncuda
import importlib
mod = importlib.import_module("tinygrad_seq.kernels." + sys.argv[1] + "_cuda")

def assemble(ptx, threads):
    # sm_90 cubin through nvJitLink (libcudadevrt for grid sync) -> (registers, spill bytes)
    from cuda.bindings import nvjitlink
    import nvidia
    from tinygrad_seq.kernels.recurrent_persistent_cuda import register_cap
    opts = ["-arch=sm_90", "-verbose", "-maxrregcount=%d" % register_cap(threads)]
    h = nvjitlink.create(len(opts), opts)
    nvjitlink.add_data(h, nvjitlink.InputType.PTX, ptx.encode(), len(ptx), "k")
    if "cudaCGSynchronize" in ptx:
        lib = [p for d in nvidia.__path__ for p in glob.glob(os.path.join(d, "*", "lib", "libcudadevrt.a"))][0]
        data = open(lib, "rb").read()
        nvjitlink.add_data(h, nvjitlink.InputType.LIBRARY, data, len(data), "cudadevrt")
    nvjitlink.complete(h)
    log = bytearray(nvjitlink.get_info_log_size(h))
    nvjitlink.get_info_log(h, log)
    log = log.decode()
    return int(re.search(r"Used (\d+) registers", log).group(1)), int(re.search(r"(\d+) bytes spill stores", log).group(1))

try:
    from cuda.bindings import nvjitlink as _probe  # noqa: F401
    have_link = True
except ImportError:
    have_link = False
results = []
for name, fn, sig, threads in mod.ptx_kernels():
    row = {"name": name}
    for cc in [(9, 0), (8, 0)]:
        _Device.compute_capability = cc
        try:
            ptx, _ = ncuda.compile_ptx(fn, sig, cc=cc, fastmath=True)
        except Exception as e:
            row["error_%d%d" % cc] = "%s: %s" % (type(e).__name__, str(e)[:400])
            continue
        row["entry_%d%d" % cc] = ".entry" in ptx and (".target sm_%d%d" % cc) in ptx
        if cc == (9, 0):
            # float32 kernels must not compute in float64 (Python float literals would)
            row["f64_ops"] = "float32" in name and bool(re.search(r"\b(add|sub|mul|fma|div)\.\S*f64", ptx))
            row["local_mem"] = "__local_depot" in ptx
            if have_link and ("persist" in name or "gemm" in name):
                row["regs"], row["spill"] = assemble(ptx, threads)
                row["threads"] = threads
    results.append(row)
print("RESULTS" + json.dumps(results))
"""


def _numba_cuda_compiles():
    try:
        import numba_cuda  # noqa: F401
        return True
    except ImportError:
        return False


@pytest.fixture(scope="module")
def compiled():
    """Runs the module compiles as concurrent subprocesses -> {module: [row, ...]}."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = {m: subprocess.Popen([sys.executable, "-c", _SCRIPT, m], cwd=root, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for m in MODULES}
    out = {}
    for m, p in procs.items():
        stdout, stderr = p.communicate(timeout=1200)
        line = [ln for ln in stdout.splitlines() if ln.startswith("RESULTS")]
        assert p.returncode == 0 and line, f"{m}: compile subprocess failed:\n{stderr[-3000:]}"
        out[m] = json.loads(line[0][len("RESULTS"):])
    return out


@pytest.mark.skipif(not _numba_cuda_compiles(), reason="numba-cuda (the 'cuda' extra) is not installed")
@pytest.mark.parametrize("module", MODULES)
def test_every_kernel_compiles_to_ptx(compiled, module):
    rows = compiled[module]
    assert rows, module
    for row in rows:
        for cc in ("90", "80"):
            assert "error_" + cc not in row, (row["name"], row["error_" + cc])
            assert row["entry_" + cc], (row["name"], cc)
        assert not row.get("local_mem"), f"{row['name']}: arrays left in local memory"
        if "persist" in row["name"] or "gemm" in row["name"] or "step" in row["name"]:
            assert not row["f64_ops"], f"{row['name']}: float64 arithmetic in a float32 kernel"
        if "regs" in row:
            # the block must fit one SM's 64K registers (cooperative launch needs it resident);
            # registers go per warp of 32 threads, in steps of 8 per thread
            allocated = -(-row["regs"] // 8) * 8 * 32 * -(-row["threads"] // 32)
            assert allocated <= 65536, row
    if module == "lstm":
        print("\n" + "\n".join(f"{r['name']}: {r.get('regs')} registers, {r.get('spill')} B spill"
                               for r in rows if "regs" in r))
