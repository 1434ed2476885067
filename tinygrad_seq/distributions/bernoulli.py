"""torch.distributions.Bernoulli: a 0/1 draw per element, for REINFORCE over binary actions, stop
tokens, or a binary output's likelihood.

As torch's: exactly one of probs (in [0, 1]) or logits (log-odds); the other form is computed on
first use (clamped to [eps, 1 - eps] from probs, as torch's probs_to_logits); log_prob is minus
binary_cross_entropy_with_logits, entropy is binary_cross_entropy_with_logits(logits, probs),
both with gradients; samples are floats of the parameter's dtype (0.0 / 1.0) drawn from
tinygrad_seq's generator."""
import numpy as np

from tinygrad_seq import creation, functional as F
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .binary_probs import BinaryProbsOrLogits
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Bernoulli"]


class Bernoulli(BinaryProbsOrLogits, ExponentialFamily):
    """torch.distributions.Bernoulli(probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._take_param(probs, logits), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_param(Bernoulli, batch_shape, _instance)

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

    @property
    def _natural_params(self):
        return (self.probs.logit(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()
