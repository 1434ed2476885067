"""torch.distributions.utils: broadcasting a distribution's parameters, the probs <-> logits
conversions (clamped as torch's), lazy_property, and the standard draws the samplers scale."""
import numbers
from functools import update_wrapper

import numpy as np

from tinygrad_seq import creation, dtypes, functional as F
from tinygrad_seq.grad_mode import enable_grad
from tinygrad_seq.tensor_more import broadcast_tensors
from tinygrad_seq.tensor import Size, Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, Tensor)


def broadcast_all(*values):
    """The values broadcast to one shape; Python numbers become tensors of the first tensor's
    dtype and device (of the default dtype when all are numbers), as torch's."""
    if not all(isinstance(v, Tensor) or _is_number(v) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        first = next((v for v in values if isinstance(v, Tensor)), None)
        dtype = first.dtype if first is not None else dtypes.get_default_dtype()
        device = first.device if first is not None else "cpu"
        values = [v if isinstance(v, Tensor) else creation.tensor(v, dtype=dtype, device=device) for v in values]
    # a tensor already of the broadcast shape is returned itself (Normal(loc, scale).loc is loc), as torch's
    return tuple(v if v.shape == e.shape else e for v, e in zip(values, broadcast_tensors(*values)))


def batch_shape_of(given, broadcast):
    """The batch_shape of parameters `given` (as passed) once broadcast: () when all were
    numbers (a 0-d tensor's too), else the broadcast tensors' shape, as torch's constructors."""
    return Size(()) if all(_is_number(v) for v in given) else broadcast[0].size()


def _sum_rightmost(value, dim):
    """value summed over its dim rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for a binary event, else softmax over the last dimension."""
    return logits.sigmoid() if is_binary else F.softmax(logits, -1)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps], eps the dtype's machine epsilon (torch's)."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log-odds of a binary event's probability, else the log of each category's probability."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


class lazy_property:
    """A property computed on first use and then stored in the instance's __dict__ (so a
    Bernoulli made from logits computes its probs, with their gradient path, only if asked).
    Computed under enable_grad, as torch's: the first read may come from inside no_grad (sample()
    reads .probs there), and the cached value must still carry its graph for later backward()s."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def _sample_shape(sample_shape):
    """sample_shape (a tuple, list or Size) as a Size; a single int raises torch's TypeError
    (torch builds torch.Size(sample_shape): sample(3) is an error, sample((3,)) the form)."""
    if isinstance(sample_shape, numbers.Integral):
        raise TypeError(f"'{type(sample_shape).__name__}' object is not iterable")
    return Size(tuple(int(s) for s in sample_shape))


def _standard_normal(shape, like):
    """N(0, 1) draws of shape, in like's dtype and on its device, from ts's generator."""
    return creation.randn(tuple(shape), dtype=like.dtype, device=like.device)


def _standard_uniform(shape, like):
    """U[0, 1) draws of shape, in like's dtype and on its device, from ts's generator."""
    return creation.rand(tuple(shape), dtype=like.dtype, device=like.device)
