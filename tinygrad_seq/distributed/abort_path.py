"""The library's one way to end an MPI job, and everything that leads to it.

A rank that fails while the others go on would leave them waiting in their next collective
forever. So, once init_process_group has run in a job of more than one process:

- an exception that escapes the script (sys.excepthook), or the block of `abort_on_error()`,
  prints its traceback and ends the job;
- a script that exits with a non-zero status (`sys.exit(3)`, argparse's errors, a CLI returning
  1) ends the job with that status: SystemExit never reaches sys.excepthook, so sys.exit is
  wrapped to keep the exception (from `import tinygrad_seq` on, in a rank started by mpiexec),
  and an exit handler looks at it once the interpreter is leaving;
- a collective that does not complete within the timeout ends the job (waiting.py).

Each prints one line naming the rank and the cause, then calls MPI_Abort, which ends every rank
of the job (mpiexec exits non-zero) within seconds.
"""
from __future__ import annotations

import atexit
import contextlib
import sys
import time
import traceback

from tinygrad_seq.distributed import mpi_state as _mpi

_PREFIX = "tinygrad_seq.distributed"
_state = {"installed": False, "prev_excepthook": None, "real_exit": None, "last_exit": None}


def abort(message: str = "", exit_code: int = 1):
    """End the whole MPI job now: print "tinygrad_seq.distributed: rank R of N: MESSAGE; aborting
    the job (MPI_Abort)" on stderr and call MPI_Abort on COMM_WORLD with `exit_code`, which ends
    every rank (mpiexec then exits non-zero). Outside a running MPI job (a single process, or MPI
    not initialized) print the message and raise SystemExit(exit_code)."""
    code = int(exit_code)
    try:
        sys.stdout.flush()
    except Exception:
        pass
    if not _mpi.in_job():
        _write(f"{_PREFIX}: {message or 'abort'}\n")
        raise SystemExit(code)
    text = f"{_PREFIX}: {_mpi.rank_text()}" + (f": {message}" if message else "")
    _write(f"{text}; aborting the job (MPI_Abort)\n")
    _mpi.State.MPI.COMM_WORLD.Abort(code)


# how long a rank whose start succeeded waits, once told that another rank's failed, before it
# raises: enough for the failing rank to print its error and abort the job first
PEER_ERROR_GRACE_S = 5.0


def raise_start_error(err, destroy_process_group):
    """After a collective told every rank that some rank failed to start (`err`: this rank's
    exception, None where it did not fail): leave the process group and raise. A rank without
    an error of its own waits PEER_ERROR_GRACE_S first, so that the failing rank's abort, whose
    line names the real error, ends the job; when both aborted at once, mpiexec could kill the
    failing rank before its message was forwarded, leaving only "another process failed"."""
    destroy_process_group()
    if err is not None:
        raise err
    time.sleep(PEER_ERROR_GRACE_S)
    raise RuntimeError("another process failed to start training (see its message)")


def _write(text):
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except Exception:
        pass


def _exit_code(exc) -> int:
    """The process exit status an exception leaving the program gives (Python's rules)."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) and not isinstance(code, bool) else 1
    if isinstance(exc, KeyboardInterrupt):
        return 130
    return 1


def _summary(exc) -> str:
    if isinstance(exc, SystemExit):
        code = exc.code
        detail = f" ({code})" if code is not None and not isinstance(code, int) else ""
        return f"exited with status {_exit_code(exc)}{detail}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class abort_on_error(contextlib.ContextDecorator):
    """Context manager and decorator: in a job of more than one process, an exception escaping
    the block ends the whole job instead of leaving the other ranks waiting for this one.

        with dist.abort_on_error():          # or @dist.abort_on_error() on a function
            train()

    Exception: its traceback on stderr (traceback=False: only the one-line summary), then
    abort() with status 1. KeyboardInterrupt: status 130. SystemExit with a non-zero status:
    abort() with that status. SystemExit(0) / sys.exit() pass through, as does everything in a
    single process (no MPI job): a command line can wrap its distributed code unconditionally
    and keep its own error handling for the single-process case."""

    def __init__(self, traceback: bool = True):
        self.traceback = traceback

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or not _mpi.in_job():
            return False
        code = _exit_code(exc)
        if code == 0:
            return False
        if self.traceback and not isinstance(exc, SystemExit):
            _write("".join(traceback.format_exception(exc_type, exc, tb)))
        abort(_summary(exc), code)
        return False


# ------------------------------------------------------------------ installed by init_process_group
def watch_exit():
    """Keep the SystemExit that sys.exit raises, for the exit handler (idempotent). tinygrad_seq
    calls this when it is imported in a rank of an MPI job: `sys.exit(main())` looks sys.exit up
    before main() runs init_process_group."""
    if sys.exit is not _sys_exit:
        _state["real_exit"] = sys.exit
        sys.exit = _sys_exit
    if not _state["installed"]:
        _state["installed"] = True
        atexit.register(_at_exit)   # mpi4py finalizes MPI later, from Py_AtExit


def install():
    """Hook the exits of a rank: sys.excepthook, sys.exit, the exit handler (idempotent)."""
    if sys.excepthook is not _excepthook:
        _state["prev_excepthook"] = sys.excepthook
        sys.excepthook = _excepthook
    watch_exit()


def _excepthook(exc_type, exc, tb):
    try:
        (_state["prev_excepthook"] or sys.__excepthook__)(exc_type, exc, tb)
    finally:
        if _mpi.in_job():
            abort(f"uncaught {_summary(exc)}", _exit_code(exc))


def _sys_exit(*args):
    """sys.exit, keeping the SystemExit it raises for the exit handler."""
    if len(args) > 1:
        return _state["real_exit"](*args)   # the builtin's own TypeError
    exc = SystemExit(*args)
    _state["last_exit"] = exc
    raise exc


def _left_the_program(exc) -> bool:
    """True when the SystemExit went all the way out, caught by no one. An exception gets its
    __traceback__ when a handler (except, finally, with) takes it, starting at that handler's
    frame: a caught one starts in a frame with a caller; one no handler took has none (3.11) or
    starts at the bottom of the stack (3.12 builds it as it unwinds)."""
    tb = exc.__traceback__
    return tb is None or tb.tb_frame.f_back is None


def _at_exit():
    """The interpreter is leaving: a non-zero sys.exit that no one caught ends the job now. (A
    rank that leaves in another way while another rank waits for it in a collective ends the job
    when that collective's timeout passes.)"""
    exc = _state["last_exit"]
    if exc is not None and _left_the_program(exc) and _mpi.in_job():
        code = _exit_code(exc)
        if code != 0:
            abort(_summary(exc), code)
