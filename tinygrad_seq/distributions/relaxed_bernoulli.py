"""torch.distributions.relaxed_bernoulli: the Concrete relaxation of a Bernoulli draw.

    LogitRelaxedBernoulli(temperature, probs=, logits=)     a real number (logistic noise)
    RelaxedBernoulli(...)                                   sigmoid of it: a number in (0, 1)

As torch's, draws included (uniforms from torch's stream, clamped to [eps, 1 - eps])."""
from tinygrad_seq.tensor import Size

from . import constraints
from .binary_probs import BinaryProbsOrLogits
from .distribution import Distribution
from .relaxed_categorical import BaseDistParams, clamped_uniforms
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class LogitRelaxedBernoulli(BinaryProbsOrLogits, Distribution):
    """torch.distributions.LogitRelaxedBernoulli(temperature, probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        super().__init__(self._take_param(probs, logits), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_param(LogitRelaxedBernoulli, batch_shape, _instance, temperature=self.temperature)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        probs = clamp_probs(self.probs.expand(*shape))
        u = clamped_uniforms(shape, probs)
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value.mul(self.temperature)
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(BaseDistParams, TransformedDistribution):
    """torch.distributions.RelaxedBernoulli(temperature, probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits), SigmoidTransform(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(RelaxedBernoulli, _instance))
