"""What iter(DataLoader) returns, as torch's _SingleProcessDataLoaderIter and
_MultiProcessingDataLoaderIter: next() gives the batches, len() is the loader's.

num_workers > 0 runs the workers in this process (worker.EmulatedWorker), in torch's order:
batch k is made by worker k % num_workers (skipping workers whose IterableDataset stream has
ended), and the sampler is read prefetch_factor * num_workers batches ahead, as torch's iterator
feeds its workers' queues, so a sampler drawing from the global stream draws when torch's does."""
import collections
import itertools
import warnings

from tinygrad_seq.utils.data.fetch import make_fetcher
from tinygrad_seq.utils.data.generator import new_seed
from tinygrad_seq.utils.data.worker import EmulatedWorker, worker_dataset


def _index_iter(loader):
    """The indices fetched batch by batch: the batch sampler's lists, the sampler's indices, or
    for an IterableDataset placeholders (a list of batch_size Nones per batch, else None)."""
    if loader._iterable:
        return itertools.repeat(None if loader.batch_size is None else [None] * loader.batch_size)
    return iter(loader.batch_sampler if loader._auto_collation else loader.sampler)


class BaseLoaderIter:
    """next() counting the batches: an IterableDataset that yields more than the len() that
    len(loader) read warns (UserWarning) at each batch past it, as torch's."""

    def __init__(self, loader):
        self._loader = loader
        self._indices = _index_iter(loader)        # lazy samplers: no draw before the first next()
        self._base_seed = new_seed(loader.generator)   # torch's workers' base seed: one draw
        self._num_yielded = 0
        self._dataset_len_read = loader._dataset_len_read

    def _reset(self, loader):
        self._indices = _index_iter(loader)
        self._num_yielded = 0
        self._dataset_len_read = loader._dataset_len_read

    def __iter__(self):
        return self

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._loader._iterable and self._dataset_len_read is not None
                and self._num_yielded > self._dataset_len_read):
            message = (f"Length of IterableDataset {self._loader.dataset} was reported to be "
                       f"{self._dataset_len_read}(when accessing len(dataloader)), but "
                       f"{self._num_yielded} samples have been fetched. ")
            if self._loader.num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not properly "
                            "configuring the IterableDataset replica at each worker.")
            warnings.warn(message, UserWarning, stacklevel=2)
        return data

    def __len__(self):
        return len(self._loader)


class SingleProcessLoaderIter(BaseLoaderIter):
    """num_workers=0: each next() fetches one batch; an exception while fetching it is raised
    and the following next() fetches the batch after it."""

    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = make_fetcher(loader)

    def _next_data(self):
        return self._fetcher.fetch(next(self._indices))


class InProcessWorkersLoaderIter(BaseLoaderIter):
    """num_workers > 0, the workers emulated in this process (see the module docstring). Each
    worker is seeded from the base seed and runs worker_init_fn(id) when the iterator is made;
    what worker_init_fn raises comes out of that worker's first batch. With persistent_workers
    the loader keeps this iterator and _reset starts the next epoch on the same workers."""

    def __init__(self, loader):
        super().__init__(loader)
        n = loader.num_workers
        self._workers = [EmulatedWorker(i, n, self._base_seed, worker_dataset(loader.dataset)) for i in range(n)]
        self._fetchers = [None] * n
        for w in self._workers:
            w.start(loader.worker_init_fn)
        # torch's _reset(first_iter=True): iter() of the sampler a second time (a batch sampler
        # that shuffles in __iter__ draws twice, and the program's random stream after it with it)
        self._reset(loader)

    def _reset(self, loader):
        super()._reset(loader)
        self._start_epoch(loader)

    def _start_epoch(self, loader):
        n = loader.num_workers
        for w in self._workers:
            if w.init_error is None:
                with w.active():
                    try:
                        self._fetchers[w.info.id] = make_fetcher(loader, w.info.dataset)   # iter() per worker
                    except Exception as e:  # noqa: BLE001  reported by the worker's first batch
                        w.init_error = e
        self._working = [True] * n
        self._next_worker = itertools.cycle(range(n))
        self._tasks = collections.deque()          # (worker id, index), oldest first
        for _ in range(loader.prefetch_factor * n):
            self._put_task()

    def _put_task(self):
        """The sampler's next index to the next working worker (nothing once either runs out)."""
        try:
            index = next(self._indices)
        except StopIteration:
            return
        for _ in range(len(self._workers)):
            wid = next(self._next_worker)
            if self._working[wid]:
                self._tasks.append((wid, index))
                return

    def _next_data(self):
        while self._tasks:
            wid, index = self._tasks.popleft()
            if not self._working[wid]:
                continue                           # its stream ended after the task was queued
            worker = self._workers[wid]
            try:
                if worker.init_error is not None:
                    raise worker.init_error
                with worker.active():
                    data = self._fetchers[wid].fetch(index)
            except StopIteration:
                if not self._loader._iterable:
                    raise
                self._working[wid] = False
                self._put_task()
                continue
            except Exception:
                self._put_task()
                raise
            self._put_task()
            return data
        raise StopIteration
