"""mpiexec worker for test_nn_module_gaps.py: SyncBatchNorm over the ranks against one BatchNorm
over the concatenated batch. Rank r holds rows [start_r, start_r + r + 3) of one seeded batch
(uneven sizes); each rank's loss is sum(out * c) over its rows. Each rank writes
{check: max abs difference} as JSON to ARGV[1] + ".rank<r>"."""
import json
import sys

import numpy as np

import tinygrad_seq as ts
import tinygrad_seq.distributed as dist
from tinygrad_seq import nn

dist.init_process_group("mpi")
r, world = dist.get_rank(), dist.get_world_size()
sizes = [k + 3 for k in range(world)]
start, total = sum(sizes[:r]), sum(sizes)
rng = np.random.default_rng(0)
out = {}
for name, momentum, shape in (("bn2d", 0.1, (total, 3, 2, 2)), ("bn1d_cumulative", None, (total, 4))):
    x_all = rng.standard_normal(shape) * 2 + 1
    c_all = rng.standard_normal(shape)
    layer = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d
    reference = layer(shape[1], momentum=momentum).double()
    with ts.no_grad():
        reference.weight.copy_(ts.tensor(rng.standard_normal(shape[1])))
        reference.bias.copy_(ts.tensor(rng.standard_normal(shape[1])))
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(layer(shape[1], momentum=momentum).double())
    synced.load_state_dict(reference.state_dict())
    for step in range(2):   # two training steps: the running statistics move twice
        x_ref = ts.tensor(x_all + step, requires_grad=True)
        y_ref = reference(x_ref)
        (y_ref * ts.tensor(c_all)).sum().backward()
        x = ts.tensor(x_all[start:start + sizes[r]] + step, requires_grad=True)
        y = synced(x)
        (y * ts.tensor(c_all[start:start + sizes[r]])).sum().backward()
        rows = slice(start, start + sizes[r])
        out[f"{name}_out_{step}"] = float(np.abs(y.numpy() - y_ref.numpy()[rows]).max())
        out[f"{name}_input_grad_{step}"] = float(np.abs(x.grad.numpy() - x_ref.grad.numpy()[rows]).max())
        for p in ("weight", "bias"):   # each rank holds its share; their sum is the whole gradient
            g = getattr(synced, p).grad.detach().clone()
            dist.all_reduce(g)
            out[f"{name}_{p}_grad_{step}"] = float(np.abs(g.numpy() - getattr(reference, p).grad.numpy()).max())
        for b in ("running_mean", "running_var"):
            out[f"{name}_{b}_{step}"] = float(np.abs(getattr(synced, b).numpy() - getattr(reference, b).numpy()).max())
        reference.zero_grad()
        synced.zero_grad()
    synced.eval()   # eval: the running statistics, no collective
    reference.eval()
    x = ts.tensor(x_all[start:start + sizes[r]])
    out[f"{name}_eval"] = float(np.abs(synced(x).numpy() - reference(ts.tensor(x_all)).numpy()[rows]).max())
    out[f"{name}_type"] = type(synced).__name__
with open(f"{sys.argv[1]}.rank{r}", "w") as f:
    json.dump(out, f)
dist.destroy_process_group()
