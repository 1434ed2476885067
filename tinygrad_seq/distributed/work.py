"""Work: the handle of a collective started with async_op=True (torch.distributed's Work)."""
from __future__ import annotations

from datetime import timedelta

from tinygrad_seq.distributed.mpi_state import State, seconds
from tinygrad_seq.distributed.waiting import wait
from tinygrad_seq.futures import future_of_work


class Work:
    """The handle an async_op=True collective returns (torch's Work): is_completed() asks
    without blocking (and lets MPI progress), wait() finishes it."""

    def __init__(self, requests, what, timeout_s, finish=None, outputs=(), statuses=None):
        self._requests, self._what, self._timeout_s = requests, what, timeout_s
        self._finish, self._done, self._outputs = finish, False, outputs
        self._statuses = statuses   # a list for the requests' MPI.Status (point-to-point)
        self._future = None

    def is_completed(self) -> bool:
        if not self._done and State.MPI.Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        """Block until the collective completes. timeout (a timedelta or seconds; default, and
        timedelta(0): the group's timeout): past it the job is aborted naming this rank and the
        collective (an MPI collective cannot be cancelled, so there is nothing to return to)."""
        if not self._done:
            limit = self._timeout_s
            no_limit = isinstance(timeout, timedelta) and timeout.total_seconds() == 0  # torch's default
            if timeout is not None and not no_limit:
                limit = seconds(timeout, "Work.wait: timeout")
            wait(self._requests, self._what, limit, self._statuses)
            self._complete()
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()

    def __repr__(self):
        return f"<Work {self._what}: {'completed' if self._done else 'in flight'}>"

    def is_success(self) -> bool:
        """True once completed (a failed collective aborts the job instead of returning)."""
        return self.is_completed()

    def result(self):
        """torch's Work.result(): the tensors the collective wrote (after wait())."""
        self.wait()
        return list(self._outputs)

    def get_future(self):
        """torch's Work.get_future(): a tinygrad_seq.futures.Future completed with result() when
        the collective completes (asked by its wait(), done(), or a future chained by then())."""
        if self._future is None:
            self._future = future_of_work(self)
        return self._future
