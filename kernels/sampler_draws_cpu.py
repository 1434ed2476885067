"""torch's CPU gamma, Poisson and binomial samplers compiled, draw for draw: the same loops as
tinygrad_seq/distributions/torch_gamma.py (_sample_gamma) and tinygrad_seq/count_draws.py
(_sample_poisson, _sample_binomial), operation for operation in the same order and precision,
over the stream run in place (stream_words_cpu.py: tw, aux). Those Python loops are the
reference; tests/test_fast_draws34.py holds the two to the same bits and the same stream after.

    standard_gamma(alpha, single, tw, aux)    alpha float64 [n] -> float64 [n] (single: scalar_t
                                              is float32: alpha, 1 / alpha, alpha - 1/3 in float32)
    poisson(rate, tw, aux)                    rate float64 [n] -> counts float64 [n]
    binomial(count, prob, single, tw, aux)    count, prob float64 [n] holding scalar_t values

The parameters are finite (and >= 0 for gamma / Poisson): the drivers keep other values on the
Python loops, where a math domain error raises as it did (no C library call here can meet one
for such parameters)."""
import math

import numpy as np

from .cache_load import njit
from .compile_notice import announce
from .stream_words_cpu import c_exp, c_lgamma, c_log, c_log1p, c_log1pf, c_pow, normal_double, uniform_double

_THIRD_F = np.float32(np.float32(1.0) / np.float32(3.0))   # 1.0f / 3.0f
_SQUEEZE_F = float(np.float32(0.0331))                       # 0.0331f
_ONE_F = np.float32(1.0)
_TAIL = np.array([0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287])


# ------------------------------------------------------------------------------ gamma
@njit(cache=True, _nrt=False)
def _gamma(alpha, single, tw, aux):
    """One Gamma(alpha, 1) draw as torch's sample_gamma (Marsaglia-Tsang, boosted below 1)."""
    scale = 1.0
    if single:
        a32 = np.float32(alpha)
        if a32 < 1.0:
            if a32 == 0.0:
                return 0.0
            scale *= c_pow(1 - uniform_double(tw, aux), np.float64(_ONE_F / a32))
            a32 = a32 + _ONE_F
        d = np.float64(a32 - _THIRD_F)   # float32 arithmetic, then widened
    else:
        if alpha < 1.0:
            if alpha == 0.0:
                return 0.0
            scale *= c_pow(1 - uniform_double(tw, aux), 1.0 / alpha)
            alpha += 1.0
        d = alpha - np.float64(_THIRD_F)
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = normal_double(tw, aux)
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - uniform_double(tw, aux)
        xx = x * x
        if u < 1.0 - _SQUEEZE_F * xx * xx:
            return scale * d * v
        if c_log(u) < 0.5 * xx + d * (1.0 - v + c_log(v)):
            return scale * d * v


@njit(cache=True, _nrt=False)
def _standard_gamma(alpha, single, tw, aux, out):
    for i in range(out.shape[0]):
        out[i] = _gamma(alpha[i], single, tw, aux)


# ------------------------------------------------------------------------------ Poisson
@njit(cache=True, _nrt=False)
def _log0(x):
    """count_draws._log: std::log, -inf where x is not > 0."""
    return c_log(x) if x > 0 else -np.inf


@njit(cache=True, _nrt=False)
def _one_poisson(lam, tw, aux):
    if lam >= 10:   # transformed rejection (Hoermann, 1993)
        slam, loglam = math.sqrt(lam), c_log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform_double(tw, aux) - 0.5
            v = uniform_double(tw, aux)
            us = 0.5 - abs(u)
            if us == 0:
                continue
            k = np.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (_log0(v) + c_log(invalpha) - c_log(a / (us * us) + b)
                    <= -lam + k * loglam - c_lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0.0
    enlam, x, prod = c_exp(-lam), 0.0, 1.0
    while True:
        prod *= uniform_double(tw, aux)
        if prod > enlam:
            x += 1.0
        else:
            return x


@njit(cache=True, _nrt=False)
def _poisson(rate, tw, aux, out):
    for i in range(out.shape[0]):
        out[i] = _one_poisson(rate[i], tw, aux)


# ------------------------------------------------------------------------------ binomial
@njit(cache=True, _nrt=False)
def _stirling_tail(k):
    if k <= 9:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


@njit(cache=True, _nrt=False)
def _btrs(count, prob, single, tw, aux):
    """count_draws._btrs: stddev, r, m and k in scalar_t where torch's are."""
    c32, p32 = np.float32(count), np.float32(prob)
    if single:
        stddev = np.float64(np.sqrt(c32 * p32 * (_ONE_F - p32)))
    else:
        stddev = math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = (np.float64(c32 * p32) if single else count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = np.float64(p32 / (_ONE_F - p32)) if single else prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = np.float64(np.floor((c32 + _ONE_F) * p32)) if single else np.floor((count + 1) * prob)
    n = count
    while True:
        u = uniform_double(tw, aux) - 0.5
        v = uniform_double(tw, aux)
        us = 0.5 - abs(u)
        if us == 0:
            continue
        k = np.floor((2 * a / us + b) * u + c)
        if single:
            k = np.float64(np.float32(k))
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = _log0(v * alpha / (a / (us * us) + b))
        bound = ((m + 0.5) * c_log((m + 1) / (r * (n - m + 1)))
                 + (n + 1) * c_log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * c_log(r * (n - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(n - m) - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= bound:
            return k


@njit(cache=True, _nrt=False)
def _inversion(count, prob, single, tw, aux):
    """count_draws._inversion: log1p(-prob) in scalar_t (log1pf for float32)."""
    logprob = np.float64(c_log1pf(np.float32(-prob))) if single else c_log1p(-prob)
    geom_sum, num = 0.0, 0.0
    while True:
        geom = _log0(uniform_double(tw, aux)) / logprob
        geom_sum += math.ceil(geom) if np.isfinite(geom) else geom
        if geom_sum > count:
            return num
        num += 1.0


@njit(cache=True, _nrt=False)
def _scalar_product(count, prob, single):
    """count * prob in scalar_t."""
    return np.float64(np.float32(count) * np.float32(prob)) if single else count * prob


@njit(cache=True, _nrt=False)
def _one_binomial(count, prob, single, tw, aux):
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if _scalar_product(count, prob, single) >= 10.0:
            return _btrs(count, prob, single, tw, aux)
        return _inversion(count, prob, single, tw, aux)
    q = 1.0 - prob
    if single:
        q = np.float64(np.float32(q))
    if _scalar_product(count, q, single) >= 10.0:
        return count - _btrs(count, q, single, tw, aux)
    return count - _inversion(count, q, single, tw, aux)


@njit(cache=True, _nrt=False)
def _binomial(count, prob, single, tw, aux, out):
    for i in range(out.shape[0]):
        out[i] = _one_binomial(count[i], prob[i], single, tw, aux)


# ------------------------------------------------------------------------------ drivers
# compiled without Numba's runtime (_nrt=False): no reference counting of tw / aux around each
# word (four atomic updates a word, 5x the twister's own cost), so the results come in `out`,
# allocated here; one signature serves float32 and float64 parameters (`single` a flag)
def standard_gamma(alpha, single, tw, aux):
    announce("torch's gamma sampler", alpha.dtype, (_standard_gamma,))
    out = np.empty(alpha.shape[0])
    _standard_gamma(alpha, single, tw, aux, out)
    return out


def poisson(rate, tw, aux):
    announce("torch's Poisson sampler", rate.dtype, (_poisson,))
    out = np.empty(rate.shape[0])
    _poisson(rate, tw, aux, out)
    return out


def binomial(count, prob, single, tw, aux):
    announce("torch's binomial sampler", count.dtype, (_binomial,))
    out = np.empty(count.shape[0])
    _binomial(count, prob, single, tw, aux, out)
    return out
