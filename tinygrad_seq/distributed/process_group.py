"""init_process_group, destroy_process_group, barrier and the questions about the group."""
from __future__ import annotations

import importlib.util
import os
import sys

from tinygrad_seq.distributed import abort_path as _abort
from tinygrad_seq.distributed import launch_env as _launch_env
from tinygrad_seq.distributed import mpi_state as _state
from tinygrad_seq.distributed.groups import Backend
from tinygrad_seq.distributed.mpi_state import State, check_group, current
from tinygrad_seq.distributed.waiting import wait
from tinygrad_seq.distributed.work import Work
from tinygrad_seq.errors import InvalidArgument


class NoProcessGroup(InvalidArgument, AssertionError):
    """destroy_process_group() without a group: torch's AssertionError (a RuntimeError too, as our
    other uninitialized-group errors)."""


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
    """Join the job started by mpiexec. Every torch backend name ("mpi", "gloo", "nccl", None, a
    map "cpu:gloo,cuda:nccl") runs over MPI, the one transport; init_method and store are
    accepted and not needed (MPI's launcher has already connected the ranks). Rank and world size
    come from MPI; world_size/rank, when given, must agree with it. RANK, WORLD_SIZE, LOCAL_RANK
    and LOCAL_WORLD_SIZE are set in os.environ from MPI where absent (torchrun sets them) or
    where importing the package set them from the launcher's variables (launch_env.py).
    `timeout` (a timedelta; default 30 minutes, as in PyTorch) bounds every collective and every
    Work.wait(): past it the job is aborted with a message naming the rank and the collective.
    Installs the abort path (abort_path.py) and, on machines with NVIDIA GPUs, binds this rank's
    GPU (see the package docstring)."""
    if backend is not None:
        Backend(backend)
    if State.group is not None:
        from tinygrad_seq.errors import InvalidArgument   # torch's ValueError
        raise InvalidArgument("trying to initialize the default process group twice!")
    timeout_s = _state.seconds(_state.DEFAULT_TIMEOUT if timeout is None else timeout,
                               "init_process_group: timeout")
    MPI = _state.mpi()
    if not MPI.Is_initialized():
        MPI.Init_thread()
    world = MPI.COMM_WORLD
    if world_size not in (-1, None) and int(world_size) != world.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started "
                         f"{world.Get_size()} processes (the ranks come from mpiexec)")
    if rank not in (-1, None) and int(rank) != world.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank "
                         f"{world.Get_rank()} (the ranks come from mpiexec)")
    g = State.group = _state.Group(world, timeout_s)
    for name, value in (("RANK", g.rank), ("WORLD_SIZE", g.size), ("LOCAL_RANK", g.local_rank),
                        ("LOCAL_WORLD_SIZE", g.local_size)):
        if os.environ.get(name) == _launch_env.exported.get(name):   # set at import, or absent
            os.environ[name] = str(value)
    _abort.install()
    _state.bind_gpu(device_id, g.local_rank)


def is_initialized() -> bool:
    return State.group is not None


def get_backend(group=None) -> str:
    """'mpi', whatever name init_process_group was given: MPI is the transport."""
    check_group(group)
    return Backend.MPI


def get_rank(group=None) -> int:
    """This process's rank in `group` (-1 where it is not a member, as torch's)."""
    g = check_group(group)
    return -1 if g is None else g.rank


def get_world_size(group=None) -> int:
    g = check_group(group)
    return -1 if g is None else g.size


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    """The gloo name is accepted (and runs over MPI) wherever MPI is."""
    return is_available()


def is_nccl_available() -> bool:
    """False: there is no NCCL here ("nccl" is accepted by init_process_group and runs over MPI)."""
    return False


def is_torchelastic_launched() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ


def get_local_rank() -> int:
    """This process's rank among the processes on the same machine."""
    return current().local_rank


def get_local_world_size() -> int:
    return current().local_size


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has entered the barrier (bounded by the timeout)."""
    g = check_group(group)
    if g is None:
        return None
    work = Work([g.comms["barrier"].Ibarrier()], g.describe("barrier"), g.timeout_s)
    if async_op:
        return work
    work.wait()


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier bounded by `timeout` (default: the group's); past it the job is aborted naming
    this rank (torch's monitored_barrier raises naming the ranks that did not come)."""
    g = check_group(group)
    if g is None:
        return None
    limit = g.timeout_s if timeout is None else _state.seconds(timeout, "monitored_barrier: timeout")
    wait([g.comms["barrier"].Ibarrier()], g.describe("monitored_barrier"), limit)


def destroy_process_group(group=None):
    """Leave a process group (group: one from new_group; None: the default one and every
    group new_group made): a barrier (so every rank leaves after the others' work before it,
    e.g. rank 0's files, is done), bounded by the timeout, then the communicators are freed.
    Called while an exception is being handled (from an `except` block) it skips the barrier,
    which the other ranks may never reach. The abort path stays: an uncaught exception or a
    non-zero exit after this still ends the whole job (abort_path.py). MPI itself is finalized
    by mpi4py when the interpreter exits."""
    if group is None and State.group is None:   # torch asserts it has a group
        raise NoProcessGroup("Process group cannot be None: destroy_process_group() was called without a process "
                             "group (init_process_group was not called, or the group was destroyed already)")
    g = check_group(group)
    if g is None:
        return
    if sys.exc_info()[1] is None and g.size > 1:
        wait([g.comms["barrier"].Ibarrier()], g.describe("barrier", detail="destroy_process_group"),
             g.timeout_s)
    if g is not State.group:   # one group from new_group
        State.subgroups.remove(g)
        g.free()
        return
    for sub in State.subgroups:
        sub.free()
    State.subgroups.clear()
    State.group = None
    g.free()
