"""numba.njit for the CPU kernels, whose dispatchers load from Numba's on-disk cache without
refreshing Numba's typing and lowering registries first.

Why: Numba's `FunctionCache.load_overload` refreshes the CPU target's registries before it reads a
cache entry. The refresh imports and registers every implementation Numba has (its numpy, linalg,
random, typed containers, unicode ...): 0.2-0.3 s, most of a warm-cache first call. A process
that runs only cached kernels spends it for nothing: loading an entry compiles nothing (LLVM
unserializes the machine code and links it), and only a compile looks things up in the
registries. Measured: the first nn.LSTM forward, T=50 B=16 H=64, cache warm, took 0.41-0.47 s
with the refresh and 0.16-0.19 s without (AMD EPYC Zen 3, 2 CPUs, 2026-12-06 12:01 UTC, load
1.2 with another process running); the whole cached first run, 0.79 -> 0.57 s
(bench/results/first_run_cached_2026-12-06T1227.md).

What a loaded entry does need is every symbol its machine code links against. Of those Numba
registers with LLVM, the target context's creation registers its C helpers and math functions,
a parallel entry's reload hooks start the threading layer, and two come with the refresh; these
two are registered here: the runtime's allocator (NRT; without it the first kernel that allocates
an array crashes the process) and the hash secret of `numba.cpython.hashing`.

A compile still refreshes: Numba's compiler does it itself before every compile
(`CompilerBase.__init__`), so a call that misses the cache compiles as before. Outside the
Numba versions whose code was read for this (NUMBA_VERSIONS), or should Numba's private names
change, the dispatchers keep Numba's own cache (refresh and all).
"""
from . import openblas_cpu  # noqa: F401  (before numba: it trims numba's import of scipy)

import numba  # noqa: E402
from numba.core import caching  # noqa: E402

_ready = []   # [True] once the symbols are registered (under Numba's compiler lock)


def _register_symbols(target_context):
    if not _ready:
        from numba.core.runtime import rtsys
        import numba.cpython.hashing  # noqa: F401  (registers the _numba_hashsecret_* symbols)
        rtsys.initialize(target_context)
        _ready.append(True)


class QuickLoadCache(caching.FunctionCache):
    """Numba's FunctionCache with `load_overload` minus the registry refresh (see the module's
    text). Numba calls it under its compiler lock, from Dispatcher.compile."""

    def load_overload(self, sig, target_context):
        _register_symbols(target_context)
        with self._guard_against_spurious_io_errors():
            loaded = self._load_overload(sig, target_context)
        if loaded is not None:
            quick_loads[0] += 1
        return loaded


def _numba_version():
    try:
        return tuple(int(part) for part in numba.__version__.split(".")[:2])
    except ValueError:   # a development version string
        return (0, 0)


# The Numba versions whose cache load and registry refresh were read for what a loaded entry
# links against (0.60-0.68: the refresh starts with the runtime's initialization, and the symbols
# registered elsewhere are as listed above); a newer one gets Numba's own load, refresh and all,
# until it is read too: a symbol missing at load time crashes the process rather than raising.
NUMBA_VERSIONS = ((0, 60), (0, 69))
_QUICK = (NUMBA_VERSIONS[0] <= _numba_version() < NUMBA_VERSIONS[1]
          and all(hasattr(caching.FunctionCache, name) for name in ("_guard_against_spurious_io_errors",
                                                                   "_load_overload", "load_overload")))
quick_loads = [0]   # entries loaded without the refresh in this process (tests/test_cache_load.py)


def _jit(function, options):
    if not (_QUICK and options.get("cache")):
        return numba.njit(**options)(function)
    # built without Numba's cache, then given this one: Numba's would check its folder and write a
    # probe file at import only to be replaced
    dispatcher = numba.njit(**dict(options, cache=False))(function)
    if hasattr(dispatcher, "py_func"):   # (NUMBA_DISABLE_JIT gives the function back)
        dispatcher._cache = QuickLoadCache(dispatcher.py_func)
    return dispatcher


def njit(function=None, **options):
    """numba.njit(**options), as a decorator or applied to `function` (keyword options only);
    with cache=True the dispatcher loads its cache entries without Numba's registry refresh."""
    if function is None:
        return lambda f: _jit(f, options)
    return _jit(function, options)
