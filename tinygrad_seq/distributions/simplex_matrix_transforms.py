"""torch.distributions.transforms onto the simplex and onto matrices (re-exported by transforms.py):

    StickBreakingTransform      [..., K - 1] reals -> [..., K] on the simplex (bijective)
    LowerCholeskyTransform      [..., n, n] reals -> lower triangular, the diagonal exp'ed
    PositiveDefiniteTransform   [..., n, n] reals -> L L^T, L the LowerCholeskyTransform of x

As torch's: the stick-breaking offsets log(K - i) that make x = 0 the uniform point, the clipped
sigmoid, the inverse's survival clamped at tiny, log |det| through logsigmoid; the matrix ones
have no log_abs_det_jacobian (torch's raise NotImplementedError) and are not bijective."""
import numpy as np

from tinygrad_seq import functional as F, linalg

from . import constraints
from .transform_base import EqualByType, Transform, clipped_sigmoid

__all__ = ["LowerCholeskyTransform", "PositiveDefiniteTransform", "StickBreakingTransform"]


def _offsets(like, n, top):
    """[n]: top - 1, top - 2, ..., top - n in like's dtype (top - cumsum of ones)."""
    return top - like.new_ones(n).cumsum(-1)


class StickBreakingTransform(EqualByType, Transform):
    """y_i = z_i prod_{j<i} (1 - z_j), z_i = sigmoid(x_i - log(K - i)); y_K the rest of the stick."""
    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def _call(self, x):
        offset = _offsets(x, x.shape[-1], x.shape[-1] + 1)
        z = clipped_sigmoid(x - offset.log())
        z_cumprod = (1 - z).cumprod(-1)
        return F.pad(z, [0, 1], value=1) * F.pad(z_cumprod, [1, 0], value=1)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = _offsets(y, y_crop.shape[-1], y.shape[-1])
        # the stick left before each piece, kept positive where y_K ~ 0 or sum(y[:-1]) ~ 1
        sf = (1 - y_crop.cumsum(-1)).clamp(min=float(np.finfo(y.dtype).tiny))
        return y_crop.log() - sf.log() + offset.log()

    def log_abs_det_jacobian(self, x, y):
        offset = _offsets(x, x.shape[-1], x.shape[-1] + 1)
        x = x - offset.log()
        # 1 - sigmoid(x) = exp(-x) sigmoid(x)
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape[:-1] + (shape[-1] - 1,)


class LowerCholeskyTransform(EqualByType, Transform):
    """y = tril(x, -1) + diag(exp(diag(x))): a lower triangular matrix with a positive diagonal."""
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(EqualByType, Transform):
    """y = L L^T with L = LowerCholeskyTransform()(x); the inverse through y's Cholesky factor."""
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        factor = LowerCholeskyTransform()(x)
        return factor @ factor.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(linalg.cholesky(y))
