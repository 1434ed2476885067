"""A kernel compiled in a second process, into Numba's on-disk cache, while this one works.

A generated cell's first training call compiles its forward loop (about 4 s) and then its
backward loop (about 5-6 s) on one core, the hand-written LSTM its forward kernels (about 4 s)
and then its backward time loop (1.1-1.6 s), the GRU after them its forward loop (1.3 s) and its
backward loop (1.4-1.5 s, AMD EPYC Zen 3, 2026-12-06). Numba compiles under one process-wide
lock, so threads cannot share the work. When the forward starts to compile, `start` hands the
backward's signature to a worker process, which compiles it on the other core and writes Numba's
cache; `wait`, called where the backward is about to run, waits for that batch, and the backward
then loads from the cache. The first forward + backward takes about as long as the longer of the
two compiles instead of both.

The worker stays for more work: it exits after `tuning.BACKGROUND_COMPILE_IDLE_S` seconds (120)
without a batch, when this process exits, or when its stdin closes (it holds about 190 MB
meanwhile). A later model's backward then skips a process's start-up (0.6-0.75 s, with Numba's
registry set-up): the GRU hands its backward only to a worker already alive
(`start(spawn=False)`), since its forward compiles too little to pay for a start-up of its own
(a first GRU after an LSTM with a new child: 2.99-3.69 s against 2.87-3.00 s without, Zen 3,
2026-12-06, load 0.4).

The worker only fills the cache: if a job fails, or the backward asks for another signature than
the one predicted, the backward compiles here as it would have (it waits only for a batch
compiling exactly its signature). It runs only with at least two cores per process on this
machine (this process's CPU affinity, divided among the MPI ranks of the node when launched by
mpiexec), and `tuning.BACKGROUND_COMPILE` = 0 (TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE=0) turns it
off. A forked process starts with none. This module imports only the standard library; the
worker imports tinygrad_seq (with this process's sys.path) and the modules it compiles.
"""
import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading

from . import calibration, compile_probe, machine_cpu, tuning

_lock = threading.Lock()
_children = {}  # (module name, function name, signature) -> _Batch queued on the worker
_worker = None  # the worker process (_Worker), alive until idle for BACKGROUND_COMPILE_IDLE_S

# a batch still compiling after this many seconds is left alone (its worker stopped) and the
# backward compiles here
WAIT_SECONDS = 120


def usable_cores():
    """This process's cores (machine_cpu.usable_cores: its CPU affinity, shared with the other MPI
    ranks on this node)."""
    return machine_cpu.usable_cores()


def enabled():
    # not while a calibration probes a candidate it may leave out (kernels/compile_probe.py)
    return bool(tuning.setting("BACKGROUND_COMPILE")) and not compile_probe.probing() and usable_cores() >= 2


class _Worker:
    """The child process: it reads batches of jobs from its stdin (a 4-byte length, then the
    pickled jobs), compiles them one batch after another and answers each with its number on a
    line of its stdout; a thread here reads the answers."""

    def __init__(self):
        env = dict(os.environ, TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE="0",
                   PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        # -P (3.11+): the working directory does not go first on its import path (the parent's
        # sys.path, in PYTHONPATH, is what it imports from)
        safe_path = ["-P"] if sys.version_info >= (3, 11) else []
        self.process = subprocess.Popen([sys.executable, *safe_path, "-c", "from tinygrad_seq.kernels.background_compile "
                                         "import main; main()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=env)
        self.fds = (self.process.stdin.fileno(), self.process.stdout.fileno())
        self.sent = self.started = self.done = 0   # batches sent, started, answered (or lost with the process)
        self.answered = threading.Condition()
        threading.Thread(target=self._read_answers, daemon=True).start()

    def _read_answers(self):
        for line in self.process.stdout:   # b"s<n>": batch n started; b"<n>": batch n done
            text = line.strip()
            started = text.startswith(b"s")
            if text[started:].isdigit():
                with self.answered:
                    if started:
                        self.started = max(self.started, int(text[1:]))
                    else:
                        self.done = max(self.done, int(text))
                    self.answered.notify_all()
        with self.answered:   # the process ended: nothing more will be compiled
            self.done = self.sent = max(self.sent, self.done)
            self.answered.notify_all()
            self.fds = ()   # first: a fork from here on points no reused descriptor at /dev/null
            for pipe in (self.process.stdin, self.process.stdout):   # no ResourceWarning when it retired
                try:
                    pipe.close()
                except OSError:   # a write the retired process never read (broken pipe on flush)
                    pass

    def alive(self):
        return self.process.poll() is None

    def send(self, jobs):
        """Queue a batch; its number, or None when the process is gone (it may have just retired)."""
        payload = pickle.dumps([(m.__name__, m.__file__, fn, sig) for m, fn, sig in jobs])
        with self.answered:
            if self.process.poll() is not None:
                return None
            try:
                self.process.stdin.write(struct.pack("<I", len(payload)) + payload)
                self.process.stdin.flush()
            except (OSError, ValueError):   # the worker retired (idle) or died meanwhile
                return None
            self.sent += 1
            return self.sent

    def wait_for(self, number, timeout):
        """Wait until batch `number` is answered; False after `timeout` seconds."""
        with self.answered:
            return self.answered.wait_for(lambda: self.done >= number, timeout)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with self.answered:
            self.done = self.sent
            self.answered.notify_all()


class _Batch:
    """A batch queued on the worker, waited for under its first job's key."""

    def __init__(self, worker, number):
        self.worker, self.number = worker, number

    def running(self):
        return self.worker.done < self.number

    def queued(self):
        """Not started yet: the worker is still on earlier batches (another model's, or a
        forward's whose backward never ran)."""
        return self.worker.started < self.number and self.worker.alive()

    def wait(self, timeout):
        """Wait for the batch; raises subprocess.TimeoutExpired after `timeout` seconds."""
        if not self.worker.wait_for(self.number, timeout):
            raise subprocess.TimeoutExpired("background compile", timeout)


def warm():
    """Whether a worker is alive: a job handed to it skips a process's start-up (0.6-0.75 s)."""
    return _worker is not None and _worker.alive()


def start(module, function, signature, extra=(), spawn=True):
    """Compile module.function (an @njit dispatcher with cache=True) for `signature` (a tuple of
    Numba types) in the worker process, unless disabled or already queued. module: the imported
    module object; a module loaded from a file outside sys.path (cellgen's) is loaded by the
    worker from the same file under the same name. extra: more (module, function, signature) jobs
    for the same batch, compiled after the first (a failing job is skipped); the batch is waited
    for under the first's key, so `wait` covers them all. The worker is started when none is
    alive, unless spawn is False (then the job is left to the caller)."""
    global _worker
    if not enabled():
        return
    key = (module.__name__, function, tuple(signature))
    with _lock:
        batch = _children.get(key)
        if batch is not None and batch.running():
            return
        jobs = [(module, function, signature)] + list(extra)
        for attempt in range(2):   # a worker that retired as the batch was sent: one new one
            if _worker is None or not _worker.alive():
                if not spawn:
                    return
                try:
                    _worker = _Worker()
                except OSError:  # no process to spare (limits): the backward compiles here
                    _worker = None
                    return
            number = _worker.send(jobs)
            if number is not None:
                _children[key] = _Batch(_worker, number)
                return
            _worker = None


_aside_checked = set()  # (module name, function, key) asked for by start_unless_cached


def start_unless_cached(module, function, signature, key, forward, dtype, extra=(), spawn=True):
    """`start` module.function for `signature` while this process compiles `forward` (the
    dispatcher of the forward about to run, for arrays of `dtype`), unless that forward needs no
    compile (a worker's start-up, 0.6-0.75 s, is paid back only while this process compiles) or
    module.function is compiled for `signature` here or held in Numba's on-disk cache. Checked
    once per process per function and `key`, a cheap stand-in for the signature (the dtype and
    layout flags it is built from: hashing Numba types costs microseconds a call); the checks
    read the cache's index files. extra: (module, function, signature) jobs the backward will
    also compile (its weight gradients' GEMM), given to the same batch unless compiled or cached;
    a callable returning them, called only when a batch is sent. spawn=False: only a worker
    already alive takes it (a forward that compiles too little to pay for a start-up)."""
    memo = (module.__name__, function, key)
    if memo in _aside_checked:
        return
    _aside_checked.add(memo)
    if (enabled() and (spawn or warm()) and not _is_cached(forward, dtype)
            and not _is_cached(getattr(module, function), signature)):
        jobs = extra() if callable(extra) else extra
        start(module, function, signature, [j for j in jobs if not _is_cached(getattr(j[0], j[1]), j[2])], spawn)


def _is_cached(dispatcher, signature_or_dtype):
    """compile_notice.is_cached_signature for a signature (a tuple), compile_notice.is_cached
    for a dtype (any signature with arrays of it)."""
    from .compile_notice import is_cached, is_cached_signature  # imports numba: only when asked
    if isinstance(signature_or_dtype, tuple):
        return is_cached_signature(dispatcher, signature_or_dtype)
    return is_cached(dispatcher, signature_or_dtype)


def wait(module, function, signature):
    """Wait for the batch compiling module.function for `signature`, if one is being compiled (it
    started when this process began compiling the forward, so waiting is at most the worker's
    start-up longer than compiling here). A batch still queued behind others is not waited for:
    the backward compiles here."""
    if not _children:  # nothing was queued: no lock, no hashing of the signature
        return
    with _lock:
        batch = _children.pop((module.__name__, function, tuple(signature)), None)
    if batch is None or batch.queued():   # queued behind other work: compiling here is sooner
        return
    try:
        batch.wait(WAIT_SECONDS)
    except subprocess.TimeoutExpired:   # stuck: stopped, and the backward compiles here
        batch.worker.stop()


def settle():
    """Wait for every batch still compiling, leaving each for its `wait` (a calibration is about
    to time its candidates: calibration.before_timing). An idle worker uses no CPU."""
    with _lock:
        batches = list(_children.values())
    for batch in batches:
        try:
            batch.wait(WAIT_SECONDS)
        except subprocess.TimeoutExpired:   # left to the batch's own wait, which stops the worker
            continue


def _stop_children():
    """At exit: stop the worker (idle, or compiling for a forward whose backward never ran)."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
        _children.clear()
    if worker is not None:
        worker.stop()


def _forget_children():
    """In a forked child process: the parent's worker and lock are not this process's, and the
    child lets go of its copies of the pipes (the worker sees its input end when the parent's
    closes, not when the last forked child exits). Each pipe's descriptor is pointed at
    /dev/null: closing the file objects could wait forever on a lock the parent's reader thread
    held at the fork, and closing the descriptors would leave the objects to close a reused one."""
    global _lock, _worker
    _lock = threading.Lock()
    if _worker is not None:
        try:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in _worker.fds:
                os.dup2(null, fd)
            os.close(null)
        except OSError:   # no /dev/null: the copies stay, and the worker exits when its idle time is up
            pass
    _worker = None
    _children.clear()
    _aside_checked.clear()


calibration.before_timing(settle)
atexit.register(_stop_children)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_children)


def main():
    """The worker: read batches of [(module name, file, function, signature), ...] from stdin,
    compile each job (one that fails is skipped), answer each batch with its number on stdout;
    exit at the end of stdin (this process's parent is gone or retired it) or after
    BACKGROUND_COMPILE_IDLE_S seconds without a batch. Whatever else writes to stdout goes to
    stderr (the answers have the pipe to themselves)."""
    import select

    idle = tuning.setting("BACKGROUND_COMPILE_IDLE_S")
    answers = os.dup(1)
    os.dup2(2, 1)
    number = 0
    while True:
        if os.name == "posix" and not select.select([0], [], [], idle)[0]:
            return
        header = _read_exactly(4)
        if header is None:
            return
        payload = _read_exactly(struct.unpack("<I", header)[0])
        if payload is None:
            return
        os.write(answers, b"s%d\n" % (number + 1))
        for name, path, function, signature in pickle.loads(payload):
            try:
                getattr(_module(name, path), function).compile(signature)
            except Exception:  # the backward compiles it itself
                pass
        number += 1
        os.write(answers, b"%d\n" % number)


def _read_exactly(n):
    """n bytes from stdin (unbuffered: select sees every byte not yet read), None at its end."""
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


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
