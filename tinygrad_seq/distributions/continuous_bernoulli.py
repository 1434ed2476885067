"""torch.distributions.ContinuousBernoulli: the normalised density p^x (1 - p)^(1 - x) on [0, 1]
(Loaiza-Ganem & Cunningham 2019), the likelihood a VAE over pixel intensities in [0, 1] should
use where it uses a Bernoulli's binary cross-entropy.

    decoder_out = decoder(z)                                   # logits [..., H, W]
    nll = -ContinuousBernoulli(logits=decoder_out).log_prob(x).sum((-2, -1))

As torch's: probs (clamped to [eps, 1 - eps]) or logits, the other on first use; log_prob is
-BCE-with-logits plus the log normaliser log|log(1-p) - log p| - log|1 - 2p|, which near p = 1/2
(inside lims = (0.499, 0.501)) is replaced by its Taylor expansion, as are mean and variance;
cdf / icdf / entropy / rsample (icdf of a U[0, 1) draw, gradients into the parameter) with
torch's formulas. The uniform draw is ts.rand's, torch's stream: after the same seed sample()
and rsample() give torch's numbers. Given probs and an explicit validate_args (True or False, as
torch's), the probs are checked before the clamp: "The parameter probs has invalid values"."""
import math
import numbers

from tinygrad_seq import creation, functional as F
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import _standard_uniform, broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """torch.distributions.ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501), validate_args=None)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            self.probs, = broadcast_all(probs)
            # checked here (when asked for either way) since the clamp below would make any probs pass
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(self.probs).all().item()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            self.logits, = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        self._lims = lims
        super().__init__(Size(()) if is_scalar else self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = Size(tuple(batch_shape))
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(*batch_shape))
                new._param = getattr(new, name)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return self._param.size()

    def _outside_unstable_region(self):
        """True where probs is outside (lims[0], lims[1]]: there the closed forms are used."""
        return self.probs.le(self._lims[0]) | self.probs.gt(self._lims[1])

    def _cut_probs(self):
        """probs outside the unstable region, lims[0] inside it (so the unused closed form stays finite)."""
        return self.probs.where(self._outside_unstable_region(), self._lims[0] * creation.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """log C(p) = log|log(1 - p) - log p| - log|1 - 2p|; near 1/2 its Taylor expansion
        log 2 + (4/3 + 104/45 x) x, x = (p - 1/2)^2."""
        cut_probs = self._cut_probs()
        below_half = cut_probs.where(cut_probs.le(0.5), creation.zeros_like(cut_probs))
        above_half = cut_probs.where(cut_probs.ge(0.5), creation.ones_like(cut_probs))
        log_abs_logit = ((-cut_probs).log1p() - cut_probs.log()).abs().log()
        log_abs_one_minus_2p = (-2.0 * below_half).log1p().where(cut_probs.le(0.5), (2.0 * above_half - 1.0).log())
        log_norm = log_abs_logit - log_abs_one_minus_2p
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return log_norm.where(self._outside_unstable_region(), taylor)

    @property
    def mean(self):
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / ((-cut_probs).log1p() - cut_probs.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return mus.where(self._outside_unstable_region(), taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        cut_probs = self._cut_probs()
        variances = (cut_probs * (cut_probs - 1.0) / (1.0 - 2.0 * cut_probs).pow(2)
                     + 1.0 / ((-cut_probs).log1p() - cut_probs.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return variances.where(self._outside_unstable_region(), taylor)

    def sample(self, sample_shape=Size()):
        u = _standard_uniform(self._extended_shape(sample_shape), self.probs)
        with no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape=Size()):
        """icdf(u), u ~ U[0, 1) of shape sample_shape + batch_shape: gradients into probs / logits."""
        return self.icdf(_standard_uniform(self._extended_shape(sample_shape), self.probs))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        bce = F.binary_cross_entropy_with_logits(logits, value, reduction="none")
        return -bce + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (cut_probs.pow(value) * (1.0 - cut_probs).pow(1.0 - value) + cut_probs - 1.0) / (2.0 * cut_probs - 1.0)
        unbounded_cdfs = cdfs.where(self._outside_unstable_region(), value)   # near 1/2: uniform's cdf
        above_one = creation.ones_like(value).where(value.ge(1.0), unbounded_cdfs)
        return creation.zeros_like(value).where(value.le(0.0), above_one)

    def icdf(self, value):
        cut_probs = self._cut_probs()
        inverted = (((-cut_probs + value * (2.0 * cut_probs - 1.0)).log1p() - (-cut_probs).log1p())
                    / (cut_probs.log() - (-cut_probs).log1p()))
        return inverted.where(self._outside_unstable_region(), value)

    def entropy(self):
        log_probs0 = (-self.probs).log1p()
        log_probs1 = self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """The log normaliser as a function of the natural parameter x (the logits):
        log|expm1(x)| - log|x|, near 0 its Taylor expansion x/2 + x^2/24 - x^4/2880."""
        outside = x.le(self._lims[0] - 0.5) | x.gt(self._lims[1] - 0.5)
        cut_nat_params = x.where(outside, (self._lims[0] - 0.5) * creation.ones_like(x))
        log_norm = cut_nat_params.expm1().abs().log() - cut_nat_params.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return log_norm.where(outside, taylor)
