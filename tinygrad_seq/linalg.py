"""torch.linalg over batches of matrices [..., M, N], torch's gradients and named tuples (ops_linalg.py,
linalg_norms.py); a name not here raises an AttributeError saying so (eig needs complex dtypes)."""
import numbers

import numpy as np

from tinygrad_seq.dim_alias import takes_axis
from tinygrad_seq.linalg_compositions import householder_product, matrix_exp  # noqa: F401
from tinygrad_seq.linalg_norms import check_float, matrix_norm, norm, vector_norm  # noqa: F401
from tinygrad_seq.ops_linalg import (QR, SVD, Cholesky, Det, Eigh, Inv, LinAlgError, Pinv,  # noqa: F401
                                     SlogDet, Solve, singular_mask)
from tinygrad_seq.out_param import takes_out
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_reduce import return_type

SlogdetResult = return_type("linalg_slogdet", ("sign", "logabsdet"))
QRResult = return_type("linalg_qr", ("Q", "R"))
SVDResult = return_type("linalg_svd", ("U", "S", "Vh"))
EighResult = return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
LstsqResult = return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def _matrices(name, A, square=True):
    """torch's checks of a batch of matrices: a float32/64 tensor of >= 2 dimensions, square."""
    check_float(name, A)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


@takes_out(same_dtype=True)
def inv(A):
    _matrices("linalg.inv", A)
    return Inv.apply(A)


@takes_out(same_dtype=True)
def det(A):
    _matrices("linalg.det", A)
    return Det.apply(A)


@takes_out(same_dtype=True)
def slogdet(A):
    """(sign, log|det A|): sign is 0 and logabsdet -inf for a singular matrix."""
    _matrices("linalg.slogdet", A)
    return SlogdetResult(*SlogDet.apply(A))


@takes_out(same_dtype=True)
def solve(A, B, *, left=True):
    """X with AX = B (left) or XA = B. B: [..., n, k], or a batch of vectors [..., n] where B is 1-D
    or has A's shape without its last dimension; batch dimensions broadcast."""
    _matrices("linalg.solve", A)
    check_float("linalg.solve", B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype} and B of type {B.dtype} instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    n = A.shape[-1]
    rows = B.shape[-1] if vector or not left else B.shape[-2]
    if rows != n:
        shape_b = f"{B.shape[-1]}x1" if vector else f"{B.shape[-2]}x{B.shape[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {shape_b})")
    return Solve.apply(A, B, vector=vector, left=left)


@takes_out(same_dtype=True)
def cholesky(A, *, upper=False):
    """L with A = L L^T from A's lower triangle (upper=True: U = L^T); LinAlgError naming the
    leading minor when A is not positive-definite."""
    _matrices("linalg.cholesky", A)
    return Cholesky.apply(A, upper=bool(upper))


@takes_out(same_dtype=True)
def qr(A, mode="reduced"):
    _matrices("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    return QRResult(*QR.apply(A, mode=mode))


@takes_out(same_dtype=True)
def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; the gradient needs distinct singular values."""
    _matrices("linalg.svd", A, square=False)
    _no_driver("svd", driver)
    _finite_for_svd(A)
    return SVDResult(*SVD.apply(A, full_matrices=bool(full_matrices)))


def _finite_for_svd(A):
    """torch's SVD (gesdd) refuses a matrix with a nan or inf: its LinAlgError, naming the batch
    element (numpy's own error would not be a RuntimeError)."""
    x = A.detach().numpy()
    finite = np.isfinite(x).all(axis=(-2, -1)).reshape(-1)
    if not finite.all():
        where = f"(Batch element {int(np.argmin(finite))}): " if A.ndim > 2 else ""
        raise LinAlgError(f"linalg.svd: {where}The algorithm failed to converge because the input matrix contained "
                          "non-finite values.")


def _no_driver(name, driver):
    if driver is not None:
        raise RuntimeError(f"torch.linalg.{name}: keyword argument `driver=` is only supported on CUDA inputs "
                           "with cuSOLVER backend.")


@takes_out(same_dtype=True)
def svdvals(A, *, driver=None):
    _matrices("linalg.svdvals", A, square=False)
    _no_driver("svdvals", driver)
    _finite_for_svd(A)
    return SVD.apply(A, full_matrices=False)[1]


def _uplo(UPLO):
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


@takes_out(same_dtype=True)
def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of the symmetric matrix read from A's UPLO
    triangle."""
    _matrices("linalg.eigh", A)
    return EighResult(*Eigh.apply(A, uplo=_uplo(UPLO)))


@takes_out(same_dtype=True)
def eigvalsh(A, UPLO="L"):
    _matrices("linalg.eigvalsh", A)
    return Eigh.apply(A, uplo=_uplo(UPLO))[0]


def _tolerances(name, A, atol, rtol):
    """torch's (atol, rtol) of pinv / matrix_rank as arrays over the batch: atol defaults to 0; rtol
    to eps * max(M, N), or 0 where a positive atol is given."""
    def arr(v):
        return np.asarray(v.detach().numpy() if isinstance(v, Tensor) else v, dtype=A.dtype)
    default = np.finfo(A.dtype).eps * max(A.shape[-2:])
    a = np.zeros((), A.dtype) if atol is None else arr(atol)
    if rtol is not None:
        r = arr(rtol)
    elif atol is not None:
        r = np.where(a > 0, 0.0, default).astype(A.dtype)
    else:
        r = np.asarray(default, A.dtype)
    return a, r


@takes_out(same_dtype=True)
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse, dropping singular values <= max(atol, rtol * largest);
    rcond (positional, numpy's name) is rtol with atol 0."""
    if isinstance(A, Tensor) and A.dtype.kind != "f":
        raise RuntimeError(f"linalg.pinv({A.dtype}{list(A.shape)}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    _matrices("linalg.pinv", A, square=False)
    if rcond is not None:
        atol, rtol = 0.0, rcond
    if hermitian:   # torch runs eigh: its square check
        _matrices("linalg.eigh", A)
    else:
        _finite_for_svd(A)
    a, r = _tolerances("linalg.pinv", A, atol, rtol)
    return Pinv.apply(A, atol=a, rtol=r, hermitian=bool(hermitian))


@takes_out(same_dtype=False)
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values > max(atol, rtol * largest) (int64, no gradient); tol
    (positional, the older form) is atol with rtol 0."""
    _matrices("linalg.matrix_rank", A, square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    if hermitian:
        _matrices("linalg.eigh", A)
    else:
        _finite_for_svd(A)
    a, r = _tolerances("linalg.matrix_rank", A, atol, rtol)
    x = A.detach().numpy()
    s = np.abs(np.linalg.eigvalsh(x)) if hermitian else np.linalg.svd(x, compute_uv=False)
    top = np.max(s, -1, initial=0.0)
    rank = np.sum(s > np.maximum(a, r * top)[..., None], -1).astype(np.int64)
    return Tensor._wrap(np.asarray(rank), "cpu").to(A.device)


@takes_out(same_dtype=True)
def matrix_power(A, n):
    """A^n by repeated squaring; n < 0 inverts A first (LinAlgError if singular)."""
    if not isinstance(n, numbers.Integral):
        raise TypeError(f"linalg_matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim > 1 else A.shape} by {A.shape[-1] if A.ndim else 1} matrices")
    if n < 0:
        return matrix_power(inv(A), -n)
    if n == 0 and A.requires_grad:   # the identity, attached to A with a zero gradient, as torch's
        from tinygrad_seq.creation import eye, ones
        return A.masked_fill(ones((), dtype=np.bool_).to(A.device), 0) + eye(A.shape[-1], dtype=A.dtype).to(A.device)
    return A.matrix_power(int(n))


@takes_out(same_dtype=True)
def multi_dot(tensors):
    """The product of a chain of matrices; the first may be 1-D (a row vector) and the last 1-D
    (a column vector), which leave the result without that dimension."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for t in tensors[1:]:
        if t.dtype != first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{first.dtype} and tensor {tensors.index(t)} {t.dtype}")
    mats = [first.unsqueeze(0) if first.ndim == 1 else first] + tensors[1:-1] + \
        [last.unsqueeze(-1) if last.ndim == 1 else last]
    for i in range(len(mats) - 1):
        if mats[i].shape[-1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {tuple(tensors[i].shape)} and "
                               f"{tuple(tensors[i + 1].shape)} cannot be multiplied")
    out = mats[0]
    for m in mats[1:]:
        out = out @ m
    if first.ndim == 1:
        out = out.squeeze(0)
    if last.ndim == 1:
        out = out.squeeze(-1)
    return out


@takes_axis
@takes_out(same_dtype=True)
def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along dim; the inputs broadcast, with as many dimensions."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    # the vector dim is checked before broadcasting: torch does not stretch a size 1 there
    if -input.ndim <= dim < input.ndim and (input.shape[dim] != 3 or other.shape[dim] != 3):
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    return input.cross(other, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


@takes_axis
@takes_out(same_dtype=True)
def vecdot(x, y, *, dim=-1):
    """sum(x * y) over dim, the inputs broadcast (real dtypes: no conjugation)."""
    return (x * y).sum(dim)


@takes_out(same_dtype=True)
def matmul(input, other):
    return input @ other


def vander(x, *, N=None):
    """[..., n] -> [..., n, N]: the powers x^0, x^1, ..., x^(N-1) of each entry."""
    x = x.reshape(1) if x.ndim == 0 else x   # a 0-d x: one entry, as torch's
    N = x.shape[-1] if N is None else N
    if N < 2:   # torch's check: N == 1 refused too
        raise RuntimeError("N must be greater than 1.")
    ones = x.unsqueeze(-1).expand(*x.shape, 1) * 0 + 1
    powers = x.unsqueeze(-1).expand(*x.shape, N - 1).cumprod(-1)
    from tinygrad_seq.functions import cat
    return cat([ones, powers], -1)


@takes_out(same_dtype=True)
def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with AX = B (left) or XA = B for A's upper or lower triangle (the rest of A is not read,
    and gets no gradient); unitriangular: A's diagonal taken as ones."""
    _matrices("linalg.solve_triangular", A)
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    tri = A.triu(1 if unitriangular else 0) if upper else A.tril(-1 if unitriangular else 0)
    if unitriangular:
        from tinygrad_seq.creation import eye
        tri = tri + eye(A.shape[-1], dtype=A.dtype).to(A.device)
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    return Solve.apply(tri, B, vector=False, left=bool(left), lower=not upper)


@takes_out(same_dtype=False)
def cond(A, p=None):
    """The condition number: largest / smallest singular value (p None or 2; -2 the inverse), or
    norm(A, p) * norm(inv(A), p) for p in 'fro', 'nuc', inf, -inf, 1, -1 (inf for a singular matrix).
    Empty matrices: 0 (numpy defines none; torch's), after the square check of 'fro' / 'nuc' only."""
    _matrices("linalg.cond", A, square=False)
    if A.numel() and p not in (None, 2, -2) or isinstance(p, str):
        _matrices(f"linalg.cond(ord={p})", A)   # torch's square check (its message names the ord)
    if A.numel() == 0:
        from tinygrad_seq.creation import zeros
        return zeros(tuple(A.shape[:-2]), dtype=A.dtype, device=A.device)
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    singular = singular_mask(A.detach().numpy())
    if not singular.any():
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    # torch's: inf for a singular matrix (inv_ex's info > 0); its inverse taken of the identity instead
    from tinygrad_seq.creation import eye
    mask = Tensor._wrap(singular, "cpu").to(A.device)
    square = mask[..., None, None]
    safe = A.masked_fill(square, 0) + square * eye(A.shape[-1], dtype=A.dtype).to(A.device)
    return (matrix_norm(A, p) * matrix_norm(inv(safe), p)).masked_fill(mask, float("inf"))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of AX = B (minimum norm where A is rank deficient), from the
    pseudo-inverse, so its gradient is torch's. residuals (the squared residual norms) are given
    for M > N full-rank A with the gelsd / gelss / gels drivers, singular_values for gelsd / gelss,
    rank for every driver but gels (torch's CPU rules; the default driver is gelsy)."""
    _matrices("linalg.lstsq", A, square=False)
    check_float("linalg.lstsq", B)
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if B.ndim == 0:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    # B is a vector (per batch) only when its shape is A's without the last dim (torch's rule)
    vector = B.ndim == 1 or B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])
    if (B.shape[-1] if vector else B.shape[-2]) != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size({-1 if vector else -2})")
    if not vector and B.ndim == A.ndim - 1:   # torch's batch for such a B: A's with B's dims before its last
        from tinygrad_seq.broadcast_errors import broadcast_shape
        batch = broadcast_shape(A.shape[:-2], B.shape[:-1])
        A, B = (t.expand(*batch, *t.shape[-2:]) for t in (A, B))
    m, n = A.shape[-2:]
    default = np.finfo(A.dtype).eps * max(m, n)
    rtol = default if rcond is None or rcond < 0 else rcond
    p = pinv(A, atol=0.0, rtol=rtol)
    X = (p @ B[..., None]).squeeze(-1) if vector else p @ B
    x = A.detach().numpy()
    if A.device == "cpu" and x.size:   # the values the driver computes (its own rank); the pinv's gradient
        from tinygrad_seq.lstsq_drivers import solve
        rhs = B   # (not the backend's B: the right-hand side)
        b = rhs.detach().numpy()
        values, rank_arr = solve(x, b[..., None] if vector else b, driver, rtol)
        X.array = np.ascontiguousarray(values[..., 0] if vector else values, dtype=X.array.dtype)
    s = np.linalg.svd(x, compute_uv=False)
    if not (A.device == "cpu" and x.size):
        rank_arr = np.sum(s > rtol * np.max(s, -1, initial=0.0)[..., None], -1).astype(np.int64)
    empty = Tensor._wrap(np.zeros((0,), A.dtype), "cpu").to(A.device)
    rank = Tensor._wrap(np.asarray(rank_arr), "cpu").to(A.device) if driver != "gels" else \
        Tensor._wrap(np.zeros((0,), np.int64), "cpu").to(A.device)
    residuals = empty
    if driver != "gelsy" and m > n and np.all(rank_arr == n):
        r = A @ (X[..., None] if vector else X) - (B[..., None] if vector else B)
        residuals = (r * r).sum(-2)   # a vector b's keep their last dim of 1, as torch's
    svals = Tensor._wrap(np.ascontiguousarray(s), "cpu").to(A.device) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X, residuals, rank, svals)


def _prod(shape):
    return int(np.prod(shape, dtype=np.int64))


@takes_out(same_dtype=True)
def tensorinv(A, ind=2):
    """The inverse of A read as a map from its first ind dimensions' product to the rest's: shape
    A.shape[ind:] + A.shape[:ind] (linalg.inv of the reshaped square matrix)."""
    if not isinstance(ind, numbers.Integral) or ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = _prod(A.shape[:ind]), _prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape((*A.shape[ind:], *A.shape[:ind]))


@takes_out(same_dtype=True)
def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's dims (if given) moved last, then linalg.solve of A as
    a [prod(B.shape), prod(rest)] matrix; X has shape A.shape[B.ndim:]."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)
    rows, cols = _prod(A.shape[:B.ndim]), _prod(A.shape[B.ndim:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(tuple(A.shape[B.ndim:]))


_NOT_BUILT = {
    "eig": "linalg.eigh for symmetric matrices (eig's results are complex, which tinygrad_seq lacks)",
    "eigvals": "linalg.eigvalsh for symmetric matrices (complex results are not supported)",
    "lu": "linalg.solve / linalg.det", "lu_factor": "linalg.solve / linalg.det",
    "lu_factor_ex": "linalg.solve / linalg.det", "lu_solve": "linalg.solve",
    "ldl_factor": "linalg.cholesky", "ldl_factor_ex": "linalg.cholesky", "ldl_solve": "linalg.solve",
    "cholesky_ex": "linalg.cholesky (raises LinAlgError where info would be non-zero)",
    "inv_ex": "linalg.inv (raises LinAlgError where info would be non-zero)",
    "solve_ex": "linalg.solve (raises LinAlgError where info would be non-zero)",
}


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    if name.startswith("__"):
        raise AttributeError(f"module 'tinygrad_seq.linalg' has no attribute {name!r}")
    err = submodule_attribute_error("torch.linalg", "tinygrad_seq.linalg", name)
    if name in _NOT_BUILT:
        err = AttributeError(f"tinygrad_seq does not have torch.linalg.{name} yet; instead use {_NOT_BUILT[name]}")
    raise err
