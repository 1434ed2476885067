"""mpiexec worker for test_distributed_audit.py: DistributedDataParallel's buffer broadcast as
torch's (require_forward_param_sync), its torch attributes, and DDP over a new_group. Rank 0
writes {check: result} as JSON to ARGV[1]."""
import copy
import json
import sys

import numpy as np

import tinygrad_seq as torch
import tinygrad_seq.distributed as dist
from tinygrad_seq import nn

dist.init_process_group("nccl")   # any torch backend name runs over MPI
r, world = dist.get_rank(), dist.get_world_size()
out = {}

# a training forward, then an eval forward under no_grad: rank 0's buffers are broadcast first
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
d = nn.parallel.DistributedDataParallel(m)
d(torch.tensor(np.random.default_rng(r).standard_normal((8, 3)))).sum().backward()
d.eval()
with torch.no_grad():
    ev = d(torch.ones(2, 3, dtype=torch.float64))
out["eval_after_train"] = [None] * world
dist.all_gather_object(out["eval_after_train"], [m[1].running_mean.tolist(), ev.tolist()])

# a forward inside no_sync(), then a synced one: no broadcast before the second (torch 2.13)
m = nn.BatchNorm1d(2).double()
d = nn.parallel.DistributedDataParallel(m)
with d.no_sync():
    d(torch.tensor([[1.0 + 10 * r, 2.0], [3.0 + 10 * r, 4.0]], dtype=torch.float64)).sum().backward()
d(torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64)).sum().backward()
out["after_no_sync"] = [None] * world
dist.all_gather_object(out["after_no_sync"], m.running_mean.tolist())

d = nn.parallel.DistributedDataParallel(nn.Linear(3, 2), device_ids=None)
out["attrs"] = [d.process_group is dist.group.WORLD, d.broadcast_buffers, d.find_unused_parameters,
                d.gradient_as_bucket_view, d.static_graph, d.dim, repr(d.device_ids),
                repr(d.output_device)]

# broadcast_buffers=False: only the parameters are copied at construction (torch's)
net = nn.Linear(2, 2)
net.register_buffer("buf", torch.full((1,), float(10 * r)))
nn.parallel.DistributedDataParallel(net, broadcast_buffers=False)
# the names given to _set_params_and_buffers_to_ignore_for_model are neither broadcast nor averaged
torch.manual_seed(r)
seq = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(seq, ["1.weight"])
# (a wrapper no variable holds: the output keeps it alive for the backward, as torch's reducer)
nn.parallel.DistributedDataParallel(seq)(torch.ones(3, 2) * (r + 1)).sum().backward()
every = [None] * world
dist.all_gather_object(every, [net.buf.tolist(), seq[1].weight.tolist(), seq[1].weight.grad.tolist(),
                               seq[0].weight.grad.tolist()])
out["buffers_not_broadcast"] = [e[0] for e in every]
out["ignored_kept_apart"] = every[0][1] != every[1][1] and every[0][2] != every[1][2]
out["others_averaged"] = all(e[3] == every[0][3] for e in every)

if world >= 3:   # DDP over the group of ranks 1 and 2; rank 0 takes no part
    g = dist.new_group([1, 2])
    if r in (1, 2):
        torch.manual_seed(r)   # different weights: DDP copies global rank 1's
        model = nn.Linear(3, 1).double()
        ddp = nn.parallel.DistributedDataParallel(model, process_group=g)
        local = copy.deepcopy(model)
        x = torch.tensor(np.random.default_rng(r).standard_normal((4, 3)))
        ddp(x).sum().backward()
        local(x).sum().backward()
        pair = [None, None]
        dist.all_gather_object(pair, [model.weight.tolist(), local.weight.grad.numpy()], group=g)
        mean = (pair[0][1] + pair[1][1]) / 2
        ok = pair[0][0] == pair[1][0] and np.allclose(model.weight.grad.numpy(), mean)
        dist.all_gather_object(pair, bool(ok), group=g)
        if r == 1:
            dist.broadcast_object_list([pair], src=1)
        dist.destroy_process_group(g)
    else:
        got = [None]
        dist.broadcast_object_list(got, src=1)
        out["ddp_subgroup"] = got[0]

if r == 0:
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
dist.destroy_process_group()
