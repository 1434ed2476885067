"""Fused kernels generated from cell descriptions: trace the step (trace.py), plan and emit Numba
source for its pointwise forward and derived backward (emit.py), write it to a file in the cache
folder and import it, so Numba's on-disk cache keeps the compiled code (functions compiled from
exec'd strings cannot be cached). The file name is a hash of the source: a changed description
gets a new file, an unchanged one reuses the compiled code.

Cache folder: $TINYGRAD_SEQ_CACHE, else $XDG_CACHE_HOME/tinygrad_seq, else ~/.cache/tinygrad_seq;
the generated files go in its cells/ subfolder.
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading

from tinygrad_seq.cellgen.emit import source
from tinygrad_seq.cellgen.plan import Plan
from tinygrad_seq.cellgen.emit_cuda import cuda_source
from tinygrad_seq.cellgen.trace import Unfusable, trace

__all__ = ["Unfusable", "check", "fused_kernel", "cache_dir", "generated_source"]

_lock = threading.Lock()
_modules = {}


def cache_dir():
    root = os.environ.get("TINYGRAD_SEQ_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinygrad_seq")
    return os.path.join(root, "cells")


def generated_source(spec, n_ext=0, target="cpu", dtype=None):
    """The Numba source generated for `spec` (with n_ext extra per-step inputs) for target "cpu"
    or "cuda" (one module per dtype); raises Unfusable."""
    if target == "cuda":
        return cuda_source(Plan(trace(spec, n_ext), "cuda"), dtype)
    return source(Plan(trace(spec, n_ext)))


def check(spec):
    """Trace spec's step once, so that a bad description (a state never produced, gate chunks that
    do not match the gate count, a state not H wide) raises ValueError when a layer is built;
    a step that only cannot be fused passes (it runs unfused, with a warning, when called)."""
    try:
        trace(spec)
    except Unfusable:
        pass


def _write_once(path, text):
    """Write atomically, once: an unchanged file keeps its mtime, which Numba's cache index checks."""
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def fused_kernel(spec, n_ext=0, target="cpu", dtype=None):
    """The generated kernel module of `spec` (its loops and LAYOUT; on CUDA forward_stage and
    backward_stage) for target "cpu" or "cuda" (dtype: float32 or float64), written to the cache
    folder and imported once per process; raises Unfusable when the step cannot fuse."""
    dtype = None if target == "cpu" else str(dtype)
    key = (id(spec), n_ext, target, dtype)
    with _lock:
        hit = _modules.get(key)
        if hit is not None and hit[0] is spec:
            return hit[1]
        text = generated_source(spec, n_ext, target, dtype)
        digest = hashlib.sha1(text.encode()).hexdigest()[:16]
        name = f"cell_{_safe(spec.name)}_{'' if target == 'cpu' else target + '_' + dtype + '_'}{digest}"
        path = os.path.join(cache_dir(), name + ".py")
        _write_once(path, text)
        modname = "tinygrad_seq_generated." + name
        mod = sys.modules.get(modname)
        if mod is None:
            # the generated module imports numba: blas_cpu first, which spares numba's first
            # compile or cache load the import of all of scipy.linalg (0.1-0.16 s of a cached
            # peephole LSTM's 0.6-0.8 s first call, AMD EPYC, 2026-12-03)
            from tinygrad_seq.kernels import blas_cpu  # noqa: F401
            loader_spec = importlib.util.spec_from_file_location(modname, path)
            mod = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(mod)
            sys.modules[modname] = mod
        _modules[key] = (spec, mod)
        return mod


def _safe(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name)[:40]
