"""torch.testing's comparison pairs (torch/testing/_comparison.py, 2.13): NonePair, BooleanPair,
NumberPair and TensorLikePair, each built from one (actual, expected) leaf or refusing it with
UnsupportedInputs, and their compare() raising ErrorMeta with torch's messages."""
import cmath

import numpy as np

_DTYPE_PRECISIONS = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
                     np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
                     np.dtype(np.complex128): (1e-7, 1e-7)}
_TYPE_TO_DTYPE = {int: np.dtype(np.int64), float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


class ErrorMeta(Exception):
    """A failure's exception type, generated message and item path; to_error() makes the user's error."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class UnsupportedInputs(Exception):
    """Raised while building a pair that cannot handle the inputs: the next pair type is tried."""


def default_tolerances(*dtypes):
    rtols, atols = zip(*[_DTYPE_PRECISIONS.get(np.dtype(d), (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def get_tolerances(*dtypes, rtol, atol, id=()):
    if (rtol is None) ^ (atol is None):
        raise ErrorMeta(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                        f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*dtypes)


def _mismatch_msg(*, identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        line = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol) + diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def scalar_mismatch_msg(actual, expected, *, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg(identifier="Scalars", extra=f"Expected {expected} but got {actual}.", abs_diff=abs_diff,
                         abs_idx=None, atol=atol, rel_diff=rel_diff, rel_idx=None, rtol=rtol)


def tensor_mismatch_msg(actual, expected, matches, *, rtol, atol):
    """Mismatch count and the greatest differences, computed as torch does in the compared dtype
    (integers and bools as int64, their relative difference in float32)."""
    total, bad = matches.size, int(matches.size - matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    a, e, m = actual.reshape(-1), expected.reshape(-1), matches.reshape(-1)
    integral = a.dtype.kind in "biu"
    if integral:
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[m] = 0
        denom = np.abs(e)
        rel_diff = (abs_diff.astype(np.float32) / denom.astype(np.float32)) if integral else abs_diff / denom
    rel_diff[m] = 0
    abs_at, rel_at = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))
    return _mismatch_msg(identifier="Tensor-likes", extra=extra, abs_diff=abs_diff[abs_at].item(),
                         abs_idx=tuple(int(i) for i in np.unravel_index(abs_at, matches.shape)), atol=atol,
                         rel_diff=rel_diff[rel_at].item(),
                         rel_idx=tuple(int(i) for i in np.unravel_index(rel_at, matches.shape)), rtol=rtol)


class Pair:
    def __init__(self, actual, expected, *, id=(), **unknown_parameters):
        self.actual, self.expected, self.id = actual, expected, id

    @staticmethod
    def _check_inputs_isinstance(*inputs, cls):
        if not all(isinstance(x, cls) for x in inputs):
            raise UnsupportedInputs

    def _fail(self, type, msg):
        raise ErrorMeta(type, msg, id=self.id)

    def __repr__(self):
        fields = [("id", self.id), ("actual", self.actual), ("expected", self.expected)]
        fields += [(name, getattr(self, name)) for name in getattr(self, "_extra_repr", ())]
        return "\n".join((f"{type(self).__name__}(", *[f"    {k}={v!s}," for k, v in fields], ")"))


class NonePair(Pair):
    def __init__(self, actual, expected, **options):
        if not (actual is None or expected is None):
            raise UnsupportedInputs
        super().__init__(actual, expected, **options)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self._fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class BooleanPair(Pair):
    def __init__(self, actual, expected, **options):
        self._check_inputs_isinstance(actual, expected, cls=(bool, np.bool_))
        super().__init__(bool(actual), bool(expected), **options)

    def compare(self):
        if self.actual is not self.expected:
            self._fail(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}")


class NumberPair(Pair):
    _extra_repr = ("rtol", "atol", "equal_nan", "check_dtype")

    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False, check_dtype=False,
                 **options):
        self._check_inputs_isinstance(actual, expected, cls=(int, float, complex, np.number))
        actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        super().__init__(actual, expected, id=id, **options)
        self.rtol, self.atol = get_tolerances(*[_TYPE_TO_DTYPE[type(x)] for x in (actual, expected)],
                                              rtol=rtol, atol=atol, id=id)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self):
        if self.check_dtype and type(self.actual) is not type(self.expected):
            self._fail(AssertionError,
                       f"The (d)types do not match: {type(self.actual)} != {type(self.expected)}.")
        if self.actual == self.expected:
            return
        if self.equal_nan and cmath.isnan(self.actual) and cmath.isnan(self.expected):
            return
        abs_diff = abs(self.actual - self.expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(self.expected):
            return
        self._fail(AssertionError, scalar_mismatch_msg(self.actual, self.expected, rtol=self.rtol, atol=self.atol))
