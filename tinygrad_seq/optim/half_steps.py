"""The optimizers' in-place ops on float16 CPU parameters, as torch's vectorised loops compute
float16: each op in float32, rounded to float16 once (a number multiplied as float32; a number
added, and an add's alpha, rounded to float16 first). numpy's float16 arithmetic rounds after
every step instead, which left SGD a unit in the last place apart a step and Adam 31-84 of 128
values after 6 steps. torch's element loop (the last elements past a multiple of its vector
width, non-contiguous tensors) rounds some products first: there the two can differ by a unit.
Every function returns a new float16 array (an array also for 0-d)."""
import numpy as np

F32, F16 = np.float32, np.float16


def is_half(p):
    return isinstance(p.array, np.ndarray) and p.array.dtype == F16


def _done(x):
    return np.asarray(x).astype(F16)


def _f(a):
    return np.asarray(a, F32)


def add(a, b, alpha=1.0):
    """a.add(b, alpha=alpha)."""
    return _done(_f(a) + F32(F16(alpha)) * _f(b))


def add_number(a, number):
    """a.add(number): the number rounded to float16 first."""
    return _done(_f(a) + F32(F16(number)))


def mul(a, number):
    return _done(_f(a) * F32(number))


def div(a, number):
    return _done(_f(a) / F32(number))


def sqrt(a):
    return _done(np.sqrt(_f(a)))


def addcmul(a, b, c, value=1.0):
    """a.addcmul(b, c, value=value): a + value * b * c."""
    return _done(_f(a) + F32(value) * _f(b) * _f(c))


def addcdiv(a, b, c, value=1.0):
    """a.addcdiv(b, c, value=value): a + (value * b) / c (a zero c gives inf, as torch's)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _done(_f(a) + F32(value) * _f(b) / _f(c))


def lerp(a, b, weight):
    """a.lerp(b, weight) for a number weight, torch's two-sided formula."""
    w, fa, fb = F32(weight), _f(a), _f(b)
    return _done(fa + w * (fb - fa) if w < 0.5 else fb - (fb - fa) * (F32(1) - w))
