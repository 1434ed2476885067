"""torch.distributions.Dirichlet: draws on the probability simplex (topic mixtures, attention
priors, a VAE's simplex-valued latent).

As torch's: concentration [..., K] (batch_shape [...], event_shape [K]); log_prob, entropy, mean,
mode, variance with torch's formulas and gradients. rsample is torch's _sample_dirichlet
(torch_gamma.py: double gamma draws normalised over the last dimension, torch's numbers and
stream), its gradient the pathwise one of that normalisation through each gamma draw's implicit
gradient (torch's _Dirichlet applies the implicit gradient of the joint draw instead: both are
unbiased reparameterisation gradients)."""
from tinygrad_seq import functional as F
from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .torch_gamma import torch_dirichlet_rsample

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """torch.distributions.Dirichlet(concentration, validate_args=None)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(Size(concentration.shape[:-1]), Size(concentration.shape[-1:]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.concentration = self.concentration.expand(*(tuple(batch_shape) + tuple(self.event_shape)))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        # inside the open simplex, as torch's sampler: a share that rounds to 1 (or 0) would score inf
        return torch_dirichlet_rsample(self.concentration.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((self.concentration - 1.0).xlogy(value).sum(-1) + self.concentration.sum(-1).lgamma()
                - self.concentration.lgamma().sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """(a - 1)+ normalised; where every a < 1, the one-hot vertex of the largest (torch's)."""
        above_one = (self.concentration - 1).clamp(min=0.0)
        mode = above_one / above_one.sum(-1, True)
        vertex = F.one_hot(mode.argmax(-1), self.concentration.shape[-1]).to(mode.dtype)
        all_below = (self.concentration < 1).all(-1, keepdim=True)
        return vertex.where(all_below, mode)

    @property
    def variance(self):
        total = self.concentration.sum(-1, True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self):
        k = self.concentration.shape[-1]
        total = self.concentration.sum(-1)
        return (self.concentration.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((self.concentration - 1.0) * self.concentration.digamma()).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()
