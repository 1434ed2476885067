"""A kernel compiled in a second process, into Numba's on-disk cache, while this one works.

A generated cell's first training call compiles its forward loop (about 4 s) and then its
backward loop (about 5-6 s) on one core, the hand-written LSTM its forward kernels (about 4 s)
and then its backward time loop (1.1-1.6 s);
Numba compiles under one process-wide lock, so threads cannot share the work. (The GRU compiles
its backward loop in the calling process, after the forward: a first GRU after an LSTM compiles
little in its forward, and with a child it took 2.6-3.1 s against 2.4-2.8 s in one run, the same
within noise in three more, AMD EPYC, 2026-12-03; again on the Zen 3 host of 2026-12-06, load 0.4,
empty caches, alternating: 2.99-3.69 s with a child against 2.87-3.00 s, the child's start-up and
its own registry refresh taking what the overlap saved.) When the forward starts to compile,
`start` hands the backward's signature to a child process, which compiles it on the other core
and writes Numba's cache; `wait`, called where the backward is about to run, waits for that
child, and the backward then loads from the cache. The first forward + backward of a new cell takes about as long as its
backward's compile alone instead of both.

The child only fills the cache: if it fails, or the backward asks for another signature than
the one predicted, the backward compiles here as it would have (it waits only for a child
compiling exactly its signature). It runs only with at least two cores per process on this
machine (this process's CPU affinity, divided among the MPI ranks of the node when launched by
mpiexec), and `tuning.BACKGROUND_COMPILE` = 0 (TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE=0) turns it
off. A child still running when this process exits is stopped; a forked process starts with
none. This module imports only the standard library; the child imports tinygrad_seq (with this
process's sys.path) and the module it compiles.
"""
import atexit
import os
import pickle
import subprocess
import sys
import threading

from . import calibration, compile_probe, machine_cpu, tuning

_lock = threading.Lock()
_children = {}  # (module name, function name, signature) -> Popen

# a child still compiling after this many seconds is left alone and the backward compiles here
WAIT_SECONDS = 120


def usable_cores():
    """This process's cores (machine_cpu.usable_cores: its CPU affinity, shared with the other MPI
    ranks on this node)."""
    return machine_cpu.usable_cores()


def enabled():
    # not while a calibration probes a candidate it may leave out (kernels/compile_probe.py)
    return bool(tuning.setting("BACKGROUND_COMPILE")) and not compile_probe.probing() and usable_cores() >= 2


def start(module, function, signature, extra=()):
    """Compile module.function (an @njit dispatcher with cache=True) for `signature` (a tuple of
    Numba types) in a child process, unless disabled or one is already running for it. module:
    the imported module object; a module loaded from a file outside sys.path (cellgen's) is
    loaded by the child from the same file under the same name. extra: more (module, function,
    signature) jobs for the same child, compiled after the first (a failing one is skipped); the
    child is waited for under the first's key, so `wait` covers them all."""
    if not enabled():
        return
    key = (module.__name__, function, tuple(signature))
    with _lock:
        child = _children.get(key)
        if child is not None and child.poll() is None:
            return
        jobs = [(module, function, signature)] + list(extra)
        payload = pickle.dumps([(m.__name__, m.__file__, fn, sig) for m, fn, sig in jobs])
        env = dict(os.environ, TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE="0",
                   PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            child = subprocess.Popen([sys.executable, "-c", "from tinygrad_seq.kernels.background_compile "
                                      "import main; main()"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
            child.stdin.write(payload)
            child.stdin.close()
        except OSError:  # no process to spare (limits): the backward compiles here
            return
        _children[key] = child


_aside_checked = set()  # (module name, function, key) asked for by start_unless_cached


def start_unless_cached(module, function, signature, key, forward, dtype, extra=()):
    """`start` module.function for `signature` while this process compiles `forward` (the
    dispatcher of the forward about to run, for arrays of `dtype`), unless that forward needs no
    compile (a child's start-up, 0.6-0.75 s, is paid back only while this process compiles) or
    module.function is compiled for `signature` here or held in Numba's on-disk cache. Checked
    once per process per function and `key`, a cheap stand-in for the signature (the dtype and
    layout flags it is built from: hashing Numba types costs microseconds a call); the checks
    read the cache's index files. extra: (module, function, signature) jobs the backward will
    also compile (its weight gradients' GEMM), given to the same child unless compiled or cached;
    a callable returning them, called only when a child starts."""
    memo = (module.__name__, function, key)
    if memo in _aside_checked:
        return
    _aside_checked.add(memo)
    if enabled() and not _is_cached(forward, dtype) and not _is_cached(getattr(module, function), signature):
        jobs = extra() if callable(extra) else extra
        start(module, function, signature, [j for j in jobs if not _is_cached(getattr(j[0], j[1]), j[2])])


def _is_cached(dispatcher, signature_or_dtype):
    """compile_notice.is_cached_signature for a signature (a tuple), compile_notice.is_cached
    for a dtype (any signature with arrays of it)."""
    from .compile_notice import is_cached, is_cached_signature  # imports numba: only when asked
    if isinstance(signature_or_dtype, tuple):
        return is_cached_signature(dispatcher, signature_or_dtype)
    return is_cached(dispatcher, signature_or_dtype)


def wait(module, function, signature):
    """Wait for the child compiling module.function for `signature`, if one runs (it started
    when this process began compiling the forward, so waiting is at most the child's start-up
    longer than compiling here)."""
    if not _children:  # no child was started: no lock, no hashing of the signature
        return
    with _lock:
        child = _children.pop((module.__name__, function, tuple(signature)), None)
    if child is None:
        return
    try:
        child.wait(WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def settle():
    """Wait for every child still compiling, leaving each for its `wait` (a calibration is about
    to time its candidates: calibration.before_timing)."""
    with _lock:
        children = list(_children.values())
    for child in children:
        try:
            child.wait(WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            pass


def _stop_children():
    """At exit: stop children still compiling (a forward whose backward never ran)."""
    with _lock:
        children = list(_children.values())
        _children.clear()
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()


def _forget_children():
    """In a forked child process: the parent's children and lock are not this process's."""
    global _lock
    _lock = threading.Lock()
    _children.clear()
    _aside_checked.clear()


calibration.before_timing(settle)
atexit.register(_stop_children)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_children)


def main():
    """The child: read [(module name, file, function, signature), ...] from stdin, compile each
    (the first must compile; a later one that fails is skipped), exit."""
    jobs = pickle.loads(sys.stdin.buffer.read())
    for i, (name, path, function, signature) in enumerate(jobs):
        try:
            getattr(_module(name, path), function).compile(signature)
        except Exception:
            if i == 0:
                raise


def _module(name, path):
    import importlib
    import importlib.util

    module = sys.modules.get(name)
    if module is None:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a generated module: not on sys.path, loaded from its file
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
    return module
