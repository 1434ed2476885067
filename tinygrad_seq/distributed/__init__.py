"""tinygrad_seq.distributed: torch.distributed's names over MPI (mpi4py + Open MPI).

Start the same script on N processes with MPI's own launcher, on one machine or many:

    mpiexec -n 2 python train.py                      # one machine
    mpiexec --hostfile hosts -n 16 python train.py    # a cluster

and in the script:

    import tinygrad_seq.distributed as dist
    dist.init_process_group("mpi")          # rank and world size come from MPI
    dist.all_reduce(t, op="sum")             # in place, like torch.distributed

Every torch backend name ("gloo", "nccl", None, "cpu:gloo,cuda:nccl") runs over MPI, the one
transport, so a torch program's init_process_group call works unchanged. The collectives are
torch's: all_reduce, broadcast, all_gather, all_gather_into_tensor, reduce, gather, scatter,
reduce_scatter(_tensor), all_to_all(_single), barrier, the *_object ones, on the default group
or one from new_group(ranks) (group=; src/dst are global ranks as in torch).

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

Failures never hang the job (abort_path.py, waiting.py). `init_process_group(timeout=...)` (a
timedelta, default 30 minutes as in PyTorch) bounds every collective and Work.wait(): past it the
job is aborted with a message naming the rank, the collective and how long it waited. After
init_process_group, in a job of more than one process, an uncaught exception or a non-zero exit
(sys.exit(3)) on any rank ends the whole job within seconds with that rank's message; code that
catches errors itself (a command line's error handler) wraps its distributed part in
`with abort_on_error():`, and `abort(message, exit_code)` ends the job from anywhere.

Launcher variables. Importing this package in a process started by mpiexec sets RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT from the launcher's own
(OMPI_COMM_WORLD_*, PMI_* / MPI_LOCAL*), where not set already, without starting MPI
(launch_env.py), so torchrun-style scripts that read them before init_process_group run
unchanged.

Point-to-point: send, recv, isend, irecv (point_to_point.py).

DDP's communication hooks and Join (uneven inputs): algorithms/ (torch.distributed.algorithms'
names), GradBucket (grad_bucket.py); Work.get_future() is a tinygrad_seq.futures.Future.
"""
from tinygrad_seq.distributed.abort_path import abort, abort_on_error
from tinygrad_seq.distributed.collectives import ReduceOp, all_gather, all_reduce, broadcast
from tinygrad_seq.distributed.grad_bucket import GradBucket
from tinygrad_seq.distributed.exchange import (all_gather_into_tensor, all_to_all, all_to_all_single,
                                               reduce_scatter, reduce_scatter_tensor)
from tinygrad_seq.distributed.groups import (Backend, GroupMember, get_global_rank, get_group_rank,
                                             get_process_group_ranks, group, new_group)
from tinygrad_seq.distributed.mpi_state import cuda_aware
from tinygrad_seq.distributed import launch_env as _launch_env
from tinygrad_seq.distributed.objects import (all_gather_object, broadcast_object_list,
                                              gather_object, load_checkpoint, save_checkpoint,
                                              scatter_object_list)
from tinygrad_seq.distributed.process_group import (barrier, destroy_process_group, get_backend,
                                                    get_local_rank, get_local_world_size, get_rank,
                                                    get_world_size, init_process_group,
                                                    is_available, is_gloo_available,
                                                    is_initialized, is_mpi_available,
                                                    is_nccl_available, is_torchelastic_launched,
                                                    launched_by_mpi, monitored_barrier)
from tinygrad_seq.distributed.point_to_point import irecv, isend, recv, send
from tinygrad_seq.distributed.p2p_batch import P2POp, batch_isend_irecv
from tinygrad_seq.distributed.launch_env import get_node_local_rank
from tinygrad_seq.distributed.rooted import gather, reduce, scatter
from tinygrad_seq.distributed.work import Work

__all__ = ["abort", "abort_on_error", "ReduceOp", "Work", "GradBucket", "all_gather", "all_reduce", "broadcast",
           "all_gather_into_tensor", "all_to_all", "all_to_all_single", "reduce_scatter",
           "reduce_scatter_tensor", "reduce", "gather", "scatter", "Backend", "GroupMember",
           "group", "new_group", "get_global_rank", "get_group_rank", "get_process_group_ranks",
           "cuda_aware", "all_gather_object", "broadcast_object_list", "gather_object",
           "scatter_object_list", "load_checkpoint", "save_checkpoint", "barrier",
           "monitored_barrier", "destroy_process_group", "get_backend", "get_local_rank",
           "get_local_world_size", "get_rank", "get_world_size", "init_process_group",
           "is_available", "is_mpi_available", "is_gloo_available", "is_nccl_available",
           "is_torchelastic_launched", "is_initialized", "launched_by_mpi", "send", "recv",
           "isend", "irecv", "P2POp", "batch_isend_irecv", "get_node_local_rank"]

_launch_env.export_launcher_env()
