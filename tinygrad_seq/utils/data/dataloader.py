"""PyTorch's DataLoader and its default collate, running in the calling process."""
import collections.abc
import copy
import multiprocessing
import numbers
import os
import warnings
from typing import Generic, TypeVar

import numpy as np

from tinygrad_seq.creation import as_tensor, stack
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.utils.data.dataset import IterableDataset
from tinygrad_seq.utils.data.loader_iter import InProcessWorkersLoaderIter, SingleProcessLoaderIter
from tinygrad_seq.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from tinygrad_seq.utils.data.worker import get_worker_info  # noqa: F401  (torch's import path too)

T_co = TypeVar("T_co", covariant=True)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_convert(data):
    """numpy arrays and scalars (not of strings or objects) to Tensors of their dtype (int32
    stays int32, as torch.as_tensor), recursing into dicts and sequences; the collate of
    batch_size=None."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind not in "USO":
        return as_tensor(np.asarray(data))   # an array's memory shared, as torch's
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {k: default_convert(data[k]) for k in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def _same_mapping(like, values):
    """values (a dict) in the mapping type of `like`, as torch's collate: a mutable mapping is
    copied and updated (a defaultdict keeps its default_factory, an OrderedDict its class), an
    immutable one rebuilt from a dict, and one that allows neither gives the plain dict."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            out = copy.copy(like)
            out.update(values)
            return out
        return type(like)(values)
    except TypeError:
        return values


def _same_sequence(like, values):
    """values (a list) in the sequence type of `like`, as torch's collate (a list when the type
    can be neither copied and set nor built from a list, e.g. range)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            out = copy.copy(like)
            for i, v in enumerate(values):
                out[i] = v
            return out
        return type(like)(values)
    except TypeError:
        return values


def default_collate(batch):
    """PyTorch's default_collate: a list of samples -> one batch. Tensors and numpy arrays are
    stacked on a new first dim (their dtype kept), Python floats become a float64 Tensor, ints and
    bools what ts.tensor(batch) makes of them (int64, bool, float32 with a float among them); strings stay a list; dicts, namedtuples, tuples and lists are collated field by
    field (a tuple gives a list, as PyTorch's)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, (str, bytes)):   # before numpy's: np.str_ is a str (torch's order too)
        return batch                     # as given (a list from the loader, an array of str), as PyTorch's
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic):
        if elem.dtype.kind in "USOMm":   # strings, objects, dates: no tensor dtype
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found an array of {elem.dtype}")
        if isinstance(elem, np.generic):   # numpy scalars: torch's as_tensor(batch)
            return as_tensor(list(batch))
        arrays = [np.asarray(b) for b in batch]
        for i, a in enumerate(arrays):
            if a.shape != arrays[0].shape:
                raise ShapeMismatch(f"stack expects each tensor to be equal size, but got "
                                    f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at entry {i}")
        dt = arrays[0].dtype
        if dt.kind in "biuf" and all(a.dtype == dt for a in arrays):   # one dtype: kept (int32 stays int32)
            return Tensor._wrap(np.stack(arrays))
        # mixed or unsupported dtypes: each as_tensor (an unsupported one refused), then stacked
        # with torch's type promotion (float32 beside int64 is float32)
        return stack([as_tensor(a) for a in arrays], 0)
    if isinstance(elem, numbers.Integral):
        # torch.tensor(batch): an int or bool first element lets the others decide ([1, 2.5] is
        # float32, [True, 2] int64), where a float first element makes float64
        return Tensor(list(batch))
    if isinstance(elem, numbers.Real):
        for b in batch:   # torch.tensor(batch, dtype=float64)'s TypeError (None or a str is no nan / number)
            if not isinstance(b, numbers.Real) and not (isinstance(b, Tensor) and b.numel() == 1):
                raise TypeError(f"must be real number, not {type(b).__name__}")
        return Tensor(np.array([float(b) for b in batch], dtype=np.float64))
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(b) != n for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(s) for s in transposed]
        return _same_sequence(elem, [default_collate(s) for s in transposed])
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem).__name__}")


_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader(Generic[T_co]):
    """Batches of a dataset, PyTorch's: batch_size, shuffle, sampler, batch_sampler, drop_last,
    collate_fn, generator. num_workers > 0 loads in this process with emulated workers
    (loader_iter, worker): each seeded as torch's worker processes, running worker_init_fn(id)
    and describing itself to get_worker_info(); prefetch_factor sets how far ahead the sampler
    is read, persistent_workers keeps the workers across epochs. pin_memory, timeout and
    multiprocessing_context (checked as torch checks it) have no effect.
    Generic as torch's, so `DataLoader[List[Tensor]]` works in type hints."""

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2                     # torch's default with workers
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset, self.num_workers, self.pin_memory = dataset, num_workers, pin_memory
        self.timeout, self.worker_init_fn, self.generator = timeout, worker_init_fn, generator
        self.multiprocessing_context = multiprocessing_context   # checked by the setter
        self.pin_memory_device, self.in_order = pin_memory_device, in_order
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._dataset_len_read = None   # len(dataset) as len(loader) last read it (IterableDataset)
        self._iterator = None           # the iterator kept with persistent_workers
        self.__initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        """torch's checks: a start method's name (made a context) or a multiprocessing context,
        only with num_workers > 0. Workers run in this process, so the context is kept unused."""
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start "
                                     f"method in {methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context object or "
                                f"a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self.__multiprocessing_context = context

    def __setattr__(self, attr, value):
        # torch's guard: the batching these fix was built in __init__, so a later change would be ignored
        if self.__initialized and attr in _FIXED_AFTER_INIT:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def check_worker_number_rationality(self):
        """torch's warning when num_workers exceeds the CPUs this process may use (made at
        construction and with each new workers iterator, as torch's)."""
        if not self.num_workers:
            return
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            suggest = ("DataLoader is not able to compute a suggested max number of worker in current system."
                       if cpus is None else
                       f"Our suggested max number of worker in current system is {cpus}"
                       f"{'' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'}, "
                       "which is smaller than what this DataLoader is going to create.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {suggest} "
                          "Please be aware that excessive worker creation might get DataLoader running slow or "
                          "even freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                          stacklevel=3)

    def __iter__(self):
        if self.pin_memory:   # torch's warning each time a loader is iterated without an accelerator
            from tinygrad_seq.device import cuda_available
            if not cuda_available():
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                              "pinned memory won't be used.", stacklevel=2)
        if self.num_workers == 0:
            if self.timeout != 0:   # torch's _SingleProcessDataLoaderIter assertion
                raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
            return SingleProcessLoaderIter(self)
        if not self.persistent_workers:
            self.check_worker_number_rationality()
            return InProcessWorkersLoaderIter(self)
        if self._iterator is None:    # persistent workers: made once, reset for each epoch
            self.check_worker_number_rationality()
            self._iterator = InProcessWorkersLoaderIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self):
        if self._iterable:
            n = self._dataset_len_read = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


# torch.utils.data.dataloader's names for the iterator classes (isinstance checks in programs)
_SingleProcessDataLoaderIter = SingleProcessLoaderIter
_MultiProcessingDataLoaderIter = InProcessWorkersLoaderIter
