"""torch's in-place random fills (random_, uniform_, normal_, exponential_, geometric_,
log_normal_, cauchy_): torch's draws (torch_stream.py) placed in the order torch's kernels visit
the tensor's memory, so a transposed view or a slice is filled as torch fills it. Attached to
Tensor by tensor_fill_in.attach."""
import numpy as np

from tinygrad_seq import random
from tinygrad_seq.errors import DTypeMismatch
from tinygrad_seq.functional_checks import require_float


def in_memory_order_of(self, flat):
    """Draws made in torch's memory order of self, placed at self's indices."""
    return random.in_memory_order(flat, self.shape, random.element_strides(self.array))


def random_(self, from_=None, to=None, *, generator=None, **kw):
    """torch's integers from [from, to) (random_(to): [0, to); random_(): [0, 2^mantissa] or [0, max])."""
    if "from" in kw:
        from_ = kw.pop("from")
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument {next(iter(kw))!r}")
    if from_ is not None and to is None:
        from_, to = 0, from_   # random_(to)
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
    draws = random.generator(generator).stream.integers(self.numel(), from_, to)
    return self.copy_(in_memory_order_of(self, draws).astype(self.dtype))


def uniform_(self, a=0.0, b=1.0, generator=None):
    """torch's uniform draws for self's dtype, in self's memory order (an integer or bool self
    refused, as torch's: its kernel is for floating point only)."""
    require_float(self, "check_uniform_bounds")
    st = random.element_strides(self.array)
    return self.copy_(random.uniform(a, b, self.shape, generator, self.dtype, st).astype(self.dtype))


def normal_(self, mean=0.0, std=1.0, generator=None):
    """torch's normal draws (one by one for a non-contiguous self), in self's memory order (an
    integer or bool self refused, as torch's)."""
    require_float(self, "normal_kernel_cpu")
    st = random.element_strides(self.array)
    return self.copy_(random.normal(self.shape, generator, self.dtype, mean, std, st).astype(self.dtype))


def _random_fill(draw):
    def method(self, *args, generator=None):
        if self.dtype.kind != "f" and draw is not _geometric:   # torch fills only floats (geometric_ any)
            raise DTypeMismatch(f"{draw.__name__[1:]}_: a continuous distribution; dtype must be a floating "
                                f"point but you specified {self.dtype}")
        values = in_memory_order_of(self, draw(random.generator(generator).stream, self.numel(), *args))
        return self.copy_(self._wrap(np.asarray(values, dtype=self.dtype), "cpu").to(self.device))
    return method


# n draws of each distribution from a TorchStream, as torch's kernels make them
def _exponential(stream, n, lambd=1.0):
    _positive("exponential_", "lambda", lambd)
    return stream.exponential(n, lambd)


def _geometric(stream, n, p):
    return stream.geometric(n, p)


def _log_normal(stream, n, mean=1.0, std=2.0):
    return stream.log_normal(n, mean, std)


def _cauchy(stream, n, median=0.0, sigma=1.0):
    _positive("cauchy_", "sigma", sigma)
    return stream.cauchy(n, median, sigma)


def _positive(name, what, value):
    """torch's check of exponential_'s lambda / cauchy_'s sigma (nan refused too), before any draw."""
    if not value > 0.0:
        raise RuntimeError(f"{name} expects {what} > 0.0, but found {what}={value:g}")


METHODS = dict(random_=random_, uniform_=uniform_, normal_=normal_, exponential_=_random_fill(_exponential),
               geometric_=_random_fill(_geometric), log_normal_=_random_fill(_log_normal),
               cauchy_=_random_fill(_cauchy))
