"""DataLoader workers emulated in the calling process (torch.utils.data._utils.worker's part that a
program sees): get_worker_info(), WorkerInfo, and each worker's own random state.

With num_workers > 0 torch loads in worker processes, each seeded by the iterator's base seed
(base_seed + id for torch's and Python's generators, _generate_state for numpy's), running
worker_init_fn(id) first, with get_worker_info() describing it. Here a worker is an
EmulatedWorker: while it runs (EmulatedWorker.active), the global ts generator, Python's `random`
and numpy's global RandomState hold the worker's states and get_worker_info() returns its
WorkerInfo; on leaving, the worker's states are kept and the main program's put back, so the
main program's streams never see a worker's draws, as with separate processes."""
import contextlib
import copy
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_seq import random as _random

_worker_info = None   # the running worker's WorkerInfo; None in the main program


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """torch's WorkerInfo: id (0 .. num_workers - 1), num_workers, seed (base_seed + id) and the
    worker's dataset (worker_dataset: a copy of the loader's). Frozen: assigning an attribute raises dataclasses.FrozenInstanceError, as torch's."""
    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str = "multiprocessing"


def worker_dataset(dataset, depth=3):
    """A worker's own dataset: a copy of the loader's, so that what worker_init_fn or __iter__
    sets on it (torch's IterableDataset recipe shards by setting ds.start / ds.end on
    get_worker_info().dataset) stays the worker's, as in torch's worker processes, which each have
    a copy; the loader's dataset is left as it was. Shallow, but with its own random generators
    (numpy's, Python's, ours: an augmentation's draws start, per worker and per epoch, where the
    loader's dataset stands, as in a forked process) and its own copies of the datasets it wraps
    (a Subset's, a ConcatDataset's), `depth` levels down. Arrays, tensors, lists and caches it
    holds are shared (no copy of the data), so changes inside them are seen by every worker. A
    dataset copy.copy cannot copy is shared."""
    try:
        own = copy.copy(dataset)
    except Exception:  # noqa: BLE001  (an object that refuses copying: the workers share it)
        return dataset
    fields = getattr(own, "__dict__", None)
    if fields is None:   # (__slots__ only: the shallow copy)
        return own
    for name, value in list(fields.items()):
        if isinstance(value, _random.Generator):   # (its numpy interface does not deep-copy)
            fields[name] = _random.Generator().set_state(value.get_state())
        elif isinstance(value, _GENERATORS):
            fields[name] = copy.deepcopy(value)
        elif depth and _is_dataset(value):
            fields[name] = worker_dataset(value, depth - 1)
        elif depth and type(value) is list and value and all(_is_dataset(v) for v in value):
            fields[name] = [worker_dataset(v, depth - 1) for v in value]   # ConcatDataset.datasets
    return own


_GENERATORS = (np.random.Generator, np.random.RandomState, random.Random)


def _is_dataset(value):
    from tinygrad_seq.utils.data.dataset import Dataset, IterableDataset
    return isinstance(value, (Dataset, IterableDataset))


def get_worker_info():
    """The running worker's WorkerInfo inside worker_init_fn, a dataset's __getitem__ /
    __iter__ / __next__ or collate_fn under a loader with num_workers > 0; None elsewhere."""
    return _worker_info


def _generate_state(base_seed, worker_id):
    """torch's numpy seed for a worker (numpy's SeedSequence hashing, by O'Neill / the numpy
    developers, MIT licence, as torch adapted it): four uint32 words from (worker_id, base_seed)."""
    mask32, xshift = 0xFFFFFFFF, 16
    hash_a = 0x43B0D7E5

    def hash_word(value):
        nonlocal hash_a
        value = (value ^ hash_a) & mask32
        hash_a = (hash_a * 0x931E8875) & mask32
        value = (value * hash_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x, y):
        r = ((0xCA01F9DD * x) & mask32) - ((0x4973F715 * y) & mask32)
        r &= mask32
        return (r ^ (r >> xshift)) & mask32

    pool = [hash_word(e) for e in (worker_id, base_seed & mask32, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_word(pool[src]))
    hash_b, state = 0x8B51F9DD, []
    for word in pool:
        word = (word ^ hash_b) & mask32
        hash_b = (hash_b * 0x58F38DED) & mask32
        word = (word * hash_b) & mask32
        state.append((word ^ (word >> xshift)) & mask32)
    return state


class _RandomStates:
    """The three global streams a worker owns: the ts generator (its stream objects, swapped
    in place so the global Generator object stays the one everything refers to), Python's
    `random` and numpy's global RandomState."""

    def __init__(self, ts_parts, py_state, np_state):
        self.ts_parts, self.py_state, self.np_state = ts_parts, py_state, np_state

    @classmethod
    def current(cls):
        g = _random.default_generator
        return cls((g.stream, g.rng, g._seed), random.getstate(), np.random.get_state())

    def install(self):
        g = _random.default_generator
        g.stream, g.rng, g._seed = self.ts_parts
        random.setstate(self.py_state)
        np.random.set_state(self.np_state)


class EmulatedWorker:
    """Worker `worker_id` of `num_workers` for one DataLoader iterator (or, with
    persistent_workers, for all of them): its WorkerInfo and random states, seeded as torch's
    _worker_loop seeds a worker process. `init_error` is what worker_init_fn raised, if it did."""

    def __init__(self, worker_id, num_workers, base_seed, dataset):
        seed = base_seed + worker_id
        self.info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        main = _RandomStates.current()
        try:
            random.seed(seed)
            _random.manual_seed(seed)
            np.random.seed(_generate_state(base_seed, worker_id))
            self._states = _RandomStates.current()
        finally:
            main.install()
        self.init_error = None

    @contextlib.contextmanager
    def active(self):
        """Run the block as this worker: its random states and get_worker_info() in place."""
        global _worker_info
        main, outer_info = _RandomStates.current(), _worker_info
        self._states.install()
        _worker_info = self.info
        try:
            yield self
        finally:
            self._states = _RandomStates.current()
            main.install()
            _worker_info = outer_info

    def start(self, worker_init_fn):
        """worker_init_fn(id) as the worker's first step; an exception is kept for the worker's
        first batch, which raises it (torch's worker reports it there)."""
        if worker_init_fn is None:
            return
        with self.active():
            try:
                worker_init_fn(self.info.id)
            except Exception as e:  # noqa: BLE001  re-raised at this worker's first batch, as torch's
                self.init_error = e
