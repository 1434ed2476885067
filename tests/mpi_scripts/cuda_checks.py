"""mpiexec worker for the "cuda" device (a GPU, or NUMBA_ENABLE_CUDASIM=1): collectives on
device tensors (through host memory unless MPI is CUDA-aware) and DDP on a "cuda" model, whose
gradients must equal the mean of the per-rank gradients computed on the CPU."""
import numpy as np

import tinygrad_seq.distributed as dist
from tinygrad_seq import Tensor, nn
from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()

t = Tensor(np.full((3, 4), float(RANK + 1)), device="cuda")
dist.all_reduce(t)
assert t.device == "cuda" and (t.numpy() == WORLD * (WORLD + 1) / 2).all(), t.numpy()
b = Tensor(np.full(3, float(RANK)), device="cuda")
dist.broadcast(b, src=WORLD - 1)
assert (b.numpy() == WORLD - 1).all()
out = [Tensor(np.zeros(2), device="cuda") for _ in range(WORLD)]
dist.all_gather(out, Tensor(np.array([RANK, RANK + 0.5]), device="cuda"))
assert [o.numpy().tolist() for o in out] == [[r, r + 0.5] for r in range(WORLD)]

ref = nn.Linear(5, 3).double()
model = DDP(nn.Linear(5, 3).double().to("cuda"))
ref.load_state_dict(model.module.state_dict())
data = [np.random.default_rng(r).standard_normal((4, 5)) for r in range(WORLD)]
for r in range(WORLD):
    (ref(Tensor(data[r])) ** 2).mean().backward()
(model(Tensor(data[RANK], device="cuda")) ** 2).mean().backward()
for p, q in zip(model.module.parameters(), ref.parameters()):
    assert p.grad.device == "cuda"
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() / WORLD, rtol=1e-10, atol=1e-13)
dist.barrier()
if RANK == 0:
    print("OK cuda", "(CUDA-aware MPI)" if dist.cuda_aware() else "(host staging)", flush=True)
