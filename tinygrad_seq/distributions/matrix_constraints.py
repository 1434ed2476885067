"""torch.distributions.constraints' matrix constraints (re-exported by constraints.py): each has
event_dim 2, so check() of a [..., n, m] value returns a bool [...].

    lower_triangular          zero above the diagonal
    lower_cholesky            lower triangular with a positive diagonal
    corr_cholesky             ... and each row of unit length (a correlation matrix's factor)
    square                    n == m (the same answer for every matrix)
    symmetric                 square and within isclose(atol=1e-6) of its transpose
    positive_semidefinite     symmetric with eigenvalues >= 0
    positive_definite         symmetric with a Cholesky factor

As torch's: symmetric / semidefinite / definite return the first failed check as it is (all
False for non-square matrices), and only test the next property once every matrix passed."""
import numpy as np

from tinygrad_seq import creation, linalg
from tinygrad_seq.tensor import Tensor

from .constraints import Constraint

__all__ = ["_CorrCholesky", "_LowerCholesky", "_LowerTriangular", "_PositiveDefinite", "_PositiveSemidefinite",
           "_Square", "_Symmetric"]


def _all_entries(mask):
    """[..., n, m] bool -> [...]: True where every entry is."""
    return mask.reshape(tuple(mask.shape[:-2]) + (-1,)).min(-1)[0]


class _LowerTriangular(Constraint):
    """Lower-triangular square matrices."""
    event_dim = 2

    def check(self, value):
        return _all_entries(value.tril() == value)


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal."""
    event_dim = 2

    def check(self, value):
        return _all_entries(value.tril() == value) & (value.diagonal(dim1=-2, dim2=-1) > 0).min(-1)[0]


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: each row of unit length, within
    eps * n * 10 (torch's tolerance, n the matrix size)."""
    event_dim = 2

    def check(self, value):
        tol = float(np.finfo(value.dtype).eps) * value.size(-1) * 10
        unit_rows = (linalg.norm(value.detach(), dim=-1) - 1.0).abs().le(tol).all(-1)
        return _LowerCholesky().check(value) & unit_rows


class _Square(Constraint):
    """Square matrices: one answer, n == m, for every matrix of the batch."""
    event_dim = 2

    def check(self, value):
        return creation.full(tuple(value.shape[:-2]), value.shape[-2] == value.shape[-1], dtype=np.bool_,
                             device=value.device)


class _Symmetric(_Square):
    """Square matrices within isclose(rtol=1e-5, atol=1e-6) of their transpose."""

    def check(self, value):
        square = super().check(value)
        if not bool(square.all()):
            return square
        return value.isclose(value.mT, atol=1e-6).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices whose eigenvalues are all >= 0."""

    def check(self, value):
        symmetric = super().check(value)
        if not bool(symmetric.all()):
            return symmetric
        return linalg.eigvalsh(value.detach()).ge(0).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices with a Cholesky factor (torch's cholesky_ex(value).info == 0)."""

    def check(self, value):
        symmetric = super().check(value)
        if not bool(symmetric.all()):
            return symmetric
        matrices = value.detach().cpu().numpy()
        flat = matrices.reshape((-1,) + matrices.shape[-2:])
        return Tensor(np.array([_has_cholesky(m) for m in flat], bool).reshape(matrices.shape[:-2]))


def _has_cholesky(matrix):
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return bool(np.isfinite(matrix).all())
