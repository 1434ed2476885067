"""torch.distributions.StudentT: a heavy-tailed likelihood (DeepAR's Student-t output, robust
regression). As torch's: log_prob, entropy, mean (nan where df <= 1), variance (inf for
1 < df <= 2, nan for df <= 1); rsample is loc + scale X / sqrt(Z / df), X a normal draw and Z a
Chi2(df) draw (gamma.py), with gradients into df, loc and scale."""
import math

from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .chi2 import Chi2
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """torch.distributions.StudentT(df, loc=0.0, scale=1.0, validate_args=None)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return self._expand_params(StudentT, ("df", "loc", "scale"), batch_shape, new)

    @property
    def mean(self):
        return self.loc.where(self.df > 1, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        above_two = self.df > 2
        df = self.df.where(above_two, 3.0)   # the finite formula only where it holds: no 0 * inf in its gradient
        finite = self.scale.pow(2) * df / (df - 2)
        return finite.where(above_two, math.inf).where(self.df > 1, math.nan)

    def rsample(self, sample_shape=Size()):
        x = _standard_normal(self._extended_shape(sample_shape), self.df)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (x * (z / self.df).rsqrt())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + (0.5 * self.df).lgamma()
             - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y ** 2.0 / self.df).log1p() - z

    def entropy(self):
        lbeta = (0.5 * self.df).lgamma() + math.lgamma(0.5) - (0.5 * (self.df + 1)).lgamma()
        return (self.scale.log() + 0.5 * (self.df + 1) * ((0.5 * (self.df + 1)).digamma() - (0.5 * self.df).digamma())
                + 0.5 * self.df.log() + lbeta)
