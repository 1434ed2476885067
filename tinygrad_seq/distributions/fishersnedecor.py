"""torch.distributions.FisherSnedecor: the F distribution, the ratio (X1/df1) / (X2/df2) of two
scaled chi-squared draws (variance ratios; a heavy-tailed positive likelihood).

As torch's: df1, df2 broadcast together (positive; the check is the Gamma's, as torch's Gamma
raises it), log_prob, mean (nan where df2 <= 2), mode (nan where df1 <= 2), variance (nan where
df2 <= 4), rsample = X1 / X2 with X1 ~ Gamma(df1/2, df1), X2 ~ Gamma(df2/2, df2), both clamped
to the dtype's tiny, with gradients into df1 and df2. The gamma draws are Gamma.rsample's
(torch's numbers); their gradients are the implicit reparameterisation's."""
import numbers

import numpy as np

from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """torch.distributions.FisherSnedecor(df1, df2, validate_args=None)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        both_numbers = isinstance(df1, numbers.Number) and isinstance(df2, numbers.Number)
        super().__init__(Size(()) if both_numbers else self.df1.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.df1 = self.df1.expand(*batch_shape)
        new.df2 = self.df2.expand(*batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        df2 = self.df2.where(self.df2 > 2, float("nan"))   # undefined for df2 <= 2
        return df2 / (df2 - 2)

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return mode.where(self.df1 > 2, float("nan"))      # undefined for df1 <= 2

    @property
    def variance(self):
        df2 = self.df2.where(self.df2 > 4, float("nan"))   # undefined for df2 <= 4
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape=Size()):
        """X1 / X2 of shape sample_shape + batch_shape: X1 ~ Gamma(df1/2, rate df1) is chi2(df1)/df1,
        likewise X2, so the ratio is F(df1, df2)."""
        shape = tuple(self._extended_shape(sample_shape))
        x1 = self._gamma1.rsample(sample_shape).view(shape)
        x2 = self._gamma2.rsample(sample_shape).view(shape)
        tiny = float(np.finfo(x2.dtype).tiny)
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3
