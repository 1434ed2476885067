"""kernels/workers_cpu.py through blas_cpu.run_chunks: chunks handed to spinning worker threads,
their sleep and wake-up, errors, nested and concurrent callers, and fork."""
import os
import sys
import threading
import time

import numpy as np
import pytest

from tinygrad_seq.kernels import blas_cpu, machine_cpu, tuning, workers_cpu


def _chunk_ids(n_chunks, calls=200):
    """Runs `calls` run_chunks calls; each chunk writes its call and chunk number into its own
    slot. Returns the slots (every one must be filled) and the threads that ran chunks >= 1."""
    seen = np.full((calls, n_chunks), -1, np.int64)
    threads = set()

    def task_for(call):
        def task(c):
            seen[call, c] = call * 100 + c
            if c > 0:
                threads.add(threading.get_ident())
        return task

    for call in range(calls):
        blas_cpu.run_chunks(task_for(call), n_chunks)
    return seen, threads


def _expected(calls, n_chunks):
    return np.arange(calls)[:, None] * 100 + np.arange(n_chunks)[None, :]


@pytest.mark.parametrize("spin_us", [300, 0])
def test_every_chunk_runs_once_per_call_on_a_worker(monkeypatch, spin_us):
    # spin_us=0: every wait sleeps on a semaphore (the path a loaded machine takes)
    monkeypatch.setattr(tuning, "WORKER_SPIN_US", spin_us)
    seen, threads = _chunk_ids(2)
    np.testing.assert_array_equal(seen, _expected(200, 2))
    assert threads and threading.get_ident() not in threads


def test_three_chunks_use_two_workers(monkeypatch):
    # a pool made by a three-chunk call has (at least) two workers, and they run chunks 1 and 2
    monkeypatch.setattr(workers_cpu, "_pool", None)
    seen, threads = _chunk_ids(3, calls=50)
    np.testing.assert_array_equal(seen, _expected(50, 3))
    pool_threads = {w.tid for w in workers_cpu.pool(2, 1).workers[:2]}
    assert {threading.get_native_id()} != pool_threads and len(threads) == 2
    ran_on = set()
    blas_cpu.run_chunks(lambda c: c and ran_on.add(threading.get_native_id()), 3)
    assert ran_on == pool_threads


def test_a_worker_that_slept_takes_the_next_chunk(monkeypatch):
    # a gap longer than the spin: the worker sleeps, the next call's post wakes it
    monkeypatch.setattr(tuning, "WORKER_SPIN_US", 50)
    out = np.zeros(2)
    for k in range(3):
        time.sleep(0.01)
        blas_cpu.run_chunks(lambda c: out.__setitem__(c, out[c] + 1), 2)
    assert out.tolist() == [3, 3]


def test_caller_that_sleeps_is_woken_by_the_worker(monkeypatch):
    # chunk 1 takes much longer than the caller's spin: the caller sleeps and is woken
    monkeypatch.setattr(tuning, "WORKER_SPIN_US", 20)
    done = []
    blas_cpu.run_chunks(lambda c: (time.sleep(0.05) if c == 1 else None, done.append(c)), 2)
    assert sorted(done) == [0, 1]


def test_errors_reach_the_caller_and_the_pool_stays_usable():
    def fails_in_worker(c):
        if c == 1:
            raise ValueError("chunk 1 failed")

    with pytest.raises(ValueError, match="chunk 1 failed"):
        blas_cpu.run_chunks(fails_in_worker, 2)

    def fails_in_both(c):
        raise KeyError(f"chunk {c}")

    with pytest.raises(KeyError, match="chunk 0"):  # the caller's own chunk's error first
        blas_cpu.run_chunks(fails_in_both, 2)
    seen, _ = _chunk_ids(2, calls=20)
    np.testing.assert_array_equal(seen, _expected(20, 2))


def test_a_chunk_that_splits_again_runs_its_chunks_on_other_threads():
    # the workers are busy with the outer call: the inner one takes concurrent.futures' threads
    inner = np.zeros((2, 2))

    def outer(c):
        blas_cpu.run_chunks(lambda k: inner.__setitem__((c, k), 1), 2)

    blas_cpu.run_chunks(outer, 2)
    assert inner.tolist() == [[1, 1], [1, 1]]


def test_callers_on_two_threads_at_once():
    errors = []
    results = {}

    def caller(name):
        try:
            results[name] = _chunk_ids(2, calls=300)[0]
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=caller, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    for name in "ab":
        np.testing.assert_array_equal(results[name], _expected(300, 2))


def test_chunks_with_spin_barrier_meet():
    # the LSTM's units split: both chunks must run at once (each waits for the other every step)
    from tinygrad_seq.kernels import spin_cpu
    sys.path.insert(0, os.path.dirname(__file__))
    from test_spin_cpu import _exchange
    flags = spin_cpu.barrier_flags(2)
    data = np.zeros((2, 2), np.int64)
    seen = np.zeros(2, np.int64)
    blas_cpu.run_chunks(lambda c: _exchange(flags, data, seen, c, 2, 500), 2)
    assert seen.tolist() == [0, 0]
    assert spin_cpu.barrier_error(flags, 2, "test") is None


def test_no_spinning_with_fewer_cores_than_chunks(monkeypatch):
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: 1)
    seen, _ = _chunk_ids(2, calls=20)
    np.testing.assert_array_equal(seen, _expected(20, 2))
    assert workers_cpu.pool(1, 1).spins == 0


def test_spin_rounds_follow_the_setting(monkeypatch):
    assert workers_cpu.spin_rounds(0) == 0
    assert 0 < workers_cpu.spin_rounds(100) < workers_cpu.spin_rounds(1000)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_workers_of_its_own():
    blas_cpu.run_chunks(lambda c: None, 2)  # the parent's workers exist
    pid = os.fork()
    if pid == 0:  # the child: its own threads, or this would wait forever
        code = 1
        try:
            seen, _ = _chunk_ids(2, calls=10)
            code = 0 if (seen == _expected(10, 2)).all() else 2
        finally:
            os._exit(code)
    deadline = time.time() + 60
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    pytest.fail("the forked child's run_chunks did not finish")


def _cpus():
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@pytest.mark.skipif(len(_cpus()) < 2, reason="needs two CPUs")
def test_a_spinning_worker_is_pinned_away_from_the_caller(monkeypatch):
    # the scheduler left a caller and its worker on one CPU after a wake-up (a KVM guest's idle
    # vCPU does not count as idle): a worker that spins has a CPU of its own, not the caller's
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: len(_cpus()))
    where = {}

    def task(c):
        where[c] = int(workers_cpu._current_cpu())

    blas_cpu.run_chunks(task, 2)
    workers = workers_cpu.pool(1, len(_cpus()))
    worker = workers.workers[0]
    assert workers.spins > 0
    assert worker.cpu in _cpus()
    assert os.sched_getaffinity(worker.tid) == {worker.cpu}
    assert where[1] == worker.cpu
    # a caller that moved onto the worker's CPU moves the worker
    here = int(workers_cpu._current_cpu())
    worker.cpu = here
    os.sched_setaffinity(worker.tid, {here})
    monkeypatch.setattr(workers_cpu, "_current_cpu", lambda: here)
    blas_cpu.run_chunks(task, 2)
    assert worker.cpu != here and os.sched_getaffinity(worker.tid) == {worker.cpu}


@pytest.mark.skipif(len(_cpus()) < 2, reason="needs two CPUs")
def test_a_spinning_caller_is_pinned_to_its_cpu_for_the_call(monkeypatch):
    # a caller that slept (on the GIL, or for a slow worker) was woken onto its worker's CPU and
    # waited there behind the spinning worker: while the threads spin, the caller keeps its CPU
    # (the process's CPUs still read as before), and gets its own affinity back after the call,
    # an error's included
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: len(_cpus()))
    seen = {}

    def task(c):
        if c == 0:
            seen["caller"] = sorted(os.sched_getaffinity(0))
            seen["process"] = machine_cpu.process_cpus()
            seen["cpu"] = int(workers_cpu._current_cpu())

    blas_cpu.run_chunks(task, 2)
    worker = workers_cpu.pool(1, 1).workers[0]
    assert seen["caller"] == [seen["cpu"]] and seen["cpu"] != worker.cpu
    assert seen["process"] == _cpus()
    assert sorted(os.sched_getaffinity(0)) == _cpus() and machine_cpu.process_cpus() == _cpus()

    def failing(c):
        if c == 0:
            raise ValueError("chunk 0")

    with pytest.raises(ValueError, match="chunk 0"):
        blas_cpu.run_chunks(failing, 2)
    assert sorted(os.sched_getaffinity(0)) == _cpus() and machine_cpu._main_thread_cpus == []


@pytest.mark.skipif(len(_cpus()) < 2, reason="needs two CPUs")
def test_a_kernel_calls_runs_pin_the_caller_once(monkeypatch):
    # inside blas_cpu.kernel_threads (one kernel call) the caller is pinned at its first spinning
    # run and stays so for the later ones (two system calls a call, not two a run); the call's
    # end, an error's included, gives it its affinity back
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: len(_cpus()))
    # two chunks whatever Numba's thread count (the workers are threads of run_chunks' own)
    monkeypatch.setattr(blas_cpu.kernel_threads, "planned", staticmethod(lambda *a, **k: 2))
    calls = []
    original = os.sched_setaffinity
    monkeypatch.setattr(os, "sched_setaffinity", lambda tid, cpus: (calls.append((tid, sorted(cpus))),
                                                                    original(tid, cpus)))
    seen = []

    def task(c):
        if c == 0:
            seen.append((sorted(os.sched_getaffinity(0)), machine_cpu.process_cpus()))

    blas_cpu.run_chunks(task, 2)   # the workers' own pinning done outside the count
    calls.clear()
    with blas_cpu.kernel_threads(8, 8, 1 << 30) as n_chunks:
        assert n_chunks == 2
        for _ in range(4):
            blas_cpu.run_chunks(task, 2)
        assert len(os.sched_getaffinity(0)) == 1   # still pinned between the runs
    own = [cpus for tid, cpus in calls if tid == 0]   # (a worker may be moved off the caller's CPU)
    assert len(own) == 2 and len(own[0]) == 1 and own[1] == _cpus()
    assert all(len(caller) == 1 and process == _cpus() for caller, process in seen)
    assert sorted(os.sched_getaffinity(0)) == _cpus() and machine_cpu._main_thread_cpus == []

    def failing(c):
        if c == 0:
            raise ValueError("chunk 0")

    with pytest.raises(ValueError, match="chunk 0"):
        with blas_cpu.kernel_threads(8, 8, 1 << 30):
            blas_cpu.run_chunks(task, 2)
            blas_cpu.run_chunks(failing, 2)
    assert sorted(os.sched_getaffinity(0)) == _cpus() and machine_cpu._main_thread_cpus == []


def test_no_spinning_on_cpus_shared_with_other_ranks(monkeypatch):
    # two MPI ranks on this node, each counting half the CPUs: nobody pins its threads to CPUs
    # the other rank's threads may be pinned to, so nobody spins
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: 2)
    workers = workers_cpu.pool(1, 2)
    monkeypatch.setattr(workers, "cpus", [0, 1, 2, 3])
    seen, _ = _chunk_ids(2, calls=10)
    np.testing.assert_array_equal(seen, _expected(10, 2))
    assert workers.spins == 0


def test_more_chunks_than_workers_run_elsewhere():
    # the pool is made once and never replaced (replacing it under a caller could hang):
    # a call with more chunks than workers takes concurrent.futures' threads
    blas_cpu.run_chunks(lambda c: None, 2)
    n_chunks = len(workers_cpu.pool(1, 1).workers) + 3
    seen, _ = _chunk_ids(n_chunks, calls=5)
    np.testing.assert_array_equal(seen, _expected(5, n_chunks))


def test_an_earlier_calls_error_is_not_raised_by_a_later_call():
    # a chunk that failed after its caller was interrupted (Ctrl-C): its error belongs to it
    blas_cpu.run_chunks(lambda c: None, 2)
    workers = workers_cpu.pool(1, 1)
    earlier = workers.ticket

    def task(c):
        if c == 0:  # the interrupted call's chunk ends with an error while this call runs
            workers.workers[0].error = (earlier, RuntimeError("from an interrupted call"))

    blas_cpu.run_chunks(task, 2)  # does not raise it


@pytest.mark.skipif(len(_cpus()) < 2, reason="needs two CPUs")
def test_threads_started_from_a_pinned_worker_get_every_cpu(monkeypatch):
    # a chunk that splits again, on a pinned worker, starts concurrent.futures' threads: they
    # must not inherit the worker's one CPU
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: len(_cpus()))
    monkeypatch.setattr(blas_cpu, "_pool", None)
    inner = {}

    def outer(c):
        if c == 1:
            blas_cpu.run_chunks(lambda k: inner.__setitem__(k, sorted(os.sched_getaffinity(0))), 2)

    blas_cpu.run_chunks(outer, 2)
    assert workers_cpu.pool(1, 1).workers[0].cpu is not None
    assert inner[1] == _cpus()
    assert machine_cpu.process_cpus() == _cpus()


def test_a_containers_cpu_quota_limits_the_usable_cores(monkeypatch, tmp_path):
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n")
    monkeypatch.setattr(machine_cpu, "_quota", [])
    assert machine_cpu.cpu_quota(str(quota)) == 1
    assert machine_cpu.usable_cores() == 1       # read once: the same answer now
    monkeypatch.setattr(machine_cpu, "_quota", [])
    quota.write_text("max 100000\n")
    assert machine_cpu.cpu_quota(str(quota)) is None
    monkeypatch.setattr(machine_cpu, "_quota", [])
    quota.write_text("250000 100000\n")
    assert machine_cpu.cpu_quota(str(quota)) == 2


def test_spinning_off_pins_nothing(monkeypatch):
    monkeypatch.setattr(tuning, "WORKER_SPIN_US", 0)
    monkeypatch.setattr(blas_cpu, "cores_for_spinning", lambda: 64)
    calls = []
    workers = workers_cpu.pool(1, 1)
    monkeypatch.setattr(workers, "_separate", lambda w: calls.append(w) or True)
    seen, _ = _chunk_ids(2, calls=5)
    np.testing.assert_array_equal(seen, _expected(5, 2))
    assert calls == [] and workers.spins == 0


def test_a_kernel_call_reads_its_cores_once(monkeypatch):
    # machine_cpu.cores_scope (opened by blas_cpu.kernel_threads): the first usable_cores() in the
    # scope reads the affinity, later ones reuse it; a one-chunk call never reads it; an inner
    # scope keeps the outer's answer; outside a scope every call reads again
    from tinygrad_seq.kernels import blas_cpu, machine_cpu

    reads = []
    monkeypatch.setattr(machine_cpu, "_usable_cores_now", lambda: reads.append(1) or 3)
    with machine_cpu.cores_scope():
        assert reads == []
        assert machine_cpu.usable_cores() == 3 and machine_cpu.usable_cores() == 3
        with machine_cpu.cores_scope():
            assert machine_cpu.usable_cores() == 3
        assert machine_cpu.usable_cores() == 3
    assert len(reads) == 1
    machine_cpu.usable_cores()
    machine_cpu.usable_cores()
    assert len(reads) == 3
    reads.clear()
    with blas_cpu.kernel_threads(8, 8, 1000) as n_chunks:   # below the threshold: one chunk
        assert n_chunks == 1
        blas_cpu.run_chunks(lambda c: None, n_chunks)
    assert reads == []
