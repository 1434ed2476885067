"""The C library's log / log1p / cos / sin / tan over float64 arrays, compiled: torch's float64
random transforms (exponential_, geometric_, cauchy_, the normal's Box-Muller) call these libm
functions, whose results numpy's SIMD loops miss by an ulp now and then on AVX-512 machines, so
tinygrad_seq/torch_stream.py applied math.* element by element (150 ns each: 0.3 s for a
multinomial over 64 x 30000 weights). Numba calls the same libm functions (without SVML, which
numba uses only when icc_rt is installed: then these are not used, see libm_matches)."""
import math

import numpy as np

from .cache_load import njit
from .compile_notice import announce


@njit(cache=True)
def _log(a, out):
    for i in range(a.shape[0]):
        out[i] = math.log(a[i])


@njit(cache=True)
def _log1p(a, out):
    for i in range(a.shape[0]):
        out[i] = math.log1p(a[i])


@njit(cache=True)
def _cos(a, out):
    for i in range(a.shape[0]):
        out[i] = math.cos(a[i])


@njit(cache=True)
def _sin(a, out):
    for i in range(a.shape[0]):
        out[i] = math.sin(a[i])


@njit(cache=True)
def _tan(a, out):
    for i in range(a.shape[0]):
        out[i] = math.tan(a[i])


KERNELS = {"log": _log, "log1p": _log1p, "cos": _cos, "sin": _sin, "tan": _tan}
_checked = {}


def libm_matches(name):
    """Whether the compiled `name` gives math.<name>'s results bit for bit on a sample of values
    (checked once per process: an SVML build, or another libm, falls back to math.*)."""
    if name not in _checked:
        fn = getattr(math, name)
        rng = np.random.default_rng(0)
        sample = np.concatenate([rng.random(2000), -rng.random(1000) * 0.999999, rng.random(1000) * 1e-12,
                                 rng.standard_normal(2000) * 7.0, np.array([0.0, 1e-300, 0.5, 1.0])])
        sample = sample[sample > 0] if name == "log" else sample[sample > -1] if name == "log1p" else sample
        want = np.array([fn(v) for v in sample.tolist()])
        _checked[name] = bool(np.array_equal(apply(name, sample, notice=False), want, equal_nan=True))
    return _checked[name]


def apply(name, a, notice=True):
    """libm `name` of every element of float64 array a (any shape) -> a new float64 array."""
    flat = np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    if notice:
        announce("the C-library math kernels", np.dtype(np.float64), (KERNELS[name],))
    KERNELS[name](flat, out)
    return out.reshape(np.shape(a))
