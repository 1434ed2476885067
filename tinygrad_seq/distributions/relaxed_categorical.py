"""torch.distributions.relaxed_categorical: the Concrete / Gumbel-softmax relaxation of a
one-hot draw (Maddison et al. 2017; Jang et al. 2017), reparameterisable, for discrete latent
variables of sequence VAEs and relaxed hard attention.

    ExpRelaxedCategorical(temperature, probs=, logits=)    log of a point in the simplex
    RelaxedOneHotCategorical(...)                           exp of it: a point in the simplex

As torch's, draws included: uniforms from tinygrad_seq's generator (torch's stream) clamped to
[eps, 1 - eps], then Gumbel noise -log(-log u)."""
from tinygrad_seq import creation
from tinygrad_seq.tensor import Size

from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["BaseDistParams", "ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


def clamped_uniforms(shape, like):
    """U[0, 1) draws of shape clamped to [eps, 1 - eps] (torch's clamp_probs(rand(...)))."""
    return clamp_probs(creation.rand(tuple(shape), dtype=like.dtype, device=like.device))


class BaseDistParams:
    """A relaxed distribution's temperature, logits and probs: its base distribution's."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class ExpRelaxedCategorical(Distribution):
    """torch.distributions.ExpRelaxedCategorical(temperature, probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector   # the true support is a submanifold of it
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        super().__init__(self._categorical.batch_shape, Size(self._categorical.param_shape[-1:]),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, Size(tuple(batch_shape)), self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def rsample(self, sample_shape=Size()):
        gumbels = -((-(clamped_uniforms(self._extended_shape(sample_shape), self.logits).log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = creation.full_like(self.temperature, float(k)).lgamma() - self.temperature.log().mul(-(k - 1))
        score = logits - value.mul(self.temperature)
        return (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(BaseDistParams, TransformedDistribution):
    """torch.distributions.RelaxedOneHotCategorical(temperature, probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args),
                         ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(RelaxedOneHotCategorical, _instance))
