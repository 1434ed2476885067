"""mpiexec worker for test_ddp_comm_hooks_join.py: DDP's join() for uneven inputs, run on torch
2.13 (gloo) or on tinygrad_seq with the same program, on 2 or 3 ranks.

    mpiexec -n N python ddp_join_checks.py torch|ts OUT PORT

Rank r has BATCHES[r] batches. Each rank writes {scenario: result} as JSON to OUT.rank<r>; the
test compares the two libraries' files."""
import sys

import numpy as np

from either_library import error, library, set_weights, write

lib = library(sys.argv[1], int(sys.argv[3]))
torch, dist, nn, default_hooks = lib.torch, lib.dist, lib.nn, lib.default_hooks
r, world = dist.get_rank(), dist.get_world_size()
BATCHES = [5, 2, 4][:world]
results = {}


def make(bucket_cap_mb=25):
    """Linear, BatchNorm (a buffer: the forward's broadcast), Linear; float64."""
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    set_weights(lib, model, 2)
    return nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)


def state(ddp):
    return ([p.detach().numpy().tolist() for p in ddp.parameters()]
            + [b.numpy().tolist() for b in ddp.module.buffers()])


def step(ddp, opt, rng, record):
    x = torch.tensor(rng.normal(size=(3, 3)))
    opt.zero_grad()
    (ddp(x) ** 2).mean().backward()
    record.append([p.grad.numpy().tolist() for p in ddp.parameters()])
    opt.step()


def uneven(ddp, batches, record, **join_args):
    """BATCHES[r] SGD steps inside ddp.join(**join_args); the gradients of each step."""
    rng = np.random.default_rng(20 + r)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    with ddp.join(**join_args):
        for _ in range(batches):
            step(ddp, opt, rng, record)
    return opt


for divide in (True, False):
    ddp, record = make(), []
    opt = uneven(ddp, BATCHES[r], record, divide_by_initial_world_size=divide)
    results[f"divide_{divide}_grads"] = record
    results[f"divide_{divide}_final"] = state(ddp)
    rng = np.random.default_rng(30 + r)   # then 2 even steps after the join context
    for _ in range(2):
        step(ddp, opt, rng, record)
    results[f"divide_{divide}_after"] = [record[-2:], state(ddp)]

# a comm hook inside join: joined ranks run it on zero buckets; several buckets
ddp, record = make(bucket_cap_mb=0.0002), []
ddp.register_comm_hook(None, default_hooks.allreduce_hook)
uneven(ddp, BATCHES[r], record)
results["hook_grads"], results["hook_final"] = record, state(ddp)

# throw_on_early_termination: every rank raises once the first runs out
ddp, record = make(), []
results["throw"] = error(lambda: uneven(ddp, BATCHES[r], record, throw_on_early_termination=True))
results["throw_steps_done"] = len(record)
opt, rng = torch.optim.SGD(ddp.parameters(), lr=0.1), np.random.default_rng(40 + r)
step(ddp, opt, rng, record)   # the same model goes on, every rank with a batch
results["after_throw"] = [record[-1], state(ddp)]

# enable=False: a plain loop (even batches here)
ddp, record = make(), []
uneven(ddp, 2, record, enable=False)
results["disabled"] = [record, state(ddp)]
results["empty_join"] = error(lambda: lib.Join([]))

write(sys.argv[2], r, results)
dist.destroy_process_group()
