"""tinygrad_seq.futures: torch.futures' Future, collect_all and wait_all.

A Future holds a value (or an exception) that arrives later: set_result() / set_exception()
complete it, from this thread or another; wait() blocks until then and returns the value (or
raises); then(callback) returns a Future of callback(this future), run when this one completes.

MPI moves a non-blocking collective only inside MPI calls and this library starts no thread to
make them, so a Future of a collective (Work.get_future()) completes when it is asked: wait(),
done() and a wait() on a future chained to it by then() test the collective (done() without
blocking), and the callbacks run on the thread that finds it complete. DDP's communication hooks
return such futures (nn/ddp_comm_hook.py).
"""
from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Future(Generic[T]):
    """torch.futures.Future. `devices` is accepted for torch compatibility (no CUDA streams here)."""

    def __init__(self, *, devices=None):
        self._completed, self._value, self._error = False, None, None
        self._callbacks = []        # callback(self), run once when this future completes
        self._settle = None         # settle(block) tries to complete this future: a Work, a parent
        self._cond = threading.Condition()

    # ------------------------------------------------------------ completion
    def done(self) -> bool:
        """Whether the value (or an exception) has arrived; never blocks."""
        if not self._completed and self._settle is not None:
            self._settle(False)
        return self._completed

    def wait(self) -> T:
        """Block until this future completes; its value, or raise its exception."""
        self._block()
        if self._error is not None:
            raise self._error
        return self._value

    def value(self) -> T:
        """The value of a completed future (after wait(), or inside a then() callback)."""
        if not self.done():
            raise RuntimeError("Future.value(): the future has not completed yet; call wait() "
                               "first, or read it inside a callback passed to then()")
        if self._error is not None:
            raise self._error
        return self._value

    def set_result(self, result: T) -> None:
        """Complete this future with `result`, then run its callbacks."""
        self._mark_completed(result, None)

    def set_exception(self, result) -> None:
        """Complete this future with the exception `result`: wait() and value() raise it."""
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._mark_completed(None, result)

    # ------------------------------------------------------------ callbacks
    def then(self, callback) -> "Future":
        """A new future holding callback(self) once this future completes (a callback that
        raises completes it with torch's RuntimeError naming that error)."""
        child = Future()
        child._settle = self._settle_for_child

        def run(fut):
            try:
                result = callback(fut)
            except Exception as e:   # noqa: BLE001  (torch: the error reaches the child's wait())
                child.set_exception(RuntimeError(
                    f"Got the following error when running the callback: {type(e).__name__}: {e}"))
                return
            child.set_result(result)

        self.add_done_callback(run)
        return child

    def add_done_callback(self, callback) -> None:
        """Run callback(self) when this future completes (now, if it has)."""
        with self._cond:
            if not self._completed:
                self._callbacks.append(callback)
                return
        callback(self)

    # ------------------------------------------------------------ internals
    def _mark_completed(self, value, error):
        with self._cond:
            if self._completed:
                raise RuntimeError("Attempting to mark a completed Future as complete again. Note "
                                   "that a Future can only be marked completed once.")
            self._value, self._error, self._completed = value, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for callback in callbacks:
            callback(self)

    def _block(self):
        if self._completed:
            return
        if self._settle is not None:
            self._settle(True)
        with self._cond:   # completed by another thread's set_result
            self._cond.wait_for(lambda: self._completed)

    def _settle_for_child(self, block):
        if block:
            self._block()
        else:
            self.done()

    def __repr__(self):
        state = "completed" if self._completed else "pending"
        return f"<tinygrad_seq.futures.Future ({state})>"


def future_of_work(work) -> Future:
    """A Future completed with work.result() (the collective's tensors) when `work` completes."""
    fut = Future()

    def settle(block):
        if fut._completed:
            return
        if block:
            work.wait()
        elif not work.is_completed():
            return
        fut.set_result(work.result())

    fut._settle = settle
    return fut


def collect_all(futures) -> Future:
    """A future completed with the list of `futures` once all of them have completed."""
    futures = list(futures)
    for i, f in enumerate(futures):
        if not isinstance(f, Future):
            raise TypeError(f"collect_all: futures[{i}] is a {type(f).__name__}, not a Future")
    out = Future()

    def settle(block):
        if out._completed:
            return
        if block:
            for f in futures:
                f._block()
        elif not all(f.done() for f in futures):
            return
        out.set_result(futures)

    out._settle = settle
    return out


def wait_all(futures) -> list:
    """The values of `futures`, waited for in order (the first exception is raised)."""
    return [f.wait() for f in futures]


__all__ = ["Future", "collect_all", "wait_all"]
