"""torch's CPU Poisson and binomial samplers, number for number, over a TorchStream (torch's
stream): the draws torch.poisson / torch.binomial (random_counts.py) make, one element at a time
in the C order of the (contiguous) result, as torch's cpu_serial_kernel.

    poisson_draws(rate, stream)          rate: float32 / float64 array -> counts, same dtype
    binomial_draws(count, prob, stream)  count, prob: arrays of one shape and dtype

Sources: ATen/native/Distributions.cpp (sample_poisson: Hoermann's transformed rejection from
lambda >= 10, else multiplying uniforms until the product falls to exp(-lambda); always in double)
and ATen/native/Distributions.h (sample_binomial: BTRS from n p >= 10, else the geometric-gap
inversion, on the smaller of p and 1 - p; scalar_t arithmetic where torch's has it, the rest in
double). Each uniform is at::uniform_real_distribution<double>: 53 bits of random64(). The C
library's log / log1pf / lgamma as torch's (ctypes: Python's math.lgamma is its own).

From COMPILED_FROM elements on, with finite parameters, the same loops run compiled over the
stream in place (kernels/sampler_draws_cpu.py, through compiled_draws): 10-15 us an element
here, well under a microsecond there, the same draws and the same stream after them."""
import ctypes
import ctypes.util
import math

import numpy as np

__all__ = ["binomial_draws", "poisson_draws"]

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_LIBM.lgamma.restype, _LIBM.lgamma.argtypes = ctypes.c_double, [ctypes.c_double]
_LIBM.log1pf.restype, _LIBM.log1pf.argtypes = ctypes.c_float, [ctypes.c_float]
_F32 = np.float32


def _log(x):
    """std::log: -inf at 0 (math.log raises there)."""
    return math.log(x) if x > 0 else -math.inf


COMPILED_FROM = 8   # elements from which a call runs the compiled loops (below: no compile for a few draws)


def compiled_draws(stream, sampler, *args):
    """sampler(*args, tw, aux) (a kernels/sampler_draws_cpu.py driver) run on the stream in place:
    its draws, the stream left after its last word, the cached second normal taken and left as
    the kernel does; None (nothing drawn) where the twister's state cannot be viewed."""
    tw = stream.twister_view()
    if tw is None:
        return None
    cached, start = stream.next_double_normal, int(tw[624])
    aux = np.array([cached is not None, cached if cached is not None else 0.0, 0.0])
    out = sampler(*args, tw, aux)
    stream.next_double_normal = float(aux[1]) if aux[0] else None
    stream.drawn = bool(stream.drawn or 624 * aux[2] + int(tw[624]) - start > 0)   # words drawn
    return out


def _compiles(*params):
    """Whether a call over these parameter arrays runs compiled: enough elements, all finite."""
    return params[0].size >= COMPILED_FROM and all(np.isfinite(p).all() for p in params)


def uniform_double(stream):
    """One at::uniform_real_distribution<double>(0, 1) draw: a 53-bit random64() word * 2^-53."""
    return float(stream.random64(1, 53)[0]) * 2.0 ** -53


# ------------------------------------------------------------------------------ Poisson
def _sample_poisson(lam, stream):
    """One Poisson(lam) count (lam a Python float >= 0), as torch's sample_poisson."""
    if lam >= 10:   # transformed rejection (Hoermann, 1993)
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform_double(stream) - 0.5
            v = uniform_double(stream)
            us = 0.5 - abs(u)
            if us == 0:   # a uniform of exactly 0: torch's k is -inf (int64 min), rejected as k < 0
                continue
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (_log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - _LIBM.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= uniform_double(stream)
        if prod > enlam:
            x += 1
        else:
            return x


def poisson_draws(rate, stream):
    """torch.poisson's counts for the rates (any shape, C order), in rate's dtype."""
    lam = rate.astype(np.float64).reshape(-1)
    flat = None
    if _compiles(lam) and (lam >= 0).all():   # (a negative rate: exp(-lam) may raise OverflowError)
        from tinygrad_seq.kernels.sampler_draws_cpu import poisson
        flat = compiled_draws(stream, poisson, lam)
    if flat is None:
        flat = [_sample_poisson(x, stream) for x in lam.tolist()]
    return np.asarray(flat, np.float64).astype(rate.dtype).reshape(rate.shape)


# ------------------------------------------------------------------------------ binomial
_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    """stirling_approx_tail<double>(k): log k! minus its Stirling approximation."""
    if k <= 9:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _btrs(count, prob, stream, t):
    """Hoermann's BTRS (prob <= 0.5, count * prob >= 10); t: scalar_t (np.float32 or float).
    stddev, r, m and k hold scalar_t values (sqrt / division / floor of scalar_t operands)."""
    stddev = float(np.sqrt(t(count * prob * (t(1) - prob)))) if t is _F32 else math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * float(prob)
    c = float(t(count * prob)) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(t(prob / (t(1) - prob)))
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(math.floor(t((count + t(1)) * prob)))
    n = float(count)
    while True:
        u = uniform_double(stream) - 0.5
        v = uniform_double(stream)
        us = 0.5 - abs(u)
        if us == 0:   # a uniform of exactly 0: k is -inf, rejected as k < 0
            continue
        k = float(t(math.floor((2 * a / us + b) * u + c)))
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = _log(v * alpha / (a / (us * us) + b))
        bound = ((m + 0.5) * math.log((m + 1) / (r * (n - m + 1)))
                 + (n + 1) * math.log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * math.log(r * (n - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(n - m) - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= bound:
            return k


def _inversion(count, prob, stream, t):
    """binomial_inversion: count the geometric gaps (ceil(log U / log(1 - p))) that fit in count;
    log1p(-prob) in scalar_t (log1pf for float32)."""
    logprob = float(_LIBM.log1pf(float(-prob))) if t is _F32 else math.log1p(-prob)
    geom_sum, num = 0.0, 0
    while True:
        u = uniform_double(stream)
        geom = _log(u) / logprob
        geom_sum += math.ceil(geom) if math.isfinite(geom) else geom   # U = 0: an infinite gap
        if geom_sum > count:
            return float(num)
        num += 1


def _sample_binomial(count, prob, stream, t):
    """One draw as torch's sample_binomial; count and prob scalar_t values (t their type)."""
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return float(count)
    if prob <= 0.5:
        if count * prob >= 10.0:
            return _btrs(count, prob, stream, t)
        return _inversion(count, prob, stream, t)
    if prob > 0.5:
        q = t(1.0 - float(prob))   # scalar_t qprob = 1.0 - prob: double, then rounded
        if count * q >= 10.0:
            return float(count) - _btrs(count, q, stream, t)
        return float(count) - _inversion(count, q, stream, t)
    return math.nan   # prob is nan


def binomial_draws(count, prob, stream):
    """torch.binomial's draws (count and prob of one shape and floating dtype, C order)."""
    t = _F32 if count.dtype == np.float32 else float
    n, p = count.reshape(-1).astype(np.float64), prob.astype(count.dtype).reshape(-1).astype(np.float64)
    flat = None
    if _compiles(n, p):   # (a nan count can loop for ever: the interpreter's loop, interruptible)
        from tinygrad_seq.kernels.sampler_draws_cpu import binomial
        flat = compiled_draws(stream, binomial, n, p, t is _F32)
    if flat is None:
        flat = [_sample_binomial(t(a), t(b), stream, t) for a, b in zip(n.tolist(), p.tolist())]
    return np.asarray(flat, np.float64).astype(count.dtype).reshape(count.shape)
