"""BLAS plumbing of the fused CPU kernels: the whole-sequence GEMMs and the BLAS thread count.

``np.dot`` inside @njit calls scipy's BLAS (``scipy.linalg.cython_blas``; OpenBLAS in the scipy
wheels), a different OpenBLAS instance and thread pool from numpy's own. Every GEMM of a kernel
runs from @njit code so all of them share that one pool.

Threads: every product of a kernel runs on ONE OpenBLAS thread, called from Numba's own thread
pool (``prange`` over chunks of rows). Two pools on two cores fight: OpenBLAS workers spin for up
to ~0.1 s after a GEMM and Numba's OpenMP workers after a parallel region, so alternating them
(input projection on OpenBLAS threads, time loop on Numba threads) made a B=16, H=256 LSTM 2x
slower here. Measured (AMD EPYC, 2 cores, float32): two single-thread OpenBLAS calls on half the
rows each ran as fast as one two-thread call for the big GEMMs (170-181 GFLOP/s at [800,256] x
[256,1024] and [3200,512] x [512,2048]) and 1.7x faster for a small one ([200,64] x [64,256]: 100
vs 60 GFLOP/s). The time loop splits the batch: rows of a batch never meet inside the loop, so
each thread runs the whole sequence for its rows with no barrier per step.
``ts.set_num_threads`` / ``numba.set_num_threads`` set the thread count.

Import cost: numba imports ``scipy.linalg.cython_blas`` when it starts, which runs
``scipy/linalg/__init__.py`` (~0.25 s: all of scipy.linalg, its array-API layer, numpy.testing
and numpy.f2py). ``_preload_cython_blas`` loads just the two extension modules numba reads
(``__pyx_capi__`` function tables) so a cold process skips that; a later ``import scipy.linalg``
runs normally and reuses them. Import this module before numba.
"""
import ctypes
import glob
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading

def _scipy_dir():
    spec = importlib.util.find_spec("scipy")
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


_PRELOADED = ("cython_blas", "cython_lapack")


class _LinkPreloaded(importlib.abc.MetaPathFinder):
    """One-shot finder: when scipy.linalg itself is imported later, bind the preloaded extension
    modules as its attributes (the import system only does that for children imported after
    their parent), so ``scipy.linalg.cython_blas`` works as usual."""

    def find_spec(self, name, path=None, target=None):
        if name != "scipy.linalg":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_link(module):
            exec_module(module)
            for child in _PRELOADED:
                loaded = sys.modules.get(f"{name}.{child}")
                if loaded is not None and not hasattr(module, child):
                    setattr(module, child, loaded)

        spec.loader.exec_module = exec_and_link
        return spec


def _preload_cython_blas():
    if "numba" in sys.modules or "scipy.linalg" in sys.modules:
        return
    root = _scipy_dir()
    if root is None:
        return
    for child in _PRELOADED:
        full = "scipy.linalg." + child
        if full in sys.modules:
            continue
        paths = [p for suffix in importlib.machinery.EXTENSION_SUFFIXES
                 for p in glob.glob(os.path.join(root, "linalg", child + suffix))]
        if not paths:
            return
        try:
            spec = importlib.util.spec_from_file_location(full, paths[0])
            module = importlib.util.module_from_spec(spec)
            sys.modules[full] = module
            spec.loader.exec_module(module)
        except Exception:
            sys.modules.pop(full, None)
            return
        if not any(isinstance(f, _LinkPreloaded) for f in sys.meta_path):
            sys.meta_path.insert(0, _LinkPreloaded())


_preload_cython_blas()

import numpy as np  # noqa: E402
import numba  # noqa: E402
from numba import njit, prange  # noqa: E402

_JIT = dict(cache=True, fastmath=True, error_model="numpy")


def _openblas_threads_api(package):
    """(get, set) thread-count functions of the OpenBLAS bundled with `package` ("scipy" or
    "numpy", in <site-packages>/<package>.libs), or None when it bundles none."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = os.path.dirname(list(spec.submodule_search_locations)[0])
    for path in sorted(glob.glob(os.path.join(root, package + ".libs", "lib*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("", "64_"):
                try:
                    get = getattr(lib, prefix + "get_num_threads" + suffix)
                    put = getattr(lib, prefix + "set_num_threads" + suffix)
                except AttributeError:
                    continue
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                return get, put
    return None


class _OneBlasThread:
    """``with pin:`` one OpenBLAS library (scipy's or numpy's) on one thread while any caller is
    inside; the last caller to leave restores the count it had. The count is process-wide
    (OpenBLAS's pthreads build has no per-thread count: its openblas_set_num_threads_local sets
    the global one), so while pinned every thread's calls into that library run on one thread;
    the count of callers inside, under a lock, keeps two threads from restoring each other's
    setting (one would leave it at 1 for good)."""

    def __init__(self, package):
        self.package = package
        self.api = None
        self.checked = False
        self.lock = threading.Lock()
        self.inside = 0
        self.before = 1

    def __enter__(self):
        with self.lock:
            if not self.checked:
                self.api, self.checked = _openblas_threads_api(self.package), True
            if self.api is not None:
                if self.inside == 0:
                    self.before = self.api[0]()
                    if self.before > 1:
                        self.api[1](1)
                self.inside += 1
        return self

    def __exit__(self, *exc):
        with self.lock:
            if self.api is not None:
                self.inside -= 1
                if self.inside == 0 and self.before > 1:
                    self.api[1](self.before)
        return False


_scipy_blas = _OneBlasThread("scipy")
_numpy_blas = _OneBlasThread("numpy")


def one_blas_thread():
    """``with one_blas_thread():`` scipy's OpenBLAS (the one np.dot inside @njit calls) on one
    thread: the kernels' parallelism is Numba's pool."""
    return _scipy_blas


def numpy_blas_one_thread():
    """``with numpy_blas_one_thread():`` numpy's own OpenBLAS on one thread (see _OneBlasThread)."""
    return _numpy_blas


# W_hh size from which the recurrent kernels split the hidden units over threads (one parallel
# region per step) instead of the batch rows (one region per sequence)
UNITS_SPLIT_BYTES = 1 << 20

# A parallel region at a time: numba's "workqueue" threading layer (used when no OpenMP or TBB
# runtime is found) aborts the process when two Python threads launch parallel kernels at once;
# a second caller runs on one chunk instead.
_parallel_lock = threading.Lock()


# Kernel calls run on one thread below this size: a parallel region costs more than it saves.
# One-step calls (a decoder's) run in parallel too, now that the engine's products stay off
# numpy's BLAS threads (gemm_cpu): with numpy's two BLAS threads spinning next to Numba's pool,
# a seq2seq training step on 2 threads took 594 ms with one-step calls parallel and 192 ms
# without; with the engine's products in gemm_cpu, 141-160 ms parallel and 154-174 ms without
# (B=32, S=T=20, H=256).
PARALLEL_MIN_MACS = 1 << 20


class kernel_threads:
    """``with kernel_threads(seq_len, batch, macs) as n_chunks:`` one BLAS thread, and the number
    of chunks (one per Numba thread, at most seq_len * batch) to split a kernel call's work into:
    1 for fewer than PARALLEL_MIN_MACS multiply-adds, or while another thread runs a parallel
    kernel."""

    def __init__(self, seq_len, batch, macs):
        self.n_chunks = max(1, min(numba.get_num_threads(), seq_len * batch))
        if macs < PARALLEL_MIN_MACS:
            self.n_chunks = 1
        self.locked = self.n_chunks > 1 and _parallel_lock.acquire(blocking=False)
        if not self.locked:
            self.n_chunks = 1
        self.blas = one_blas_thread()

    def __enter__(self):
        self.blas.__enter__()
        return self.n_chunks

    def __exit__(self, *exc):
        self.blas.__exit__(*exc)
        if self.locked:
            _parallel_lock.release()
        return False


@njit(**_JIT)
def chunk(c, n_chunks, rows):
    """(lo, hi): rows lo..hi-1 of chunk c when rows are split into n_chunks near-equal ranges."""
    return c * rows // n_chunks, (c + 1) * rows // n_chunks


@njit(**_JIT)
def _project_rows(x2, w_ih, out2, lo, hi):
    np.dot(x2[lo:hi], w_ih.T, out2[lo:hi])


@njit(parallel=True, **_JIT)
def _project_chunks(x2, w_ih, out2, n_chunks):
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, x2.shape[0])
        _project_rows(x2, w_ih, out2, lo, hi)


def input_projection(x, w_ih, out, n_chunks):
    """out [T, B, G*H] <- x [T,B,I] @ w_ih[G*H, I]^T: one GEMM over all T*B rows, split into
    n_chunks row ranges, one per thread. With one chunk no parallel region starts: even an
    empty one wakes Numba's pool, whose workers then spin next to whatever runs next."""
    rows = x.shape[0] * x.shape[1]
    x2 = x.reshape(rows, x.shape[2])
    out2 = out.reshape(rows, w_ih.shape[0])
    if n_chunks > 1:
        _project_chunks(x2, w_ih, out2, n_chunks)
    else:
        _project_rows(x2, w_ih, out2, 0, rows)


def gate_buffer(shape, dtype, padded=False):
    """A [T, B, G*H] work array allocated by numpy, not inside @njit: numpy asks the kernel for
    transparent huge pages on large blocks, numba's allocator does not, and first touching a
    105 MB buffer of 4 KiB pages cost 31 ms more here (T=200, B=64, 4H=2048). Zeroed when some
    sequence is padded (rows past a length are never written)."""
    return np.zeros(shape, dtype) if padded else np.empty(shape, dtype)


@njit(**_JIT)
def _gradient_rows(di2, dh2, x2, h2, w_ih, dx, dw_ih, dw_hh, lo, hi):
    # rows lo..hi-1: dx rows, and these rows' share of dW (written, not added)
    np.dot(di2[lo:hi], w_ih, dx[lo:hi])
    np.dot(di2[lo:hi].T, x2[lo:hi], dw_ih)
    np.dot(dh2[lo:hi].T, h2[lo:hi], dw_hh)


@njit(parallel=True, **_JIT)
def _gradient_by_product(di2, dh2, x2, h2, w_ih, dx, dw_ih, dw_hh, n_chunks):
    # dx split by rows; dW_ih on one thread while dW_hh runs on another
    rows = x2.shape[0]
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, rows)
        np.dot(di2[lo:hi], w_ih, dx[lo:hi])
    for c in prange(2):
        if c == 0:
            np.dot(di2.T, x2, dw_ih)
        else:
            np.dot(dh2.T, h2, dw_hh)


@njit(parallel=True, **_JIT)
def _gradient_by_rows(di2, dh2, x2, h2, w_ih, dx, dw_ih, dw_hh, n_chunks):
    # every product split by rows; dW as partial sums per chunk, added after
    rows = x2.shape[0]
    dw_ih_parts = np.empty((n_chunks,) + dw_ih.shape, dw_ih.dtype)
    dw_hh_parts = np.empty((n_chunks,) + dw_hh.shape, dw_hh.dtype)
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, rows)
        np.dot(di2[lo:hi], w_ih, dx[lo:hi])
        np.dot(di2[lo:hi].T, x2[lo:hi], dw_ih_parts[c])
        np.dot(dh2[lo:hi].T, h2[lo:hi], dw_hh_parts[c])
    dw_ih[:] = dw_ih_parts[0]
    dw_hh[:] = dw_hh_parts[0]
    for c in range(1, n_chunks):
        dw_ih += dw_ih_parts[c]
        dw_hh += dw_hh_parts[c]


# weight_gradients computes dW_ih and dW_hh on a thread each (two threads) when their sizes are
# within this ratio; see its docstring
PRODUCT_SPLIT_RATIO = 1.5


def weight_gradients(d_in, d_hid, x, h_prev, w_ih, n_chunks):
    """d_in / d_hid [T,B,G*H] input-side / hidden-side pre-activation gradients (may be the same
    array), x [T,B,I], h_prev [T,B,H], w_ih [G*H,I] -> dx [T,B,I], dw_ih [G*H,I], dw_hh [G*H,H]:
    three GEMMs over all T*B rows. dx splits by rows. dW: on two threads, or with few rows (T*B <
    64 per thread, where partial sums would cost as much as the product), one thread computes
    dW_ih while another computes dW_hh, when the two are of similar size (input size and hidden
    size within PRODUCT_SPLIT_RATIO); otherwise both split by rows into partial sums added after.
    Measured (2 cores, float32, LSTM T=50, B=16, H=512): 29 ms for the three products split by
    product, 43 ms by rows (the partial sums are 2 x 4 MiB per thread, written and added). One
    chunk runs without a parallel region (see input_projection)."""
    seq_len, batch, n_in = x.shape
    rows = seq_len * batch
    gates = d_in.shape[2]
    hidden = h_prev.shape[2]
    args = (d_in.reshape(rows, gates), d_hid.reshape(rows, gates), x.reshape(rows, n_in),
            h_prev.reshape(rows, hidden), w_ih, np.empty((rows, n_in), x.dtype),
            np.empty((gates, n_in), x.dtype), np.empty((gates, hidden), x.dtype))
    balanced = max(n_in, hidden) <= PRODUCT_SPLIT_RATIO * min(n_in, hidden)
    if n_chunks > 1 and (rows < 64 * n_chunks or (n_chunks == 2 and balanced)):
        _gradient_by_product(*args, n_chunks)
    elif n_chunks > 1:
        _gradient_by_rows(*args, n_chunks)
    else:
        _gradient_rows(*args, 0, rows)
    dx, dw_ih, dw_hh = args[5:]
    return dx.reshape(seq_len, batch, n_in), dw_ih, dw_hh
