"""torch.nn.utils.parametrizations: weight_norm, spectral_norm and orthogonal as
parametrizations (nn.utils.parametrize), with torch's state-dict keys:
    weight_norm    parametrizations.weight.original0 (g, norm_except_dim(w)), .original1 (v)
    spectral_norm  parametrizations.weight.original, parametrizations.weight.0._u / ._v
    orthogonal     parametrizations.weight.original, parametrizations.weight.0.base
orthogonal's maps are ts.linalg's (matrix_exp, householder_product, and solve for "cayley"), so
gradients reach the original through the usual autograd.
"""
from enum import Enum, auto

import numpy as np

from tinygrad_seq import functional as F, linalg
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.creation import eye, randn
from tinygrad_seq.functions import cat
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.utils import parametrize
from tinygrad_seq.nn.utils.spectral_norm import default_dim, reshape_weight_to_matrix
from tinygrad_seq.nn.utils.weight_norm import norm_except_dim, weight_norm_of

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ------------------------------------------------------------------ orthogonal
def _is_orthogonal(Q):
    """Q^T Q == I to 10 n eps (torch's test); Q an [n, k] array."""
    n, k = Q.shape[-2], Q.shape[-1]
    return np.allclose(Q.T @ Q, np.eye(k, dtype=Q.dtype), atol=10.0 * n * np.finfo(Q.dtype).eps, rtol=1e-5)


def _make_orthogonal(A):
    """The Q of A = QR with diag(R) >= 0 (LAPACK geqrf, as torch's geqrf + householder_product);
    A an [n, n] array."""
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diagonal(R))[None, :]


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Maps an unconstrained [n, k] matrix to one with orthonormal columns (rows if n < k);
    with use_trivialization, the result is base @ map(X), base set by right_inverse."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()   # n k - k (k - 1) / 2 parameters, embedded in a square matrix
            if n != k:
                X = cat([X, X.new_zeros(n, n - k)], dim=-1)
            A = X - X.mH   # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = linalg.matrix_exp(A)
            else:   # the Cayley retraction (I + A/2)(I - A/2)^-1, as torch's solve
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = linalg.solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:   # householder: the diagonal of X holds +-1, not differentiated (as torch's .int())
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().int().to(X.dtype).unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        q = Q.detach().numpy()
        if transpose:
            q, n, k = q.T, k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when use_trivialization=False.")
            # householder: X with the reflectors of q = QR below its diagonal and diag(R)'s signs on it
            h, tau = np.linalg.qr(q, mode="raw")   # LAPACK geqrf; h is the [k, n] transpose
            A = np.ascontiguousarray(h.T)
            d = np.arange(k)
            A[d, d] = np.sign(A[d, d]) * np.where(tau == 0.0, -1.0, 1.0)
            return Tensor(np.ascontiguousarray(A.T) if transpose else A, device=Q.device)
        if n == k:
            base = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
        else:   # complete q's columns to an orthonormal basis of R^n
            extra = randn(n, n - k, dtype=Q.dtype).numpy()
            base = _make_orthogonal(np.concatenate([q, extra], axis=1))
        self.base = Tensor(np.ascontiguousarray(base, dtype=q.dtype), device=Q.device)
        # -Id: householder(zeros) with a -1 diagonal is eye(n, k), and X - X^T = 0 for matrix_exp
        neg_Id = np.zeros(Q_init.shape, q.dtype)
        d = np.arange(min(Q_init.shape))
        neg_Id[d, d] = -1.0
        return Tensor(neg_Id, device=Q.device)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """module.<name> (a matrix) parametrized to have orthonormal columns (or rows), as torch's:
    default map "matrix_exp" for a square matrix, "householder" otherwise. Supported: real 2-D
    weights, maps "matrix_exp", "cayley" and "householder" (a batch of matrices raises).
    Returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    if weight.ndim > 2:
        raise NotImplementedError(f"tinygrad_seq's orthogonal supports a matrix, not a batch of matrices "
                                  f"(weight shape {weight.shape}); parametrize each matrix separately")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ------------------------------------------------------------------ weight_norm
class _WeightNorm(Module):
    """(g, v) -> g * v / norm_except_dim(v, 2, dim); right_inverse(w) = (norm_except_dim(w), w)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_norm_of(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """module.<name> = g * v / ||v|| (norms over every axis but dim; dim=None: the whole tensor),
    g in parametrizations.<name>.original0, v in .original1, as torch's. A state dict with the
    old API's <name>_g / <name>_v keys loads into it. Returns module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# ------------------------------------------------------------------ spectral_norm
class _SpectralNorm(Module):
    """W -> W / sigma, sigma = u . (W_mat v), u [h] and v [w] buffers refined by power iteration
    on every training-mode call (n_power_iterations steps, in place); a 1-D W is normalised."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            with no_grad():
                u = F.normalize(weight_mat.new_empty(h).normal_(0, 1), dim=0, eps=self.eps)
                v = F.normalize(weight_mat.new_empty(w).normal_(0, 1), dim=0, eps=self.eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight_mat, 15)   # start u, v near the singular vectors

    def _reshape_weight_to_matrix(self, weight):
        return reshape_weight_to_matrix(weight, self.dim)

    def _power_method(self, weight_mat, n_power_iterations):
        """u <- normalize(W v), v <- normalize(W^T u), n times, in place (the buffers keep their identity)."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.mT.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()   # a later in-place update must not touch this graph's copies
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """module.<name> = W / sigma(W), sigma the largest singular value of W viewed as [size of
    dim, rest], estimated by power iteration (one step per training-mode access, none in eval),
    as torch's. dim: default 0 (1 for ConvTranspose). Returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = default_dim(module) if dim is None else dim
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
