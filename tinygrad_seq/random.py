"""The global random generator and ts.Generator: initialisation, dropout masks and sampling draw
from the global one (ts.default_generator), so ts.manual_seed(s) makes all of them reproducible;
functions taking generator= draw from that Generator instead (torch.Generator's use in data
splits and sampling). Also torch.random's names: fork_rng and the state functions.

The stream is torch's CPU generator, number for number (torch_stream.py: its Mersenne Twister and
its kernels' transformations), so a seeded program draws torch's initial weights, dropout masks
and shuffles. A generator's state is torch's too: the 5056-byte ByteTensor of
torch.get_rng_state() (CPUGeneratorImplState), so states move between ts and torch both ways.
"""
import contextlib

import numbers

import numpy as np

from tinygrad_seq.torch_stream import NumpyInterface, TorchStream, fill_order, in_fill_order

_DEFAULT_SEED = 67280421310721   # torch.Generator()'s default seed
STATE_SIZE = 5056   # torch's CPUGeneratorImplState: the_initial_seed, left, seeded, next, state[624],
# normal_x, normal_y, normal_rho, normal_is_valid (+4 padding), next_float_normal_sample, its valid flag (+3)
_STATE_LAYOUT = np.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8"),
                          ("state", "<u8", (624,)), ("normal_x", "<f8"), ("normal_y", "<f8"),
                          ("normal_rho", "<f8"), ("normal_is_valid", "<i4"), ("pad", "<i4"),
                          ("float_normal", "<f4"), ("float_normal_valid", "u1"), ("pad2", "u1", (3,))])


def _seed_value(seed):
    """torch's seed range: [-2^63, 2^64); a negative seed counts modulo 2^64, as torch's."""
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f"manual_seed: seed {seed} is out of range: it must be in [-2^63, 2^64)")
    return seed % 2 ** 64


def _pack_state(stream, seed):
    """A TorchStream and its initial seed -> torch's (5056,) uint8 state. The Mersenne Twister's
    position: numpy's pos (next word to use, 624: regenerate) is torch's next (0 before the first
    draw), and left = 625 - pos."""
    mt = stream.bits.state["state"]
    rec = np.zeros((), _STATE_LAYOUT)
    rec["seed"], rec["seeded"] = seed, 1
    rec["left"], rec["next"] = 625 - int(mt["pos"]), int(mt["pos"]) if stream.drawn else 0
    rec["state"] = np.asarray(mt["key"], np.uint64)
    if stream.next_double_normal is not None:   # torch 2.13 keeps the cached sample in normal_y
        rec["normal_is_valid"], rec["normal_y"] = 1, stream.next_double_normal
    if stream.next_float_normal is not None:
        rec["float_normal_valid"], rec["float_normal"] = 1, stream.next_float_normal
    return np.frombuffer(rec.tobytes(), np.uint8).copy()


def _unpack_state(state, stream):
    """Restore stream from a get_rng_state() tensor (this library's or torch's, the same layout),
    with torch's errors for the wrong type or size. Returns the initial seed."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(state, dict):   # a generator().bit_generator.state dict (checkpointed loops)
        NumpyInterface(stream).state = state
        return None
    if not isinstance(state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor (a uint8 ts.Tensor from get_rng_state()), "
                        f"but got {type(state).__name__}")
    if state.dtype != np.uint8:
        raise TypeError(f"RNG state must be a torch.ByteTensor (uint8), but got a {state.dtype} tensor")
    raw = np.ascontiguousarray(state.detach().cpu().numpy()).reshape(-1)
    if raw.size != STATE_SIZE:
        raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState "
                           f"of size {STATE_SIZE} but found the input RNG state size to be {raw.size}")
    rec = np.frombuffer(raw.tobytes(), _STATE_LAYOUT)[0]
    if not 1 <= int(rec["left"]) <= 624:
        raise RuntimeError(f"The input RNG state is invalid: left must be in 1..624, got {int(rec['left'])}")
    key = np.asarray(rec["state"], np.uint64)
    if (key > 0xFFFFFFFF).any():
        raise RuntimeError("The input RNG state is invalid: its Mersenne Twister words exceed 32 bits")
    stream.bits.state = {"bit_generator": "MT19937",
                         "state": {"key": key.astype(np.uint32), "pos": 625 - int(rec["left"])}}
    stream.next_double_normal = float(rec["normal_y"]) if rec["normal_is_valid"] else None
    stream.drawn = bool(rec["next"]) or int(rec["left"]) != 1
    stream.next_float_normal = float(rec["float_normal"]) if rec["float_normal_valid"] else None
    return int(rec["seed"])


class Generator:
    """torch.Generator: a seeded random stream (manual_seed, seed, initial_seed,
    get_state/set_state) for randperm, randn, randint, multinomial, ... (generator=)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        if not isinstance(seed, numbers.Integral):   # torch's Generator takes an int only (torch.manual_seed int()s)
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = _seed_value(seed)
        self.stream = TorchStream(self._seed)
        self.rng = NumpyInterface(self.stream)   # numpy's Generator methods over torch's stream
        return self

    def seed(self):
        self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The stream's state: torch's (5056,) uint8 Tensor (a ByteTensor there), a copy."""
        from tinygrad_seq.tensor import Tensor
        return Tensor._wrap(_pack_state(self.stream, self._seed), "cpu")

    def set_state(self, new_state):
        """Restore a get_state() result (this library's or torch's); the initial seed comes back
        with it, as torch's."""
        seed = _unpack_state(new_state, self.stream)
        self._seed = self._seed if seed is None else seed
        return self

    def __repr__(self):
        return f"<tinygrad_seq.Generator object at {hex(id(self))}>"


# torch.default_generator: the global stream everything without generator= draws from
default_generator = Generator()
default_generator.manual_seed(0)
_default = default_generator


def manual_seed(seed: int):
    """Seed the global generator (torch.manual_seed: int(seed) first); returns it."""
    return _default.manual_seed(int(seed))


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


def generator(gen=None) -> NumpyInterface:
    """numpy's generator interface over the stream to draw from: gen's, or the global one."""
    if gen is None:
        return _default.rng
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be a ts.Generator, got {type(gen).__name__}")
    return gen.rng


def in_memory_order(flat, shape, strides):
    """Draws made in torch's memory order of a tensor of `shape` and element `strides` (None:
    index order), placed at its indices."""
    return in_fill_order(flat, tuple(shape), None if strides is None else fill_order(shape, strides))


def uniform(low, high, shape, gen=None, dtype=np.float32, strides=None):
    """torch's uniform_(low, high) of a tensor of `shape` and dtype (a module's float32
    initialisation when not given), drawn in the memory order of a tensor with `strides`."""
    return in_memory_order(generator(gen).stream.uniform(int(np.prod(shape)), low, high, dtype), shape, strides)


def normal(shape, gen=None, dtype=np.float32, mean=0.0, std=1.0, strides=None):
    """torch's normal_(mean, std) of a tensor of `shape` and dtype (one by one, in memory order,
    for a non-contiguous one of `strides`)."""
    contiguous = strides is None or _c_contiguous(shape, strides)
    flat = generator(gen).stream.normal(int(np.prod(shape)), mean, std, dtype, contiguous)
    return in_memory_order(flat, shape, strides)


def bernoulli_mask(keep_prob, shape, dtype, strides=None):
    """Dropout mask scaled by 1/keep_prob (inverted dropout), as float array of `dtype`: torch's
    bernoulli_(keep_prob) draws (in the memory order of an input of `strides`), then its division."""
    keep = in_memory_order(_default.stream.bernoulli(int(np.prod(shape)), keep_prob), shape, strides)
    if np.dtype(dtype) == np.float16:   # torch's float16 mask holds 1/keep_prob rounded to float16
        return keep.astype(dtype) * np.float16(1.0 / keep_prob)
    return (keep.astype(dtype) / np.asarray(keep_prob, dtype)).astype(dtype)


def _c_contiguous(shape, strides):
    expected = 1
    for n, st in zip(reversed(shape), reversed(strides)):
        if n > 1 and st != expected:
            return False
        expected *= n
    return True


def element_strides(array):
    """A host array's strides in elements, the memory order a fill of a result laid out like it
    draws in (None for a device array: filled in index order). An expanded array (a stride 0
    over more than one element: an LSTM's learned h0 expanded over the batch) gives the dense
    strides of torch's empty_like, row-major there, so dropout draws torch's mask."""
    st = getattr(array, "strides", None)
    if st is None or not isinstance(array, np.ndarray):
        return None
    st = [s // array.itemsize for s in st]
    if any(s == 0 and n > 1 for s, n in zip(st, array.shape)):
        from tinygrad_seq.memory_formats import infer_dense_strides
        return list(infer_dense_strides(array.shape, st))
    return st
