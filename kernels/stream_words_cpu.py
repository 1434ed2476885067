"""torch's CPU random stream inside compiled samplers: the 32-bit Mersenne Twister run in place on
the generator's own state, and the two transformations torch's scalar samplers take from it, so
a rejection sampler compiled over them (sampler_draws_cpu.py) draws word for word what the
interpreter's loop draws through tinygrad_seq/torch_stream.py, and leaves the stream where it
leaves it (the cached second Box-Muller normal included).

    tw   uint32 [625]   numpy's mt19937_state in place: key[624], then pos (its next word)
    aux  float64 [3]    [1.0 if a second normal is cached else 0.0, that normal, refills]

A call drew 624 * refills + pos_after - pos_before words (counted per refill: no store per word).

    next_word(tw, aux)        generator->random(): one tempered 32-bit word
    uniform_double(tw, aux)   at::uniform_real_distribution<double>(0, 1): 53 bits of random64() * 2^-53
    normal_double(tw, aux)    at::normal_distribution<double>: the cached sample, else a new pair

log / log1p / sin / cos / pow / exp / lgamma / log1pf are the C library's, called by name (as
torch's and as Python's math module, which calls the same functions): LLVM's own lowering of
math.* is not promised to be the C library's, and Python's math.lgamma is not (its own Lanczos).
"""
import numpy as np
from numba import types

from .cache_load import njit

_c_double = types.float64(types.float64)
c_log = types.ExternalFunction("log", _c_double)
c_log1p = types.ExternalFunction("log1p", _c_double)
c_sin = types.ExternalFunction("sin", _c_double)
c_cos = types.ExternalFunction("cos", _c_double)
c_exp = types.ExternalFunction("exp", _c_double)
c_lgamma = types.ExternalFunction("lgamma", _c_double)
c_pow = types.ExternalFunction("pow", types.float64(types.float64, types.float64))
c_log1pf = types.ExternalFunction("log1pf", types.float32(types.float32))

_N, _M = 624, 397
_UPPER, _LOWER, _MATRIX = np.uint64(0x80000000), np.uint64(0x7FFFFFFF), np.uint64(0x9908B0DF)
_ONE, _MASK32, _LOW21 = np.uint64(1), np.uint64(0xFFFFFFFF), np.uint64((1 << 21) - 1)
_B, _C = np.uint64(0x9D2C5680), np.uint64(0xEFC60000)
_S7, _S11, _S15, _S18, _S32 = np.uint64(7), np.uint64(11), np.uint64(15), np.uint64(18), np.uint64(32)
_TWO_PI = 2.0 * np.pi
_2_53 = 2.0 ** -53


@njit(cache=True, _nrt=False)
def _twist(upper, lower, far):
    """One word of mt19937_gen: `far` ^ (upper's top bit over lower's low 31, shifted, tempered
    by the matrix) (uint64 operands holding 32-bit words)."""
    y = (upper & _UPPER) | (lower & _LOWER)
    word = far ^ (y >> _ONE)
    return word ^ _MATRIX if y & _ONE else word


@njit(cache=True, _nrt=False)
def _refill(tw, aux):
    """mt19937_gen: the next 624 words of state, in the reference's three loops (no modulo: a
    division per word was most of a word's cost)."""
    for i in range(_N - _M):
        tw[i] = np.uint32(_twist(np.uint64(tw[i]), np.uint64(tw[i + 1]), np.uint64(tw[i + _M])))
    for i in range(_N - _M, _N - 1):
        tw[i] = np.uint32(_twist(np.uint64(tw[i]), np.uint64(tw[i + 1]), np.uint64(tw[i + _M - _N])))
    tw[_N - 1] = np.uint32(_twist(np.uint64(tw[_N - 1]), np.uint64(tw[0]), np.uint64(tw[_M - 1])))
    tw[_N] = 0
    aux[2] += 1.0


@njit(cache=True, _nrt=False, inline="always")
def next_word(tw, aux):
    """mt19937_next32 (numpy's random_raw word = at::mt19937's): one tempered word, uint64."""
    if tw[_N] >= _N:
        _refill(tw, aux)
    pos = tw[_N]
    y = np.uint64(tw[pos])
    tw[_N] = pos + 1
    y ^= y >> _S11
    y ^= (y << _S7) & _B
    y ^= (y << _S15) & _C
    y ^= y >> _S18
    return y & _MASK32


@njit(cache=True, _nrt=False, inline="always")
def uniform_double(tw, aux):
    """One uniform double in [0, 1): the 21 low bits of the first word over the second."""
    high = next_word(tw, aux) & _LOW21
    low = next_word(tw, aux)
    return np.float64((high << _S32) | low) * _2_53


@njit(cache=True, _nrt=False, inline="always")
def normal_double(tw, aux):
    """normal_distribution<double>: the cached sine half, else Box-Muller on two new uniforms
    (u1 the angle's, u2 the radius's), caching r sin(theta) and returning r cos(theta)."""
    if aux[0] != 0.0:
        aux[0] = 0.0
        return aux[1]
    u1 = uniform_double(tw, aux)
    u2 = uniform_double(tw, aux)
    r = np.sqrt(-2.0 * c_log1p(-u2))
    theta = _TWO_PI * u1
    aux[0] = 1.0
    aux[1] = r * c_sin(theta)
    return r * c_cos(theta)


@njit(cache=True, _nrt=False)
def words_of(tw, aux, out):
    """out (uint64 [n]) filled with the next n words (a test's check against numpy's random_raw)."""
    for i in range(out.shape[0]):
        out[i] = next_word(tw, aux)
