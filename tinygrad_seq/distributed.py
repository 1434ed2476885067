"""tinygrad_seq.distributed: torch.distributed's names over MPI (mpi4py + Open MPI).

Start the same script on N processes with MPI's own launcher, on one machine or many:

    mpiexec -n 2 python train.py                      # one machine
    mpiexec --hostfile hosts -n 16 python train.py    # a cluster

and in the script:

    import tinygrad_seq.distributed as dist
    dist.init_process_group("mpi")          # rank and world size come from MPI
    dist.all_reduce(t, op="sum")             # in place, like torch.distributed

Buffers. A "cpu" tensor goes to MPI as its numpy array, with no copy when it is C-contiguous; a
non-contiguous one goes through a contiguous copy whose result is written back into the
tensor's own memory, so views stay correct. A "cuda" tensor goes to MPI as a device buffer when
the MPI library is CUDA-aware (asked at run time: Open MPI's MPIX_Query_cuda_support, MPICH's
MPIX_GPU_query_support, else ompi_info; TINYGRAD_SEQ_MPI_CUDA_AWARE=0/1 overrides), and through
host memory otherwise (the pip wheel of Open MPI is built without CUDA: host staging).

GPUs. On a machine with NVIDIA GPUs, init_process_group binds each rank to GPU
``local_rank % device_count`` (local_rank: the rank among the processes on the same machine),
so `mpiexec -n 4` on a 4-GPU machine puts one rank on each GPU and 8 ranks share them two by two.
Pass ``device_id=k`` to choose, or ``device_id="cpu"`` to leave the GPUs alone.

Failures. After init_process_group an uncaught exception on any rank prints its traceback once
(on that rank) and calls MPI_Abort, so the whole job ends within seconds with a non-zero exit
instead of the other ranks waiting forever in their next collective.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import numpy as np

_INSTALL = ("tinygrad_seq.distributed needs mpi4py and an MPI library: "
            "pip install 'tinygrad-seq[distributed]'")

_MPI = None            # the mpi4py.MPI module, once imported
_comm = None           # this package's duplicate of COMM_WORLD while initialized
_local_rank = 0
_local_size = 1
_prev_excepthook = None
_cuda_aware: bool | None = None


def _mpi():
    global _MPI
    if _MPI is None:
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            raise ImportError(_INSTALL) from None
        from mpi4py import MPI
        _MPI = MPI
    return _MPI


def is_available() -> bool:
    """True when mpi4py can be imported (torch.distributed.is_available())."""
    import importlib.util
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


def _group():
    if _comm is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to "
                           "call init_process_group.")
    return _comm


def _check_group(group):
    if group is not None and group is not _comm:
        raise ValueError("tinygrad_seq.distributed supports only the default group (group=None)")
    return _group()


# ------------------------------------------------------------------ process group
def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job started by mpiexec. Rank and world size come from MPI; world_size/rank, when
    given, must agree with it. Installs the abort-on-uncaught-exception hook and, on machines with
    NVIDIA GPUs, binds this rank's GPU (see the module docstring)."""
    global _comm, _local_rank, _local_size
    if str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not supported; "
                         f"tinygrad_seq.distributed runs on 'mpi'")
    if _comm is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    MPI = _mpi()
    if not MPI.Is_initialized():
        MPI.Init_thread()
    world = MPI.COMM_WORLD
    if world_size not in (-1, None) and int(world_size) != world.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started "
                         f"{world.Get_size()} processes")
    if rank not in (-1, None) and int(rank) != world.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank "
                         f"{world.Get_rank()}")
    _comm = world.Dup()  # our traffic never mixes with the user's own COMM_WORLD messages
    local = world.Split_type(MPI.COMM_TYPE_SHARED)
    _local_rank, _local_size = local.Get_rank(), local.Get_size()
    local.Free()
    _install_excepthook()
    _bind_gpu(device_id)


def is_initialized() -> bool:
    return _comm is not None


def get_backend(group=None) -> str:
    _check_group(group)
    return "mpi"


def get_rank(group=None) -> int:
    return _check_group(group).Get_rank()


def get_world_size(group=None) -> int:
    return _check_group(group).Get_size()


def get_local_rank() -> int:
    """This process's rank among the processes on the same machine."""
    _group()
    return _local_rank


def get_local_world_size() -> int:
    _group()
    return _local_size


def destroy_process_group(group=None):
    """Leave the process group: frees the communicator and removes the abort hook. MPI itself
    is finalized by mpi4py when the interpreter exits."""
    global _comm
    comm = _check_group(group)
    comm.Barrier()
    comm.Free()
    _comm = None
    _remove_excepthook()


def barrier(group=None, async_op=False, device_ids=None):
    comm = _check_group(group)
    if async_op:
        return Work(comm.Ibarrier())
    comm.Barrier()


# ------------------------------------------------------------------ abort on uncaught exception
def _abort_excepthook(exc_type, exc, tb):
    try:
        (_prev_excepthook or sys.__excepthook__)(exc_type, exc, tb)
        rank = _comm.Get_rank() if _comm is not None else "?"
        size = _comm.Get_size() if _comm is not None else "?"
        sys.stderr.write(f"tinygrad_seq.distributed: uncaught {exc_type.__name__} on rank {rank} "
                         f"of {size}; aborting the job (MPI_Abort)\n")
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        _MPI.COMM_WORLD.Abort(1)


def _install_excepthook():
    global _prev_excepthook
    if sys.excepthook is not _abort_excepthook:
        _prev_excepthook = sys.excepthook
        sys.excepthook = _abort_excepthook


def _remove_excepthook():
    global _prev_excepthook
    if sys.excepthook is _abort_excepthook:
        sys.excepthook = _prev_excepthook or sys.__excepthook__
    _prev_excepthook = None


# ------------------------------------------------------------------ GPUs
def _bind_gpu(device_id):
    if device_id is None:
        from tinygrad_seq import device as _device
        if _device.simulated() or not os.path.exists("/dev/nvidiactl"):
            return  # no NVIDIA driver here: nothing to bind (and no numba.cuda import)
        from numba import cuda
        if not cuda.is_available():
            return
        index = _local_rank % len(cuda.gpus)
    elif str(device_id).lower() == "cpu":
        return
    else:
        index = int(str(device_id).split(":")[-1])
        from numba import cuda
    cuda.select_device(index)


def cuda_aware() -> bool:
    """Whether the MPI library accepts CUDA device buffers (checked once, never assumed)."""
    global _cuda_aware
    if _cuda_aware is None:
        env = os.environ.get("TINYGRAD_SEQ_MPI_CUDA_AWARE")
        _cuda_aware = bool(int(env)) if env in ("0", "1") else _query_cuda_aware()
    return _cuda_aware


def _query_cuda_aware() -> bool:
    _mpi()
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


# ------------------------------------------------------------------ buffers
class _Staged:
    """A C-contiguous buffer MPI reads and writes for one tensor, and the write-back of the
    result into the tensor's own memory (a no-op when MPI worked on that memory directly)."""

    def __init__(self, tensor, writes=True):
        self.tensor, self.writes = tensor, writes
        arr = tensor.array
        if tensor.device == "cpu":
            direct = arr.flags.c_contiguous and (arr.flags.writeable or not writes)
            self.buf = arr if direct else np.ascontiguousarray(arr)
        elif cuda_aware() and arr.is_c_contiguous():
            from numba import cuda
            cuda.synchronize()  # kernels writing arr must be done before MPI reads it
            self.buf = arr
        else:
            self.buf = arr.copy_to_host()
        self.direct = self.buf is arr

    def finish(self):
        t = self.tensor
        if self.writes:
            if not self.direct:
                _write_into(t, self.buf)
            t._version += 1
        return t


def _write_into(tensor, src):
    """Copy array src (host or same device) into tensor's existing memory."""
    dst = tensor.array
    if tensor.device == "cpu":
        if dst.flags.writeable:
            np.copyto(dst, src)
        else:
            tensor.array = np.array(src, dtype=dst.dtype, copy=True)
    elif dst.is_c_contiguous() and isinstance(src, np.ndarray):
        dst.copy_to_device(np.ascontiguousarray(src))
    else:
        dst[...] = src


class ReduceOp:
    """torch.distributed.ReduceOp's names; plain strings ('sum', 'avg', ...) work too."""
    SUM, AVG, PRODUCT, MIN, MAX = "sum", "avg", "product", "min", "max"


_OP_NAMES = {"sum": "SUM", "avg": "SUM", "mean": "SUM", "product": "PROD", "prod": "PROD",
             "min": "MIN", "max": "MAX"}


def _op_name(op):
    name = getattr(op, "name", op)   # also torch.distributed.ReduceOp.SUM and the like
    key = str(name).lower().rsplit(".", 1)[-1]
    if key not in _OP_NAMES:
        raise ValueError(f"unsupported reduce op {op!r}: use one of sum, avg, product, min, max")
    return "avg" if key in ("avg", "mean") else key


class Work:
    """The handle an async_op=True collective returns: wait() finishes it (torch's Work)."""

    def __init__(self, request, finish=None):
        self.request, self._finish, self._done = request, finish, False

    def is_completed(self) -> bool:
        if not self._done and self.request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if not self._done:
            self.request.Wait()
            self._complete()
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()


# ------------------------------------------------------------------ collectives
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over all ranks, in place on every rank (op: sum, avg, product, min, max)."""
    comm = _check_group(group)
    MPI = _MPI
    kind = _op_name(op)
    if kind == "avg" and tensor.dtype.kind != "f":
        raise ValueError(f"all_reduce: op='avg' needs a floating point tensor, got {tensor.dtype}")
    staged = _Staged(tensor)
    mpi_op = getattr(MPI, _OP_NAMES[kind])

    def finish():
        if kind == "avg":
            _divide(staged.buf, comm.Get_size(), tensor.device)
        staged.finish()

    if async_op:
        return Work(comm.Iallreduce(MPI.IN_PLACE, staged.buf, op=mpi_op), finish)
    comm.Allreduce(MPI.IN_PLACE, staged.buf, op=mpi_op)
    finish()


def _divide(buf, n, device):
    if isinstance(buf, np.ndarray):
        buf /= n
    else:  # a device buffer (CUDA-aware MPI): divide through the host, rare and small
        host = buf.copy_to_host()
        host /= n
        buf.copy_to_device(host)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank `src`'s tensor into `tensor` on every rank, in place."""
    comm = _check_group(group)
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast: src={src} is not a rank of a world of {comm.Get_size()}")
    staged = _Staged(tensor, writes=comm.Get_rank() != src)
    if async_op:
        return Work(comm.Ibcast(staged.buf, root=src), staged.finish)
    comm.Bcast(staged.buf, root=src)
    staged.finish()


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] <- rank r's `tensor`, on every rank (tensor_list: world_size tensors of
    tensor's shape and dtype, written in place)."""
    comm = _check_group(group)
    n = comm.Get_size()
    if len(tensor_list) != n:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, the world has {n} ranks")
    for i, t in enumerate(tensor_list):
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {t.shape} and dtype {t.dtype}, "
                             f"expected {tensor.shape} and {tensor.dtype}")
    send = _Staged(tensor, writes=False)
    if isinstance(send.buf, np.ndarray):
        recv = np.empty((n,) + tensor.shape, tensor.dtype)
    else:
        from numba import cuda
        recv = cuda.device_array((n,) + tensor.shape, tensor.dtype)

    def finish():
        for i, t in enumerate(tensor_list):
            _write_into(t, recv[i])
            t._version += 1

    if async_op:
        return Work(comm.Iallgather(send.buf, recv), finish)
    comm.Allgather(send.buf, recv)
    finish()


def all_gather_object(object_list, obj, group=None):
    """object_list[r] <- rank r's picklable obj (torch.distributed.all_gather_object)."""
    comm = _check_group(group)
    gathered = comm.allgather(obj)
    if len(object_list) != len(gathered):
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots, the world "
                         f"has {len(gathered)} ranks")
    object_list[:] = gathered


def broadcast_object_list(object_list, src=0, group=None):
    """object_list[:] <- rank src's object_list (torch.distributed.broadcast_object_list)."""
    comm = _check_group(group)
    object_list[:] = comm.bcast(list(object_list), root=src)



# ------------------------------------------------------------------ checkpoints
def save_checkpoint(state_dict, path):
    """Rank 0 writes `state_dict` (name -> array, e.g. a model's and an optimizer's state_dict
    merged under prefixes) to `path` with ts.save, atomically; every rank returns only once the
    file is complete, so any rank may read it right after."""
    from tinygrad_seq.serialization import save
    comm = _group()
    err = None
    if comm.Get_rank() == 0:
        try:
            save(state_dict, path)
        except Exception as e:  # tell the others instead of leaving them in the barrier
            err = e
    failed = comm.bcast(None if err is None else f"{type(err).__name__}: {err}", root=0)
    if err is not None:
        raise err
    if failed is not None:
        raise RuntimeError(f"save_checkpoint: rank 0 failed to write {path}: {failed}")


def load_checkpoint(path):
    """Every rank reads the checkpoint at `path` (ts.load): identical model and optimizer state
    everywhere after load_state_dict."""
    from tinygrad_seq.serialization import load
    _group()
    return load(path)
