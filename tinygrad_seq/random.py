"""The one global random generator: initialisation, dropout masks and sampling draw from it,
so ts.manual_seed(s) makes all of them reproducible."""
import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed: int):
    global _rng
    _rng = np.random.default_rng(int(seed))
    return _rng


def generator() -> np.random.Generator:
    return _rng


def uniform(low, high, shape):
    return _rng.uniform(low, high, size=shape)


def normal(shape):
    return _rng.standard_normal(size=shape)


def bernoulli_mask(keep_prob, shape, dtype):
    """Dropout mask scaled by 1/keep_prob (inverted dropout), as float array of `dtype`."""
    return ((_rng.random(size=shape) < keep_prob) / keep_prob).astype(dtype)
