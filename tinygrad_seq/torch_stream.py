"""torch's CPU random stream, number for number: the 32-bit Mersenne Twister (mt19937) that
torch.manual_seed(s) seeds, and the transformations torch's CPU kernels apply to its words, so
ts.manual_seed(s) followed by rand / randn / randint / randperm / uniform_ / normal_ /
bernoulli gives torch's values (float32 draws exactly; a float32 normal of 16 or more elements
to float32 rounding of sin / cos / log, which torch computes with AVX2 approximations).

The words come from numpy's MT19937 seeded the legacy way (init_genrand, as at::mt19937), drawn
in blocks; every function takes and returns host arrays. Sources: ATen/core/TransformationHelper.h,
DistributionsHelper.h, native/cpu/DistributionTemplates.h, native/TensorFactories.cpp (randperm).
"""
import ctypes
import math

import numpy as np

_U32, _U64 = np.uint64(0xFFFFFFFF), np.uint64(32)


class TorchStream:
    """One generator's state: the Mersenne Twister and torch's cached second normal samples
    (normal_distribution keeps the sine half of a Box-Muller pair for the next scalar draw)."""

    def __init__(self, seed):
        self.bits = np.random.MT19937()
        self.bits._legacy_seeding(int(seed) & 0xFFFFFFFF)   # at::mt19937(seed): init_genrand(seed & 2^32-1)
        self.next_double_normal = None
        self.next_float_normal = None
        self.drawn = False   # torch's state says next = 0 until the first draw

    # ------------------------------------------------------------ raw words
    def random32(self, n):
        """n words of generator->random() (uint64 holding 32-bit values)."""
        if not n:
            return np.zeros(0, np.uint64)
        self.drawn = True
        return self.bits.random_raw(int(n))   # uint64 already: no copy

    def random64(self, n, low_bits=64):
        """n words of generator->random64(): two 32-bit words, the first the high half (only the
        low `low_bits` bits of each kept: the uniforms use 53)."""
        w = self.random32(2 * n)
        high = w[0::2] & np.uint64((1 << (low_bits - 32)) - 1) if low_bits < 64 else w[0::2].copy()
        high <<= _U64
        high |= w[1::2]
        return high

    def twister_view(self):
        """The twister's state in place, uint32 [625]: key[624], then pos (numpy's mt19937_state
        struct), for compiled samplers that draw the words themselves and leave the stream where
        they stop (kernels/stream_words_cpu.py); None where numpy's struct is not laid out so.
        The caller sets `drawn` and the cached normal after them."""
        view = np.ctypeslib.as_array((ctypes.c_uint32 * 625).from_address(self.bits.ctypes.state_address))
        if not _TWISTER_LAYOUT:   # checked once against the state numpy reports
            state = self.bits.state["state"]
            _TWISTER_LAYOUT.append(bool(np.array_equal(view[:624], state["key"]) and view[624] == state["pos"]))
        return view if _TWISTER_LAYOUT[0] else None

    # ------------------------------------------------------------ uniform
    def uniform(self, n, low, high, dtype):
        """uniform_(low, high) of n elements of dtype: float64 from 53 bits of random64, float32
        from 24 bits of random() (float16: float32's draws rounded, as torch's); x * (high - low)
        + low in float32 with one rounding (torch's vectorised build contracts it to an FMA)."""
        dtype = np.dtype(dtype)
        if dtype == np.float64:   # x * (high - low) + low with one rounding, as torch's FMA
            x = self.random64(n, 53).astype(np.float64)
            x *= 2.0 ** -53
            if float(low) == 0.0 and float(high) == 1.0:   # x * 1 + 0 is x exactly (exponential_'s)
                return x
            return fused_multiply_add(x, float(high) - float(low), float(low))
        words = self.random32(n)
        words &= np.uint64((1 << 24) - 1)
        lo, hi = np.float32(low), np.float32(high)
        if lo == 0 and hi == 1:   # x * 1 + 0: the 24-bit fractions themselves, exact in float32
            x = words.astype(np.float32)
            x *= np.float32(2.0 ** -24)
            if dtype == np.float16:   # torch's: a draw that rounds to 1 becomes 0 ([0, 1) kept)
                x = x.astype(dtype)
                x[x == 1] = 0
            return x.astype(dtype, copy=False)
        x = words.astype(np.float64) * 2.0 ** -24
        span = np.float64(np.float32(hi - lo))
        out = (x * span + np.float64(lo)).astype(np.float32).astype(dtype)
        if dtype == np.float16:   # torch's: a draw that rounds to `high` becomes `low` ([low, high) kept)
            out[out == np.float16(high)] = np.float16(low)
        return out

    # ------------------------------------------------------------ normal
    def normal(self, n, mean, std, dtype, contiguous=True):
        """normal_(mean, std) of n elements of dtype, as torch's normal_kernel: 16 or more of a
        contiguous tensor by Box-Muller in blocks of 16 over uniforms drawn first (the last block
        redrawn when n is not a multiple of 16); otherwise one at a time by
        normal_distribution<double> with its cached second sample."""
        dtype = np.dtype(dtype)
        if n < 16 or not contiguous:
            return np.array([self._normal_scalar() * std + mean for _ in range(n)]).astype(dtype)
        calc = np.dtype(np.float64 if dtype == np.float64 else np.float32)   # float16: float32's, rounded
        blocks = n // 16
        # float16's kernel draws uniforms for the whole blocks only (the others for every element)
        data = self.uniform(blocks * 16 if dtype == np.float16 else n, 0.0, 1.0, calc)
        head = data[:blocks * 16].reshape(blocks, 16)
        out = np.empty(n, calc)
        out[:blocks * 16] = _box_muller_16(head, mean, std, calc).reshape(-1)
        if n % 16:
            tail = self.uniform(16, 0.0, 1.0, calc)
            out[n - 16:] = _box_muller_16(tail.reshape(1, 16), mean, std, calc).reshape(-1)
        return out.astype(dtype)

    def _normal_scalar(self):
        """at::normal_distribution<double>: a cached sample, else a new Box-Muller pair."""
        if self.next_double_normal is not None:
            value, self.next_double_normal = self.next_double_normal, None
            return value
        u1, u2 = (float(u) for u in self.uniform(2, 0.0, 1.0, np.float64))
        # the C library's log1p / sin / cos, as torch's ::log1p: numpy's own SIMD float64 loops
        # (AVX-512 machines) differ from them by an ulp now and then
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.next_double_normal = r * math.sin(theta)
        return r * math.cos(theta)

    # ------------------------------------------------------------ integers
    def integers(self, n, low, high):
        """random_(low, high) / randint: (word % range) + low, the word random64() when the
        range reaches 2^28, else random() (torch 2.13's random_from_to; at 2^32 before, which drew
        other numbers for randint(0, 2**31 - 1))."""
        span = int(high) - int(low)
        if span <= 0:
            raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        words = self.random64(n) if span >= 2 ** 28 else self.random32(n)
        return (words % np.uint64(span)).astype(np.int64) + int(low)

    def full_range_int64(self, n):
        """random_() of an int64 tensor: random64() % (2^63) (torch's uniform_int for int64)."""
        return (self.random64(n) % np.uint64(2 ** 63)).astype(np.int64)

    def permutation(self, n):
        """randperm(n) on the CPU, as torch's randperm_cpu: below (2^32 - 1) // 20, Fisher-Yates
        with z = random() % (n - i); from there, the inside-out variant with z = random64() %
        (i + 1) (2^24 to 2^27.7 had drawn random64() words: other permutations than torch's)."""
        perm = np.arange(n, dtype=np.int64)
        if n < 2:
            return perm
        if n >= _RANDPERM_WIDE_FROM:
            picks = self.random64(n)   # (in place: at these n an array is 1.7 GB)
            np.remainder(picks, np.arange(1, n + 1, dtype=np.uint64), out=picks)
            picks = picks.view(np.int64)
            from tinygrad_seq.kernels.permutation_cpu import inside_out
            return inside_out(perm, picks)
        spans = np.arange(n, 1, -1, dtype=np.uint64)
        picks = (self.random32(n - 1) % spans).astype(np.int64)
        return _fisher_yates(perm, picks)

    def bernoulli(self, n, p):
        """bernoulli_(p) with a scalar p (dropout's masks) as torch's CPU kernel: uniform double
        < p; on an Intel CPU torch calls MKL instead (seeded by one random() word: mkl_bernoulli)."""
        if TORCH_USES_MKL_BERNOULLI:
            return mkl_bernoulli(int(self.random32(1)[0]), n, p)
        # u = r * 2^-53 < p exactly when the 53-bit word r < ceil(p * 2^53) (p * 2^53 is exact)
        return self.random64(n, 53) < np.uint64(math.ceil(min(max(p, 0.0), 1.0) * 2.0 ** 53))

    def bernoulli_each(self, probs):
        """bernoulli(probs) / bernoulli_(tensor p): a uniform of p's dtype (float32 for the
        others) per element < its p."""
        probs = np.asarray(probs)
        kind = np.float64 if probs.dtype == np.float64 else np.float32
        return self.uniform(probs.size, 0.0, 1.0, kind).reshape(probs.shape) < probs

    # ------------------------------------------------------------ the other distributions
    # each from double uniforms (53 bits), as torch's <distribution>_distribution<double>, through
    # the C library's log / log1p / tan as torch's (numpy's SIMD loops differ by an ulp at times)
    def exponential(self, n, lambd):
        return -1.0 / lambd * _libm(math.log1p)(-self.uniform(n, 0.0, 1.0, np.float64))

    def geometric(self, n, p):
        return np.ceil(_libm(math.log)(self.uniform(n, 0.0, 1.0, np.float64)) / math.log1p(-p))

    def cauchy(self, n, median, sigma):
        return median + sigma * _libm(math.tan)(np.pi * (self.uniform(n, 0.0, 1.0, np.float64) - 0.5))

    def log_normal(self, n, mean, std):
        return np.array([math.exp(self._normal_scalar() * std + mean) for _ in range(n)], np.float64)


_TWISTER_LAYOUT = []   # [whether numpy's MT19937 state struct is key[624] then pos]


def fused_multiply_add(a, b, c):
    """a * b + c with one rounding (float64 arrays): the product's error by Dekker's split and
    the sum's by Knuth's two-sum, added back once (torch's compiled FMA)."""
    p = a * b
    split = 134217729.0   # 2^27 + 1
    ta, tb = split * a, split * b
    ah, bh = ta - (ta - a), tb - (tb - b)
    al, bl = a - ah, b - bh
    product_error = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    back = s - p
    sum_error = (p - (s - back)) + (c - back)
    return s + (sum_error + product_error)


def fill_order(shape, strides):
    """None when torch fills a tensor of this layout in index order; else the permutation of its
    dims, outermost first, in which torch's kernels visit its memory (largest stride first)."""
    if len(shape) < 2:
        return None
    perm = sorted(range(len(shape)), key=lambda d: -strides[d] if shape[d] > 1 else 0)
    moving = [d for d in perm if shape[d] > 1]
    return None if moving == sorted(moving) else perm


def in_fill_order(flat, shape, perm):
    """Values drawn in torch's memory order (flat) placed at their indices of `shape`."""
    if perm is None:
        return flat.reshape(shape)
    return flat.reshape([shape[d] for d in perm]).transpose(np.argsort(perm))


def _intel_cpu():
    """Whether this machine's CPU is Intel's (torch's cpuinfo test before its MKL bernoulli)."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("vendor_id") and "GenuineIntel" in line for line in f)
    except OSError:
        return False


TORCH_USES_MKL_BERNOULLI = _intel_cpu()
_MCG31_M, _MCG31_A = 2 ** 31 - 1, 1132489760   # MKL's VSL_BRNG_MCG31: x' = A x mod (2^31 - 1)


def mkl_bernoulli(seed, n, p):
    """MKL's viRngBernoulli(ICDF) on a VSL_BRNG_MCG31 stream seeded with `seed`, as torch's
    Intel path draws it: x_0 = seed mod M (1 for 0), x_k = A^k x_0 mod M, a sample is 1 where
    x_k / M < p (the stream is one sequence however torch splits the work: skip-ahead)."""
    x = np.empty(max(n, 1), np.uint64)
    x[0] = seed % _MCG31_M or 1
    filled, mult, m = 1, np.uint64(_MCG31_A), np.uint64(_MCG31_M)
    while filled < n:   # doubling: x[k + L] = x[k] A^L mod M (products of 31-bit numbers fit in 64 bits)
        take = min(filled, n - filled)
        x[filled:filled + take] = (x[:take] * mult) % m
        filled += take
        mult = (mult * mult) % m
    return x[:n].astype(np.float64) / _MCG31_M < p


def _box_muller_16(u, mean, std, calc):
    """normal_fill_16 on rows of 16 uniforms: u1 = 1 - u[:8], u2 = u[8:]."""
    u1, u2 = calc.type(1) - u[:, :8], u[:, 8:]
    # float64: torch's std::log / cos / sin are the C library's; numpy's own SIMD loops (AVX-512
    # machines) differ from them by an ulp now and then
    log, cos, sin = (np.log, np.cos, np.sin) if calc != np.float64 else (_libm(math.log), _libm(math.cos), _libm(math.sin))
    radius = np.sqrt(calc.type(-2) * log(u1))
    theta = calc.type(2.0 * np.pi) * u2
    out = np.empty_like(u)
    out[:, :8] = radius * cos(theta) * calc.type(std) + calc.type(mean)
    out[:, 8:] = radius * sin(theta) * calc.type(std) + calc.type(mean)
    return out


_LIBM_COMPILED_FROM = 4096   # longer arrays go through kernels/libm_cpu.py (the same libm, compiled)


def _libm(fn):
    """fn (a math-module function: the C library's) over a float64 array, element by element."""
    def apply(a):
        if a.size >= _LIBM_COMPILED_FROM:
            from tinygrad_seq.kernels import libm_cpu
            if libm_cpu.libm_matches(fn.__name__):
                return libm_cpu.apply(fn.__name__, a)
        return np.fromiter(map(fn, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)
    return apply


_RANDPERM_WIDE_FROM = (2 ** 32 - 1) // 20   # torch's randperm_cpu switches algorithm and word size here
_COMPILED_SWAPS_FROM = 100_000   # longer permutations swap in a compiled loop (kernels/permutation_cpu.py)


def _fisher_yates(perm, picks):
    """Swap perm[i] with perm[i + picks[i]] for i = 0 .. n-2 (torch's order of swaps)."""
    if perm.size >= _COMPILED_SWAPS_FROM:
        from tinygrad_seq.kernels.permutation_cpu import fisher_yates
        return fisher_yates(perm, picks)
    order = perm.tolist()   # swapped as a list (numpy's element access costs ~0.3 us a swap)
    for i, z in enumerate(picks.tolist()):
        j = i + z
        order[i], order[j] = order[j], order[i]
    perm[:] = order
    return perm


class NumpyInterface:
    """numpy Generator's methods over a TorchStream, so code written against numpy's generator
    draws torch's numbers: uniform / random / standard_normal / normal / integers / permutation
    as torch's kernels; any other numpy method (choice, poisson, exponential, ...) from a numpy
    generator seeded by one random64 word of the stream (reproducible, not torch's numbers).
    bit_generator.state gets and sets the whole stream (checkpointed training loops)."""

    def __init__(self, stream):
        self.stream = stream

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float32):
        return _shaped(self.stream.uniform(_count(size), low, high, dtype), size)

    def random(self, size=None, dtype=np.float64):
        return self.uniform(0.0, 1.0, size, dtype)

    def standard_normal(self, size=None, dtype=np.float32):
        return _shaped(self.stream.normal(_count(size), 0.0, 1.0, dtype), size)

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=np.float32):
        return _shaped(self.stream.normal(_count(size), loc, scale, dtype), size)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        low, high = (0, low) if high is None else (low, high)
        return _shaped(self.stream.integers(_count(size), low, int(high) + bool(endpoint)).astype(dtype), size)

    def permutation(self, x):
        if isinstance(x, (int, np.integer)):
            return self.stream.permutation(int(x))
        x = np.asarray(x)
        return x[self.stream.permutation(len(x))]

    def __getattr__(self, name):
        seeded = np.random.default_rng(int(self.stream.random64(1)[0]))
        return getattr(seeded, name)

    @property
    def bit_generator(self):
        return self

    @property
    def state(self):
        s = self.stream
        return {"mt19937": s.bits.state, "next_double_normal": s.next_double_normal,
                "next_float_normal": s.next_float_normal}

    @state.setter
    def state(self, value):
        s = self.stream
        if value.get("bit_generator") == "PCG64":   # a state saved before the stream was torch's
            import warnings
            warnings.warn("restoring a random state saved by an earlier tinygrad_seq (a numpy PCG64 "
                          "stream): it cannot be continued, so the stream is reseeded from it",
                          UserWarning, stacklevel=3)
            value = NumpyInterface(TorchStream(int(value["state"]["state"]) % 2 ** 64)).state
        s.bits.state = value["mt19937"]
        s.next_double_normal, s.next_float_normal = value["next_double_normal"], value["next_float_normal"]


def _count(size):
    if size is None:
        return 1
    return int(np.prod(size)) if isinstance(size, (tuple, list)) else int(size)


def _shaped(values, size):
    if size is None:
        return values.reshape(()).item() if values.dtype.kind == "f" else values.reshape(())[()]
    return values.reshape(size if isinstance(size, (tuple, list)) else (int(size),))
