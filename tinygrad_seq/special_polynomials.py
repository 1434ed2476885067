"""torch.special's orthogonal polynomials of degree n at x: chebyshev_polynomial_t / u / v / w,
their shifted_ forms (argument 2x - 1), hermite_polynomial_h / he, laguerre_polynomial_l and
legendre_polynomial_p, by torch's own special cases and three-term recurrences
(aten/src/ATen/native/Math.h, *_forward), elementwise over the broadcast x and n in their common
float dtype (float32 arithmetic for float32, so the rounding is torch's):
- n is truncated to an integer; n < 0 gives 0, n = nan or +-inf gives 0 (torch's cast of them
  is the most negative int64);
- the Chebyshev kinds use the closed form cos(n acos x) (and its kin) inside (-1, 1) once n > 6
  (v, w, u: n > 8; shifted w: n > 4), the recurrence elsewhere, stopping where it reaches nan;
- the Hermite ones give nan above degree 128 (float32) / 512 (float64);
- x = nan with n >= 2 gives nan here, where torch returns an uninitialised value.
torch has no float16 kernel for them (NotImplementedError) and no derivative: the results do not
require grad. The public functions: special.py."""
import numpy as np

_INT64_MIN = np.iinfo(np.int64).min


def degrees(n):
    """torch's static_cast<int64_t>(n) of float degrees: truncation, with nan, +-inf and values
    out of int64's range becoming INT64_MIN (x86's conversion result, a negative degree)."""
    n = np.asarray(n)
    if n.dtype.kind != "f":
        return n.astype(np.int64)
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, 0.0)), _INT64_MIN).astype(np.int64)


def _libm_like(fn):
    """fn on x's dtype as the C library's float function (torch's std::acos / sin / cos of a float):
    float32 through float64 and rounded once. numpy's own float32 loops change with the machine's
    vector ISA (AVX2 or AVX-512) by an ulp or two, which the (n + 1) theta of the closed forms
    amplifies past torch's tolerance."""
    def apply(x):
        x = np.asarray(x)
        return fn(x.astype(np.float64)).astype(np.float32) if x.dtype == np.float32 else fn(x)
    return apply


_acos, _sin, _cos = _libm_like(np.arccos), _libm_like(np.sin), _libm_like(np.cos)


class _Cases:
    """The result built as torch's chain of `if (...) return ...;`: the first case that holds for
    an element gives its value; the elements no case took are left for the recurrence."""
    def __init__(self, x, n):
        self.x, self.n = x, n
        self.out = np.full(x.shape, np.nan, x.dtype)
        self.done = np.zeros(x.shape, bool)

    def take(self, cond, value):
        todo = cond & ~self.done
        if todo.any():
            self.out[todo] = np.broadcast_to(np.asarray(value, self.out.dtype), self.out.shape)[todo]
            self.done |= todo

    def recurrence(self, p, q, step, first, stop_at_nan=True):
        """For the elements left: p, q the values of degrees 0 and 1, then q_next = step(p, q, k)
        for k = first, first + 1, ... while k < first + n - 1 (n - 1 steps), as torch's loops."""
        left = ~self.done
        if not left.any():
            return self.out
        t = self.x.dtype.type
        p = np.broadcast_to(np.asarray(p, self.x.dtype), self.x.shape).copy()
        q = np.broadcast_to(np.asarray(q, self.x.dtype), self.x.shape).copy()
        steps = np.where(left, self.n - 1, 0)
        for j in range(int(steps.max())):
            active = (j < steps) & (~np.isnan(q) if stop_at_nan else True)
            if not active.any():
                break
            r = step(p, q, t(first + j))
            p, q = np.where(active, q, p), np.where(active, r, q)
        self.out[left] = q[left]
        return self.out


def _odd(n):
    return n % 2 != 0


def _sign_by_parity(n, value):
    """value for even n, -value for odd n."""
    return np.where(_odd(n), -value, value)


def chebyshev_t(x, n):
    t = x.dtype.type
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(np.abs(x) == 1, np.where((x > 0) | ~_odd(n), 1.0, -1.0))
    c.take((n > 6) & (np.abs(x) < 1), _cos(n.astype(x.dtype) * _acos(x)))
    c.take(n == 0, 1.0)
    c.take(n == 1, x)
    return c.recurrence(t(1.0), x, lambda p, q, k: (x + x) * q - p, 2)


def chebyshev_u(x, n):
    t, nf = x.dtype.type, n.astype(x.dtype)
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(np.abs(x) == 1, np.where((x > 0) | ~_odd(n), nf + 1, -(nf + 1)))
    inside, theta = (n > 8) & (np.abs(x) < 1), _acos(x)
    c.take(inside & (_sin(theta) != 0), _sin((nf + 1) * theta) / _sin(theta))
    c.take(inside, (nf + 1) * _cos((nf + 1) * theta) / x)
    c.take(n == 0, 1.0)
    c.take(n == 1, x + x)
    return c.recurrence(t(1.0), x + x, lambda p, q, k: (x + x) * q - p, 2)


def chebyshev_v(x, n):
    t, nf = x.dtype.type, n.astype(x.dtype)
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take((np.abs(x) == 1) & (x > 0), 1.0)
    c.take(np.abs(x) == 1, _sign_by_parity(n, nf + nf + 1))
    inside, theta = (n > 8) & (np.abs(x) < 1), _acos(x)
    c.take(inside & (_sin(theta / t(2.0)) != 1), _cos((nf + t(0.5)) * theta) / _cos(theta / t(2.0)))
    c.take(inside, _sign_by_parity(n, nf + nf + 1))
    c.take(n == 0, 1.0)
    c.take(n == 1, x + x - t(1.0))
    return c.recurrence(t(1.0), x + x - t(1.0), lambda p, q, k: (x + x) * q - p, 2)


def chebyshev_w(x, n):
    t, nf = x.dtype.type, n.astype(x.dtype)
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take((np.abs(x) == 1) & (x > 0), nf + nf + 1)
    c.take(np.abs(x) == 1, _sign_by_parity(n, 1.0))
    inside, theta = (n > 8) & (np.abs(x) < 1), _acos(x)
    c.take(inside & (_cos(theta / t(2.0)) != 1), _sin((nf + t(0.5)) * theta) / _sin(theta / t(2.0)))
    c.take(inside & (x > 0), nf + nf + 1)
    c.take(inside, _sign_by_parity(n, 1.0))
    c.take(n == 0, 1.0)
    c.take(n == 1, x + x + t(1.0))
    return c.recurrence(t(1.0), x + x + t(1.0), lambda p, q, k: (x + x) * q - p, 2)


def shifted_chebyshev_t(x, n):
    t = x.dtype.type
    y = x + x - t(1.0)   # the shifted argument, 2x - 1, formed as torch's
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(x == 1, 1.0)
    c.take(x == 0, _sign_by_parity(n, 1.0))
    c.take((n > 6) & (np.abs(y) < 1), _cos(n.astype(x.dtype) * _acos(y)))
    c.take(n == 0, 1.0)
    c.take(n == 1, y)
    return c.recurrence(t(1.0), y, lambda p, q, k: (y + y) * q - p, 2)


def shifted_chebyshev_u(x, n):
    t, nf = x.dtype.type, n.astype(x.dtype)
    y = x + x - t(1.0)
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(x == 1, nf + 1)
    c.take(x == 0, _sign_by_parity(n, nf + 1))
    inside, theta = (n > 6) & (np.abs(y) < 1), _acos(y)
    c.take(inside & (_sin(theta) != 0), _sin((nf + 1) * theta) / _sin(theta))
    c.take(inside, (nf + 1) * _cos((nf + 1) * theta) / y)
    c.take(n == 0, 1.0)
    c.take(n == 1, y + y)
    return c.recurrence(t(1.0), y + y, lambda p, q, k: (y + y) * q - p, 2)


def shifted_chebyshev_v(x, n):
    t, nf = x.dtype.type, n.astype(x.dtype)
    y = x + x - t(1.0)
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(x == 1, 1.0)
    c.take(x == 0, _sign_by_parity(n, nf + nf + 1))
    inside, theta = (n > 6) & (np.abs(y) < 1), _acos(y)
    c.take(inside & (_sin(theta / t(2.0)) != 1), _cos((nf + t(0.5)) * theta) / _cos(theta / t(2.0)))
    c.take(inside, _sign_by_parity(n, nf + nf + 1))
    c.take(n == 0, 1.0)
    c.take(n == 1, y + y - t(1.0))
    return c.recurrence(t(1.0), y + y - t(1.0), lambda p, q, k: (y + y) * q - p, 2)


def shifted_chebyshev_w(x, n):
    t, nf = x.dtype.type, n.astype(x.dtype)
    y = x + x - t(1.0)
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(x == 1, nf + nf + 1)
    c.take(x == 0, _sign_by_parity(n, 1.0))
    inside, theta = (n > 4) & (np.abs(y) < 1), _acos(y)
    c.take(inside & (_cos(theta / t(2.0)) != 1), _sin((nf + t(0.5)) * theta) / _sin(theta / t(2.0)))
    c.take(inside, _sign_by_parity(n, 1.0))
    c.take(n == 0, 1.0)
    c.take(n == 1, y + y + t(1.0))
    return c.recurrence(t(1.0), y + y + t(1.0), lambda p, q, k: (y + y) * q - p, 2)


def _hermite_limit(dtype):
    return 128 if dtype == np.float32 else 512


def hermite_h(x, n):
    """The physicists' Hermite polynomial: H_{k+1} = 2x H_k - 2k H_{k-1}."""
    t = x.dtype.type
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(n == 0, 1.0)
    c.take(n == 1, x + x)
    c.take(n > _hermite_limit(x.dtype), np.nan)
    # torch's loop variable k runs 2, 4, ..., 2n - 2: step j gives k = 2 (j + 1)
    return c.recurrence(t(1.0), x + x, lambda p, q, j: (x + x) * q - (j + j) * p, 1, stop_at_nan=False)


def hermite_he(x, n):
    """The probabilists' Hermite polynomial: He_{k+1} = x He_k - k He_{k-1}."""
    t = x.dtype.type
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(n == 0, 1.0)
    c.take(n == 1, x)
    c.take(n > _hermite_limit(x.dtype), np.nan)
    return c.recurrence(t(1.0), x, lambda p, q, k: x * q - k * p, 1, stop_at_nan=False)


def laguerre_l(x, n):
    """L_{k+1} = ((2k + 1 - x) L_k - k L_{k-1}) / (k + 1)."""
    t = x.dtype.type
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(np.abs(x) == 0, 1.0)
    c.take(n == 0, 1.0)
    c.take(n == 1, t(1.0) - x)
    return c.recurrence(t(1.0), t(1.0) - x, lambda p, q, k: (((k + k) + (t(1.0) - x)) * q - k * p) / (k + t(1.0)), 1)


def legendre_p(x, n):
    """P_{k+1} = ((2k + 1) x P_k - k P_{k-1}) / (k + 1)."""
    t = x.dtype.type
    c = _Cases(x, n)
    c.take(n < 0, 0.0)
    c.take(np.abs(x) == 1, np.where((x > 0) | ~_odd(n), 1.0, -1.0))
    c.take(n == 0, 1.0)
    c.take(n == 1, x)
    return c.recurrence(t(1.0), x, lambda p, q, k: ((k + k + t(1.0)) * x * q - k * p) / (k + t(1.0)), 1)


# torch.special's name -> the function of (x, n) above
POLYNOMIALS = {
    "chebyshev_polynomial_t": chebyshev_t, "chebyshev_polynomial_u": chebyshev_u,
    "chebyshev_polynomial_v": chebyshev_v, "chebyshev_polynomial_w": chebyshev_w,
    "shifted_chebyshev_polynomial_t": shifted_chebyshev_t, "shifted_chebyshev_polynomial_u": shifted_chebyshev_u,
    "shifted_chebyshev_polynomial_v": shifted_chebyshev_v, "shifted_chebyshev_polynomial_w": shifted_chebyshev_w,
    "hermite_polynomial_h": hermite_h, "hermite_polynomial_he": hermite_he,
    "laguerre_polynomial_l": laguerre_l, "legendre_polynomial_p": legendre_p,
}


def evaluate(name, x, n):
    """POLYNOMIALS[name] at the host arrays x and n (one float dtype, broadcast together)."""
    x, n = np.broadcast_arrays(np.asarray(x), np.asarray(n))
    with np.errstate(all="ignore"):
        return POLYNOMIALS[name](np.ascontiguousarray(x), degrees(n))
