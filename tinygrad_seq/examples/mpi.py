"""The examples' one abort path for MPI jobs: an exception (or a non-zero exit) that escapes on one
process would leave the others waiting in a collective forever, so it ends the whole job with
that process's message instead. Outside an MPI job of two or more processes it changes nothing."""
import contextlib
import sys
import traceback


def _in_mpi_job():
    dist = sys.modules.get("tinygrad_seq.distributed")   # never imports mpi4py by itself
    try:
        return dist is not None and dist.is_initialized() and dist.get_world_size() > 1
    except Exception:
        return False


@contextlib.contextmanager
def abort_job_on_error():
    try:
        yield
    except BaseException as e:
        if (isinstance(e, SystemExit) and e.code in (None, 0)) or not _in_mpi_job():
            raise
        traceback.print_exc()
        sys.stderr.flush()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(1)
