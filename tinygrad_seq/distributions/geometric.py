"""torch.distributions.Geometric: failures before the first success. As torch's: probs or logits,
log_prob / entropy / mean / mode / variance; draws are torch's (uniform_(tiny, 1) from torch's
stream, then floor(log u / log1p(-p)))."""
import numpy as np

from tinygrad_seq import creation, functional as F
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .binary_probs import BinaryProbsOrLogits
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Geometric"]


class Geometric(BinaryProbsOrLogits, Distribution):
    """torch.distributions.Geometric(probs=None, logits=None, validate_args=None): failures before
    the first success."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._take_param(probs, logits), validate_args=validate_args)
        if self._validate_args and probs is not None and not bool((self.probs > 0).all()):
            invalid = self.probs.detach()[~(self.probs > 0)]
            raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                             f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but found invalid "
                             f"values:\n{invalid}")

    def expand(self, batch_shape, _instance=None):
        return self._expand_param(Geometric, batch_shape, _instance)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return creation.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        tiny = float(np.finfo(self.probs.dtype).tiny)
        with no_grad():
            u = creation.empty(tuple(self._extended_shape(sample_shape)), dtype=self.probs.dtype,
                               device=self.probs.device).uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.masked_fill((probs == 1) & (value == 0), 0.0)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
