"""torch's older linear-algebra names that torch 2.13 still runs: torch.lu / Tensor.lu (LAPACK's
getrf, packed LU and 1-based int32 pivots, differentiable with torch's lu_factor_ex backward),
torch.lu_unpack, torch.lu_solve, the deprecated nuclear_norm / frobenius_norm (with torch's
warnings) and the removed lstsq / matrix_rank (torch's RuntimeError pointing at torch.linalg).

Shapes: A [..., M, N], K = min(M, N); LU [..., M, N]; pivots [..., K]; P [..., M, M],
L [..., M, K], U [..., K, N]."""
import warnings

import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.ops_linalg import mT, triangular_substitution
from tinygrad_seq.tensor_reduce import return_type

LuWithInfo = return_type("_lu_with_info", ("LU", "pivots", "info"))
LuUnpackResult = return_type("lu_unpack", ("P", "L", "U"))


def _getrf(a):
    """a [..., M, N] -> (packed LU [..., M, N], 1-based int32 pivots [..., K], int32 info [...])."""
    from scipy.linalg import lapack
    m, n = a.shape[-2:]
    k = min(m, n)
    flat = a.reshape((int(np.prod(a.shape[:-2])), m, n))   # an explicit count: -1 is ambiguous when m n = 0
    lu = np.empty_like(flat)
    piv = np.tile(np.arange(1, k + 1, dtype=np.int32), (flat.shape[0], 1))
    info = np.zeros(flat.shape[0], np.int32)
    if k:
        getrf, = lapack.get_lapack_funcs(("getrf",), (flat,))
        for i, mat in enumerate(flat):
            lu[i], p, info[i] = getrf(mat)
            piv[i] = p[:k] + 1
    return lu.reshape(a.shape), piv.reshape(a.shape[:-2] + (k,)), info.reshape(a.shape[:-2])


def _permutation(piv, m, dtype):
    """The P [..., M, M] of A = P L U from getrf's 1-based row interchanges piv [..., K]."""
    flat = piv.reshape((int(np.prod(piv.shape[:-1])), piv.shape[-1])) - 1   # K may be 0: no -1
    perms = np.tile(np.arange(m), (flat.shape[0], 1))
    for b, swaps in enumerate(flat):
        for i, j in enumerate(swaps):
            perms[b, i], perms[b, j] = perms[b, j], perms[b, i]
    p = np.zeros((flat.shape[0], m, m), dtype)
    p[np.arange(flat.shape[0])[:, None], perms, np.arange(m)[None, :]] = 1
    return p.reshape(piv.shape[:-1] + (m, m))


def _split(lu):
    """Packed LU -> unit-lower L [..., M, K] and upper U [..., K, N] (numpy)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    return np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype), np.triu(lu[..., :k, :])


def _left(a, b, lower):   # a^-1 b for triangular a
    return triangular_substitution(a, b, lower)


def _right(b, a, lower):  # b a^-1 for triangular a
    return mT(triangular_substitution(mT(a), mT(b), not lower))


def _lu_grad(g, lu, piv):
    """torch's lu_factor_ex_backward (FunctionsManual.cpp linalg_lu_backward) for real A:
    g [..., M, N] is the gradient of the packed LU."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    L, U = _split(lu)
    gL, gU = g[..., :, :k], g[..., :k, :]
    if m == n:
        inner = np.tril(mT(L) @ gL, -1) + np.triu(gU @ mT(U))
        grad = _left(mT(L), _right(inner, mT(U), lower=True), lower=False)
    elif m < n:   # wide: U = [U1 | U2]
        U1 = U[..., :, :k]
        inner = _right(np.tril(mT(L) @ gL - np.triu(gU) @ mT(U), -1), mT(U1), lower=True)
        inner = np.concatenate([inner + np.triu(gU[..., :, :k]), gU[..., :, k:]], axis=-1)
        grad = _left(mT(L), inner, lower=False)
    else:         # tall: L = [L1; L2]
        L1 = L[..., :k, :]
        inner = _left(mT(L1), np.triu(gU @ mT(U) - mT(L) @ np.tril(gL, -1)), lower=False)
        inner = np.concatenate([inner + np.tril(gL[..., :k, :], -1), gL[..., k:, :]], axis=-2)
        grad = _right(inner, mT(U), lower=True)
    return _permutation(piv, m, lu.dtype) @ grad


class LUFactor(Function):
    """Packed LU of A (pivots come with it: computed once in lu(), passed in as host arrays)."""
    @staticmethod
    def forward(ctx, a, lu=None, piv=None):
        ctx.lu, ctx.piv = lu, piv
        return ctx.b.asarray(lu)

    @staticmethod
    def backward(ctx, g):
        if ctx.lu.size == 0:   # an empty A: an empty gradient (the triangular solves need K > 0)
            return ctx.b.asarray(np.zeros(ctx.lu.shape, ctx.lu.dtype))
        return ctx.b.asarray(_lu_grad(ctx.b.to_host(g), ctx.lu, ctx.piv).astype(ctx.lu.dtype))


def _check_matrix(A, name):
    from tinygrad_seq.linalg import check_float
    check_float(name, A)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def lu(A, pivot=True, get_infos=False, out=None):
    """(LU, pivots) or with get_infos (LU, pivots, info): A = P L U with L unit lower triangular
    and U upper triangular packed in LU, pivots the 1-based row interchanges (int32), info > 0
    where U has an exact zero on its diagonal (no error: torch's). Warns as torch's."""
    from tinygrad_seq.creation import tensor
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
                  "will be removed in a future PyTorch release.", UserWarning, stacklevel=2)
    _check_matrix(A, "linalg.lu_factor")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    if out is not None:
        raise TypeError("lu: out= is not supported; use the returned tensors")
    packed, piv, info = _getrf(A.detach().numpy())
    LU = LUFactor.apply(A, lu=packed, piv=piv)
    pivots, infos = (tensor(a, dtype=np.int32, device=A.device) for a in (piv, info))
    return LuWithInfo(LU, pivots, infos) if get_infos else (LU, pivots)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) with A = P L U from lu()'s packed LU and pivots; L and U differentiable in
    LU_data; a part not unpacked is an empty tensor (torch's)."""
    from tinygrad_seq.creation import eye, zeros
    from tinygrad_seq.tensor import Tensor
    if LU_data.ndim < 2:
        raise RuntimeError("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise RuntimeError(f"torch.lu_unpack: Expected LU_pivots of shape {list(LU_data.shape[:-2]) + [k]}, "
                           f"got {list(LU_pivots.shape)}")
    empty = zeros(0, dtype=LU_data.dtype, device=LU_data.device)
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype, device=LU_data.device)
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty
    P = Tensor(_permutation(LU_pivots.numpy().astype(np.int64), m, LU_data.dtype), device=LU_data.device) \
        if unpack_pivots else empty
    result = LuUnpackResult(P, L, U)
    if out is None:
        return result
    from tinygrad_seq.out_param import write_out   # torch's: out's dtypes must be LU_data's
    return write_out("lu_unpack", out, result, same_dtype=True)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """X with A X = b for A = P L U given as lu()'s (LU_data, LU_pivots): U^-1 L^-1 P^T b,
    differentiable in b and LU_data; batch dimensions broadcast."""
    from tinygrad_seq import linalg
    if out is not None:
        raise TypeError("lu_solve: out= is not supported; use the returned tensor")
    if LU_data.ndim < 2 or LU_data.shape[-1] != LU_data.shape[-2]:
        raise RuntimeError(f"linalg.lu_solve: LU must be a batch of square matrices, got shape {list(LU_data.shape)}")
    if b.ndim < 2 or b.shape[-2] != LU_data.shape[-1]:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B "
                           f"(A: {list(LU_data.shape)}, B: {list(b.shape)}; B must be [..., n, k])")
    P, L, U = lu_unpack(LU_data, LU_pivots)
    y = linalg.solve_triangular(L, P.mT @ b, upper=False, unitriangular=True)
    return linalg.solve_triangular(U, y, upper=True)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """Sum of singular values over dim (two dimensions; the last two without dim, so a batch gives
    one per matrix), with torch's deprecation warning. nuclear_norm(A, True) is keepdim=True, as
    torch's overload."""
    from tinygrad_seq import linalg
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed "
                  "in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead",
                  UserWarning, stacklevel=2)
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    dim = (-2, -1) if dim is None else tuple(dim)   # without dim: each matrix of a batch, as torch's
    return linalg.matrix_norm(input, "nuc", dim, keepdim, out=out)   # out= resized (or refused) as torch's


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """sqrt(sum of squares) over dim (an int or up to two; () is every dimension), with torch's
    deprecation warning."""
    from tinygrad_seq import linalg
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be "
                  "removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` "
                  "instead", UserWarning, stacklevel=2)
    dim = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions instead.")
    # dim=() reduces over every dimension (torch's); out= resized (or refused) as torch's
    return linalg.vector_norm(input, 2.0, dim or None, keepdim, out=out)


def _removed(name, replacement, note):
    def fn(*args, **kwargs):
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now removed.\n"
                           f"Please use the `{replacement}` function instead.{note}")
    fn.__name__ = name
    return fn


lstsq = _removed("lstsq", "torch.linalg.lstsq", " `torch.linalg.lstsq` has reversed arguments and does not "
                 "return the QR decomposition in the returned tuple.")
matrix_rank = _removed("matrix_rank", "torch.linalg.matrix_rank", " The parameter 'symmetric' was renamed in "
                       "`torch.linalg.matrix_rank()` to 'hermitian'.")

FUNCTIONS = dict(lu=lu, lu_unpack=lu_unpack, lu_solve=lu_solve, nuclear_norm=nuclear_norm,
                 frobenius_norm=frobenius_norm, lstsq=lstsq, matrix_rank=matrix_rank)


def _svd_method(self, some=True, compute_uv=True):
    from tinygrad_seq.functions_numeric import svd
    return svd(self, some, compute_uv)


def _qr_method(self, some=True):
    from tinygrad_seq.functions_numeric import qr
    return qr(self, some)


METHODS = dict(svd=_svd_method, qr=_qr_method, lu=lu, lu_solve=lambda self, LU_data, LU_pivots: lu_solve(
    self, LU_data, LU_pivots), lstsq=lstsq)
