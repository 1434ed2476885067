"""Random streams for samplers and random_split, from a `generator=` argument.

A generator is anything with a `numpy_generator` attribute (a numpy.random.Generator whose state
advances as it is used, as torch.Generator's does): tinygrad_seq.Generator, or the fallback
below while tinygrad_seq has none. A numpy Generator and a plain int seed are accepted too.
With None, each use draws a fresh seed from the global stream that ts.manual_seed seeds, as
PyTorch draws one from its default generator."""
import numbers

import numpy as np

from tinygrad_seq import random as _random


class _SeededGenerator:
    """torch.Generator's seeding subset: manual_seed(seed) -> self, initial_seed(), seed()."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(67280421310721)   # torch.Generator()'s default seed

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.numpy_generator = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s


def _engine_generator():
    import tinygrad_seq as ts
    return getattr(ts, "Generator", None)


Generator = _engine_generator() or _SeededGenerator


def numpy_rng(generator, name):
    """A numpy Generator for one use of `generator` (see the module docstring)."""
    if generator is None:
        return np.random.default_rng(int(_random.generator().integers(0, 2 ** 63)))
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    rng = getattr(generator, "numpy_generator", None)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"{name}: generator must be a tinygrad_seq.Generator (an object with a "
                    f"numpy_generator attribute), a numpy Generator, an int seed or None, "
                    f"got {type(generator).__name__}")


def stream(generator, name):
    """A stream that persists across uses: int seeds become one Generator here, so successive
    epochs differ, as with a seeded torch.Generator."""
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    return generator
