"""mpiexec worker for test_ddp_comm_hooks_join.py: DDP communication hooks, run on torch 2.13
(gloo) or on tinygrad_seq with the same program.

    mpiexec -n 2 python ddp_comm_hooks_checks.py torch|ts OUT PORT

Each rank writes {scenario: [per-step gradients..., final parameters]} (and error texts) as
JSON to OUT.rank<r>; the test compares the two libraries' files."""
import sys

import numpy as np

from either_library import error, library, set_weights, write

lib = library(sys.argv[1], int(sys.argv[3]))
torch, dist, nn, default_hooks = lib.torch, lib.dist, lib.nn, lib.default_hooks
r, world = dist.get_rank(), dist.get_world_size()
results = {}


def make(dtype, bucket_cap_mb=25):
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).to(dtype)
    set_weights(lib, model, 1)
    return nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)


def train(ddp, steps=3, dtype=None, before_step=None):
    """`steps` SGD steps on this rank's data; [the gradients of each step..., final weights]."""
    dtype = dtype or next(ddp.parameters()).dtype
    rng = np.random.default_rng(10 + r)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    record = []
    for step in range(steps):
        if before_step is not None:
            before_step(step)
        x = torch.tensor(rng.normal(size=(4, 5)), dtype=dtype)
        y = torch.tensor(rng.normal(size=(4, 3)), dtype=dtype)
        opt.zero_grad()
        ((ddp(x) - y) ** 2).mean().backward()
        record.append([p.grad.double().numpy().tolist() for p in ddp.parameters()])
        opt.step()
    record.append([p.detach().double().numpy().tolist() for p in ddp.parameters()])
    return record


def doubling_hook(state, bucket):
    """The mean over the ranks, doubled in a callback chained by then()."""
    state["calls"] += 1
    buf = bucket.buffer().div_(dist.get_world_size())
    fut = dist.all_reduce(buf, async_op=True).get_future()
    return fut.then(lambda f: f.value()[0] * 2)


# ------------------------------------------------------------------ values against torch's
results["no_hook"] = train(make(torch.float64))
ddp = make(torch.float64)
ddp.register_comm_hook(None, default_hooks.allreduce_hook)
results["allreduce_hook"] = train(ddp)
ddp = make(torch.float32)
ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)
results["fp16_compress_hook"] = train(ddp)
ddp = make(torch.float32)
lib.register_ddp_comm_hook(lib.DDPCommHookType.FP16_COMPRESS, ddp)
results["fp16_by_type"] = train(ddp)
state = {"calls": 0}
ddp = make(torch.float64)
ddp.register_comm_hook(state, doubling_hook)
results["doubling_hook"] = train(ddp)
results["doubling_hook_called"] = state["calls"] > 0
ddp = make(torch.float64)
results["registered_after_backward"] = train(
    ddp, before_step=lambda step: step == 1 and ddp.register_comm_hook(None, default_hooks.allreduce_hook))



class WithUnused(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(5, 3), nn.Linear(5, 3)

    def forward(self, x):
        return self.used(x)


model = WithUnused().double()
set_weights(lib, model, 3)
ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
ddp.register_comm_hook(None, default_hooks.allreduce_hook)
(ddp(torch.ones(2, 5, dtype=torch.float64) * (r + 1)) ** 2).mean().backward()
results["unused_with_hook"] = [None if p.grad is None else p.grad.numpy().tolist()
                               for p in ddp.parameters()]

# ------------------------------------------------------------------ errors as torch's
ddp = make(torch.float64)
ddp.register_comm_hook(None, default_hooks.allreduce_hook)
results["register_twice"] = error(lambda: ddp.register_comm_hook(None, default_hooks.allreduce_hook))
results["not_callable"] = error(lambda: make(torch.float64).register_comm_hook(None, 3))


def wrong_bucket_annotation(state, bucket: int):
    return None


def wrong_return_annotation(state, bucket) -> int:
    return None


results["bucket_annotation"] = error(lambda: make(torch.float64).register_comm_hook(None, wrong_bucket_annotation))
results["return_annotation"] = error(lambda: make(torch.float64).register_comm_hook(None, wrong_return_annotation))
results["bf16_registration"] = error(lambda: make(torch.float32).register_comm_hook(None, default_hooks.bf16_compress_hook))


# ------------------------------------------------------------------ tinygrad_seq only
if lib.name == "ts":
    # bf16 (torch refuses it without NCCL): each rank's local gradients, to check against bf16 math
    ddp = make(torch.float32)
    ddp.register_comm_hook(None, default_hooks.bf16_compress_hook)
    local = make(torch.float32).module
    x = torch.tensor(np.random.default_rng(10 + r).normal(size=(4, 5)), dtype=torch.float32)
    ((ddp(x) - 1) ** 2).mean().backward()
    ((local(x) - 1) ** 2).mean().backward()
    everyone = [None] * world
    dist.all_gather_object(everyone, [p.grad.numpy().tolist() for p in local.parameters()])
    results["bf16"] = {"local": everyone, "ddp": [p.grad.numpy().tolist() for p in ddp.parameters()]}

    # the GradBucket a hook gets, with small buckets (one or two parameters each)
    seen = []

    def inspecting_hook(state, bucket):
        params, grads = bucket.parameters(), bucket.gradients()
        grads[0].mul_(1.0)   # a view of the buffer: in-place ops write into it
        same = [tuple(g.shape) == tuple(p.shape) for g, p in zip(grads, params)]
        seen.append([bucket.index(), bucket.is_last(), bucket.buffer().numel(),
                     sum(p.numel() for p in params), all(same),
                     all(any(p is q for q in ddp.module.parameters()) for p in params)])
        return default_hooks.allreduce_hook(None, bucket)

    ddp = make(torch.float64, bucket_cap_mb=0.0002)   # 200 bytes: 25 float64 per bucket
    ddp.register_comm_hook(None, inspecting_hook)
    results["small_buckets"] = train(ddp, steps=1)
    results["grad_buckets"] = seen

    ddp = make(torch.float64)
    ddp.register_comm_hook(None, lambda state, bucket: None)
    results["returns_none"] = error(lambda: ((ddp(torch.ones(2, 5, dtype=torch.float64))) ** 2).sum().backward())

    def wrong_size(state, bucket):
        fut = lib.Future()
        fut.set_result(torch.zeros(bucket.buffer().numel() + 1, dtype=torch.float64))
        return fut

    ddp = make(torch.float64)
    ddp.register_comm_hook(None, wrong_size)
    results["wrong_size"] = error(lambda: ((ddp(torch.ones(2, 5, dtype=torch.float64))) ** 2).sum().backward())

    # the step check still works with a hook: its markers travel beside the hook's reduction
    ddp = make(torch.float64)
    ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    x = torch.ones(2, 5, dtype=torch.float64)
    if r == 1:
        ddp(x)   # a batch skipped after its forward
    results["hook_out_of_step"] = error(lambda: (ddp(x) ** 2).sum().backward())

write(sys.argv[2], r, results)
dist.destroy_process_group()
