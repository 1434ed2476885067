"""mpiexec worker for tests/test_distributed.py (2 or 3 ranks): collectives, DDP equivalence
with one process on the whole batch (LSTM, GRU with lengths=), buckets, unused parameters,
no_sync, checkpoints. Rank 0 prints 'OK <check>' per check; a failed assert aborts the job.

usage: mpiexec -n N python ddp_checks.py CHECKPOINT_DIR
"""
import os
import sys

import numpy as np

import tinygrad_seq as ts
import tinygrad_seq.distributed as dist
import tinygrad_seq.functional as F
from tinygrad_seq import Tensor, nn, optim
from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
RTOL = 1e-10


def ok(name):
    dist.barrier()
    if RANK == 0:
        print("OK", name, flush=True)


def shares(n):
    """Rank r's rows of an n-row batch: contiguous and uneven when WORLD does not divide n."""
    parts = np.array_split(np.arange(n), WORLD)
    return parts[RANK][0], parts[RANK][-1] + 1


def same_on_every_rank(arrays, what):
    everyone = [None] * WORLD
    dist.all_gather_object(everyone, [np.asarray(a) for a in arrays])
    for r, theirs in enumerate(everyone):
        for a, b in zip(everyone[0], theirs):
            np.testing.assert_allclose(b, a, rtol=RTOL, atol=0, err_msg=f"{what}: rank {r} differs from rank 0")


def close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-13, err_msg=what)


# ------------------------------------------------------------------ collectives
def check_collectives():
    base = np.full((4, 6), float(RANK + 1))
    t = ts.from_numpy(base[:, ::2])               # a non-contiguous view of base (shared)
    assert not t.array.flags.c_contiguous
    dist.all_reduce(t)
    total = WORLD * (WORLD + 1) / 2
    assert (base[:, ::2] == total).all() and (base[:, 1::2] == RANK + 1).all(), base
    assert (t.numpy() == total).all()
    for op, want in (("avg", total / WORLD), ("max", WORLD), ("min", 1.0),
                     (dist.ReduceOp.PRODUCT, float(np.prod(np.arange(1, WORLD + 1))))):
        x = Tensor(np.full(5, float(RANK + 1)))
        dist.all_reduce(x, op=op)
        assert (x.numpy() == want).all(), (op, x.numpy(), want)
    i = Tensor(np.arange(3) + RANK)               # int64
    dist.all_reduce(i, op="sum")
    assert i.numpy().tolist() == [sum(k + r for r in range(WORLD)) for k in range(3)]
    w = dist.all_reduce(Tensor(np.ones(2)), op="sum", async_op=True)
    w.wait()
    b = Tensor(np.full(3, float(RANK)).astype(np.float32))
    dist.broadcast(b, src=WORLD - 1)
    assert (b.numpy() == WORLD - 1).all() and b.dtype == np.float32
    out = [Tensor(np.zeros((2, 2))) for _ in range(WORLD)]
    dist.all_gather(out, Tensor(np.full((2, 2), float(RANK)).T))
    assert [o.numpy()[0, 0] for o in out] == list(range(WORLD))
    ok("collectives")


# ------------------------------------------------------------------ equivalence
class Net(nn.Module):
    def __init__(self, cell, inp=5, hidden=7, out=3):
        super().__init__()
        self.cell = cell
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(inp, hidden, batch_first=True)
        self.head = nn.Linear(hidden, out)

    def forward(self, x, lengths=None):
        if self.cell == "lstm":
            y, _ = self.rnn(x)
            return self.head(y)               # (B, T, out)
        _, h = self.rnn(x, lengths=lengths)
        return self.head(h[-1])               # (B, out): each sequence's state at its last step


def batch(cell, step, B=7, T=6, inp=5, out=3):
    rng = np.random.default_rng(1000 + step)
    x = rng.standard_normal((B, T, inp))
    if cell == "lstm":
        return x, rng.standard_normal((B, T, out)), None
    return x, rng.integers(0, out, B), rng.integers(1, T + 1, B)


def loss_fn(cell, model, x, y, lengths):
    pred = model(Tensor(x), lengths=lengths) if cell == "gru" else model(Tensor(x))
    return F.mse_loss(pred, Tensor(y)) if cell == "lstm" else F.cross_entropy(pred, Tensor(y))


def check_equivalence(cell, ckpt_dir):
    ts.manual_seed(1)
    ref = Net(cell).double()                        # rank 0's initial weights
    ts.manual_seed(1 + RANK)                        # every rank starts from different weights
    local = Net(cell).double()
    ddp = DDP(local)                                # ... and DDP gives them rank 0's
    for k, v in ref.state_dict().items():
        np.testing.assert_array_equal(ddp.module.state_dict()[k], v, err_msg=f"broadcast of {k}")
    opt_ref = optim.Adam(ref.parameters(), lr=0.01)
    opt = optim.Adam(ddp.parameters(), lr=0.01)
    B = 7
    lo, hi = shares(B)
    for step in range(5):
        x, y, lengths = batch(cell, step, B)
        opt_ref.zero_grad()
        loss_fn(cell, ref, x, y, lengths).backward()
        opt_ref.step()
        opt.zero_grad()
        # the rank's mean loss, scaled by its share: DDP's mean over ranks is then the
        # gradient of the mean over the global batch, even when the shares are uneven
        scale = (hi - lo) * WORLD / B
        loss = loss_fn(cell, ddp, x[lo:hi], y[lo:hi], None if lengths is None else lengths[lo:hi]) * scale
        loss.backward()
        opt.step()
    mine = ddp.module.state_dict()
    same_on_every_rank(list(mine.values()), f"{cell} parameters")
    for k, v in ref.state_dict().items():
        close(mine[k], v, f"{cell}: {k} differs from one process on the whole batch")
    assert list(ddp.state_dict())[0].startswith("module."), list(ddp.state_dict())
    ok(f"equivalence {cell}")
    if cell == "lstm":
        check_checkpoint(ddp, opt, ckpt_dir)


def flat_optimizer_state(opt):
    """name -> array of an optimizer's state dict (PyTorch's nested form), for comparisons."""
    sd = opt.state_dict()
    out = {f"state.{i}.{k}": np.asarray(v.numpy() if hasattr(v, "numpy") else v)
           for i, st in sd["state"].items() for k, v in st.items()}
    for g, group in enumerate(sd["param_groups"]):
        out.update({f"param_groups.{g}.{k}": np.asarray(v) for k, v in group.items() if v is not None})
    return out


def check_checkpoint(ddp, opt, ckpt_dir):
    path = os.path.join(ckpt_dir, "ckpt.npz")
    state = {"model": ddp.module.state_dict(), "optim": opt.state_dict()}
    dist.save_checkpoint(state, path)
    loaded = dist.load_checkpoint(path)
    ts.manual_seed(50 + RANK)
    resumed = DDP(Net("lstm").double())
    resumed.module.load_state_dict(loaded["model"])
    opt2 = optim.Adam(resumed.parameters(), lr=0.5)
    opt2.load_state_dict(loaded["optim"])
    st, ref = flat_optimizer_state(opt2), flat_optimizer_state(opt)
    same_on_every_rank([st[k] for k in sorted(st)], "optimizer state after resume")
    assert sorted(st) == sorted(ref), (sorted(st), sorted(ref))
    for k in ref:
        np.testing.assert_array_equal(st[k], ref[k], err_msg=k)
    lo, hi = shares(7)
    for model, o in ((ddp, opt), (resumed, opt2)):
        x, y, _ = batch("lstm", 99)
        o.zero_grad()
        (loss_fn("lstm", model, x[lo:hi], y[lo:hi], None) * ((hi - lo) * WORLD / 7)).backward()
        o.step()
    for a, b in zip(ddp.module.state_dict().values(), resumed.module.state_dict().values()):
        np.testing.assert_array_equal(a, b)
    ok("checkpoint")


# ------------------------------------------------------------------ buckets, unused parameters
class Deep(nn.Module):
    def __init__(self, width=16, depth=6):
        super().__init__()
        self.only_rank0 = nn.Linear(width, width)   # registered first: it lands in the last bucket
        self.never = nn.Linear(width, width)        # no rank uses it
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])

    def forward(self, x, use_rank0_branch=False):
        for layer in self.layers:
            x = layer(x).tanh()
        if use_rank0_branch:
            x = x + self.only_rank0(x)
        return (x * x).mean()


def local_grads(model, x, branch):
    model.zero_grad()
    model(Tensor(x), branch).backward()
    return {k: (None if p.grad is None else p.grad.numpy().copy()) for k, p in model.named_parameters()}


def check_buckets():
    ts.manual_seed(3)
    ref = Deep().double()
    ddp = DDP(Deep().double(), bucket_cap_mb=4096 / 2**20)   # 4 KB: one Linear(16, 16) or so per bucket
    ref.load_state_dict(ddp.module.state_dict())
    assert len(ddp._buckets) >= 6, len(ddp._buckets)
    data = [np.random.default_rng(7 + r).standard_normal((5, 16)) for r in range(WORLD)]
    expected = {}
    for r in range(WORLD):
        for k, g in local_grads(ref, data[r], r == 0).items():
            if g is not None:
                expected[k] = expected.get(k, 0) + g / WORLD
    ddp.zero_grad()
    ddp(Tensor(data[RANK]), RANK == 0).backward()
    for k, p in ddp.module.named_parameters():
        if k.startswith("never."):
            assert p.grad is None, f"{k}: no rank used it, its grad must stay None"
        else:
            close(p.grad.numpy(), expected[k], f"bucketed gradient of {k}")
    assert ddp._buckets_started_in_backward >= 1, "no bucket was reduced while backward ran"
    ok("buckets and unused parameters")


def check_no_sync():
    ts.manual_seed(4)
    ref = nn.Linear(6, 4).double()
    ddp = DDP(nn.Linear(6, 4).double())
    ref.load_state_dict(ddp.module.state_dict())
    micro = [[np.random.default_rng(100 * r + k).standard_normal((3, 6)) for k in range(3)] for r in range(WORLD)]
    ddp.zero_grad()
    with ddp.no_sync():
        for k in range(2):
            (ddp(Tensor(micro[RANK][k])) ** 2).sum().backward()
    ref.zero_grad()
    for k in range(2):
        (ref(Tensor(micro[RANK][k])) ** 2).sum().backward()
    close(ddp.module.weight.grad.numpy(), ref.weight.grad.numpy(), "no_sync must keep gradients local")
    (ddp(Tensor(micro[RANK][2])) ** 2).sum().backward()          # synchronized
    ref.zero_grad()
    for r in range(WORLD):
        for k in range(3):
            (ref(Tensor(micro[r][k])) ** 2).sum().backward()
    for (name, p), q in zip(ddp.module.named_parameters(), ref.parameters()):
        close(p.grad.numpy(), q.grad.numpy() / WORLD, f"no_sync then sync: {name}")
    ok("no_sync")


if __name__ == "__main__":
    check_collectives()
    check_buckets()
    check_no_sync()
    check_equivalence("lstm", sys.argv[1])
    check_equivalence("gru", sys.argv[1])
    dist.destroy_process_group()
    if RANK == 0:
        print("ALL DONE", flush=True)
