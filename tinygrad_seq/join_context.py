"""Join, Joinable, JoinHook: torch.distributed.algorithms.join's context manager for training
with uneven inputs (ranks that run out of data before the others), as torch 2.13's.

    with Join([ddp_model]):          # or: with ddp_model.join():
        for batch in my_batches:     # a different number of batches on each rank
            ...

Protocol. Every forward of a Joinable inside the context (Join.notify_join_context, called by
the first Joinable) starts an all-reduce of 1 that says "this rank is still training". A rank
that leaves the loop enters __exit__ and, until every rank has, repeatedly: all-reduces 0 (the
sum is the number of ranks still training; 0 ends the loop), then runs each Joinable's
JoinHook.main_hook, which shadows the collectives that Joinable's training step runs on the
other ranks. At the end every rank runs post_hook(is_last_joiner). throw_on_early_termination:
a rank that runs out raises "Rank r exhausted all inputs." and the others raise at their next
forward instead of shadowing.

Both sides of each pair of collectives are of the same kind (the notify all-reduce and the
count all-reduce are both non-blocking, the termination ones both blocking): MPI does not match
a blocking collective with a non-blocking one. This module lives outside tinygrad_seq.distributed
so that nn.parallel can subclass Joinable without importing it; tinygrad_seq.distributed.
algorithms.join re-exports these names.
"""
from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

_WARN_THRESHOLD = 1000   # torch's: shadowed iterations before the "uneven input skew" warning


class JoinHook:
    """What a Joinable does while its rank has joined: main_hook() shadows one training step of
    the ranks still training; post_hook(is_last_joiner) runs once when every rank has joined."""

    def main_hook(self) -> None:
        """Shadow one iteration of the collectives of the ranks still training."""

    def post_hook(self, is_last_joiner: bool) -> None:
        """Run after every rank has joined (is_last_joiner: this rank was among the last)."""


class _JoinConfig(NamedTuple):
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(ABC):
    """A class that can take part in Join: join_hook(**kwargs) gives its JoinHook; join_device
    and join_process_group say where Join's own all-reduces run. Its constructor must call
    Joinable.__init__, and its per-iteration collective code Join.notify_join_context(self)."""

    @abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs) -> JoinHook:
        """The JoinHook for this Joinable (kwargs: Join's extra keyword arguments)."""

    @property
    @abstractmethod
    def join_device(self):
        """The device of Join's all-reduces."""

    @property
    @abstractmethod
    def join_process_group(self) -> Any:
        """The process group of Join's all-reduces (None: the default group)."""


class Join:
    """Context manager over `joinables` (at least one, all on the same process group).
    enable=False makes it do nothing; throw_on_early_termination=True: every rank raises as
    soon as one runs out of inputs. Extra keyword arguments go to each joinable's join_hook."""

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        joinables = list(joinables)
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        for j in joinables:
            if not isinstance(j, Joinable):
                raise TypeError(f"Join: {type(j).__name__} is not a Joinable")
        self._joinables = joinables
        self._join_hooks = [j.join_hook(**kwargs) for j in joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        for i, j in enumerate(joinables):
            j._join_config = _JoinConfig(enable=enable,
                                         throw_on_early_termination=throw_on_early_termination,
                                         is_first_joinable=i == 0)
        self._process_group = joinables[0].join_process_group
        if any(j.join_process_group is not self._process_group for j in joinables[1:]):
            raise ValueError("Using join context manager with multiple process groups")
        self._device = joinables[0].join_device
        from tinygrad_seq import distributed as dist
        self._dist = dist
        self._rank = dist.get_rank(self._process_group)

    def __enter__(self):
        return None

    def __exit__(self, type, value, traceback):
        """Shadow the ranks still training until every rank has joined, then run the post-hooks."""
        if not self._enable or type:
            return   # an exception in the block propagates as it is
        is_last_joiner, iterations = True, 0
        while self._count_ranks_training() > 0:
            if iterations > _WARN_THRESHOLD:
                warnings.warn(
                    f"Detected uneven input skew of greater than {_WARN_THRESHOLD}. This means that "
                    f"rank {self._rank} has at least {_WARN_THRESHOLD} fewer inputs than other "
                    f"currently-active ranks. This level of skew could lead to performance "
                    f"degradation during training.", stacklevel=2)
            if self._throw_on_early_termination:
                self._notify_procs_to_terminate()
            for hook in self._join_hooks:
                hook.main_hook()
            is_last_joiner = False
            iterations += 1
        for hook in self._join_hooks:
            hook.post_hook(is_last_joiner)

    def _count_ranks_training(self) -> int:
        """The sum of the notify all-reduces (1 from each rank still training, 0 from here)."""
        from tinygrad_seq.creation import zeros
        count = zeros(1, device=self._device)
        self._dist.all_reduce(count, group=self._process_group, async_op=True).wait()
        return int(count.item())

    def _notify_procs_to_terminate(self):
        from tinygrad_seq.creation import ones
        self._dist.all_reduce(ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(joinable):
        """Called by a Joinable before each iteration's collectives: the first joinable starts
        the all-reduce of 1 that Join's count on the joined ranks pairs with, and returns its
        Work (None where it is not the first joinable or join is off). With
        throw_on_early_termination it raises on every rank once one has run out."""
        if not hasattr(joinable, "_join_config"):
            raise AssertionError(f"Check that the {type(joinable)} constructor calls the "
                                 f"``Joinable`` constructor")
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        from tinygrad_seq import distributed as dist
        from tinygrad_seq.creation import ones, zeros
        group = joinable.join_process_group
        work = dist.all_reduce(ones(1, device=joinable.join_device), group=group, async_op=True)
        if config.throw_on_early_termination:
            joined = zeros(1, device=joinable.join_device)
            dist.all_reduce(joined, group=group)
            if joined.item():
                work.wait()
                raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing "
                                   "across all ranks.")
        return work
