"""mpiexec worker: rank 0 and the other ranks build different models; DistributedDataParallel
must raise on every rank an error that names the first differing parameter and its shapes.
Each rank prints 'rank <r>: <error>' and the job exits 0."""
import tinygrad_seq.distributed as dist
from tinygrad_seq import nn
from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank = dist.get_rank()
model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3 if rank == 0 else 2), nn.Linear(3, 3))
try:
    DDP(model)
except RuntimeError as e:
    print(f"rank {rank}: {e}", flush=True)
else:
    print(f"rank {rank}: no error", flush=True)
dist.destroy_process_group()
