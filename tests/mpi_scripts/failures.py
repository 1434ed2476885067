"""mpiexec worker (2 ranks) for the ways a job used to hang: each scenario must end the job with a
message naming the rank and the cause, within the timeout or within seconds.

usage: mpiexec -n 2 python failures.py SCENARIO [PATH]

  hang          rank 1 sleeps instead of joining an all_reduce; timeout 3 s
  wait_timeout  rank 0 waits on an async all_reduce with Work.wait(timeout=2 s); group timeout 10 min
  exit3         rank 1 calls sys.exit(3) at step 2 while rank 0 trains on
  extra_step    rank 0 runs one DDP step more than rank 1, which then leaves; timeout 3 s
  skip_batch    rank 1's loss check raises at batch 2 (after the forward); it catches that and
                skips the batch: every rank must raise the step-mismatch error with its .grad
                left local (checked here), then leave cleanly
  abandoned     rank 1's backward raises after its first bucket was sent, and it carries on
  sizes         the ranks pass all_reduce tensors of different sizes, then broadcast ones of
                different dtypes: the same clear error on every rank each time
  frozen        a parameter is frozen on rank 1 only: DDP's model check names it on every rank
  unreadable    only rank 0 can read PATH; the script reads it inside dist.abort_on_error()
  cli_error     the same, with a command line's error handler that prints one line and
                returns 1 to sys.exit (no abort_on_error): the non-zero exit ends the job
"""
import sys
import time
from datetime import timedelta

import numpy as np

import tinygrad_seq as ts
import tinygrad_seq.distributed as dist
from tinygrad_seq import Tensor, nn
from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP

SCENARIO = sys.argv[1]
SHORT = {"hang": 3, "extra_step": 3}
dist.init_process_group("mpi", timeout=timedelta(seconds=SHORT.get(SCENARIO, 600)))
RANK = dist.get_rank()


def say(*args):
    print(f"rank {RANK}:", *args, flush=True)


def model(bucket_cap_mb=25):
    ts.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 2)).double()
    return DDP(net, bucket_cap_mb=bucket_cap_mb)


def data(step):
    return Tensor(np.random.default_rng(10 * step + RANK).standard_normal((3, 4)))


def train_step(ddp, step):
    ddp.zero_grad()
    (ddp(data(step)) ** 2).mean().backward()


if SCENARIO == "hang":
    if RANK == 1:
        time.sleep(300)
    dist.all_reduce(Tensor(np.ones(4)))

elif SCENARIO == "wait_timeout":
    work = dist.all_reduce(Tensor(np.ones(4)), async_op=True)
    if RANK == 1:
        time.sleep(300)
    work.wait(timeout=timedelta(seconds=2))

elif SCENARIO == "exit3":
    ddp = model()
    for step in range(5):
        if step == 2 and RANK == 1:
            sys.exit(3)
        train_step(ddp, step)

elif SCENARIO == "extra_step":
    ddp = model()
    for step in range(3 + (RANK == 0)):
        train_step(ddp, step)
    dist.destroy_process_group()

elif SCENARIO == "skip_batch":
    ddp = model()
    for step in range(4):
        try:
            ddp.zero_grad()
            loss = (ddp(data(step)) ** 2).mean()
            if step == 2 and RANK == 1:
                raise ValueError("the loss is not finite")
            loss.backward()
        except ValueError as e:
            say("skipped a batch:", e)
        except RuntimeError as e:
            say(e)
            # .grad is this rank's own gradient: nothing averaged across steps reached it
            ref = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 2)).double()
            ref.load_state_dict(ddp.module.state_dict())
            (ref(data(step)) ** 2).mean().backward()
            for (name, p), q in zip(ddp.module.named_parameters(), ref.parameters()):
                np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, err_msg=name)
            say("grads are local")
            break
    dist.destroy_process_group()

elif SCENARIO == "abandoned":
    ddp = model(bucket_cap_mb=100 / 2**20)   # about one Linear per bucket

    def fail_on_rank1(p):
        if RANK == 1 and state["step"] == 1:
            raise ValueError("a hook failed in the middle of backward")
    state = {"step": 0}
    ddp.module[0].weight.register_post_accumulate_grad_hook(fail_on_rank1)   # its grad comes last
    for step in range(3):
        state["step"] = step
        try:
            train_step(ddp, step)
        except ValueError as e:
            say("caught:", e)
        except RuntimeError as e:
            say(e)
            break
    dist.destroy_process_group()

elif SCENARIO == "sizes":
    for call in (lambda: dist.all_reduce(Tensor(np.ones(3 + RANK))),
                 lambda: dist.broadcast(Tensor(np.ones(3, np.float32 if RANK else np.float64)))):
        try:
            call()
        except ValueError as e:
            say(e)
    dist.destroy_process_group()

elif SCENARIO == "frozen":
    net = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    if RANK == 1:
        net[1].bias.requires_grad = False
    try:
        DDP(net)
    except RuntimeError as e:
        say(e)
    dist.destroy_process_group()

elif SCENARIO == "unreadable":
    with dist.abort_on_error():
        path = sys.argv[2] if RANK == 0 else sys.argv[2] + ".missing"
        with open(path) as f:
            text = f.read()
        ddp = model()
        for step in range(3):
            train_step(ddp, step)
    dist.destroy_process_group()

elif SCENARIO == "cli_error":
    def main():
        try:
            path = sys.argv[2] if RANK == 0 else sys.argv[2] + ".missing"
            with open(path) as f:
                f.read()
            ddp = model()
            for step in range(3):
                train_step(ddp, step)
        except OSError as e:
            sys.stderr.write(f"prog: error: {e}\n")
            return 1
        dist.destroy_process_group()
        return 0
    sys.exit(main())

else:
    raise SystemExit(f"unknown scenario {SCENARIO!r}")
say("finished")
