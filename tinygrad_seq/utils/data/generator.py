"""Random streams for samplers and random_split, from a `generator=` argument.

A generator is a tinygrad_seq.Generator (its numpy stream advances as it is used, as
torch.Generator's does); a numpy Generator and a plain int seed are accepted too.
With None, each use draws a fresh seed from the global stream that ts.manual_seed seeds, as
PyTorch draws one from its default generator."""
import numbers

import numpy as np

from tinygrad_seq import random as _random


Generator = _random.Generator


def numpy_rng(generator, name):
    """A numpy Generator for one use of `generator` (see the module docstring)."""
    if generator is None:
        return np.random.default_rng(int(_random.generator().integers(0, 2 ** 63)))
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if isinstance(generator, Generator):
        return generator.rng
    raise TypeError(f"{name}: generator must be a tinygrad_seq.Generator, a numpy Generator, "
                    f"an int seed or None, "
                    f"got {type(generator).__name__}")


def stream(generator, name):
    """A stream that persists across uses: int seeds become one Generator here, so successive
    epochs differ, as with a seeded torch.Generator."""
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    return generator
