"""Waiting for MPI requests with a deadline.

Every collective is started non-blocking (Iallreduce, Ibcast, Iallgather, Ibarrier) and waited
for here: MPI_Test until it completes or the timeout passes, then the job is aborted with a
message naming the rank, the collective and how long it waited (a blocking MPI_Wait would wait
forever for a rank that is hung, dead, or in another collective).

The polling costs no throughput: for the first 2 ms it tests back to back, as MPI_Wait's own
busy loop does (Open MPI moves a non-blocking collective only inside MPI calls, so every test
also makes progress, and a reduction of a few MB completes within that time); after that it
sleeps between tests, 50 us growing to 1 ms, so a long wait (a slower rank) leaves the core to
other processes and adds at most about a millisecond. (Yielding the core between tests instead,
sched_yield, made a 1.4 MB all-reduce 3-4 ms instead of 0.35 ms on a loaded machine: the
process then waits for its next time slice.)
"""
from __future__ import annotations

import time
from datetime import timedelta

from tinygrad_seq.distributed import mpi_state as _state
from tinygrad_seq.distributed.abort_path import abort

SPIN_S = 0.002          # test back to back this long
FIRST_SLEEP_S = 50e-6   # then sleep between tests, doubling up to MAX_SLEEP_S
MAX_SLEEP_S = 1e-3

def wait(requests, what, timeout_s, statuses=None):
    """Block until every MPI request in `requests` completes, or abort the job after timeout_s
    seconds naming `what` ("all_reduce #12 (float32, 1,000 elements)"). statuses: a list that
    receives the completed requests' MPI.Status (a receive's source and size)."""
    testall = _state.State.MPI.Request.Testall

    def test_all(reqs):
        return testall(reqs, statuses)

    if test_all(requests):
        return
    start = time.monotonic()
    spin_until, deadline = start + SPIN_S, start + timeout_s
    delay = FIRST_SLEEP_S
    while not test_all(requests):
        now = time.monotonic()
        if now < spin_until:
            continue
        if now >= deadline:
            timed_out(what, now - start, timeout_s)
        time.sleep(min(delay, max(deadline - now, 0.0)))
        delay = min(2 * delay, MAX_SLEEP_S)


def timed_out(what, waited_s, timeout_s):
    abort(f"timed out after {waited_s:.1f} s (timeout {timedelta(seconds=timeout_s)}) waiting in "
          f"{what}: another rank is hung, has died, or is in a different collective or step", 1)
