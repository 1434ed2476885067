"""One line on stderr when a kernel call is about to compile (Numba's on-disk cache does not hold
it yet), so that a first run's wait of a few seconds is explained:

    tinygrad_seq: compiling the LSTM CPU forward kernels for float32 (first run on this
    machine; cached afterwards)...

The check reads the dispatcher's index file once per (kernel, dtype) and process: Numba keeps
one index per function, keyed by the source file's timestamp and size (a stale index counts as
empty, as Numba treats it) and holding (signature, CPU target) keys. A kernel already compiled
in this process says nothing; when the check cannot read Numba's cache layout it says nothing.
"""
import contextlib
import sys
import threading

import numba

_checked = set()
_lock = threading.Lock()
_quiet = [0]   # > 0 while a calibration probes a candidate (kernels/compile_probe.py): nothing compiles


@contextlib.contextmanager
def quiet():
    """No notice while it lasts, and none marked as given: a calibration's probe stops before any
    compile (kernels/compile_probe.py), and the call that does compile later says so then."""
    _quiet[0] += 1
    try:
        yield
    finally:
        _quiet[0] -= 1


def _has_dtype(signature, nb_dtype):
    return any(getattr(arg, "dtype", None) == nb_dtype for arg in signature)


def is_cached(dispatcher, dtype):
    """Whether calling ``dispatcher`` with arrays of ``dtype`` needs no compilation: compiled in
    this process, or held in Numba's on-disk cache for this CPU. True when it cannot tell."""
    nb_dtype = numba.from_dtype(dtype)
    return _held(dispatcher, lambda sig: _has_dtype(sig, nb_dtype))


def is_cached_signature(dispatcher, signature):
    """Whether ``dispatcher`` holds ``signature`` (a tuple of Numba types) compiled in this process
    or in Numba's on-disk cache for this CPU. True when it cannot tell."""
    signature = tuple(signature)
    return _held(dispatcher, lambda sig: tuple(sig) == signature)


def c_array(dtype, nd):
    """The Numba type of a C-contiguous nd-dimensional array of numpy dtype `dtype`: how the
    drivers spell the signatures of the loops they have compiled aside (background_compile)."""
    return numba.types.Array(numba.from_dtype(dtype), nd, "C")


def _held(dispatcher, match):
    if any(match(sig) for sig in dispatcher.overloads):
        return True
    try:
        index = dispatcher._cache._cache_file._load_index()
        magic = dispatcher.targetctx.codegen().magic_tuple()
    except Exception:  # Numba's private cache layout changed: stay quiet
        return True
    return any(key[1] == magic and match(key[0]) for key in index)


def announce(what, dtype, dispatchers):
    """Print the notice for ``what`` ("the LSTM CPU forward kernels") once per process when any
    of ``dispatchers`` is not cached for ``dtype``."""
    key = (what, dtype)   # the dtype itself: str(dtype) runs numpy's Python-level naming, ~2 us a call
    if key in _checked or _quiet[0]:
        return
    with _lock:
        if key in _checked:
            return
        _checked.add(key)
        if all(is_cached(d, dtype) for d in dispatchers):
            return
    print(f"tinygrad_seq: compiling {what} for {dtype} (first run on this machine; cached afterwards)...",
          file=sys.stderr, flush=True)
