"""torch.distributions.Laplace: a double-exponential per element (an L1 likelihood, robust
regression heads). As torch's, draws included: u = uniform_(eps - 1, 1) on tinygrad_seq's
generator (torch's stream), loc - scale * sign(u) * log1p(-|u|)."""
import numpy as np

from tinygrad_seq import creation

from .loc_scale import LocScale

__all__ = ["Laplace"]


class Laplace(LocScale):
    """torch.distributions.Laplace(loc, scale, validate_args=None)."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = creation.empty(tuple(self._extended_shape(sample_shape)), dtype=self.loc.dtype,
                           device=self.loc.device).uniform_(eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
