"""torch.distributions.Wishart: distributions over symmetric positive-definite matrices (a prior on
a covariance or precision matrix; the sample covariance of df Gaussian vectors).

    w = Wishart(df, covariance_matrix=S)      # or precision_matrix= / scale_tril=
    X = w.rsample()                            # [..., p, p], gradients into df and S

As torch's: exactly one matrix form (factored to its lower Cholesky factor L, as
MultivariateNormal's), df a number or a tensor broadcast with the matrix's batch, df > p - 1
(a warning below p); log_prob, entropy, mean / mode / variance with torch's formulas and
gradients. rsample is torch's Bartlett decomposition with torch's draws (torch_gamma.py): the
square roots of Chi2(df - i) draws on the diagonal of A, N(0, 1) draws below it in row order,
X = (L A)(L A)^T; then torch's correction pass, which (its check being inverted) redraws every
batch that is positive definite once with the warning "Singular sample detected.", as torch
2.13 does, so the values are torch's under the same seed. kl_divergence(Wishart, Wishart) is
torch's exponential-family (Bregman) one."""
import math
import numbers
import warnings

import numpy as np

from tinygrad_seq import creation, linalg
from tinygrad_seq.functions_numeric import cholesky_solve, mvlgamma
from tinygrad_seq.functions_index import broadcast_shapes, tril_indices
from tinygrad_seq.tensor import Size

from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import clamped_below
from .kl import register_kl
from .multivariate_normal import _precision_to_scale_tril
from .torch_gamma import torch_standard_gamma
from .utils import _sum_rightmost, lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x, p):
    """The multivariate digamma: sum_i digamma(x - i / 2) over i < p (x > (p - 1) / 2)."""
    if not bool(x.gt((p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    halves = creation.arange(p, dtype=x.dtype, device=x.device).div(2)
    return (x.unsqueeze(-1) - halves.expand(*x.shape, -1)).digamma().sum(-1)


def _chi2_for(df, p, batch_shape, like):
    """Chi2(df - i) for i < p: the squared diagonal of Bartlett's A, batch_shape + [p]."""
    offsets = creation.arange(p, dtype=like.dtype, device=like.device).expand(*batch_shape, -1)
    return Chi2(df=df.unsqueeze(-1) - offsets)


class Wishart(ExponentialFamily):
    """torch.distributions.Wishart(df, covariance_matrix=None, precision_matrix=None,
    scale_tril=None, validate_args=None): batch_shape [...], event_shape [p, p]."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = Size(tuple(param.shape[:-2]))
            self.df = creation.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = Size(tuple(broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))))
            self.df = df.expand(*batch_shape)
        event_shape = Size(tuple(param.shape[-2:]))
        p = event_shape[-1]
        if bool(self.df.le(p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        name = "scale_tril" if scale_tril is not None else (
            "covariance_matrix" if covariance_matrix is not None else "precision_matrix")
        setattr(self, name, param.expand(*batch_shape, -1, -1))
        if bool(self.df.lt(p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur for "
                          "ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        # Chi2(df - i), i < p: Bartlett's diagonal (its parameters; the draws are torch_gamma's)
        self._dist_chi2 = _chi2_for(self.df, p, batch_shape, self._unbroadcasted_scale_tril)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(tuple(batch_shape))
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(*cov_shape)
        new.df = self.df.expand(*batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(*cov_shape))
        new._dist_chi2 = _chi2_for(new.df, self.event_shape[-1], batch_shape, new._unbroadcasted_scale_tril)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        factor = self._unbroadcasted_scale_tril
        return (factor @ factor.transpose(-2, -1)).expand(*self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        factor = self._unbroadcasted_scale_tril
        identity = creation.eye(self._event_shape[-1], dtype=factor.dtype, device=factor.device)
        return cholesky_solve(identity, factor).expand(*self._matrix_shape())

    def _df_matrix(self, df):
        """df [batch] viewed as [batch, 1, 1] to scale the matrices."""
        return df.view(*self._batch_shape, 1, 1)

    @property
    def mean(self):
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self):
        """(df - p - 1) S, nan where df <= p + 1 (torch's)."""
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = factor.masked_fill(factor <= 0, float("nan"))
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self):
        """Var X_ij = df (S_ij^2 + S_ii S_jj)."""
        cov = self.covariance_matrix
        diag = cov.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (cov.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=Size()):
        """(L A)(L A)^T, A lower triangular: sqrt(Chi2(df - i)) (at least eps) on its diagonal,
        N(0, 1) below it; shape sample_shape + batch_shape + [p, p]."""
        p = self._event_shape[-1]
        chi2 = self._dist_chi2
        shape = tuple(chi2._extended_shape(sample_shape))
        draws = torch_standard_gamma(chi2.concentration.expand(*shape)) / chi2.rate.expand(*shape)
        draws = clamped_below(draws, float(np.finfo(draws.dtype).tiny))   # Gamma.rsample's clamp
        noise = draws.sqrt().clamp(min=float(np.finfo(draws.dtype).eps)).diag_embed(dim1=-2, dim2=-1)
        i, j = tril_indices(p, p, offset=-1)
        below = creation.randn(tuple(Size(tuple(sample_shape))) + tuple(self._batch_shape) + (p * (p - 1) // 2,),
                               dtype=noise.dtype, device=noise.device)
        noise[..., i, j] = below
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.transpose(-2, -1)

    def _per_sample(self, check):
        """A support check [sample_shape + batch_shape] reduced over the batch, as torch's amax."""
        return check.amax(self._batch_dims) if self._batch_shape else check

    def rsample(self, sample_shape=Size(), max_try_correction=None):
        """A draw by Bartlett's decomposition, then torch's correction pass (see the module note:
        its mask is the support check itself, so the samples in the support are redrawn)."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = Size(tuple(sample_shape))
        sample = self._bartlett_sampling(sample_shape)
        redraw = self._per_sample(self.support.check(sample))
        if bool(redraw.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(Size(tuple(redraw[redraw].shape)))
                # a copy as the index: an index put keeps its mask for backward, and redraw is
                # written in place below (torch indexes with redraw itself: its backward raises)
                sample[redraw.clone()] = sample_new
                redraw_new = self._per_sample(~self.support.check(sample_new))
                redraw[redraw.clone()] = redraw_new
                if not bool(redraw.any()):
                    break
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        trace = cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (-nu * (p * _LOG_2 / 2 + half_log_det) - mvlgamma(nu / 2, p=p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return ((p + 1) * (p * _LOG_2 / 2 + half_log_det) + mvlgamma(nu / 2, p=p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p) + nu * p / 2)

    @property
    def _natural_params(self):
        return -self.precision_matrix / 2, (self.df - self._event_shape[-1] - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + mvlgamma(y + (p + 1) / 2, p=p))


@register_kl(Wishart, Wishart)
def _kl_wishart_wishart(p, q):
    """torch's KL for a pair of one exponential family (its only route for Wishart): the Bregman
    divergence of the log normaliser, A(eta_q) - A(eta_p) - <eta_q - eta_p, grad A(eta_p)>. Each
    term is summed over its 2 rightmost dimensions as torch's: the df term, [batch], sums over
    the batch then (torch's result, kept)."""
    from tinygrad_seq.autograd_api import grad
    p_params = [param.detach().requires_grad_() for param in p._natural_params]
    q_params = q._natural_params
    log_normalizer = p._log_normalizer(*p_params)
    # without a graph (torch's has one): p's parameters are detached leaves, so no gradient a
    # caller can see passes through these, and the engine has no double backward of slogdet
    gradients = grad(log_normalizer.sum(), p_params, retain_graph=True)
    result = q._log_normalizer(*q_params) - log_normalizer
    for p_param, q_param, g in zip(p_params, q_params, gradients):
        result = result - _sum_rightmost((q_param - p_param) * g, len(q.event_shape))
    return result
