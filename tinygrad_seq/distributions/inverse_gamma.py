"""torch.distributions.InverseGamma: 1 / X for X ~ Gamma(concentration, rate) (a conjugate prior
on a Gaussian's variance), a TransformedDistribution of the Gamma through PowerTransform(-1) as
torch's.

    ig = InverseGamma(concentration, rate)
    v = ig.rsample()                       # gradients into concentration and rate

As torch's: log_prob (the Gamma's at 1 / v less the power map's log |det|), entropy, mean /
variance (inf where concentration <= 1 / <= 2), mode, cdf (monotonised: the map is decreasing).
sample / rsample draw torch's numbers: torch's _standard_gamma (torch_gamma.py, torch's stream) over
rate, clamped below at tiny as Gamma.rsample, then the reciprocal."""
import math

import numpy as np

from tinygrad_seq import creation
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .gamma import Gamma, clamped_below
from .torch_gamma import torch_standard_gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """torch.distributions.InverseGamma(concentration, rate, validate_args=None)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(InverseGamma, _instance))

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        result = self.rate / (self.concentration - 1)
        return result.where(self.concentration > 1, creation.full_like(result, math.inf))

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        result = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return result.where(self.concentration > 2, creation.full_like(result, math.inf))

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """1 / (g / rate), g torch's Gamma(concentration, 1) draws of sample_shape + batch_shape."""
        gamma = self.base_dist
        shape = tuple(gamma._extended_shape(sample_shape))
        value = torch_standard_gamma(gamma.concentration.expand(*shape)) / gamma.rate.expand(*shape)
        x = clamped_below(value, float(np.finfo(value.dtype).tiny))   # after the division, as torch's
        for transform in self.transforms:
            x = transform(x)
        return x

    def entropy(self):
        return (self.concentration + self.rate.log() + self.concentration.lgamma()
                - (1 + self.concentration) * self.concentration.digamma())
