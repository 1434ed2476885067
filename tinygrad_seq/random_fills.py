"""torch's in-place random fills (random_, uniform_, normal_, exponential_, geometric_,
log_normal_, cauchy_): torch's draws (torch_stream.py) placed in the order torch's kernels visit
the tensor's memory, so a transposed view or a slice is filled as torch fills it. Attached to
Tensor by tensor_fill_in.attach."""
import numpy as np

from tinygrad_seq import random
from tinygrad_seq.creation_checks import check_randint_bounds
from tinygrad_seq.errors import DTypeMismatch
from tinygrad_seq.functional_checks import require_float


def in_memory_order_of(self, flat):
    """Draws made in torch's memory order of self, placed at self's indices."""
    return random.in_memory_order(flat, self.shape, random.element_strides(self.array))


_TO_NOT_GIVEN = object()


def random_(self, from_=None, to=_TO_NOT_GIVEN, *, generator=None, **kw):
    """torch's integers from [from, to) (random_(to): [0, to); random_(from, None): [from, max];
    random_(): [0, 2^mantissa] or [0, max])."""
    if "from" in kw:
        from_ = kw.pop("from")
        if to is _TO_NOT_GIVEN:   # torch has no random_(from=): only (from, to) or (to)
            raise TypeError("random_() received an invalid combination of arguments - got (from=int, ), but "
                            "expected one of: (*, torch.Generator generator = None), (int from, int to, *, "
                            "torch.Generator generator = None), (int to, *, torch.Generator generator = None)")
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument {next(iter(kw))!r}")
    if to is _TO_NOT_GIVEN:
        from_, to = (None, None) if from_ is None else (0, from_)   # random_(), random_(to)
    full_range = from_ is None and to is None
    from_ = 0 if from_ is None else from_
    if to is None:
        to = (2 ** (np.finfo(self.dtype).nmant + 1) + 1 if self.dtype.kind == "f"
              else 2 if self.dtype == np.bool_ else int(np.iinfo(self.dtype).max) + 1)
    if to <= from_:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    if self.dtype.kind in "iu":
        info = np.iinfo(self.dtype)
        if from_ < info.min or to - 1 > info.max:
            raise RuntimeError(f"random_: from={from_} / to - 1={to - 1} is out of bounds for {self.dtype}")
    elif self.dtype.kind == "f" and (from_, to) != (0, 2 ** (np.finfo(self.dtype).nmant + 1) + 1):
        check_randint_bounds(from_, to, self.dtype)   # torch's check_from_to: past 2^digits warns
    stream = random.generator(generator).stream
    if full_range:   # torch's uniform_int: a 64-bit word for int64 / float64, a 32-bit one else, % to
        words = (stream.random64 if self.dtype in (np.int64, np.float64) else stream.random32)(self.numel())
        draws = (words % np.uint64(to)).astype(np.int64)
    else:
        draws = stream.integers(self.numel(), from_, to)
    return self.copy_(in_memory_order_of(self, draws).astype(self.dtype))


def uniform_(self, a=0.0, b=1.0, generator=None):
    """torch's uniform draws for self's dtype, in self's memory order (an integer or bool self
    refused, as torch's: its kernel is for floating point only)."""
    require_float(self, "check_uniform_bounds")
    _check_uniform_bounds(a, b, self.dtype)
    st = random.element_strides(self.array)
    return self.copy_(random.uniform(a, b, self.shape, generator, self.dtype, st).astype(self.dtype))


def normal_(self, mean=0.0, std=1.0, generator=None):
    """torch's normal draws (one by one for a non-contiguous self), in self's memory order (an
    integer or bool self refused, as torch's)."""
    check_normal_std(std)   # (before the dtype, as torch's)
    require_float(self, "normal_kernel_cpu")
    st = random.element_strides(self.array)
    return self.copy_(random.normal(self.shape, generator, self.dtype, mean, std, st).astype(self.dtype))


def _check_uniform_bounds(a, b, dtype):
    """torch's check_uniform_bounds: from and to within dtype's finite range (nan refused),
    from <= to, and to - from representable in dtype."""
    from tinygrad_seq.out_dtypes import c_type_name   # torch's C++ names: float, double, c10::Half
    low, high = float(np.finfo(dtype).min), float(np.finfo(dtype).max)
    for value, name in ((a, "from"), (b, "to")):
        if not low <= value <= high:
            raise RuntimeError(f"{name} is out of bounds for {c_type_name(dtype)}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    if b - a > high:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_CPP_LIMIT_NAMES[np.dtype(dtype)]}>"
                           f"::max(), but found to={b:g} and from={a:g} which result in to-from to exceed the limit")


_CPP_LIMIT_NAMES = {np.dtype(np.float16): "Half", np.dtype(np.float32): "Float", np.dtype(np.float64): "Double"}


def check_normal_std(std):
    """torch's check of normal_'s / torch.normal's std: a number >= 0 (nan refused), or a tensor
    whose elements all are."""
    if hasattr(std, "numpy"):
        if not (std.numpy() >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not float(std) >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")


def _random_fill(distribution):
    def method(self, *args, generator=None, **kwargs):
        draw = distribution(*args, **kwargs)   # torch checks the parameters first, then the dtype
        if self.dtype.kind != "f" and distribution is not _geometric:   # torch fills only floats (geometric_ any)
            raise DTypeMismatch(f"{distribution.__name__[1:]}_: a continuous distribution; dtype must be a "
                                f"floating point but you specified {self.dtype}")
        values = in_memory_order_of(self, draw(random.generator(generator).stream, self.numel()))
        return self.copy_(self._wrap(np.asarray(values, dtype=self.dtype), "cpu").to(self.device))
    return method


# each distribution checks its parameters as torch's and gives its draw(stream, n): n draws from a
# TorchStream, as torch's kernels make them
def _exponential(lambd=1.0):
    _positive("exponential_", "lambda", lambd)
    return lambda stream, n: stream.exponential(n, lambd)


def _geometric(p):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return lambda stream, n: stream.geometric(n, p)


def _log_normal(mean=1.0, std=2.0):
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return lambda stream, n: stream.log_normal(n, mean, std)


def _cauchy(median=0.0, sigma=1.0):
    _positive("cauchy_", "sigma", sigma)
    return lambda stream, n: stream.cauchy(n, median, sigma)


def _positive(name, what, value):
    """torch's check of exponential_'s lambda / cauchy_'s sigma (nan refused too), before any draw."""
    if not value > 0.0:
        raise RuntimeError(f"{name} expects {what} > 0.0, but found {what}={value:g}")


METHODS = dict(random_=random_, uniform_=uniform_, normal_=normal_, exponential_=_random_fill(_exponential),
               geometric_=_random_fill(_geometric), log_normal_=_random_fill(_log_normal),
               cauchy_=_random_fill(_cauchy))
