"""torch.distributions.LKJCholesky: the LKJ prior over correlation matrices, as a distribution of
their lower Cholesky factors L (L L^T has density proportional to det^(eta - 1)); eta = 1 is
uniform over correlation matrices, larger eta concentrates them at the identity.

    l = LKJCholesky(3, concentration=2.0)     # batch_shape = concentration's, event_shape [3, 3]
    L = l.sample()                              # rows of unit length, positive diagonal

As torch's (after NumPyro): arguments, shapes and errors; log_prob with its normaliser and
gradients into the concentration; no rsample. sample is torch's onion method with torch's draws:
Beta(i / 2 (i >= 1; 1/2 for row 0), eta + (D - 2 - i) / 2) per row drawn through torch's Dirichlet
sampler (torch_gamma.py), then randn [..., D, D] for the directions, so samples are torch's under
the same seed."""
import math

import numpy as np

from tinygrad_seq import creation, linalg
from tinygrad_seq.functions_numeric import mvlgamma
from tinygrad_seq.functions import cat, stack
from tinygrad_seq.tensor import Size

from . import constraints
from .beta import Beta
from .distribution import Distribution
from .torch_gamma import torch_sample_dirichlet
from .utils import _sample_shape, broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """torch.distributions.LKJCholesky(dim, concentration=1.0, validate_args=None)."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        self.concentration, = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        # the Beta of row i's squared off-diagonal length (onion method, Sec. 3.2 of Lewandowski et
        # al. 2009): concentration1 = offset + 1/2, concentration0 = eta + (D - 2) / 2 - offset / 2,
        # offset = [0, 0, 1, ..., D - 2]; batch_shape + [D] (made with default validation, as torch's)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = creation.arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.dim = self.dim
        new.concentration = self.concentration.expand(*batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _beta_sample(self, sample_shape):
        """Beta.sample(sample_shape) as torch's: the first share of a two-category Dirichlet draw."""
        shape = tuple(_sample_shape(sample_shape)) + tuple(self._beta.batch_shape)
        pair = stack([self._beta.concentration1, self._beta.concentration0], -1).detach()
        return torch_sample_dirichlet(pair.expand(*shape, 2)).select(-1, 0)

    def sample(self, sample_shape=Size()):
        """sample_shape + batch_shape + [D, D]: row i is sqrt(y_i) times a uniform direction in
        its first i coordinates, then the diagonal that makes the row's length 1."""
        y = self._beta_sample(sample_shape).unsqueeze(-1)
        u_normal = creation.randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype, device=y.device).tril(-1)
        u_hypersphere = u_normal / linalg.norm(u_normal, dim=-1, keepdim=True)
        u_hypersphere[..., 0, :] = 0.0   # row 0 has no off-diagonal entries (0 / 0 above)
        w = y.sqrt() * u_hypersphere
        # the diagonal, clamped at the dtype's smallest normal number for stability
        diag_elems = (1 - w.pow(2).sum(-1)).clamp(min=float(np.finfo(w.dtype).tiny)).sqrt()
        return w + diag_elems.diag_embed()

    def log_prob(self, value):
        """log of prod_i L_ii^(2 (eta - 1) + D - i) (the density of L L^T times the Jacobian of
        L -> L L^T, i = 2..D) less the log normaliser (page 1999 of Lewandowski et al.)."""
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = alpha.lgamma() * dm1
        numerator = mvlgamma(alpha - 0.5, dm1)
        # the paper's pi constant D (D - 1) / 4 log(pi) less multigammaln's (D - 1)(D - 2) / 4 log(pi)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
