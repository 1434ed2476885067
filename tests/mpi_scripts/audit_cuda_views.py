"""mpiexec worker for test_distributed_audit.py, under NUMBA_ENABLE_CUDASIM=1: collectives into
non-contiguous views of "cuda" tensors must reach the base tensor, as they do on "cpu". Rank 0
writes {device: {collective: base after it}} as JSON to ARGV[1]."""
import json
import sys

import tinygrad_seq as torch
import tinygrad_seq.distributed as dist

dist.init_process_group()
r, world = dist.get_rank(), dist.get_world_size()


def bases(device):
    def fresh():
        return torch.arange(6., device=device).reshape(2, 3) * (r + 1)

    out = {}
    b = fresh()
    dist.all_reduce(b.t())
    out["all_reduce"] = b
    b = fresh()
    dist.broadcast(b[:, 1], src=1)
    out["broadcast"] = b
    b = fresh()
    dist.all_gather([b[:, i] for i in range(world)], torch.tensor([r, 10. + r], device=device))
    out["all_gather"] = b
    b = fresh()
    dist.reduce(b[:, 0], dst=0)
    out["reduce"] = b if r == 0 else None
    b = fresh()
    dist.scatter(b[:, 2], [torch.tensor([i, 5. * i], device=device) for i in range(world)]
                 if r == 0 else None, src=0)
    out["scatter"] = b
    b = fresh()
    dist.all_gather_into_tensor(b.t()[:, 0][:world], torch.tensor([7. + r], device=device))
    out["all_gather_into_tensor"] = b
    b = fresh()
    dist.reduce_scatter_tensor(b[:, 1][:1], (torch.arange(1. * world, device=device) + r) * 10)
    out["reduce_scatter_tensor"] = b
    return {k: None if v is None else v.cpu().tolist() for k, v in out.items()}


res = {"cpu": bases("cpu"), "cuda": bases("cuda")}
if r == 0:
    with open(sys.argv[1], "w") as f:
        json.dump(res, f)
dist.destroy_process_group()
