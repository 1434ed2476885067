"""torch.distributions.Bernoulli: a 0/1 draw per element, for REINFORCE over binary actions, stop
tokens, or a binary output's likelihood.

As torch's: exactly one of probs (in [0, 1]) or logits (log-odds); the other form is computed on
first use (clamped to [eps, 1 - eps] from probs, as torch's probs_to_logits); log_prob is minus
binary_cross_entropy_with_logits, entropy is binary_cross_entropy_with_logits(logits, probs),
both with gradients; samples are floats of the parameter's dtype (0.0 / 1.0) drawn from
tinygrad_seq's generator."""
import numbers

import numpy as np

from tinygrad_seq import creation, functional as F
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """torch.distributions.Bernoulli(probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size(()) if is_scalar else self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = Size(tuple(batch_shape))
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(*batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(*batch_shape)
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """1.0 where probs > 0.5, 0.0 where below, nan at exactly 0.5 (torch's)."""
        p = self.probs.detach()
        return (p >= 0.5).to(p.dtype).masked_fill(p == 0.5, float("nan"))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return creation.bernoulli(self.probs.detach().expand(*shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = creation.tensor(np.arange(2, dtype=self._param.dtype), device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values
