"""torch.distributions.transforms: invertible maps y = f(x) with log |det dy/dx|, which
TransformedDistribution pushes a base distribution through (a tanh-squashed Gaussian policy,
LogNormal = exp of a Normal, Gumbel from a Uniform).

    Transform                       base: __call__, inv, log_abs_det_jacobian, domain / codomain,
                                    event_dim, sign, forward_shape / inverse_shape, cache_size 0 or 1
    ComposeTransform(parts)         the parts applied in order
    ExpTransform, SigmoidTransform, SoftplusTransform, TanhTransform, PowerTransform(exponent),
    AffineTransform(loc, scale, event_dim=0), SoftmaxTransform, AbsTransform (not bijective)
    CumulativeDistributionTransform(distribution)   x -> distribution.cdf(x)
    CorrCholeskyTransform           reals -> correlation Cholesky factors (corr_cholesky_transform.py)
    StickBreakingTransform, LowerCholeskyTransform, PositiveDefiniteTransform
                                    onto the simplex / matrices (simplex_matrix_transforms.py)
    IndependentTransform, ReshapeTransform, CatTransform, StackTransform
                                    around other transforms / shapes (functor_transforms.py)
    identity_transform

As torch's (formulas, domains, signs, the clipped sigmoid, tanh's stable jacobian
2 (log 2 - x - softplus(-2x))). With cache_size=1 a transform returns the x it was last called on
when inverted at the y it returned (so a tanh policy's log_prob of its own sample needs no atanh)."""
import math
import numbers

import numpy as np

from tinygrad_seq import creation, functional as F
from tinygrad_seq.functions_index import broadcast_shapes

from . import constraints
from .corr_cholesky_transform import CorrCholeskyTransform
from .functor_transforms import CatTransform, IndependentTransform, ReshapeTransform, StackTransform
from .simplex_matrix_transforms import LowerCholeskyTransform, PositiveDefiniteTransform, StickBreakingTransform
from .transform_base import ComposeTransform, Transform, EqualByType, clipped_sigmoid, identity_transform
from .utils import broadcast_all

__all__ = ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform",
           "SoftmaxTransform", "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform",
           "Transform", "identity_transform"]


class ExpTransform(EqualByType, Transform):
    """y = exp(x)."""
    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals."""
    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.exponent, = broadcast_all(exponent)

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and bool(self.exponent.eq(other.exponent).all().item())

    __hash__ = object.__hash__

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return broadcast_shapes(shape, tuple(self.exponent.shape))

    inverse_shape = forward_shape


class SigmoidTransform(EqualByType, Transform):
    """y = sigmoid(x), clipped to [tiny, 1 - eps] as torch's."""
    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def _call(self, x):
        return clipped_sigmoid(x)

    def _inverse(self, y):
        finfo = np.finfo(y.dtype)
        y = y.clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x) - F.softplus(x)


class SoftplusTransform(EqualByType, Transform):
    """y = log(1 + exp(x)) (x itself above 20, as F.softplus)."""
    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x):
        return F.softplus(x)

    def _inverse(self, y):
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x)


class TanhTransform(EqualByType, Transform):
    """y = tanh(x); the jacobian 2 (log 2 - x - softplus(-2x)) stays finite where tanh saturates."""
    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale * x; event_dim rightmost dimensions form one event."""
    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.real if self.event_dim == 0 else constraints.independent(constraints.real, self.event_dim)

    codomain = domain

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        for a, b in ((self.loc, other.loc), (self.scale, other.scale)):
            if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
                if a != b:
                    return False
            elif not bool((a == b).all().item()):
                return False
        return True

    __hash__ = object.__hash__

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Number):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Number):
            result = creation.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self.event_dim:
            result = result.reshape(tuple(result.shape[:-self.event_dim]) + (-1,)).sum(-1)
            shape = shape[:-self.event_dim]
        return result.expand(*shape)

    def forward_shape(self, shape):
        return broadcast_shapes(tuple(shape), tuple(getattr(self.loc, "shape", ())), tuple(getattr(self.scale, "shape", ())))

    inverse_shape = forward_shape


class AbsTransform(EqualByType, Transform):
    """y = |x| (not bijective: HalfNormal / HalfCauchy score it themselves)."""
    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class SoftmaxTransform(EqualByType, Transform):
    """y = exp(x) normalised over the last dimension (not bijective: no log_abs_det_jacobian)."""
    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape

    inverse_shape = forward_shape



class CumulativeDistributionTransform(Transform):
    """torch.distributions.transforms.CumulativeDistributionTransform(distribution, cache_size=0):
    y = distribution.cdf(x) on its support, onto the unit interval (a copula's marginals);
    log |det| is the distribution's log_prob."""
    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
