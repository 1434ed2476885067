"""Process groups over MPI: MPI itself, each group's communicators, the timeout, GPU binding."""
from __future__ import annotations

import ctypes
import os
import subprocess
from datetime import timedelta

_INSTALL = ("tinygrad_seq.distributed needs mpi4py and an MPI library: "
            "pip install 'tinygrad-seq[distributed]'")

DEFAULT_TIMEOUT = timedelta(minutes=30)   # torch.distributed's default for every backend but NCCL

# The kinds of collective, one communicator each. Ranks that call different collectives at the
# same moment (one in a barrier, another in an all_reduce) then wait for each other until the
# timeout names both, instead of matching each other's messages (undefined behaviour in MPI).
KINDS = ("all_reduce", "broadcast", "all_gather", "objects", "barrier", "reduce", "gather",
         "scatter", "reduce_scatter", "all_to_all", "groups", "p2p")


class State:
    MPI = None      # the mpi4py.MPI module, once imported
    group = None    # the default Group while initialized
    subgroups = []  # the groups new_group made for this rank, freed with the default one


class Group:
    """This rank's view of a process group: its rank in it, the global ranks of its members (in
    group-rank order), one communicator per kind of collective."""

    def __init__(self, comm, timeout_s, ranks=None):
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.ranks = list(range(self.size)) if ranks is None else list(ranks)
        self.index = {r: i for i, r in enumerate(self.ranks)}   # global rank -> group rank
        self.comms = {kind: comm.Dup() for kind in KINDS}
        self.timeout_s = timeout_s
        self.started = 0   # collectives this rank has started: "all_reduce #12" in messages
        local = comm.Split_type(State.MPI.COMM_TYPE_SHARED)
        self.local_rank, self.local_size = local.Get_rank(), local.Get_size()
        local.Free()

    def root(self, src, group_src, what, name="src"):
        """The group rank of the root a collective names: group_src as is, src (a global rank,
        as torch's) translated; a rank outside the group is torch's RuntimeError."""
        if group_src is not None:
            if src is not None:
                raise ValueError(f"{what}: pass {name} or group_{name}, not both")
            root = int(group_src)
        else:
            root = self.index.get(0 if src is None else int(src), -1)
        if not 0 <= root < self.size:
            from tinygrad_seq.errors import InvalidArgument
            given = f"group_{name}={group_src}" if group_src is not None else f"{name}={src}"
            raise InvalidArgument(f"{what}: invalid root rank: {given} is not a rank of this "
                                  f"group of {self.size} (global ranks {self.ranks})")
        return root

    def describe(self, kind, tensor=None, detail=""):
        """The collective a timeout names, 'all_reduce #12 (float32, 1,000 elements)', formatted
        only when a message needs it (this runs for every collective)."""
        self.started += 1
        size = None if tensor is None else (tensor.dtype, int(tensor.array.size))
        return Label(kind, self.started, size, detail)

    def free(self):
        for comm in self.comms.values():
            comm.Free()
        self.comms = {}

    def __copy__(self):   # a handle: a copied DDP wrapper or model shares its process group
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"<ProcessGroup of ranks {self.ranks}{'' if self.comms else ' (destroyed)'}>"


class _NonGroupMember:
    """What new_group returns on a rank outside the new group (torch's
    GroupMember.NON_GROUP_MEMBER): collectives on it return at once, get_rank() is -1."""

    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


NON_GROUP_MEMBER = _NonGroupMember()


class Label:
    __slots__ = ("kind", "number", "size", "detail")

    def __init__(self, kind, number, size, detail):
        self.kind, self.number, self.size, self.detail = kind, number, size, detail

    def __str__(self):
        parts = ([f"{self.size[0]}, {self.size[1]:,} elements"] if self.size else []) + \
                ([self.detail] if self.detail else [])
        return f"{self.kind} #{self.number}" + (f" ({'; '.join(parts)})" if parts else "")


def mpi():
    if State.MPI is None:
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            raise ImportError(_INSTALL) from None
        from mpi4py import MPI
        State.MPI = MPI
    return State.MPI


def current():
    if State.group is None:   # torch's ValueError (a RuntimeError too, as this library raised before)
        from tinygrad_seq.errors import InvalidArgument
        raise InvalidArgument("Default process group has not been initialized, please make sure to "
                              "call init_process_group.")
    return State.group


def check_group(group):
    """The Group a collective runs on: the default one for None (or group.WORLD), a group from
    new_group, or None on a rank outside that group (the collective then does nothing)."""
    if group is None or group is State.group:
        return current()
    if group is NON_GROUP_MEMBER:
        current()
        return None
    if not isinstance(group, Group):
        raise TypeError(f"group must be a process group from new_group() (or None, group.WORLD), "
                        f"got {type(group).__name__}")
    if not group.comms:
        from tinygrad_seq.errors import InvalidArgument
        raise InvalidArgument(f"{group!r} was destroyed (destroy_process_group)")
    return group


def seconds(timeout, what="timeout"):
    """A timedelta (PyTorch's type) or a number of seconds -> positive float seconds."""
    if isinstance(timeout, timedelta):
        s = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        s = float(timeout)
    else:
        raise TypeError(f"{what} must be a datetime.timedelta (or a number of seconds), "
                        f"got {type(timeout).__name__}")
    if not s > 0 or s != s:
        raise ValueError(f"{what} must be positive, got {timeout!r}")
    return s


def in_job() -> bool:
    """True in one process of a running MPI job of more than one process."""
    MPI = State.MPI
    if MPI is None:
        return False
    try:
        return MPI.Is_initialized() and not MPI.Is_finalized() and MPI.COMM_WORLD.Get_size() > 1
    except Exception:
        return False


def rank_text():
    """'rank 1 of 4' for messages (COMM_WORLD's numbers, also after destroy_process_group)."""
    g = State.group
    if g is not None:
        return f"rank {g.rank} of {g.size}"
    try:
        w = State.MPI.COMM_WORLD
        return f"rank {w.Get_rank()} of {w.Get_size()}"
    except Exception:
        return "rank ?"


# ------------------------------------------------------------------ GPUs
def bind_gpu(device_id, local_rank):
    if device_id is None:
        from tinygrad_seq import device as _device
        if _device.simulated() or not os.path.exists("/dev/nvidiactl"):
            return  # no NVIDIA driver here: nothing to bind (and no numba.cuda import)
        from numba import cuda
        if not cuda.is_available():
            return
        index = local_rank % len(cuda.gpus)
    elif str(device_id).lower() == "cpu":
        return
    else:
        index = int(str(device_id).split(":")[-1])
        from numba import cuda
    cuda.select_device(index)


_cuda_aware: bool | None = None


def cuda_aware() -> bool:
    """Whether the MPI library accepts CUDA device buffers (checked once, never assumed)."""
    global _cuda_aware
    if _cuda_aware is None:
        env = os.environ.get("TINYGRAD_SEQ_MPI_CUDA_AWARE")
        _cuda_aware = bool(int(env)) if env in ("0", "1") else _query_cuda_aware()
    return _cuda_aware


def _query_cuda_aware() -> bool:
    mpi()
    libs = []
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if "libmpi" in ln and ".so" in ln})
    except OSError:
        pass
    for path in libs or [None]:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        fn = getattr(lib, "MPIX_Query_cuda_support", None)  # Open MPI (mpi-ext.h)
        if fn is not None:
            fn.restype = ctypes.c_int
            return bool(fn())
        fn = getattr(lib, "MPIX_GPU_query_support", None)    # MPICH 4
        if fn is not None:
            flag = ctypes.c_int(0)
            if fn(ctypes.c_int(0), ctypes.byref(flag)) == 0:  # 0: MPIX_GPU_SUPPORT_CUDA
                return bool(flag.value)
    try:
        out = subprocess.run(["ompi_info", "--parsable", "--all"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(key in out for key in ("mpi_built_with_cuda_support:value:true",
                                      "opal_built_with_cuda_support:value:true"))
