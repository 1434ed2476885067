"""Host values of digamma's derivatives and of the Hurwitz zeta function as torch's CPU kernels
compute them (aten/src/ATen/native/Math.h), where scipy's differ:
- trigamma (polygamma(1, x)) by torch's reflection and six-term series: at the negative integers
  sin(pi x) is not exactly 0, so the value is huge but finite (6.6e32 at -1.0 in float64);
  nan at -inf, 0 at +inf. Float32 is computed in float32, as torch's float kernel;
- polygamma(n >= 2, x) = (-1)^(n+1) n! zeta(n + 1, x), nan at +inf (zeta's);
- zeta(s, q): nan for q = +inf (s != 1) and for s = +inf with q > 1, where torch's series gives
  inf * 0.
The ops using them: ops_special.Polygamma, ops_special's zeta, ops_host's digamma gradient."""
import numpy as np
from scipy import special


def trigamma(x):
    """torch's trigamma of the array x, in x's dtype (float16 computed in float32, as torch's)."""
    x = np.asarray(x)
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    t = work.dtype.type
    one, pi = t(1.0), t(np.pi)
    with np.errstate(all="ignore"):
        reflect = work < t(0.5)   # trigamma(x) = -trigamma(1 - x) + pi^2 / sin^2(pi x), sign flipped at the end
        sin_pi_x = np.sin(pi * work)
        result = np.where(reflect, -(pi * pi) / (sin_pi_x * sin_pi_x), t(0.0))
        z = np.where(reflect, one - work, work)
        for _ in range(6):
            result = result + one / (z * z)
            z = z + one
        ixx = one / (z * z)
        result = result + (one + one / (t(2.0) * z) + ixx * (t(1 / 6) - ixx * (t(1 / 30) - ixx * t(1 / 42)))) / z
        return np.where(reflect, -result, result).astype(x.dtype)


def zeta(s, q):
    """The Hurwitz zeta function sum_k (k + q)^-s, scipy's with torch's nan cases."""
    with np.errstate(all="ignore"):
        y = special.zeta(s, q)
        torch_nan = (np.isposinf(q) & (s != 1)) | (np.isposinf(s) & (q > 1))
    return np.where(torch_nan, np.nan, y)


def polygamma(n, x):
    """The n-th derivative of digamma at the array x (n >= 0), in x's dtype."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        if n == 0:
            return np.asarray(special.psi(x), dtype=x.dtype)
        if n == 1:
            return trigamma(x)
        sign = 1.0 if n % 2 else -1.0
        y = sign * np.exp(special.gammaln(n + 1.0)) * zeta(n + 1.0, x.astype(np.float64))
    return np.asarray(y, dtype=x.dtype)
