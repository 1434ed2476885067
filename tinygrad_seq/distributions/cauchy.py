"""torch.distributions.Cauchy: a heavy-tailed location-scale family (robust likelihoods, priors).
As torch's, draws included: cauchy_() on tinygrad_seq's generator (torch's stream), scaled;
mean nan and variance inf everywhere, as torch's."""
import math

from tinygrad_seq import creation

from .loc_scale import LocScale

__all__ = ["Cauchy"]


class Cauchy(LocScale):
    """torch.distributions.Cauchy(loc, scale, validate_args=None)."""

    def _full(self, value):
        return creation.full(tuple(self._extended_shape()), value, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def mean(self):
        return self._full(math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._full(math.inf)

    def rsample(self, sample_shape=()):
        eps = creation.empty(tuple(self._extended_shape(sample_shape)), dtype=self.loc.dtype,
                             device=self.loc.device).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
