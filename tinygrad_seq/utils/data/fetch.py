"""A DataLoader's fetchers (torch's _MapDatasetFetcher / _IterableDatasetFetcher): one call of
fetch() makes one batch, so an exception while making a batch ends that batch only and the
next call makes the next one, as in torch."""
import numpy as np

from tinygrad_seq.utils.data.dataset import TensorDataset


class MapFetcher:
    """Batches of a map-style dataset: fetch(indices) collates dataset[i] for a list of indices
    (dataset.__getitems__(indices) where it has one); without auto-collation fetch(index)
    converts the one sample dataset[index]."""

    def __init__(self, dataset, auto_collation, collate_fn, whole_batches):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.whole_batches = whole_batches   # TensorDataset: one gather per tensor for a batch

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.whole_batches:
            index = list(index)
            # integer indices only (a tuple, slice or float index, or an empty batch, goes sample by
            # sample and collates, with torch's results and errors)
            if index and all(type(i) is int or isinstance(i, np.integer) for i in index):
                rows = np.asarray(index, np.int64)
                return [t[rows] for t in self.dataset.tensors]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return self.collate_fn(getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableFetcher:
    """Batches of an IterableDataset's stream (iter(dataset) when made): fetch(placeholder) with
    auto-collation takes len(placeholder) samples (fewer at the end; none, or a short batch under
    drop_last, is StopIteration), without it one sample. After the stream ends every fetch is
    StopIteration."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.stream, self.ended = iter(dataset), False
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last

    def fetch(self, placeholder):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.stream))
        samples = []
        for _ in placeholder:
            try:
                samples.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(placeholder)):
            raise StopIteration
        return self.collate_fn(samples)


def uses_whole_batches(loader):
    """Whether a batch can be one gather per tensor: a TensorDataset whose sample fetching is
    TensorDataset's own (a subclass's __getitem__ / __getitems__ must run) under the default
    collate, which stacking the samples one by one would match."""
    from tinygrad_seq.utils.data.dataloader import default_collate
    kind = type(loader.dataset)
    return (isinstance(loader.dataset, TensorDataset) and loader.collate_fn is default_collate
            and kind.__getitem__ is TensorDataset.__getitem__
            and getattr(kind, "__getitems__", None) is None)


def make_fetcher(loader, dataset=None):
    """The fetcher torch's _DatasetKind.create_fetcher makes for loader, over ``dataset`` (a
    worker's copy) or the loader's dataset."""
    dataset = loader.dataset if dataset is None else dataset
    if loader._iterable:
        return IterableFetcher(dataset, loader._auto_collation, loader.collate_fn, loader.drop_last)
    return MapFetcher(dataset, loader._auto_collation, loader.collate_fn,
                      loader._auto_collation and uses_whole_batches(loader))
