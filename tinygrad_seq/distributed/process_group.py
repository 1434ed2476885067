"""init_process_group, destroy_process_group, barrier and the questions about the group."""
from __future__ import annotations

import importlib.util
import os
import sys

from tinygrad_seq.distributed import abort_path as _abort
from tinygrad_seq.distributed import group as _group
from tinygrad_seq.distributed.collectives import Work
from tinygrad_seq.distributed.group import State, check_group, current
from tinygrad_seq.distributed.waiting import wait


def is_available() -> bool:
    """True when mpi4py can be imported (torch.distributed.is_available())."""
    return importlib.util.find_spec("mpi4py") is not None


# World-size variables MPI launchers put into each process's environment: Open MPI's mpiexec,
# MPICH's and Intel MPI's Hydra (also Slurm's srun --mpi=pmi2), MVAPICH2.
_LAUNCHER_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE")


def launched_by_mpi(environ=None) -> bool:
    """True when this process is one of several ranks started by an MPI launcher (mpiexec,
    mpirun, srun), read from the environment only: mpi4py is not imported and MPI is not
    initialized, so a script may call this first and run single-process when it is False
    (`mpiexec -n 1` counts as single-process). A PMIx launch (PMIX_RANK set) whose launcher sets
    none of the variables above counts when Slurm's task count is above 1."""
    env = os.environ if environ is None else environ

    def size(name):
        try:
            return int(env.get(name, ""))
        except ValueError:
            return 0

    if any(size(name) > 1 for name in _LAUNCHER_SIZE_VARS):
        return True
    if "PMIX_RANK" in env:
        return any(size(name) > 1 for name in ("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"))
    return False


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job started by mpiexec. Rank and world size come from MPI; world_size/rank, when
    given, must agree with it. `timeout` (a timedelta; default 30 minutes, as in PyTorch) bounds
    every collective and every Work.wait(): past it the job is aborted with a message naming the
    rank and the collective. Installs the abort path (abort_path.py) and, on machines with NVIDIA
    GPUs, binds this rank's GPU (see the package docstring)."""
    if str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not supported; "
                         f"tinygrad_seq.distributed runs on 'mpi'")
    if State.group is not None:
        from tinygrad_seq.errors import InvalidArgument   # torch's ValueError
        raise InvalidArgument("trying to initialize the default process group twice!")
    timeout_s = _group.seconds(_group.DEFAULT_TIMEOUT if timeout is None else timeout,
                               "init_process_group: timeout")
    MPI = _group.mpi()
    if not MPI.Is_initialized():
        MPI.Init_thread()
    world = MPI.COMM_WORLD
    if world_size not in (-1, None) and int(world_size) != world.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started "
                         f"{world.Get_size()} processes")
    if rank not in (-1, None) and int(rank) != world.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank "
                         f"{world.Get_rank()}")
    State.group = _group.Group(world, timeout_s)
    _abort.install()
    _group.bind_gpu(device_id, State.group.local_rank)


def is_initialized() -> bool:
    return State.group is not None


def get_backend(group=None) -> str:
    check_group(group)
    return "mpi"


def get_rank(group=None) -> int:
    return check_group(group).rank


def get_world_size(group=None) -> int:
    return check_group(group).size


def get_local_rank() -> int:
    """This process's rank among the processes on the same machine."""
    return current().local_rank


def get_local_world_size() -> int:
    return current().local_size


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has entered the barrier (bounded by the timeout)."""
    g = check_group(group)
    work = Work([g.comms["barrier"].Ibarrier()], g.describe("barrier"), g.timeout_s)
    if async_op:
        return work
    work.wait()


def destroy_process_group(group=None):
    """Leave the process group: a barrier (so every rank leaves after the others' work before it,
    e.g. rank 0's files, is done), bounded by the timeout, then the communicators are freed.
    Called while an exception is being handled (from an `except` block) it skips the barrier,
    which the other ranks may never reach. The abort path stays: an uncaught exception or a
    non-zero exit after this still ends the whole job (abort_path.py). MPI itself is finalized
    by mpi4py when the interpreter exits."""
    g = check_group(group)
    if sys.exc_info()[1] is None and g.size > 1:
        wait([g.comms["barrier"].Ibarrier()], g.describe("barrier", detail="destroy_process_group"),
             g.timeout_s)
    State.group = None
    g.free()
