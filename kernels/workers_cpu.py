"""The kernels' worker threads, handed a chunk in microseconds (blas_cpu.run_chunks uses them).

A chunk is a Python callable: a nogil kernel on a range of rows or units, or numpy's matmul on a
row range. Handed to a thread through concurrent.futures, a chunk cost 50-100 us to start and
finish here (AMD EPYC VM, 2 cores): the worker wakes from a futex, then waits for the GIL, which
the caller holds while it starts its own chunk, and the caller wakes from another futex when the
worker's future is done. Each sleep and wake-up of a thread on another core is slow in a VM. A
two-thread LSTM at T=50 B=16 H=64 ran no faster than one thread, and a 13M multiply-add GEMM split
in two ran slower than whole.

Here a worker waits for its next chunk in a nogil Numba loop that watches a ticket (PAUSE between
reads) for tuning.WORKER_SPIN_US, and only then sleeps on a semaphore. No thread ever waits for
the GIL while the other holds it (that wait is a futex sleep, and waking a halted vCPU costs
30-50 us here):
- the caller posts the tickets from compiled code, with the GIL already released, and waits
  there until each worker has taken the GIL (STARTED), then tuning.WORKER_GRACE_US more while
  the worker's Python part runs (the chunk's arguments, Numba's dispatch), until its kernel or
  numpy releases the GIL;
- then the caller runs chunk 0 itself and waits for each worker's done ticket spinning in
  compiled code too, sleeping only after WORKER_SPIN_US;
- a worker publishes its done ticket inside the compiled call that starts its next wait, after
  it has released the GIL, so the caller that sees it takes the GIL at once.
Two chunks of a 16-argument nogil kernel: 10-14 us from call to return, against 84-89 us through
concurrent.futures (same process, alternating; bench/results/kernel_workers_2026-12-02.md).

Sleeping without a lost wake-up (both directions): the sleeper stores its "sleeps" flag, fences,
and reads the ticket again; the poster stores the ticket, fences, and reads the flag. With both
fences, at least one of them sees the other's store (Dekker), so either the sleeper finds its
ticket or the poster releases its semaphore. A spare release costs one more loop round.

Spinning only pays with a CPU per thread. A worker that spins is pinned to a CPU of its own,
never the caller's current one (Workers._separate: checked at every call with sched_getcpu):
after a wake-up the scheduler here put the woken thread on its waker's CPU and left the other
idle, and two spinning threads on one CPU ran 3-4x slower than one thread. With fewer CPUs than
chunks, or CPUs shared with the node's other MPI ranks, nothing is pinned and every wait sleeps
at once.

flags: int64, per worker w two lines of spin_cpu.LINE slots, the caller's (TICKET,
CALLER_SLEEPS) and the worker's (DONE, WORKER_SLEEPS, STARTED), so that each side spins on a line
only the other writes.
"""
import os
import threading
import time

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .cache_load import njit
from . import machine_cpu, tuning
from .spin_cpu import LINE, _cpu_relax, _fence, _load_acquire, _store_release

_JIT = dict(cache=True, nogil=True, error_model="numpy")

TICKET, CALLER_SLEEPS = 0, 1                          # the caller's line
DONE, WORKER_SLEEPS, STARTED = LINE, LINE + 1, LINE + 2  # the worker's line
WORKER_SLOTS = 2 * LINE


@intrinsic
def _sched_getcpu(typingctx):
    """libc's sched_getcpu(): the CPU the calling thread runs on (a vDSO read, no system call)."""
    sig = types.int32()

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_getcpu")
        return builder.call(fn, [])
    return sig, codegen


@njit(**_JIT)
def _current_cpu():
    return _sched_getcpu()


@njit(**_JIT)
def _wait_started(flags, n_workers, ticket, spins, grace):
    """Caller, the GIL released: wait (at most `spins` rounds) until workers 0..n_workers-1 have
    taken the GIL for `ticket`, then `grace` rounds more while they start their chunks (their
    Python part, until a kernel or numpy releases the GIL again), so that the caller takes the
    GIL back when it is free instead of sleeping in the kernel until a worker lets go of it."""
    for w in range(n_workers):
        for _ in range(spins):
            if _load_acquire(flags, w * WORKER_SLOTS + STARTED) >= ticket:
                break
            _cpu_relax()
    for _ in range(grace):
        _cpu_relax()


@njit(**_JIT)
def _post(flags, n_workers, ticket, spins, grace):
    """Caller: post `ticket` to workers 0..n_workers-1 from native code, with the GIL released, so
    that a worker that sees it takes the GIL at once (posted from Python, the worker found the
    GIL held and slept in the kernel until the caller let go of it: 30-50 us here). Returns the
    number of workers that sleep (release their semaphores, then _wait_started); with none,
    returns 0 after _wait_started."""
    for w in range(n_workers):
        _store_release(flags, w * WORKER_SLOTS + TICKET, ticket)
    _fence()
    sleeping = 0
    for w in range(n_workers):
        sleeping += _load_acquire(flags, w * WORKER_SLOTS + WORKER_SLEEPS)
    if sleeping == 0:
        _wait_started(flags, n_workers, ticket, spins, grace)
    return sleeping


@njit(**_JIT)
def _wait_done(flags, base, ticket, spins):
    """Caller: 1 once the worker has finished `ticket`; 0 when it has not after `spins` rounds
    (CALLER_SLEEPS is then set: sleep on the semaphore, clear it, call again)."""
    for _ in range(spins):
        if _load_acquire(flags, base + DONE) >= ticket:
            return 1
        _cpu_relax()
    _store_release(flags, base + CALLER_SLEEPS, 1)
    _fence()
    if _load_acquire(flags, base + DONE) >= ticket:
        _store_release(flags, base + CALLER_SLEEPS, 0)
        return 1
    return 0


@njit(**_JIT)
def _finish_and_wait(flags, base, done, last, spins):
    """Worker: publish `done` (when > 0), then wait for a ticket above `last` and return it.
    -1: none after `spins` rounds (WORKER_SLEEPS is then set: sleep on the semaphore, clear it,
    call again); -2: the caller sleeps waiting for `done` (release its semaphore, call again with
    done 0)."""
    if done > 0:
        _store_release(flags, base + DONE, done)
        _fence()
        if _load_acquire(flags, base + CALLER_SLEEPS) != 0:
            return -2
    for _ in range(spins):
        t = _load_acquire(flags, base + TICKET)
        if t > last:
            return t
        _cpu_relax()
    _store_release(flags, base + WORKER_SLEEPS, 1)
    _fence()
    t = _load_acquire(flags, base + TICKET)
    if t > last:
        _store_release(flags, base + WORKER_SLEEPS, 0)
        return t
    return -1


class _Worker:
    def __init__(self, pool, index):
        self.pool = pool
        self.base = index * WORKER_SLOTS
        self.chunk = index + 1
        self.task = None
        self.error = None
        self.cpu = None    # the CPU this thread is pinned to (Workers._separate), if any
        self.tid = None
        self.wake = threading.Semaphore(0)         # released by the caller
        self.caller_wake = threading.Semaphore(0)  # released by this worker
        started = threading.Event()
        threading.Thread(target=self.serve, args=(started,), name=f"tinygrad_seq-kernel-{self.chunk}",
                         daemon=True).start()
        started.wait(60)

    def serve(self, started):
        self.tid = threading.get_native_id()
        _chunk.depth = 1   # runs nothing but chunks
        started.set()
        flags = self.pool.flags
        done = last = 0
        while True:
            ticket = _finish_and_wait(flags, self.base, done, last, self.pool.spins)
            done = 0
            if ticket == -2:
                self.caller_wake.release()
            elif ticket == -1:
                self.wake.acquire()
                flags[self.base + WORKER_SLEEPS] = 0
            else:
                last = ticket
                flags[self.base + STARTED] = ticket  # the caller waits for this (_wait_started)
                task = self.task
                try:
                    task(self.chunk)
                except BaseException as e:  # handed to the caller of this ticket, which re-raises it
                    self.error = (ticket, e)
                task = None  # no chunk's arrays kept alive until the next chunk
                done = ticket

    def wait(self, ticket):
        flags = self.pool.flags
        while not _wait_done(flags, self.base, ticket, self.pool.spins):
            self.caller_wake.acquire()
            flags[self.base + CALLER_SLEEPS] = 0
        error, self.error, self.task = self.error, None, None
        # (an error of an earlier call, one a Ctrl-C left behind, is not this call's)
        return error[1] if error is not None and error[0] == ticket else None


class Workers:
    """n_workers threads that run chunks 1..n of run(); one caller at a time (``busy``)."""

    def __init__(self, n_workers, spin_cores):
        self.flags = np.zeros(n_workers * WORKER_SLOTS, np.int64)
        self.spins = 0
        self.spin_cores = spin_cores
        self.cpus = machine_cpu.process_cpus()
        self.busy = threading.Lock()
        self.ticket = 0
        self.caller_cpu = None  # the caller's CPU at the last _separate
        self.workers = [_Worker(self, w) for w in range(n_workers)]

    def _post(self, task, workers, grace):
        """Hands task to `workers` (the first len(workers)) and waits until they have started."""
        for worker in workers:
            worker.task = task
            worker.error = None
        self.ticket += 1
        if _post(self.flags, len(workers), self.ticket, self.spins, grace):
            for worker in workers:
                if self.flags[worker.base + WORKER_SLEEPS]:
                    worker.wake.release()
            _wait_started(self.flags, len(workers), self.ticket, self.spins, grace)

    def _separate(self, workers):
        """Pins each of `workers` to a CPU of its own, none the caller's current one; False when it
        cannot (fewer CPUs than threads, CPUs shared with the node's other MPI ranks, no
        affinity calls), and then nobody spins.

        Why: the scheduler put the caller and a worker on the same CPU, leaving the other idle,
        whenever one of them woke the other from a sleep (here, a KVM guest: the idle vCPU is
        halted, and a halted vCPU does not count as idle to the kernel's wake-up placement).
        Two spinning threads on one CPU then ran a two-thread RNN (T=50 B=16 H=64) at 3.3-3.8 ms
        a call against 1.1-1.3 ms on one thread, until the 0.3 s gaps between calls ended."""
        if (self.cpus is None or len(self.cpus) > self.spin_cores or len(workers) >= len(self.cpus)
                or any(w.tid is None for w in workers)):
            return False
        self.caller_cpu = int(_current_cpu())
        used = {self.caller_cpu}
        for worker in workers:
            if worker.cpu in used or worker.cpu not in self.cpus:
                held = {w.cpu for w in workers if w is not worker}
                free = [c for c in self.cpus if c not in used and c not in held]
                if not free:
                    return False
                try:
                    os.sched_setaffinity(worker.tid, {free[0]})
                except OSError:
                    self.cpus = None
                    return False
                worker.cpu = free[0]
            used.add(worker.cpu)
        return True

    def _pin_caller(self):
        """Pins the calling thread to the CPU _separate found it on, for one spinning run; returns
        its affinity before (to restore), or None when it cannot be pinned.

        Why: a caller that sleeps (on the GIL, which the worker holds while its chunk's Python part
        runs, or waiting for a slow worker) was woken onto the worker's CPU, as _separate says,
        and then waited behind the worker, which spins there for WORKER_SPIN_US after its chunk:
        a two-thread RNN (T=50 B=16 H=64) took 2-4 ms a call instead of 0.5 ms for the first
        10-30 ms after each idle gap, its caller starting its chunk 1.0-1.3 ms after the worker,
        on the worker's CPU (AMD EPYC KVM guest, 2026-12-02). The system calls cost ~5 us a run
        (25 us an LSTM layer's call, five runs); pinning only the first run after an idle gap and
        before a sleep waiting for a worker brought the slow calls back (the GIL changes hands
        slowly for a while after the gap, not only at its first run)."""
        main = threading.get_native_id() == os.getpid()
        try:
            before = os.sched_getaffinity(0)
        except OSError:
            return None
        if main:
            machine_cpu._main_thread_cpus.append(before)  # before pinning: process_cpus reads it meanwhile
        try:
            if before != {self.caller_cpu}:
                os.sched_setaffinity(0, {self.caller_cpu})
        except OSError:
            if main:
                machine_cpu._main_thread_cpus.pop()
            return None
        return before

    def _unpin_caller(self, before):
        try:
            os.sched_setaffinity(0, before)
        except OSError:
            pass  # the CPUs it had are gone (a cgroup change): it keeps the one it runs on
        if threading.get_native_id() == os.getpid():
            machine_cpu._main_thread_cpus.pop()  # after restoring: process_cpus never sees the pinned mask

    def run(self, task, n_chunks):
        """task(c) for c in 0..n_chunks-1 at once, chunk 0 here; waits for all, then re-raises
        chunk 0's error or else the first worker's. The caller holds ``busy``. While the threads
        spin, the caller too is pinned to its CPU (_pin_caller)."""
        workers = self.workers[:n_chunks - 1]
        spin_us = tuning.setting("WORKER_SPIN_US")
        spinning = spin_us > 0 and n_chunks <= self.spin_cores and self._separate(workers)
        self.spins = spin_rounds(spin_us) if spinning else 0
        grace = spin_rounds(tuning.setting("WORKER_GRACE_US")) if spinning else 0
        scope = getattr(_scopes, "active", None)
        if not spinning:
            pinned = None
        elif scope is not None and scope.pinned is not None and scope.cpu == self.caller_cpu:
            pinned = None  # pinned there by an earlier run of the same kernel call
        else:
            if scope is not None and scope.pinned is not None:   # another CPU: this run pins anew
                scope.release()
            pinned = self._pin_caller()
            if scope is not None and pinned is not None:   # unpinned when the scope ends
                scope.pinned, scope.cpu, scope.owner, pinned = pinned, self.caller_cpu, self, None
        try:
            self._post(task, workers, grace)
            try:
                task(0)
            finally:
                errors = [worker.wait(self.ticket) for worker in workers]
        finally:
            if pinned is not None:
                self._unpin_caller(pinned)
        for error in errors:
            if error is not None:
                raise error


_chunk = threading.local()


def in_chunk():
    """Whether this thread runs a kernel call's chunk: a worker (its caller waits for it, and may
    hold the tuning lock inside a calibration), or a caller running its own chunk while the others
    run theirs. Decisions that measure are not taken there (blas_cpu.swap_rows)."""
    return getattr(_chunk, "depth", 0) > 0


class running_chunks:
    """``with running_chunks():`` around a caller's own chunk (blas_cpu.run_chunks)."""

    def __enter__(self):
        _chunk.depth = getattr(_chunk, "depth", 0) + 1

    def __exit__(self, *exc):
        _chunk.depth -= 1


def chunk_thread_start():
    """A concurrent.futures thread's initializer (blas_cpu's second pool): unpinned, and marked
    as running chunks."""
    unpin()
    _chunk.depth = 1


# The caller of a kernel call stays pinned from its first spinning run to the call's end
# (blas_cpu.kernel_threads opens a PinScope): an LSTM layer's forward + backward made five runs,
# each pinning and unpinning the caller (two system calls, ~5 us a run here), where two pins do.
_scopes = threading.local()


class PinScope:
    """``with PinScope():`` the spinning runs (Workers.run) this thread makes inside it pin their
    caller once, to the CPU the first found it on, and the scope's end unpins it; a scope opened
    inside another is the outer one's."""

    def __init__(self):
        self.pinned = None   # the caller's affinity before the scope pinned it
        self.cpu = None      # the CPU it is pinned to
        self.owner = None    # the Workers that pinned it
        self.outer = None

    def release(self):
        if self.pinned is not None:
            self.owner._unpin_caller(self.pinned)
            self.pinned = None

    def __enter__(self):
        self.outer = getattr(_scopes, "active", None)
        if self.outer is None:
            _scopes.active = self
        return self

    def __exit__(self, *exc):
        if self.outer is None:
            _scopes.active = None
            self.release()
        return False


def unpin():
    """Gives the calling thread the process's CPUs again: threads started from a pinned worker
    (an executor's, made lazily by a chunk that splits again) inherit its single CPU."""
    cpus = machine_cpu.process_cpus()
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:
            pass  # best effort: the thread keeps the CPU it inherited


_rounds_per_us = None


def spin_rounds(microseconds):
    """PAUSE rounds in that many microseconds on this CPU (PAUSE takes 10-150 cycles depending on
    the CPU). The rate is measured once per process: the fastest of three probes of 2^14 rounds
    (about 0.4 ms each here), since a probe that another thread or the host interrupts reads slow
    (a single probe read 10 rounds/us once and 35 the next time, making every worker sleep
    after a quarter of its spin)."""
    global _rounds_per_us
    if _rounds_per_us is None:
        probe = np.zeros(WORKER_SLOTS, np.int64)
        _wait_done(probe, 0, 1, 1)  # compiled (or loaded) before it is timed
        rounds = 1 << 14
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            _wait_done(probe, 0, 1, rounds)
            best = min(best, time.perf_counter() - start)
        _rounds_per_us = rounds / max(best * 1e6, 1e-3)
    return int(_rounds_per_us * microseconds)


_pool = None
_pool_lock = threading.Lock()


def pool(n_workers, spin_cores):
    """The process's Workers, made with n_workers threads on first use and never replaced (a
    call that needs more chunks than it has workers runs elsewhere: blas_cpu.run_chunks)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Workers(n_workers, spin_cores)
        _pool.spin_cores = spin_cores
        return _pool


def _forget_pool():
    # a forked child has none of the parent's threads
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
