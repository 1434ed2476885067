"""torch.distributions.Gamma: positive draws for rates, precisions and the Student t's
mixing variable (StudentT draws through Chi2; Beta and Dirichlet through torch's Dirichlet sampler).

    g = Gamma(concentration, rate)        # mean concentration / rate
    x = g.rsample()                        # gradients into concentration and rate

As torch's: log_prob, entropy, cdf (the regularised incomplete gamma) and mean / mode / variance
with torch's formulas. rsample is torch's _standard_gamma draw (torch_gamma.py: torch's sampler
over torch's stream, so the draws and every draw after them are torch's) divided by rate; its
gradient into the concentration is the implicit reparameterisation gradient dx/da =
-(dP(a, x)/da) / p(x; a) (P the regularised incomplete gamma, its a-derivative by central
differences in float64), the quantity torch's _standard_gamma_grad approximates."""
import numbers

import numpy as np

from tinygrad_seq.tensor import Size, Tensor

from . import constraints
from .exp_family import ExponentialFamily
from .torch_gamma import torch_standard_gamma as standard_gamma   # torch._standard_gamma
from .utils import broadcast_all

__all__ = ["Gamma", "standard_gamma"]


def clamped_below(value, low):
    """value with its values raised to `low` and its gradient untouched (torch's
    value.detach().clamp_(min=low) on a graph's output)."""
    held = value.detach()
    return value + (held.clamp(min=low) - held)


class Gamma(ExponentialFamily):
    """torch.distributions.Gamma(concentration, rate, validate_args=None): density
    rate^a x^(a-1) exp(-rate x) / Gamma(a)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        both_numbers = isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number)
        super().__init__(Size(()) if both_numbers else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, ("concentration", "rate"), batch_shape, _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration.expand(*shape)) / self.rate.expand(*shape)
        return clamped_below(value, float(np.finfo(value.dtype).tiny))   # after the division, as torch's

    def log_prob(self, value):
        value = value.to(self.rate.dtype) if isinstance(value, Tensor) else Tensor(np.asarray(value, self.rate.dtype))
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration.xlogy(self.rate) + (self.concentration - 1).xlogy(value)
                - self.rate * value - self.concentration.lgamma())

    def entropy(self):
        return (self.concentration - self.rate.log() + self.concentration.lgamma()
                + (1.0 - self.concentration) * self.concentration.digamma())

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    def cdf(self, value):
        from tinygrad_seq import special
        if self._validate_args:
            self._validate_sample(value)
        return special.gammainc(self.concentration, self.rate * value)
