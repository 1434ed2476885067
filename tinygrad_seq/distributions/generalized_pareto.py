"""torch.distributions.GeneralizedPareto: the law of exceedances over a high threshold (tails of
other distributions; peaks-over-threshold risk models). Exponential at concentration 0, a
Pareto for concentration > 0, bounded above for concentration < 0.

    gp = GeneralizedPareto(loc, scale, concentration)
    x = gp.rsample()                       # icdf of a U[0, 1) draw: gradients into all three

As torch's (TensorFlow Probability's formulas): loc, scale, concentration broadcast together;
where concentration is close to 0 (isclose) the exponential limit is used, the other branch
fed a safe concentration of 1 so its gradient stays finite; log_prob, cdf (through the log
survival function), icdf, entropy, mean / variance (nan where they do not exist), mode, the
support interval(loc, loc - scale / concentration or inf). As torch's, log_prob and the
survival function compare concentration with a default-dtype 0, so another dtype raises torch's
RuntimeError ("Double did not match Float"). Draws are torch's under the same seed."""
import math

import numpy as np

from tinygrad_seq import creation, dtypes
from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .utils import _standard_uniform, batch_shape_of, broadcast_all

__all__ = ["GeneralizedPareto"]


def _close_to_default_zero(concentration):
    """torch.isclose(concentration, torch.tensor(0.0)): torch's dtype check, then the mask."""
    default = np.dtype(dtypes.get_default_dtype())
    if concentration.dtype != default:
        raise RuntimeError(f"{torch_type_name(concentration.dtype)} did not match {torch_type_name(default)}")
    return concentration.isclose(creation.zeros_like(concentration))


class GeneralizedPareto(Distribution):
    """torch.distributions.GeneralizedPareto(loc, scale, concentration, validate_args=None)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        given = (loc, scale, concentration)
        self.loc, self.scale, self.concentration = broadcast_all(*given)
        super().__init__(batch_shape_of(given, (self.loc,)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(GeneralizedPareto, ("loc", "scale", "concentration"), batch_shape, _instance)

    def rsample(self, sample_shape=Size()):
        return self.icdf(_standard_uniform(self._extended_shape(sample_shape), self.loc))

    def _z(self, x):
        return (x - self.loc) / self.scale

    def _safe(self, eq_zero):
        """concentration, with 1 where it is ~0 (that branch is not used there)."""
        return creation.ones_like(self.concentration).where(eq_zero, self.concentration)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero = _close_to_default_zero(self.concentration)
        safe_conc = self._safe(eq_zero)
        y = 1 / safe_conc + creation.ones_like(z)
        where_nonzero = y.where(y == 0, y * (safe_conc * z).log1p())
        return -self.scale.log() - z.where(eq_zero, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero = _close_to_default_zero(self.concentration)
        safe_conc = self._safe(eq_zero)
        return (-z).where(eq_zero, -(safe_conc * z).log1p() / safe_conc)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero = self.concentration.isclose(creation.zeros_like(self.concentration))
        safe_conc = self._safe(eq_zero)
        logu = (-value).log1p()
        where_nonzero = self.loc + self.scale / safe_conc * (-safe_conc * logu).expm1()
        where_zero = self.loc - self.scale * logu
        return where_zero.where(eq_zero, where_nonzero)

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = self.concentration.where(valid, creation.full_like(self.concentration, 0.5))
        result = self.loc + self.scale / (1 - safe_conc)
        return result.where(valid, creation.full_like(result, math.nan))

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = self.concentration.where(valid, creation.full_like(self.concentration, 0.25))
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return result.where(valid, creation.full_like(result, math.nan))

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).broadcast_to(tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        bounded = lower - self.scale / self.concentration
        upper = bounded.where(self.concentration < 0, creation.full_like(bounded, math.inf))
        return constraints.interval(lower, upper)
