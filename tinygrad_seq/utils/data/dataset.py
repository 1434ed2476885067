"""PyTorch's datasets: Dataset, IterableDataset, TensorDataset, StackDataset, Subset,
ConcatDataset, ChainDataset, and random_split."""
import bisect
import itertools
import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Generic, TypeVar

from tinygrad_seq.utils.data.generator import numpy_rng

T_co = TypeVar("T_co", covariant=True)


class DatasetAssertion(AssertionError, ValueError):
    """A dataset built from parts that do not fit (torch asserts: AssertionError; a ValueError
    too, for callers of this library's earlier versions)."""


class Dataset(Generic[T_co]):
    """A map-style dataset: __getitem__(index) and usually __len__. Generic as torch's, so
    `Dataset[Tuple[Tensor, int]]` works as a base class in type hints."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset that is a stream: __iter__ yields samples. __iter__ stays abstract (Iterable's),
    so IterableDataset() or a subclass without __iter__ is a TypeError when made, as torch's."""

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample i is (t[i] for t in tensors); all tensors share their first dimension. With no
    tensors, as torch's: samples are () and len() is an IndexError."""

    def __init__(self, *tensors):
        n = tensors[0].shape[0] if tensors else 0
        for t in tensors:
            if t.shape[0] != n:
                raise DatasetAssertion(f"Size mismatch between tensors: first dimensions "
                                       f"{[t.shape[0] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        if not self.tensors:
            raise IndexError("tuple index out of range: a TensorDataset of no tensors has no length")
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Several datasets of one length side by side: sample i is (d[i] for d in args), or with
    keyword datasets {name: d[i]}."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) "
                             "like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError(f"Size mismatch between datasets: lengths {[len(d) for d in parts]}")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        """One batch; a part with __getitems__ fetches its share in one call, as torch's."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)
        columns = []
        for key, d in parts:
            if callable(getattr(d, "__getitems__", None)):
                items = d.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(items)}")
            else:
                items = [d[i] for i in indices]
            columns.append((key, items))
        if named:
            return [{key: items[r] for key, items in columns} for r in range(len(indices))]
        return [tuple(items[r] for _, items in columns) for r in range(len(indices))]

    def __len__(self):
        return self._length


class Subset(Dataset):
    """The samples of dataset at indices, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


class ConcatOfIterable(AssertionError, TypeError):
    """ConcatDataset given an IterableDataset (torch asserts; a TypeError here before)."""


class ConcatDataset(Dataset):
    """Several map-style datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise DatasetAssertion("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ConcatOfIterable("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    @staticmethod
    def cumsum(sequence):
        """The running totals of the datasets' lengths (torch's static method)."""
        sizes, total = [], 0
        for d in sequence:
            total += len(d)
            sizes.append(total)
        return sizes

    @property
    def cummulative_sizes(self):   # torch's deprecated spelling, with its warning
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`", FutureWarning, stacklevel=2)
        return self.cumulative_sizes

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += n
        if idx >= n:
            raise IndexError(f"index {idx} is out of range for a dataset of {n} samples")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


class ChainOfMapStyle(AssertionError, TypeError):
    """ChainDataset given a map-style dataset (torch asserts; a TypeError here before)."""


def _iterable_part(d):
    if not isinstance(d, IterableDataset):
        raise ChainOfMapStyle("ChainDataset only supports IterableDataset")
    return d


class ChainDataset(IterableDataset):
    """Several iterable datasets chained; a map-style one among them is an AssertionError when
    reached by iteration or len(), as torch's."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            yield from _iterable_part(d)

    def __len__(self):
        return sum(len(_iterable_part(d)) for d in self.datasets)


def random_split(dataset, lengths, generator=None):
    """Split dataset into non-overlapping Subsets of the given lengths (ints summing to
    len(dataset), or fractions summing to 1: floors, with the remainder handed out one by one
    from the first split, as PyTorch does) over a random permutation."""
    n = len(dataset)
    # integer 0-d tensors (a tensor of lengths) as ints, as torch's indexing takes them (fractions
    # stay tensors: torch floors n * fraction in their dtype)
    lengths = [s.item() if getattr(s, "ndim", 1) == 0 and getattr(getattr(s, "dtype", None), "kind", "") in "iu"
               and hasattr(s, "item") else s for s in lengths]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
        lengths = sizes
    if any(not isinstance(s, numbers.Integral) for s in lengths):
        raise ValueError(f"random_split: lengths must be ints or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})!")
    perm = numpy_rng(generator, "random_split").permutation(n).tolist()
    # split k is perm[offset_k - length_k:offset_k], offset_k the running sum, as torch slices:
    # a negative length (torch does not check) gives what those Python slices give
    return [Subset(dataset, perm[offset - s:offset])
            for offset, s in zip(itertools.accumulate(lengths), lengths)]
