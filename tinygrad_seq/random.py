"""The global random generator and ts.Generator: initialisation, dropout masks and sampling draw
from the global one (ts.default_generator), so ts.manual_seed(s) makes all of them reproducible;
functions taking generator= draw from that Generator instead (torch.Generator's use in data
splits and sampling). Also torch.random's names: fork_rng and the state functions.

A generator's state is a 1-D uint8 tensor, as torch's, but of this library's own layout (a numpy
PCG64 stream, 56 bytes, not torch's 5056-byte Mersenne Twister): states move between ts
programs and checkpoints, not between ts and torch.
"""
import contextlib

import numpy as np

_DEFAULT_SEED = 67280421310721   # torch.Generator()'s default seed
# state layout, little-endian: tag[8] | pcg state[16] | pcg inc[16] | seed[8] | has_uint32[1] |
# uinteger[4] | padding[3]
_STATE_TAG = np.frombuffer(b"tsPCG64\x01", np.uint8)   # which generator, layout version 1
STATE_SIZE = 56


def _seed_value(seed):
    """torch's seed range: [-2^63, 2^64); a negative seed counts modulo 2^64, as torch's."""
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f"manual_seed: seed {seed} is out of range: it must be in [-2^63, 2^64)")
    return seed % 2 ** 64


def _pack_state(bit_state, seed):
    """numpy's PCG64 state dict and the initial seed -> the (STATE_SIZE,) uint8 array."""
    if bit_state.get("bit_generator") != "PCG64":
        raise RuntimeError(f"generator state: a {bit_state.get('bit_generator')} stream cannot be saved "
                           f"as a ByteTensor (only PCG64, the generator tinygrad_seq uses)")
    raw = (bytes(_STATE_TAG) + int(bit_state["state"]["state"]).to_bytes(16, "little")
           + int(bit_state["state"]["inc"]).to_bytes(16, "little") + int(seed).to_bytes(8, "little")
           + int(bit_state["has_uint32"]).to_bytes(1, "little")
           + int(bit_state["uinteger"]).to_bytes(4, "little") + bytes(3))
    return np.frombuffer(raw, np.uint8).copy()


def _unpack_state(state):
    """A state given to set_state (a uint8 Tensor; a dict of earlier versions) -> (numpy PCG64
    state dict, initial seed or None), with torch's errors for the wrong type or size."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(state, dict):   # earlier versions' get_rng_state(): numpy's state dict
        return state, None
    if not isinstance(state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor (a uint8 ts.Tensor from get_rng_state()), "
                        f"but got {type(state).__name__}")
    if state.dtype != np.uint8:
        raise TypeError(f"RNG state must be a torch.ByteTensor (uint8), but got a {state.dtype} tensor")
    raw = np.ascontiguousarray(state.detach().cpu().numpy()).reshape(-1)
    if raw.size != STATE_SIZE:
        hint = " (torch's own generator states cannot be loaded here)" if raw.size == 5056 else ""
        raise RuntimeError(f"Expected a tinygrad_seq generator state of size {STATE_SIZE} (from "
                           f"get_rng_state() or Generator.get_state()) but found the input RNG state "
                           f"size to be {raw.size}{hint}")
    if not np.array_equal(raw[:8], _STATE_TAG):
        raise RuntimeError("Invalid generator state: its first 8 bytes are not tinygrad_seq's PCG64 "
                           "tag (it was not made by get_rng_state() or Generator.get_state())")
    b = raw.tobytes()
    as_int = lambda lo, hi: int.from_bytes(b[lo:hi], "little")   # noqa: E731
    bit_state = {"bit_generator": "PCG64", "state": {"state": as_int(8, 24), "inc": as_int(24, 40)},
                 "has_uint32": as_int(48, 49), "uinteger": as_int(49, 53)}
    return bit_state, as_int(40, 48)


class Generator:
    """torch.Generator: a seeded random stream (manual_seed, seed, initial_seed,
    get_state/set_state) for randperm, randn, randint, multinomial, ... (generator=)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed = _seed_value(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The stream's state: a (56,) uint8 Tensor (torch: a ByteTensor), a copy."""
        from tinygrad_seq.tensor import Tensor
        return Tensor._wrap(_pack_state(self.rng.bit_generator.state, self._seed), "cpu")

    def set_state(self, new_state):
        """Restore a get_state() result (a dict of earlier versions is taken too); the initial
        seed comes back with it, as torch's."""
        bit_state, seed = _unpack_state(new_state)
        self.rng.bit_generator.state = bit_state
        if seed is not None:
            self._seed = seed
        return self

    def __repr__(self):
        return f"<tinygrad_seq.Generator object at {hex(id(self))}>"


# torch.default_generator: the global stream everything without generator= draws from
default_generator = Generator()
default_generator.manual_seed(0)
_default = default_generator


def manual_seed(seed: int):
    """Seed the global generator (torch.manual_seed); returns it."""
    return _default.manual_seed(seed)


def seed():
    return _default.seed()


def initial_seed():
    return _default.initial_seed()


def get_rng_state():
    """The global generator's state: a 1-D uint8 Tensor (a copy) for set_rng_state."""
    return _default.get_state()


def set_rng_state(new_state):
    """Restore the global generator from get_rng_state()'s tensor (or an earlier version's dict)."""
    _default.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """torch.random.fork_rng: the global generator's state is restored on exit, so draws inside
    the block leave the stream outside as it was. GPU tensors draw from the same generator, so
    this covers every device (devices and device_type are accepted for torch's signature)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


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
