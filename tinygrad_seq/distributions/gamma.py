"""torch.distributions.Gamma: positive draws for rates, precisions and the Student t's
mixing variable (StudentT draws through Chi2; Beta and Dirichlet through standard gamma draws).

    g = Gamma(concentration, rate)        # mean concentration / rate
    x = g.rsample()                        # gradients into concentration and rate

As torch's: log_prob, entropy, cdf (the regularised incomplete gamma) and mean / mode / variance
with torch's formulas. rsample is a standard gamma draw (numpy's Marsaglia-Tsang sampler over
tinygrad_seq's generator: reproducible, not torch's numbers) divided by rate; its gradient into
the concentration is the implicit reparameterisation gradient dx/da = -(dP(a, x)/da) / p(x; a)
(P the regularised incomplete gamma, its a-derivative by central differences in float64), the
quantity torch's _standard_gamma_grad approximates."""
import numbers

import numpy as np
from scipy import special as sp

from tinygrad_seq import random
from tinygrad_seq.autograd import Function
from tinygrad_seq.tensor import Size, Tensor

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Gamma", "standard_gamma"]


def _gamma_draw_grad(alpha, x):
    """dx/dalpha of x ~ Gamma(alpha, 1) with its uniform noise held fixed (float64 arrays):
    -(dP(alpha, x)/dalpha) / p(x; alpha)."""
    step = 1e-5 * np.maximum(alpha, 1.0)
    dp_dalpha = (sp.gammainc(alpha + step, x) - sp.gammainc(alpha - step, x)) / (2 * step)
    log_density = (alpha - 1) * np.log(x) - x - sp.gammaln(alpha)
    return -dp_dalpha / np.exp(log_density)


class StandardGamma(Function):
    """The draws (made in standard_gamma) as a function of the concentrations; backward is the
    implicit reparameterisation gradient (torch's _standard_gamma and its derivative)."""

    @staticmethod
    def forward(ctx, alpha, draws=None, alpha_host=None):
        ctx.alpha, ctx.x = alpha_host, draws
        return ctx.b.asarray(draws)

    @staticmethod
    def backward(ctx, g):
        with np.errstate(all="ignore"):
            grad = _gamma_draw_grad(ctx.alpha.astype(np.float64), ctx.x.astype(np.float64))
        return ctx.b.mul(g, ctx.b.asarray(grad.astype(ctx.x.dtype)))


def standard_gamma(concentration):
    """torch._standard_gamma: one Gamma(concentration, 1) draw per element (drawn on the host from
    tinygrad_seq's generator), differentiable in the concentration."""
    if not isinstance(concentration, Tensor):
        raise TypeError(f"_standard_gamma(): argument 'self' must be Tensor, not {type(concentration).__name__}")
    if concentration.dtype.kind != "f" or concentration.dtype == np.float16:
        from tinygrad_seq.functional_checks import torch_type_name
        raise NotImplementedError(f"\"gamma_cpu\" not implemented for '{torch_type_name(concentration.dtype)}'")
    alpha = np.array(concentration.detach().cpu().numpy())   # a copy, 0-d kept (ascontiguousarray makes 1-d)
    draws = np.asarray(random.generator().standard_gamma(alpha.astype(np.float64))).reshape(alpha.shape)
    # a draw that rounds to 0 in the dtype becomes its smallest normal number (torch's sampler)
    draws = np.asarray(np.maximum(draws, np.finfo(alpha.dtype).tiny), alpha.dtype)
    return StandardGamma.apply(concentration, draws=draws, alpha_host=alpha)


def clamped_below(value, low):
    """value with its values raised to `low` and its gradient untouched (torch's
    value.detach().clamp_(min=low) on a graph's output)."""
    held = value.detach()
    return value + (held.clamp(min=low) - held)


class Gamma(Distribution):
    """torch.distributions.Gamma(concentration, rate, validate_args=None): density
    rate^a x^(a-1) exp(-rate x) / Gamma(a)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

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

    def cdf(self, value):
        from tinygrad_seq import special
        if self._validate_args:
            self._validate_sample(value)
        return special.gammainc(self.concentration, self.rate * value)
