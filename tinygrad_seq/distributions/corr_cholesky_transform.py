"""torch.distributions.transforms.CorrCholeskyTransform: an unconstrained vector of D (D - 1) / 2
reals to the lower Cholesky factor of a D x D correlation matrix (the bijection an LKJ prior's
factor is optimised through), with torch's helpers vec_to_tril_matrix / tril_matrix_to_vec.

As torch's: x -> tanh(x) (clamped inside (-1, 1) by eps) laid out below the diagonal in row
order, then a signed stick-breaking per row so each row has unit length; the inverse and the
log |det| of x against the flattened strictly-lower part of y (Stan's formulas)."""
import math

import numpy as np

from tinygrad_seq import creation, functional as F

from . import constraints
from .transform_base import Transform

__all__ = ["CorrCholeskyTransform", "tril_matrix_to_vec", "vec_to_tril_matrix"]


def _tril_mask(n, diag, device):
    """[n, n] bool: True at the entries on or below diagonal `diag` (row order when flattened)."""
    arange = creation.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """[..., D, D] -> [..., N]: the entries on or below diagonal `diag`, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """[..., N] -> [..., D, D]: zeros with vec laid on and below diagonal `diag`, in row order."""
    # the positive root of D^2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 N = 0
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > float(np.finfo(vec.dtype).eps):
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = creation.zeros(tuple(vec.shape[:-1]) + (n, n), dtype=vec.dtype, device=vec.device)
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat


class CorrCholeskyTransform(Transform):
    """y = the correlation Cholesky factor of x [..., D (D - 1) / 2] (torch's); y [..., D, D]."""
    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = float(np.finfo(x.dtype).eps)
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        # y = sign(r) sqrt(z cumprod(1 - z)) = r sqrt(cumprod(1 - z)) with z = r^2, the cumprod
        # shifted right one place; the diagonal (r = 0 there) becomes 1 * that remainder
        z1m_cumprod_sqrt = (1 - r.pow(2)).sqrt().cumprod(-1)
        r = r + creation.eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * F.pad(z1m_cumprod_sqrt[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        # inverse stick-breaking: t = y_ij / sqrt(1 - sum_{k<j} y_ik^2), then atanh
        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = F.pad(y_cumsum[..., :-1], [1, 0], value=1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(y_cumsum_shifted, diag=-1).sqrt()
        return (t.log1p() - t.neg().log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        # of x against the flattened strictly-lower part of y (domain and codomain differ in size);
        # diag=-2 takes the remainders already shifted one place right (works for 2 x 2 too)
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        stick_breaking_logdet = 0.5 * tril_matrix_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh_logdet = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        """(..., N) -> (..., D, D)."""
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        """(..., D, D) -> (..., N)."""
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)
