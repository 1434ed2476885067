"""The OpenBLAS libraries the CPU kernels call: numpy's (numpy's matmul, the whole-sequence
GEMMs) and scipy's (``np.dot`` inside @njit: scipy.linalg.cython_blas), two instances with two
thread pools. ``one_blas_thread()`` / ``numpy_blas_one_thread()`` hold one of them on one thread
while a kernel runs (blas_cpu.kernel_threads); their count is set through ctypes.

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
