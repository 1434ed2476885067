"""The global random generator and ts.Generator: initialisation, dropout masks and sampling draw
from the global one, so ts.manual_seed(s) makes all of them reproducible; functions taking
generator= draw from that Generator instead (torch.Generator's use in data splits and sampling).
"""
import numpy as np


class Generator:
    """torch.Generator: a seeded random stream (manual_seed, seed, initial_seed,
    get_state/set_state) for randperm, randn, randint, multinomial, ... (generator=)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(67280421310721)   # torch.Generator()'s default seed

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state
        return self


_default = Generator()
_default.manual_seed(0)


def manual_seed(seed: int):
    """Seed the global generator (torch.manual_seed); returns it."""
    return _default.manual_seed(seed)


def seed():
    return _default.seed()


def initial_seed():
    return _default.initial_seed()


def get_rng_state():
    """The global generator's state (a dict here, not a ByteTensor): pass it to set_rng_state."""
    return _default.get_state()


def set_rng_state(state):
    _default.set_state(state)


def default_generator():
    return _default


def generator(gen=None) -> np.random.Generator:
    """The numpy generator to draw from: gen's, or the global one."""
    if gen is None:
        return _default.rng
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be a ts.Generator, got {type(gen).__name__}")
    return gen.rng


def uniform(low, high, shape, gen=None):
    return generator(gen).uniform(low, high, size=shape)


def normal(shape, gen=None):
    return generator(gen).standard_normal(size=shape)


def bernoulli_mask(keep_prob, shape, dtype):
    """Dropout mask scaled by 1/keep_prob (inverted dropout), as float array of `dtype`."""
    return ((_default.rng.random(size=shape) < keep_prob) / keep_prob).astype(dtype)
