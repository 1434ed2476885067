"""nn.parallel.DistributedDataParallel: PyTorch's DDP over MPI (tinygrad_seq.distributed).

    dist.init_process_group("mpi")
    model = nn.parallel.DistributedDataParallel(Net())   # rank 0's weights on every rank
    loss = F.cross_entropy(model(x_local), y_local)      # each rank: its share of the batch
    loss.backward()                                      # .grad = mean over ranks of the grads
    opt.step()

Design (Li et al., "PyTorch Distributed", VLDB 2020). Gradients go into flat buckets of about
`bucket_cap_mb` MB, filled in reverse order of parameter registration (roughly the order backward
produces them). Each parameter's post-accumulate-grad hook copies its final gradient into its
bucket; when a bucket is full it is reduced with a non-blocking all_reduce while backward goes on,
and the hooks of later parameters test it so MPI makes progress meanwhile (Open MPI moves a
non-blocking collective only inside MPI calls). Buckets are started strictly in index order on
every rank (MPI collectives must match across ranks). A callback queued on the autograd engine
runs when backward finishes: it starts the buckets still waiting, reduces the last bucket (the
first parameters, whose gradients come last) with a blocking all_reduce, which is faster
(distributed/collectives.py), waits for the others (bounded by the process group's timeout) and
writes each `.grad` = sum / world_size. A model that fits one bucket (25 MB by default) is thus
one blocking all_reduce per step. Only the public functions of tinygrad_seq.distributed are used.

Each bucket carries one extra count per parameter (1 where the rank has a gradient for it), summed
with the gradients: a parameter that no rank used keeps its `.grad` untouched (None), one that
some ranks did not use counts as zero on those ranks, and no rank waits for a gradient that never
comes (find_unused_parameters is always on; the flag is accepted for PyTorch compatibility).

Step check. A rank's step counts the backwards it has reduced gradients in (this one included)
and the forwards it ran with grad enabled in training mode whose backward never came (a batch
skipped after its forward). A grad-enabled forward in eval mode without a backward (a
validation pass without no_grad, on some ranks only) is no step: it synchronises nothing, and
torch's DDP takes it too. Each bucket also carries, for every rank r, three numbers that only
rank r sets: a status (1) and its step (two base-1024 digits, exact in float16 too), summed with
the gradients at no extra round trip. Before any `.grad` is written every rank reads every
rank's step: if they differ (a rank caught an exception after its forward and skipped the batch)
every rank raises the same RuntimeError naming each rank's step, and no gradient averaged across
different steps reaches `.grad` (each rank's `.grad` keeps its own). A backward that raised on
one rank after its first bucket was sent is finished at that rank's next forward with status 2
in the rest of its buckets, so the others stop with an error naming it. A rank that skips a
batch before calling the model (or skips its last batch), or runs one step more, leaves a
reduction the others never join: the timeout ends it. A forward in training mode without a
backward on some ranks only (an extra pass in train mode) counts as a skipped batch: run such
passes in eval mode or under no_grad.

Loss scaling. DDP averages gradients over ranks, so with a per-rank loss that is a mean over the
rank's own samples, the result is the full-batch mean gradient only when every rank has the same
number of samples. With uneven shares (global batch B, rank r has b_r samples) scale each rank's
mean loss by ``b_r * world_size / B``: then mean_r(grad of scaled loss_r) = grad of the global mean.

Comm hooks (ddp_comm_hook.py): register_comm_hook(state, hook) hands each bucket's gradients to
hook, which returns a Future of the reduced bucket (no division here); the counts and step
markers then travel in one small extra all-reduce. Uneven inputs (ddp_join.py): inside
`with ddp.join():` ranks that ran out of data shadow the others' reductions with zero gradients
marked joined, which the step check leaves out.

Only "cpu" buckets are used: CUDA gradients are staged through host memory.
"""
from __future__ import annotations

import contextlib
import sys
import weakref

import numpy as np

from tinygrad_seq import autograd
from tinygrad_seq import device as _device
from tinygrad_seq.join_context import Join, Joinable
from tinygrad_seq.nn.data_parallel import DataParallel, data_parallel  # noqa: F401
from tinygrad_seq.nn.ddp_bucket import _ABANDONED, _DIGIT, _JOINED, _OK, _Bucket, _keep_alive
from tinygrad_seq.nn.ddp_comm_hook import CommHook, check_comm_hook
from tinygrad_seq.nn.ddp_join import DDPJoinHook, forward_in_join
from tinygrad_seq.nn.ddp_same_model import verify_same_model
from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor

class DistributedDataParallel(Module, Joinable):
    """Wraps `module` for data-parallel training over the ranks of tinygrad_seq.distributed.

    Call it like the module; `.module` is the wrapped module; `state_dict()` keys have PyTorch's
    "module." prefix. One backward per forward (as in PyTorch). `no_sync()` turns off the gradient
    reduction for the backward passes of forwards run inside it (gradient accumulation).
    device_ids, output_device, dim, find_unused_parameters, gradient_as_bucket_view and
    static_graph are accepted for PyTorch compatibility and kept as attributes of those names,
    with no effect (unused parameters are always handled; the model stays on the device it is
    on). process_group: a group from dist.new_group (default: the whole world).
    register_comm_hook(state, hook) and join(...) are torch's (see the module docstring)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        Joinable.__init__(self)
        from tinygrad_seq import distributed as dist
        if not dist.is_initialized():   # torch's ValueError; a RuntimeError too, as before
            from tinygrad_seq.errors import InvalidArgument
            raise InvalidArgument("DistributedDataParallel: Default process group has not been "
                                  "initialized, please make sure to call init_process_group.")
        if not any(p.requires_grad for p in module.parameters()):   # torch's error
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True   # torch's: buffers broadcast before the next forward
        self.process_group = dist.group.WORLD if process_group is None else process_group
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.dim = dim
        on_gpu = any(p.device != "cpu" for p in module.parameters())
        self.device_ids = [_device_index(d) for d in device_ids] if on_gpu and device_ids else None
        self.output_device = (None if self.device_ids is None else
                              self.device_ids[0] if output_device is None else _device_index(output_device))
        self._dist, self._group = dist, process_group
        self._rank = dist.get_rank(process_group)
        self._world = dist.get_world_size(process_group)
        self._src = dist.get_global_rank(self.process_group, 0)   # the group's rank 0, globally
        verify_same_model(self.module, self._dist, self._group, self._world)
        self._sync_module_states()
        self._build_buckets(int(bucket_cap_mb * 1024 * 1024))
        self._sync_next_backward = False         # the last forward's backward is to reduce
        self._forward_trained = False            # ... and that forward ran in training mode
        self._step = None                        # the state of the backward in progress
        self._steps = 0                          # this rank's step (see the module docstring)
        self._buckets_started_in_backward = 0    # buckets whose reduction overlapped backward
        self._comm_hook = None                   # a CommHook (register_comm_hook)
        self._grad_divisor = self._world         # .grad = bucket sum / this (join may lower it)
        self._divide_by_initial_world_size = True
        me = weakref.ref(self)   # the hooks must not keep a dropped DDP wrapper alive
        self._handles = [p.register_post_accumulate_grad_hook(_make_hook(me, i))
                         for i, p in enumerate(self._params)]

    # ------------------------------------------------------------ construction
    @staticmethod
    def _set_params_and_buffers_to_ignore_for_model(module, params_and_buffers_to_ignore):
        """torch's (private, called by other libraries): the parameters and buffers of these
        names (module's own qualified names) are neither broadcast nor averaged by a DDP made
        around module afterwards."""
        module._ddp_params_and_buffers_to_ignore = params_and_buffers_to_ignore

    def _synced(self, kind):
        """module's parameters or buffers that DDP keeps in step (less the ignored names)."""
        ignored = set(getattr(self.module, "_ddp_params_and_buffers_to_ignore", ()))
        named = self.module.named_parameters() if kind == "parameters" else self.module.named_buffers()
        return [t for name, t in named if name not in ignored]

    def _sync_module_states(self):
        """Rank 0's parameters (and buffers, with broadcast_buffers, as torch's) copied to every
        rank (one broadcast per dtype)."""
        buffers = self._synced("buffers") if self.broadcast_buffers else []
        self._broadcast_coalesced(self._synced("parameters") + buffers)

    def _broadcast_coalesced(self, tensors, src=0):
        """Group rank `src`'s values of `tensors`, copied to every rank (one broadcast per dtype)."""
        if self._world == 1 or not tensors:
            return
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for ts_ in by_dtype.values():
            flat = Tensor._wrap(np.concatenate([t.numpy().ravel() for t in ts_]), "cpu")
            root = self._src if src == 0 else self._dist.get_global_rank(self.process_group, src)
            self._dist.broadcast(flat, src=root, group=self._group)
            if self._rank != src:
                o = 0
                with autograd.no_grad():
                    for t in ts_:
                        n = int(np.prod(t.shape))
                        t.copy_(flat.array[o:o + n].reshape(t.shape))
                        o += n

    def _build_buckets(self, cap_bytes):
        self._params = [p for p in self._synced("parameters") if p.requires_grad]
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
            b.offsets.append(b.numel)
            b.numel += int(p.array.size)
        for b in self._buckets:
            b.allocate(self._world)

    # ------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        """As torch's: rank 0's buffers are broadcast first when require_forward_param_sync is
        set (whatever the grad mode), which the forward leaves set only when it runs with grad
        enabled outside no_sync() (so the forward after a no_sync or no_grad one broadcasts none)."""
        grad = autograd.is_grad_enabled()
        if grad:
            if self._step is not None:
                self._finish_abandoned_backward()
            if self._sync_next_backward and self._forward_trained:
                self._steps += 1   # a training forward whose backward never came: a skipped batch
            self._sync_next_backward = self.require_backward_grad_sync
            self._forward_trained = self.training and self.module.training
        if self._join_config.enable:
            try:   # Join's and DDP's agreements, buffers from the last rank
                forward_in_join(self, grad)
            except BaseException:   # throw_on_early_termination: this forward is no step
                self._sync_next_backward = False
                raise
        elif self.require_forward_param_sync and self.broadcast_buffers:
            self._broadcast_coalesced(self._synced("buffers"))
        self.require_forward_param_sync = grad and self.require_backward_grad_sync
        out = self.module(*inputs, **kwargs)
        if grad:   # the outputs keep the wrapper alive for their backward (a DDP(m)(x) no name holds)
            _keep_alive(out, self)
        return out

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

    # ------------------------------------------------------------ comm hooks and join
    def register_comm_hook(self, state, hook):
        """Reduce each gradient bucket with hook(state, bucket) -> Future of the reduced flat
        bucket, as torch's (nn/ddp_comm_hook.py; torch's hooks: distributed.algorithms.
        ddp_comm_hooks.default_hooks). Once per model."""
        check_comm_hook(hook)
        if self._comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        if self._step is not None:
            raise RuntimeError("register_comm_hook: called while a backward is reducing gradients; "
                               "register the hook between steps")
        self._comm_hook = CommHook(self, state, hook)

    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        """Context manager for a different number of inputs on each rank (nn/ddp_join.py)."""
        return Join([self], enable, throw_on_early_termination,
                    divide_by_initial_world_size=divide_by_initial_world_size)

    def join_hook(self, **kwargs):
        """Joinable's: the DDPJoinHook (kwargs: divide_by_initial_world_size, default True)."""
        return DDPJoinHook(self, kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        return _device.Device(self._params[0].device)

    @property
    def join_process_group(self):
        return self.process_group

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
        else:
            self._poll()

    def _begin_backward(self):
        self._steps += 1
        for b in self._buckets:
            b.pending, b.filled = len(b.params), [False] * len(b.params)
            self._mark(b, _OK)
        self._step = {"next": 0, "works": [], "polled": 0}
        autograd.queue_callback(self._finish_backward)

    def _mark(self, b, status):
        b.steps[:] = 0
        b.steps[self._rank] = (status, self._steps % _DIGIT, self._steps // _DIGIT % _DIGIT)

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
        """Start, in index order, the buckets whose gradients are all in, but the last one: it
        is reduced by _finish_backward with a blocking all_reduce (faster; the same choice on
        every rank, as MPI does not match a blocking collective with a non-blocking one). With a
        comm hook every bucket goes to the hook, the last one included; works holds futures."""
        step, hook = self._step, self._comm_hook
        last = len(self._buckets) - (1 if hook is None else 0)
        while step["next"] < last and self._buckets[step["next"]].pending == 0:
            b = self._buckets[step["next"]]
            step["works"].append(self._dist.all_reduce(b.tensor, group=self._group, async_op=True)
                                 if hook is None else hook.start(step["next"]))
            step["next"] += 1

    def _reduce_the_rest(self):
        """Start the buckets not started yet, reduce the last one, wait for all of them."""
        step = self._step
        for b in self._buckets[step["next"]:]:
            b.pending = 0
        self._start_ready_buckets()
        if self._comm_hook is not None:
            self._comm_hook.finish(step["works"])
            return
        self._dist.all_reduce(self._buckets[-1].tensor, group=self._group)
        step["next"] = len(self._buckets)
        for w in step["works"]:
            w.wait()

    def _poll(self):
        """Test the oldest bucket still in flight: Open MPI progresses it only inside MPI calls."""
        step = self._step
        works = step["works"]
        if self._comm_hook is not None:   # futures of the hook
            while step["polled"] < len(works) and works[step["polled"]].done():
                step["polled"] += 1
            return
        while step["polled"] < len(works) and works[step["polled"]].is_completed():
            step["polled"] += 1

    def _finish_backward(self):
        """Runs once when backward() has finished (autograd.queue_callback)."""
        try:
            self._buckets_started_in_backward = self._step["next"]
            for b in self._buckets[self._step["next"]:]:
                for slot, p in enumerate(b.params):
                    if not b.filled[slot]:   # no gradient in this backward: its .grad or zeros
                        self._fill(b, slot, p.grad)
            self._reduce_the_rest()
            self._check_steps()
            divisor = self._grad_divisor if self._comm_hook is None else 1   # a hook divides itself
            for b in self._buckets:
                for slot, p in enumerate(b.params):
                    if b.flags[slot] == 0:
                        continue   # no rank has a gradient for p: leave p.grad as it is
                    o, n = b.offsets[slot], p.array.size
                    g = b.buf[o:o + n].copy() if divisor == 1 else np.divide(b.buf[o:o + n], divisor)
                    g = g.reshape(p.shape)
                    if p.device != "cpu":
                        g = _device.backend(p.device).asarray(g)
                    p.grad = Tensor._wrap(g, p.device)
        finally:
            self._step = None
            self._sync_next_backward = False

    def _finish_abandoned_backward(self):
        """The last backward raised on this rank before its callback ran. Buckets already sent
        must be matched by the rest (MPI collectives pair up in order): send them marked
        abandoned, so every rank stops with an error naming this rank, then raise here too."""
        step = self._step
        try:
            if not step["works"]:
                return   # nothing was sent: the other ranks' step check sees the skipped step
            for b in self._buckets[step["next"]:]:
                b.buf[:] = 0
                self._mark(b, _ABANDONED)
            self._reduce_the_rest()
        finally:
            self._step = None
            self._sync_next_backward = False
        raise RuntimeError(f"DistributedDataParallel: the backward of step {self._steps} on rank "
                           f"{self._rank} raised after it had started reducing gradients; the other "
                           f"ranks were told and stop too (the ranks are out of step)")

    def _shadow_backward(self):
        """A joined rank's part in a step of the ranks still training (ddp_join.py): the same
        reductions, of zero gradients and counts, marked joined; .grad is left as it is."""
        for b in self._buckets:
            b.buf[:] = 0
            b.pending = 0
            self._mark(b, _JOINED)
        self._step = {"next": 0, "works": [], "polled": 0}
        try:
            self._reduce_the_rest()
            self._check_steps()
        finally:
            self._step = None

    def _check_steps(self):
        """Every rank's step in every bucket, the same on all ranks still training (joined ranks
        shadow: ddp_join.py), or the same error on all."""
        for bi, b in enumerate(self._buckets):
            s = np.rint(b.steps.astype(np.float64)).astype(np.int64)
            status, steps = s[:, 0], s[:, 1] + _DIGIT * s[:, 2]
            training = status == _OK
            if (training | (status == _JOINED)).all() and (steps[training] == steps[training][:1]).all():
                continue
            gone = [r for r in range(self._world) if status[r] == _ABANDONED]
            if gone:
                raise RuntimeError(
                    f"DistributedDataParallel: the backward of step {steps[gone[0]]} on rank {gone[0]} "
                    f"raised after it had started reducing gradients; no gradient was averaged "
                    f"(.grad keeps this rank's own)")
            odd = (status != _OK) & (status != _JOINED)
            if odd.any():
                raise RuntimeError(
                    f"DistributedDataParallel: gradient bucket {bi} holds no step marker from rank "
                    f"{int(np.flatnonzero(odd)[0])}: the ranks' gradient reductions are "
                    f"out of step; no gradient was averaged (.grad keeps this rank's own)")
            each = ", ".join(f"rank {r} at step {steps[r]}" if training[r] else f"rank {r} joined"
                             for r in range(self._world))
            raise RuntimeError(
                f"DistributedDataParallel: the ranks reduce gradients of different steps ({each}; "
                f"a step is a backward that reduces gradients, or a forward in training mode with "
                f"grad enabled whose backward never came): a rank skipped a batch; no gradient "
                f"was averaged (.grad keeps this rank's own)")


def _device_index(device):
    """0 for 1, "cuda:1" -> 1, a device object -> its index (torch's _get_device_index)."""
    if isinstance(device, int):
        return device
    text = str(device)
    return int(text.split(":")[1]) if ":" in text else 0


def _make_hook(ddp_ref, i):
    def hook(p):
        ddp = ddp_ref()
        if ddp is not None:
            ddp._grad_ready(i)
    return hook


# torch.nn.parallel.distributed (where torch defines DistributedDataParallel): this module
distributed = sys.modules[__name__]
sys.modules[__name__ + ".distributed"] = distributed
