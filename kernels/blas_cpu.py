"""BLAS plumbing of the fused CPU kernels: the whole-sequence GEMMs and the BLAS thread count.

``np.dot`` inside @njit calls scipy's BLAS (``scipy.linalg.cython_blas``; OpenBLAS in the scipy
wheels), a different OpenBLAS instance and thread pool from numpy's own. Every GEMM of a kernel
runs from @njit code so all of them share that one pool.

Thread count per step: a step's recurrent product is small (B x H by H x G*H) and OpenBLAS hands
part of it to its other threads on every call. Measured here (2 cores, load < 2, per-step
products of forward + backward): at B*G*H*H = 2^18 (B=16, H=64, LSTM) two threads were no faster
than one; from 2^20 up (B=64 H=64 to B=64 H=512) they were 1.4-1.9x faster. On a loaded machine
(the worker thread descheduled mid-step) the two-thread per-step calls were 2-100x slower than
one thread. ``step_threads`` runs the time loop on one thread below ``PARALLEL_STEP_MACS``
multiply-adds per step. The whole-sequence GEMMs (input projection, dx, dW) hit the same hand-off
when they are small: back to back on a machine with one busy core, a [50,64] x [64,256] product
took 16 ms on two threads and 0.1 ms on one, and [50,256] x [256,1024] 8 ms; ``gemm_threads``
keeps them on one thread below ``PARALLEL_GEMM_MACS`` multiply-adds (about 0.3 ms on one core).

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

# per-step multiply-adds (B * G*H * H) from which a step's product runs on all BLAS threads
PARALLEL_STEP_MACS = 1 << 20
# multiply-adds (T*B * G*H * I) from which a whole-sequence GEMM runs on all BLAS threads
PARALLEL_GEMM_MACS = 1 << 24


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
from numba import njit  # noqa: E402

_JIT = dict(cache=True, fastmath=True, error_model="numpy")


def _openblas_threads_api():
    """(get, set) ctypes functions of scipy's OpenBLAS, or None when scipy's BLAS is not OpenBLAS."""
    root = _scipy_dir()
    if root is None:
        return None
    for path in sorted(glob.glob(os.path.join(os.path.dirname(root), "scipy.libs", "lib*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            try:
                get, put = getattr(lib, prefix + "get_num_threads"), getattr(lib, prefix + "set_num_threads")
            except AttributeError:
                continue
            get.restype, get.argtypes = ctypes.c_int, []
            put.restype, put.argtypes = None, [ctypes.c_int]
            return get, put
    return None


_api = None
_api_checked = False


class blas_threads:
    """``with blas_threads(macs, parallel_from):`` runs the block with one BLAS thread when its
    products have fewer than ``parallel_from`` multiply-adds, and restores the pool's count after."""

    def __init__(self, macs, parallel_from):
        global _api, _api_checked
        if not _api_checked:
            _api, _api_checked = _openblas_threads_api(), True
        self.single = _api is not None and macs < parallel_from
        self.before = 0

    def __enter__(self):
        if self.single:
            self.before = _api[0]()
            if self.before > 1:
                _api[1](1)
        return self

    def __exit__(self, *exc):
        if self.single and self.before > 1:
            _api[1](self.before)
        return False


def step_threads(macs_per_step):
    """BLAS threads for a time loop whose step product has macs_per_step multiply-adds."""
    return blas_threads(macs_per_step, PARALLEL_STEP_MACS)


def gemm_threads(macs):
    """BLAS threads for a whole-sequence GEMM of macs multiply-adds."""
    return blas_threads(macs, PARALLEL_GEMM_MACS)


@njit(**_JIT)
def input_projection(x, w_ih, out):
    """out [T, B, G*H] <- x [T,B,I] @ w_ih[G*H, I]^T in one GEMM over all T*B rows."""
    seq_len, batch, n_in = x.shape
    np.dot(x.reshape(seq_len * batch, n_in), w_ih.T, out.reshape(seq_len * batch, w_ih.shape[0]))


def gate_buffer(shape, dtype, padded=False):
    """A [T, B, G*H] work array allocated by numpy, not inside @njit: numpy asks the kernel for
    transparent huge pages on large blocks, numba's allocator does not, and first touching a
    105 MB buffer of 4 KiB pages cost 31 ms more here (T=200, B=64, 4H=2048). Zeroed when some
    sequence is padded (rows past a length are never written)."""
    return np.zeros(shape, dtype) if padded else np.empty(shape, dtype)


@njit(**_JIT)
def weight_gradients(d_in, d_hid, x, h_prev, w_ih):
    """d_in / d_hid [T,B,G*H] input-side / hidden-side pre-activation gradients (may be the same
    array), x [T,B,I], h_prev [T,B,H], w_ih [G*H,I] -> dx [T,B,I], dw_ih [G*H,I], dw_hh [G*H,H]:
    three GEMMs over all T*B rows."""
    seq_len, batch, n_in = x.shape
    rows = seq_len * batch
    gates = d_in.shape[2]
    di2 = d_in.reshape(rows, gates)
    dh2 = d_hid.reshape(rows, gates)
    dx = np.dot(di2, w_ih).reshape(seq_len, batch, n_in)
    dw_ih = np.dot(di2.T, x.reshape(rows, n_in))
    dw_hh = np.dot(dh2.T, h_prev.reshape(rows, h_prev.shape[2]))
    return dx, dw_ih, dw_hh
