"""DistributedDataParallel.join: training with a different number of batches on each rank.

    with ddp.join():                       # Join([ddp]) (tinygrad_seq/join_context.py)
        for x, y in my_batches:            # rank 0: 5 batches, rank 1: 3
            opt.zero_grad(); loss_fn(ddp(x), y).backward(); opt.step()

As torch's. Inside the context every forward of a rank still training runs, before the model:
Join's notify all-reduce, then DDP's step plan, a small all-reduce of one number per rank in
which rank r says (in its own slot) whether it still trains, whether this forward's backward will
reduce gradients and whether it would broadcast its buffers now. From the plan every rank knows
the ranks still training: buffers are broadcast from the highest of them (torch's authoritative
rank: rank 0 may have joined with stale BatchNorm statistics), and with
divide_by_initial_world_size=False the gradients are divided by their number instead of the
world size. A rank that has joined shadows each step (DDPJoinHook.main_hook): the plan (its slot
0), the buffer broadcast, and, when the step reduces gradients, every bucket with zero gradients
and zero counts, marked "joined" so that the step check leaves it out (through the comm hook,
if one is registered, as torch does). When all have joined, the parameters (and the buffers,
with broadcast_buffers) of the highest-ranked last joiner are broadcast to every rank, and every
rank takes its step count (the step check's).
"""
from __future__ import annotations

import numpy as np

from tinygrad_seq.join_context import Join, JoinHook
from tinygrad_seq.tensor import Tensor

_TRAINING, _REDUCES_GRADIENTS, _SENDS_BUFFERS = 1, 2, 4   # bits of a rank's slot in the plan


class StepPlan:
    """What the ranks agreed on for one step: `training` (the group ranks still training),
    `authority` (the highest of them), `reduces_gradients`, `sends_buffers` (from authority)."""
    __slots__ = ("training", "authority", "reduces_gradients", "sends_buffers")

    def __init__(self, slots):
        self.training = [r for r, s in enumerate(slots) if s & _TRAINING]
        self.authority = self.training[-1] if self.training else None
        self.reduces_gradients = any(s & _REDUCES_GRADIENTS for s in slots)
        self.sends_buffers = self.authority is not None and bool(slots[self.authority] & _SENDS_BUFFERS)


def exchange_plan(ddp, mine):
    """Every rank's slot (mine: this rank's bits; 0 for a joined rank): one non-blocking
    all-reduce waited for, on every rank alike."""
    slots = np.zeros(ddp._world, np.int64)
    slots[ddp._rank] = mine
    ddp._dist.all_reduce(Tensor._wrap(slots, "cpu"), group=ddp._group, async_op=True).wait()
    return StepPlan([int(s) for s in slots])


def forward_in_join(ddp, grad_enabled):
    """A training rank's collectives before its forward inside the join context."""
    work = Join.notify_join_context(ddp)   # raises on every rank under throw_on_early_termination
    mine = _TRAINING
    if grad_enabled and ddp.require_backward_grad_sync:
        mine |= _REDUCES_GRADIENTS
    if ddp.require_forward_param_sync and ddp.broadcast_buffers and _has_buffers(ddp):
        mine |= _SENDS_BUFFERS
    plan = exchange_plan(ddp, mine)
    if work is not None:
        work.wait()
    if plan.sends_buffers:
        ddp._broadcast_coalesced(list(ddp.module.buffers()), src=plan.authority)
    if grad_enabled:
        ddp._grad_divisor = ddp._world if ddp._divide_by_initial_world_size else len(plan.training)


def _has_buffers(ddp):
    return next(iter(ddp.module.buffers()), None) is not None


class DDPJoinHook(JoinHook):
    """DDP's JoinHook: main_hook shadows a training rank's step, post_hook syncs the model."""

    def __init__(self, ddp, divide_by_initial_world_size=True):
        from tinygrad_seq.nn.parallel import DistributedDataParallel
        if not isinstance(ddp, DistributedDataParallel):
            raise TypeError(f"DDP join hook requires passing in a DistributedDataParallel model "
                            f"object, got {type(ddp).__name__}")
        ddp._divide_by_initial_world_size = bool(divide_by_initial_world_size)
        self.ddp = ddp

    def main_hook(self):
        ddp = self.ddp
        plan = exchange_plan(ddp, 0)
        if plan.sends_buffers:
            ddp._broadcast_coalesced(list(ddp.module.buffers()), src=plan.authority)
        if plan.reduces_gradients:
            ddp._shadow_backward()

    def post_hook(self, is_last_joiner):
        """The model of the highest-ranked last joiner, on every rank; its step count too."""
        ddp = self.ddp
        votes = np.array([ddp._rank if is_last_joiner else -1, ddp._steps], np.int64)
        ddp._dist.all_reduce(Tensor._wrap(votes, "cpu"), op="max", group=ddp._group)
        authority, ddp._steps = int(votes[0]), int(votes[1])
        tensors = list(ddp.module.parameters())
        if ddp.broadcast_buffers:
            tensors += list(ddp.module.buffers())
        ddp._broadcast_coalesced(tensors, src=authority)
