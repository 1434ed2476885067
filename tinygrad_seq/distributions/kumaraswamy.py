"""torch.distributions.Kumaraswamy: a Beta-like density a b x^(a-1) (1 - x^a)^(b-1) on [0, 1]
whose cdf 1 - (1 - x^a)^b inverts in closed form, so it reparameterises cheaply (a bounded
latent or a stick-breaking fraction in a VAE).

As torch's, a TransformedDistribution of Uniform(0, 1) through
PowerTransform(1 / concentration0), AffineTransform(1, -1), PowerTransform(1 / concentration1)
(x = (1 - u^(1/b))^(1/a)): log_prob, cdf and icdf through those transforms, rsample with
gradients into both concentrations, mean / variance from the moments b B(1 + n/a, b) (by
lgamma), entropy, and mode by torch's expression (which is nan for every concentration). The
uniform draw is ts.rand's, torch's stream: after the same seed, torch's numbers."""
from tinygrad_seq import creation
from tinygrad_seq.tensor import Size

from . import constraints
from .gumbel import _EULER
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all

__all__ = ["Kumaraswamy"]


def _moments(a, b, n):
    """E[X^n] = b Gamma(1 + n/a) Gamma(b) / Gamma(1 + n/a + b), by lgamma."""
    arg1 = 1 + n / a
    log_value = arg1.lgamma() + b.lgamma() - (arg1 + b).lgamma()
    return b * log_value.exp()


class Kumaraswamy(TransformedDistribution):
    """torch.distributions.Kumaraswamy(concentration1, concentration0, validate_args=None):
    concentration1 is a (alpha), concentration0 is b (beta)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(creation.full_like(self.concentration0, 0), creation.full_like(self.concentration0, 1),
                            validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.concentration1 = self.concentration1.expand(*batch_shape)
        new.concentration0 = self.concentration0.expand(*batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        # torch's expression, kept as is: log1p(-b) is nan for b > 1 and the rest are masked below,
        # so torch's mode (and this one) is nan for every concentration
        log_mode = (self.concentration0.reciprocal() * (-self.concentration0).log1p()
                    - (-self.concentration0 * self.concentration1).log1p())
        undefined = (self.concentration0 < 1) | (self.concentration1 < 1)   # no interior mode: nan, as torch's
        return log_mode.where(~undefined, float("nan")).exp()

    @property
    def variance(self):
        return _moments(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        harmonic = (self.concentration0 + 1).digamma() + _EULER   # H(b), the b-th harmonic number
        return t0 + t1 * harmonic - self.concentration1.log() - self.concentration0.log()
