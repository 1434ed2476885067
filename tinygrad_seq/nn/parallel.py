"""nn.parallel.DistributedDataParallel: PyTorch's DDP over MPI (tinygrad_seq.distributed).

    dist.init_process_group("mpi")
    model = nn.parallel.DistributedDataParallel(Net())   # rank 0's weights on every rank
    loss = F.cross_entropy(model(x_local), y_local)      # each rank: its share of the batch
    loss.backward()                                      # .grad = mean over ranks of the grads
    opt.step()

Design (Li et al., "PyTorch Distributed", VLDB 2020). Gradients go into flat buckets of about
`bucket_cap_mb` MB, filled in reverse order of parameter registration (roughly the order backward
produces them). Each parameter's post-accumulate-grad hook copies its final gradient into its
bucket; when a bucket is full it is reduced with a non-blocking MPI Iallreduce while backward goes
on. Buckets are started strictly in index order on every rank (MPI collectives must match across
ranks). A callback queued on the autograd engine runs when backward finishes: it starts the buckets
still waiting, waits for all of them and writes each `.grad` = sum / world_size.

Each bucket carries one extra count per parameter (1 where the rank has a gradient for it), summed
with the gradients: a parameter that no rank used keeps its `.grad` untouched (None), one that
some ranks did not use counts as zero on those ranks, and no rank waits for a gradient that never
comes (find_unused_parameters is always on; the flag is accepted for PyTorch compatibility).

Loss scaling. DDP averages gradients over ranks, so with a per-rank loss that is a mean over the
rank's own samples, the result is the full-batch mean gradient only when every rank has the same
number of samples. With uneven shares (global batch B, rank r has b_r samples) scale each rank's
mean loss by ``b_r * world_size / B``: then mean_r(grad of scaled loss_r) = grad of the global mean.

Only "cpu" buckets are used: CUDA gradients are staged through host memory.
"""
from __future__ import annotations

import contextlib
import weakref

import numpy as np

from tinygrad_seq import autograd
from tinygrad_seq import device as _device
from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor


class _Bucket:
    __slots__ = ("params", "indices", "offsets", "numel", "dtype", "buf", "flags", "pending", "filled")

    def __init__(self, dtype):
        self.params, self.indices, self.offsets, self.numel, self.dtype = [], [], [], 0, dtype

    def allocate(self):
        n = len(self.params)
        self.buf = np.empty(self.numel + n, self.dtype)   # gradients, then one count per parameter
        self.flags = self.buf[self.numel:]


class DistributedDataParallel(Module):
    """Wraps `module` for data-parallel training over the ranks of tinygrad_seq.distributed.

    Call it like the module; `.module` is the wrapped module; `state_dict()` keys have PyTorch's
    "module." prefix. One backward per forward (as in PyTorch). `no_sync()` turns off the gradient
    reduction for the backward passes of forwards run inside it (gradient accumulation).
    device_ids, output_device, dim, find_unused_parameters, gradient_as_bucket_view and
    static_graph are accepted for PyTorch compatibility and have no effect (unused parameters are
    always handled; the model stays on the device it is on)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        from tinygrad_seq import distributed as dist
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: call tinygrad_seq.distributed."
                               "init_process_group() first")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.require_backward_grad_sync = True
        self._dist = dist
        self._comm = dist._check_group(process_group)
        self._world = self._comm.Get_size()
        self._verify_same_model()
        self._sync_module_states()
        self._build_buckets(int(bucket_cap_mb * 1024 * 1024))
        self._sync_next_backward = False
        self._step = None
        self._buckets_started_in_backward = 0   # buckets whose reduction overlapped backward
        me = weakref.ref(self)   # the hooks must not keep a dropped DDP wrapper alive
        self._handles = [p.register_post_accumulate_grad_hook(_make_hook(me, i))
                         for i, p in enumerate(self._params)]

    # ------------------------------------------------------------ construction
    def _verify_same_model(self):
        """Every rank checks every rank's parameter list against rank 0's and raises the same
        error, naming the first parameter that differs."""
        mine = [(name, tuple(p.shape), str(p.dtype)) for name, p in self.module.named_parameters()]
        everyone = self._comm.allgather(mine)
        ref, first = everyone[0], None   # (index of the first differing parameter, rank)
        for rank, sig in enumerate(everyone[1:], start=1):
            i = next((i for i in range(max(len(sig), len(ref)))
                      if i >= len(sig) or i >= len(ref) or sig[i] != ref[i]), None)
            if i is not None and (first is None or i < first[0]):
                first = (i, rank)
        if first is None:
            return
        i, rank = first
        a = ref[i] if i < len(ref) else None
        b = everyone[rank][i] if i < len(everyone[rank]) else None
        if a is None:
            what = f"rank {rank} has an extra parameter {b[0]!r} of shape {b[1]} that rank 0 lacks"
        elif b is None:
            what = f"parameter {a[0]!r} of shape {a[1]} on rank 0 is missing on rank {rank}"
        elif a[0] != b[0]:
            what = (f"parameter #{i} is {a[0]!r} of shape {a[1]} on rank 0 but {b[0]!r} of "
                    f"shape {b[1]} on rank {rank}")
        elif a[1] != b[1]:
            what = f"parameter {a[0]!r} has shape {a[1]} on rank 0 but shape {b[1]} on rank {rank}"
        else:
            what = f"parameter {a[0]!r} (shape {a[1]}) has dtype {a[2]} on rank 0 but {b[2]} on rank {rank}"
        raise RuntimeError(f"DistributedDataParallel: the model differs across ranks: {what}")

    def _sync_module_states(self):
        """Rank 0's parameters and buffers, copied to every rank (one broadcast per dtype)."""
        tensors = list(self.module.parameters()) + list(self.module.buffers())
        self._broadcast_coalesced(tensors)

    def _broadcast_coalesced(self, tensors):
        if self._world == 1 or not tensors:
            return
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for dtype, ts_ in by_dtype.items():
            flat = np.concatenate([t.numpy().ravel() for t in ts_]) if ts_ else np.empty(0, dtype)
            self._comm.Bcast(flat, root=0)
            if self._comm.Get_rank() != 0:
                o = 0
                for t in ts_:
                    n = int(np.prod(t.shape))
                    self._dist._write_into(t, flat[o:o + n].reshape(t.shape))
                    o += n

    def _build_buckets(self, cap_bytes):
        self._params = [p for p in self.module.parameters() if p.requires_grad]
        self._buckets, self._where = [], [None] * len(self._params)
        open_by_dtype = {}   # dtype -> index of the bucket being filled
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            bi = open_by_dtype.get(p.dtype)
            b = None if bi is None else self._buckets[bi]
            if b is None or (b.numel + p.array.size) * p.dtype.itemsize > cap_bytes:
                b = _Bucket(p.dtype)
                bi = open_by_dtype[p.dtype] = len(self._buckets)
                self._buckets.append(b)
            self._where[i] = (bi, len(b.params))
            b.params.append(p)
            b.indices.append(i)
            b.offsets.append(b.numel)
            b.numel += int(p.array.size)
        for b in self._buckets:
            b.allocate()

    # ------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if autograd.is_grad_enabled():
            self._sync_next_backward = self.require_backward_grad_sync
            if self.broadcast_buffers:
                self._broadcast_coalesced(list(self.module.buffers()))
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run in this block keep their gradients local (they add up
        in .grad); the first synchronized backward afterwards averages the accumulated sums."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------ backward
    def _grad_ready(self, i):
        if not self._sync_next_backward:
            return
        if self._step is None:
            self._begin_backward()
        bi, slot = self._where[i]
        b = self._buckets[bi]
        if b.filled[slot]:
            return
        self._fill(b, slot, self._params[i].grad)
        b.pending -= 1
        if b.pending == 0:
            self._start_ready_buckets()
        elif self._step["requests"]:
            self._dist._MPI.Request.Testall(self._step["requests"])  # lets MPI progress

    def _begin_backward(self):
        for b in self._buckets:
            b.pending, b.filled = len(b.params), [False] * len(b.params)
        self._step = {"next": 0, "requests": []}
        autograd.queue_callback(self._finish_backward)

    def _fill(self, b, slot, grad):
        o, n = b.offsets[slot], b.params[slot].array.size
        if grad is None:
            b.buf[o:o + n] = 0
            b.flags[slot] = 0
        else:
            g = grad.array if grad.device == "cpu" else _device.backend(grad.device).to_host(grad.array)
            b.buf[o:o + n] = g.reshape(-1)
            b.flags[slot] = 1
        b.filled[slot] = True

    def _start_ready_buckets(self):
        MPI, step = self._dist._MPI, self._step
        while step["next"] < len(self._buckets) and self._buckets[step["next"]].pending == 0:
            b = self._buckets[step["next"]]
            step["requests"].append(self._comm.Iallreduce(MPI.IN_PLACE, b.buf, op=MPI.SUM))
            step["next"] += 1

    def _finish_backward(self):
        """Runs once when backward() has finished (autograd.queue_callback)."""
        try:
            self._buckets_started_in_backward = self._step["next"]
            for b in self._buckets[self._step["next"]:]:
                for slot, p in enumerate(b.params):
                    if not b.filled[slot]:   # no gradient in this backward: its .grad or zeros
                        self._fill(b, slot, p.grad)
                b.pending = 0
            self._start_ready_buckets()
            self._dist._MPI.Request.Waitall(self._step["requests"])
            for b in self._buckets:
                for slot, p in enumerate(b.params):
                    if b.flags[slot] == 0:
                        continue   # no rank has a gradient for p: leave p.grad as it is
                    o, n = b.offsets[slot], p.array.size
                    g = np.divide(b.buf[o:o + n], self._world).reshape(p.shape)
                    if p.device != "cpu":
                        g = _device.backend(p.device).asarray(g)
                    p.grad = Tensor._wrap(g, p.device)
        finally:
            self._step = None
            self._sync_next_backward = False


def _make_hook(ddp_ref, i):
    def hook(p):
        ddp = ddp_ref()
        if ddp is not None:
            ddp._grad_ready(i)
    return hook
