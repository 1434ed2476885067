"""torch.distributions.Normal: a Gaussian per element, the output of a VAE encoder, a Gaussian
policy or a mixture density network's components.

    q = Normal(mu, log_var.mul(0.5).exp())     # loc, scale broadcast to one batch_shape
    z = q.rsample()                            # mu + eps * scale: gradients into mu and scale
    kl = kl_divergence(q, Normal(0.0, 1.0))    # per element, batch_shape

As torch's: loc and scale (tensors or numbers) broadcast together; log_prob, cdf, icdf and
entropy are Tensor compositions, so they carry gradients into loc, scale and the value; sample()
is rsample() without gradient. Draws come from tinygrad_seq's generator (ts.manual_seed)."""
import math

from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from .exp_family import ExponentialFamily
from .loc_scale import LocScale
from .utils import _standard_normal

__all__ = ["Normal"]


class Normal(LocScale, ExponentialFamily):
    """torch.distributions.Normal(loc, scale, validate_args=None): N(loc, scale**2)."""

    _mean_carrier_measure = 0

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=Size()):
        """rsample() without gradient, in loc's dtype (torch's sample is torch.normal(loc, scale),
        whose result takes the mean's dtype even where scale's is wider)."""
        with no_grad():
            draw = self.rsample(sample_shape)
            return draw if draw.dtype == self.loc.dtype else draw.to(self.loc.dtype)

    def rsample(self, sample_shape=Size()):
        """loc + eps * scale, eps ~ N(0, 1) of shape sample_shape + batch_shape."""
        eps = _standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value):
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
