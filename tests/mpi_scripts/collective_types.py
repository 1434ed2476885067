"""mpiexec worker: all_reduce of bool tensors is a logical or (sum, max) or and (product, min),
as torch's; a non-Tensor argument is torch's TypeError; a second init_process_group is torch's
ValueError. Each rank prints 'rank <r>: <name> <result>' and the job exits 0."""
import numpy as np

import tinygrad_seq as ts
import tinygrad_seq.distributed as dist

dist.init_process_group("mpi")
rank = dist.get_rank()
for op in ("sum", "max", "product", "min"):
    t = ts.tensor([True, False, rank == 0])
    dist.all_reduce(t, op=op)
    print(f"rank {rank}: bool {op} {t.tolist()}", flush=True)
for name, call in (("all_reduce", lambda: dist.all_reduce(np.ones(3, np.float32))),
                   ("broadcast", lambda: dist.broadcast([1.0, 2.0], src=0)),
                   ("all_gather", lambda: dist.all_gather([np.ones(1)] * dist.get_world_size(), ts.ones(1)))):
    try:
        call()
    except TypeError as e:
        print(f"rank {rank}: {name} TypeError {'Expected parameter' in str(e)}", flush=True)
try:
    dist.init_process_group("mpi")
except ValueError as e:
    print(f"rank {rank}: twice ValueError {e}", flush=True)
dist.destroy_process_group()
