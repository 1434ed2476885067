"""PyTorch's samplers: iterables of dataset indices (or, BatchSampler, of lists of indices)."""
import numbers
from typing import Generic, TypeVar

import numpy as np

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.utils.data.generator import numpy_rng, stream

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base of the samplers; Generic as torch's, so `Sampler[int]` works in type hints."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _positive_int(name, what, v):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{name}: {what} should be a positive integer value, but got {what}={v!r}")
    return int(v)


class RandomSampler(Sampler):
    """A random permutation of the indices (each epoch a new one), or with replacement=True
    num_samples indices drawn uniformly."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, stream(generator, "RandomSampler")
        _positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    _CHUNK = 1 << 16   # draws made at a time: num_samples may be huge (an "infinite" loader's 1e10)

    def __iter__(self):   # a generator function: the draws start at the first next(), as torch's
        n, k = len(self.data_source), self.num_samples
        rng = numpy_rng(self.generator, "RandomSampler", fresh=True)
        yield from self._with_replacement(rng, n, k) if self.replacement else self._permutations(rng, n, k)

    def _with_replacement(self, rng, n, k):
        # torch's 32 at a time from a generator of the user's: an epoch stopped early leaves it
        # where torch's is (a private one, seeded from the global stream, may read ahead)
        chunk = self._CHUNK if self.generator is None else 32
        while k > 0:
            take = min(k, chunk)
            yield from rng.integers(0, n, take).tolist()
            k -= take

    @staticmethod
    def _permutations(rng, n, k):
        # num_samples above n: whole permutations, then part of one more (PyTorch's)
        for _ in range(k // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:k % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, stream(generator, "SubsetRandomSampler")

    def __iter__(self):   # a generator function: the draw is at the first next(), as torch's
        perm = numpy_rng(self.generator, "SubsetRandomSampler").permutation(len(self.indices))
        for i in perm.tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probability proportional to weights (`.weights`, a float64
    Tensor, as torch's). Without replacement it is torch.multinomial's draw: once the non-zero
    weights are used up, zero-weight indices follow, and asking for more samples than there are
    weights is a RuntimeError when iterating, as in torch."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _positive_int("WeightedRandomSampler", "num_samples", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {w.shape}")
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and "
                               "not all zero")
        self.weights = Tensor(w)
        self.num_samples, self.replacement = int(num_samples), replacement
        self.generator = stream(generator, "WeightedRandomSampler")

    def __iter__(self):   # a generator function: the draw is at the first next(), as torch's
        yield from self._draw()

    def _draw(self):
        w = np.asarray(self.weights.numpy(), np.float64)
        rng = numpy_rng(self.generator, "WeightedRandomSampler")
        if hasattr(rng, "stream"):   # torch's stream: torch.multinomial(weights, n, replacement)'s draws
            from tinygrad_seq.creation import _multinomial_rows
            if not self.replacement and self.num_samples > len(w):
                raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
            return _multinomial_rows(rng.stream, w[None], self.num_samples, self.replacement,
                                     self.weights)[0].tolist()
        if self.replacement:
            return rng.choice(len(w), self.num_samples, replace=True, p=w / w.sum()).tolist()
        if self.num_samples > len(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        # torch.multinomial's race: the largest w / Exp(1) keys win, which is drawing one at a
        # time in proportion to the weights left; zero weights all key 0 and come last
        keys = w / rng.exponential(size=len(w))
        return np.argsort(-keys, kind="stable")[:self.num_samples].tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of batch_size indices from sampler; the last shorter one unless drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        _positive_int("BatchSampler", "batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
