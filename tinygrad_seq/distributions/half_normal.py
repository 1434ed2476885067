"""torch.distributions.HalfNormal: |X| of a zero-centred Normal (priors on scales and positive
quantities), a TransformedDistribution through AbsTransform as torch's; log_prob / cdf / icdf fold
the base's onto [0, inf) (-inf below 0); draws are the base's, folded. HalfCauchy
(half_cauchy.py) folds a Cauchy the same way (Folded)."""
import math

from tinygrad_seq import creation
from tinygrad_seq.tensor import Tensor

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["Folded", "HalfNormal"]


class Folded(TransformedDistribution):
    """|X| for a base symmetric about 0: scores twice the base's density on [0, inf)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return creation.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(self.scale.dtype) if isinstance(value, Tensor) else creation.tensor(value, dtype=self.scale.dtype)
        return (self.base_dist.log_prob(value) + math.log(2)).where(value >= 0, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(Folded):
    """torch.distributions.HalfNormal(scale, validate_args=None)."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Normal(0, scale, validate_args=False), AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(HalfNormal, _instance))

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
