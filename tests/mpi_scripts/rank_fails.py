"""mpiexec worker: DDP training where one rank raises in the middle of step 2 while the others
enter backward (and wait in the gradient all-reduce). The job must end non-zero within seconds,
with the failing rank's traceback printed once.

usage: mpiexec -n N python rank_fails.py FAILING_RANK
"""
import sys

import numpy as np

import tinygrad_seq.distributed as dist
from tinygrad_seq import Tensor, nn
from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank = dist.get_rank()
model = DDP(nn.Linear(8, 2).double())
for step in range(5):
    x = Tensor(np.random.default_rng(step).standard_normal((4, 8)))
    loss = (model(x) ** 2).mean()
    if step == 2 and rank == int(sys.argv[1]):
        raise ValueError(f"deliberate failure on rank {rank} at step {step}")
    loss.backward()
    model.zero_grad()
print(f"rank {rank} finished: the failing rank did not stop the job", flush=True)
