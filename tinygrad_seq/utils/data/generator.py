"""Random streams for samplers and random_split, from a `generator=` argument.

A generator is a tinygrad_seq.Generator (its numpy stream advances as it is used, as
torch.Generator's does); a numpy Generator and a plain int seed are accepted too.
With None, the global stream that ts.manual_seed seeds, or (fresh=True: RandomSampler) a new
Generator seeded by one draw from it, as PyTorch's samplers and random_split do, draw for draw."""
import numbers

import numpy as np

from tinygrad_seq import random as _random


Generator = _random.Generator


def numpy_rng(generator, name, fresh=False):
    """numpy's Generator interface for one use of `generator` (see the module docstring)."""
    if generator is None:
        if not fresh:
            return _random.generator()
        return Generator().manual_seed(new_seed(None)).rng   # torch: empty((), int64).random_()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if isinstance(generator, Generator):
        return generator.rng
    raise TypeError(f"{name}: generator must be a tinygrad_seq.Generator, a numpy Generator, "
                    f"an int seed or None, "
                    f"got {type(generator).__name__}")


def new_seed(generator):
    """torch's torch.empty((), dtype=torch.int64).random_(generator=generator).item(): one random64
    word modulo 2^63 of generator's stream (the global one for None). Other generator kinds
    (numpy's, int seeds) are not torch's streams: None is returned and nothing is drawn."""
    if generator is None or isinstance(generator, Generator):
        return int(_random.generator(generator).stream.full_range_int64(1)[0])
    return None


def stream(generator, name):
    """A stream that persists across uses: int seeds become one Generator here, so successive
    epochs differ, as with a seeded torch.Generator."""
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    return generator
