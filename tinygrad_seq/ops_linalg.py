"""The matrix factorisations and inverses of torch.linalg as Functions on host arrays (numpy's
LAPACK), each with torch's backward formula (torch/csrc/autograd/FunctionsManual.cpp), over
batches [..., M, N]. On "cuda" the values go through the host. The public functions: linalg.py.

Shapes: A [..., M, N]; a vector right-hand side b [..., M]; singular values S [..., K], K = min(M, N)."""
import numpy as np

from tinygrad_seq.autograd import Function


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular or not positive-definite input (a RuntimeError)."""


def mT(x):
    """The transpose of the last two dimensions (a batch of matrices)."""
    return np.swapaxes(x, -1, -2)


def _batch_prefix(batch_shape, flat_index):
    """torch's "(Batch element i): " for an error in one matrix of a batch, "" for a lone matrix."""
    return f"(Batch element {flat_index}): " if batch_shape else ""


def singular_error(name, a):
    """The LinAlgError of inv on a singular `a`: torch's message naming the batch element and the
    LU diagonal element (1-based, LAPACK's getrf info) that is zero."""
    from scipy.linalg import lapack
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        info = lapack.dgetrf(m.astype(np.float64))[2]
        if info > 0:
            return LinAlgError(f"{name}: {_batch_prefix(a.shape[:-2], i)}The diagonal element {info} is zero, "
                               "the inversion could not be completed because the input matrix is singular.")
    return LinAlgError(f"{name}: the input matrix is singular")


def singular_mask(x):
    """[..., N, N] -> bool [...]: the matrices whose LU factorisation (LAPACK's getrf, as torch's
    inv_ex) meets an exactly zero pivot, torch's info > 0."""
    try:
        np.linalg.inv(x)
        return np.zeros(x.shape[:-2], dtype=bool)
    except np.linalg.LinAlgError:
        from scipy.linalg import lapack
        flat = x.reshape((-1,) + x.shape[-2:])
        getrf, = lapack.get_lapack_funcs(("getrf",), (flat,))
        return np.array([getrf(m)[2] > 0 for m in flat], dtype=bool).reshape(x.shape[:-2])


def triangular_substitution(a, b, lower):
    """X with a X = b for triangular a [..., n, n] and b [..., n, k] (batches broadcast), column by
    column as reference BLAS trsm: a zero on a's diagonal gives inf / nan, never an error (torch's
    solve_triangular), and a zero entry of b is not divided."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(a, b))
    n = a.shape[-1]
    with np.errstate(all="ignore"):
        for k in (range(n) if lower else range(n - 1, -1, -1)):
            xk = x[..., k, :]
            nonzero = xk != 0
            xk = np.where(nonzero, xk / a[..., k, k, None], xk)
            x[..., k, :] = xk
            rest = slice(k + 1, None) if lower else slice(0, k)
            x[..., rest, :] -= np.where(nonzero[..., None, :], a[..., rest, k, None] * xk[..., None, :], 0)
    return x


def _host(ctx, a):
    return ctx.b.to_host(a)


class Inv(Function):
    """Y = A^-1; gA = -Y^T g Y^T."""
    @staticmethod
    def forward(ctx, a):
        x = _host(ctx, a)
        try:
            y = np.linalg.inv(x)
        except np.linalg.LinAlgError:
            raise singular_error("linalg.inv", x) from None
        ctx.save_for_backward(y)
        return ctx.b.asarray(y)

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        yt = mT(y)
        return ctx.b.asarray(-(yt @ ctx.b.to_host(g) @ yt))


def cofactor(x):
    """The cofactor matrix of each matrix [..., N, N] (det(A) A^-T where A is invertible), from the
    SVD so that singular matrices have one too: C = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh."""
    u, s, vh = np.linalg.svd(x)
    n = s.shape[-1]
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)               # prod_{j < i} s_j
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]   # prod_{j > i} s_j
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * ((u * (before * after)[..., None, :n]) @ vh)


class Det(Function):
    """det(A); gA = g det(A) A^-T, the cofactor matrix (from the SVD where A is singular)."""
    @staticmethod
    def forward(ctx, a):
        x = _host(ctx, a)
        d = np.asarray(np.linalg.det(x), dtype=x.dtype)
        ctx.save_for_backward(x, d)
        return ctx.b.asarray(d)

    @staticmethod
    def backward(ctx, g):
        x, d = ctx.saved_tensors
        if np.all(d != 0):
            c = d[..., None, None] * mT(np.linalg.inv(x))
        else:
            c = cofactor(x)
        return ctx.b.asarray(ctx.b.to_host(g)[..., None, None] * c)


class SlogDet(Function):
    """(sign, log|det A|); the gradient comes from log|det|: g A^-T (sign has none)."""
    @staticmethod
    def forward(ctx, a):
        x = _host(ctx, a)
        sign, logabs = np.linalg.slogdet(x)
        ctx.save_for_backward(x)
        return ctx.b.asarray(np.asarray(sign, x.dtype)), ctx.b.asarray(np.asarray(logabs, x.dtype))

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        x, = ctx.saved_tensors
        if g_logabs is None:
            return ctx.b.asarray(np.zeros_like(x))
        return ctx.b.asarray(ctx.b.to_host(g_logabs)[..., None, None] * mT(np.linalg.inv(x)))


def _solve(a, b, lower):
    """a^-1 b; a triangular one (lower True / False) by substitution where its diagonal has a zero."""
    if lower is not None and (np.diagonal(a, axis1=-2, axis2=-1) == 0).any():
        return triangular_substitution(a, b, lower)
    return np.linalg.solve(a, b)


class Solve(Function):
    """X = A^-1 B (left) or B A^-1, solved as A_eff X_eff = B_eff with A_eff = A^T for left=False;
    b is [..., M, K], or [..., M] where `vector`. gB_eff = A_eff^-T g_eff, gA_eff = -gB_eff X_eff^T.
    lower (True / False): A is lower / upper triangular, and a zero on its diagonal gives inf / nan
    as torch's solve_triangular; None: a general A, LinAlgError where it is singular."""
    @staticmethod
    def forward(ctx, a, b, vector=False, left=True, lower=None):
        x, rhs = _host(ctx, a), _host(ctx, b)
        a_eff = x if left else mT(x)
        rhs_eff = rhs[..., None] if vector else (rhs if left else mT(rhs))
        ctx.lower = None if lower is None else lower == left   # a_eff's triangle
        try:
            out = _solve(a_eff, rhs_eff, ctx.lower)
        except np.linalg.LinAlgError:
            batch = np.broadcast_shapes(a_eff.shape[:-2], rhs_eff.shape[:-2])
            flat = np.broadcast_to(a_eff, batch + a_eff.shape[-2:]).reshape((-1,) + a_eff.shape[-2:])
            bad = [i for i, m in enumerate(flat) if np.linalg.matrix_rank(m) < m.shape[-1]]
            where = _batch_prefix(batch, bad[0] if bad else 0)
            raise LinAlgError(f"torch.linalg.solve: {where}The solver failed because the input matrix is "
                              "singular.") from None
        ctx.vector, ctx.left = vector, left
        ctx.save_for_backward(a_eff, out)
        return ctx.b.asarray(out[..., 0] if vector else (out if left else np.ascontiguousarray(mT(out))))

    @staticmethod
    def backward(ctx, g):
        a_eff, out = ctx.saved_tensors
        g = ctx.b.to_host(g)
        vector, left = ctx.vector, ctx.left
        g_eff = g[..., None] if vector else (g if left else mT(g))
        with np.errstate(all="ignore"):   # inf / nan of a singular triangular A pass on silently
            gb = _solve(mT(a_eff), g_eff, None if ctx.lower is None else not ctx.lower)
            ga = -(gb @ mT(out))
        ga = ga if left else mT(ga)
        gb = gb[..., 0] if vector else (gb if left else mT(gb))
        return ctx.b.asarray(np.ascontiguousarray(ga)), ctx.b.asarray(np.ascontiguousarray(gb))


def _cholesky_error(x):
    from scipy.linalg import lapack
    flat = x.reshape((-1,) + x.shape[-2:])
    for i, m in enumerate(flat):
        info = lapack.dpotrf(m.astype(np.float64), lower=1)[1]
        if info > 0:
            return LinAlgError(f"linalg.cholesky: {_batch_prefix(x.shape[:-2], i)}The factorization could not be "
                               f"completed because the input is not positive-definite (the leading minor of "
                               f"order {info} is not positive-definite).")
    return LinAlgError("linalg.cholesky: the input is not positive-definite")


class Cholesky(Function):
    """A = L L^T from A's lower triangle (upper: U = L^T). torch's backward:
    P = tril(L^T gL), gA = L^-T (P + tril(P, -1)^T) / 2 L^-1 (symmetric)."""
    @staticmethod
    def forward(ctx, a, upper=False):
        x = _host(ctx, a)
        try:
            low = np.linalg.cholesky(x)   # reads the lower triangle only, as LAPACK's potrf
        except np.linalg.LinAlgError:
            raise _cholesky_error(x) from None
        if np.isnan(np.diagonal(low, axis1=-2, axis2=-1)).any():   # LAPACK's potrf fails on a nan pivot
            raise _cholesky_error(x)
        ctx.upper = upper
        ctx.save_for_backward(low)
        return ctx.b.asarray(np.ascontiguousarray(mT(low)) if upper else low)

    @staticmethod
    def backward(ctx, g):
        low, = ctx.saved_tensors
        gl = ctx.b.to_host(g)
        gl = mT(gl) if ctx.upper else gl
        p = np.tril(mT(low) @ gl)
        p = 0.5 * (p + mT(np.tril(p, -1)))
        linv = np.linalg.inv(low)
        return ctx.b.asarray(mT(linv) @ p @ linv)


def _qr_backward_tall(gq, gr, q, r):
    """gA for A = QR with M >= N (reduced): (gQ + Q syminvadj(triu(gR R^T - Q^T gQ))) R^-T."""
    m = gr @ mT(r) - mT(q) @ gq
    m = np.triu(m)
    sym = m + mT(m)
    idx = np.arange(sym.shape[-1])
    sym[..., idx, idx] *= 0.5
    rhs = q @ sym + gq
    return mT(np.linalg.solve(r, mT(rhs)))   # rhs R^-T


class QR(Function):
    """A = QR. mode "reduced": Q [..., M, K], R [..., K, N]; "complete": Q [..., M, M], R [..., M, N];
    "r": R only (Q is an empty tensor). Backward: torch's, for reduced (or complete with M <= N)."""
    @staticmethod
    def forward(ctx, a, mode="reduced"):
        x = _host(ctx, a)
        q, r = np.linalg.qr(x, mode="complete" if mode == "complete" else "reduced")
        ctx.mode = mode
        ctx.save_for_backward(x, q, r)
        if mode == "r":
            q = np.zeros((0,), dtype=x.dtype)
        return ctx.b.asarray(np.ascontiguousarray(q)), ctx.b.asarray(np.ascontiguousarray(r))

    @staticmethod
    def backward(ctx, gq, gr):
        x, q, r = ctx.saved_tensors
        m, n = x.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                               "through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        gq = np.zeros_like(q) if gq is None else ctx.b.to_host(gq)
        gr = np.zeros_like(r) if gr is None else ctx.b.to_host(gr)
        if m >= n:
            return ctx.b.asarray(_qr_backward_tall(gq, gr, q, r))
        # M < N: A = [X | Y], R = [U | V] with X = QU square, Y = QV
        y, u, gv = x[..., m:], r[..., :m], gr[..., m:]
        gx = _qr_backward_tall(gq + y @ mT(gv), gr[..., :m], q, u)
        return ctx.b.asarray(np.concatenate([gx, q @ gv], -1))


class SVD(Function):
    """A = U diag(S) Vh, S descending. full_matrices: U [..., M, M], Vh [..., N, N]; else K columns /
    rows. Backward (torch's svd_backward; U and Vh narrowed to K columns / rows):
    gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] Vh + the parts outside U's and V's
    span, E_jk = s_k^2 - s_j^2 (distinct singular values)."""
    @staticmethod
    def forward(ctx, a, full_matrices=True):
        x = _host(ctx, a)
        u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        return ctx.b.asarray(u), ctx.b.asarray(s), ctx.b.asarray(vh)

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        host = ctx.b.to_host
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        m, n = u.shape[-2], vh.shape[-1]
        gs = np.zeros_like(s) if gs is None else host(gs)
        if gu is None and gvh is None:
            return ctx.b.asarray(u @ (gs[..., :, None] * vh))
        gu = None if gu is None else host(gu)[..., :k]
        gvh = None if gvh is None else host(gvh)[..., :k, :]
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None]
        idx = np.arange(k)
        e[..., idx, idx] = 1.0
        inner = np.zeros(s.shape + (k,), dtype=s.dtype)
        if gu is not None:
            uhgu = mT(u) @ gu
            inner = inner + (uhgu - mT(uhgu)) / e * s[..., None, :]
        if gvh is not None:
            vhgv = vh @ mT(gvh)
            inner = inner + s[..., :, None] * ((vhgv - mT(vhgv)) / e)
        inner[..., idx, idx] += gs
        if m > k and gu is not None:
            gusinv = gu / s[..., None, :]
            ga = (u @ inner + gusinv - u @ (mT(u) @ gusinv)) @ vh
        elif n > k and gvh is not None:
            sinvgvh = gvh / s[..., :, None]
            ga = u @ (inner @ vh + sinvgvh - (sinvgvh @ mT(vh)) @ vh)
        else:
            ga = u @ inner @ vh
        return ctx.b.asarray(ga)


class Eigh(Function):
    """A = V diag(L) V^T for symmetric A from one triangle (uplo), L ascending. Backward (torch's):
    gA = V (skew(V^T gV) / 2 / E + diag(gL)) V^T, E_jk = L_k - L_j (distinct eigenvalues)."""
    @staticmethod
    def forward(ctx, a, uplo="L"):
        x = _host(ctx, a)
        w, v = np.linalg.eigh(x, UPLO=uplo)
        ctx.uplo = uplo
        ctx.save_for_backward(w, v)
        return ctx.b.asarray(w), ctx.b.asarray(v)

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        gw = None if gw is None else ctx.b.to_host(gw)
        if gv is None:
            return ctx.b.asarray((v * gw[..., None, :]) @ mT(v))
        vhgv = mT(v) @ ctx.b.to_host(gv)
        vhgv = 0.5 * (vhgv - mT(vhgv))
        e = w[..., None, :] - w[..., :, None]
        idx = np.arange(w.shape[-1])
        e[..., idx, idx] = 1.0
        inner = vhgv / e
        if gw is not None:
            inner[..., idx, idx] += gw
        return ctx.b.asarray(v @ (inner @ mT(v)))


class Pinv(Function):
    """The pseudo-inverse from the SVD (or eigh where hermitian), keeping the singular values above
    max(atol, rtol * largest). Backward: torch's pinv_backward."""
    @staticmethod
    def forward(ctx, a, atol=None, rtol=None, hermitian=False):
        x = _host(ctx, a)
        ctx.atol, ctx.rtol, ctx.hermitian = atol, rtol, hermitian   # the double backward recomputes P
        atol = np.zeros(x.shape[:-2], x.dtype) if atol is None else np.asarray(atol, x.dtype)
        rtol = np.asarray(rtol, x.dtype)
        if hermitian:
            w, v = np.linalg.eigh(x)
            top = np.max(np.abs(w), -1, initial=0.0)
            cut = np.maximum(atol, rtol * top)[..., None]
            keep = np.abs(w) > cut
            inv_w = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
            p = (v * inv_w[..., None, :]) @ mT(v)
        else:
            u, s, vh = np.linalg.svd(x, full_matrices=False)
            top = s[..., 0] if s.shape[-1] else np.zeros(x.shape[:-2], x.dtype)
            cut = np.maximum(atol, rtol * top)[..., None]
            keep = s > cut
            inv_s = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
            p = (mT(vh) * inv_s[..., None, :]) @ mT(u)
        p = np.ascontiguousarray(p.astype(x.dtype, copy=False))
        ctx.save_for_backward(x, p)
        return ctx.b.asarray(p)

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        g = ctx.b.to_host(g)
        m, n = a.shape[-2:]
        ph, gh = mT(p), mT(g)
        if m <= n:
            k = gh @ p
            kph = k @ ph
            ga = -mT(p @ k) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
        else:
            k = p @ gh
            phk = ph @ k
            ga = -mT(k @ p) + phk - phk @ p @ a + (gh - a @ k) @ p @ ph
        return ctx.b.asarray(ga)


def _cholesky_solve(b, tri, upper):
    """(L L^T)^-1 b from a triangular factor (upper: U^T U), b [..., N, K], batches broadcast."""
    low = mT(tri) if upper else tri
    return np.linalg.solve(mT(low), np.linalg.solve(low, b))


class CholeskySolve(Function):
    """X = A^-1 B with A = L L^T (upper: U^T U), L read from its triangle. torch's backward:
    gB = A^-1 g; C = gB X^T + X gB^T; gL = -C L (upper: -U C), L there the whole input."""
    @staticmethod
    def forward(ctx, b, factor, upper=False):
        rhs, f = _host(ctx, b), _host(ctx, factor)
        tri = np.triu(f) if upper else np.tril(f)
        x = _cholesky_solve(rhs, tri, upper)
        ctx.upper = upper
        ctx.save_for_backward(tri, f, x)
        return ctx.b.asarray(np.ascontiguousarray(x))

    @staticmethod
    def backward(ctx, g):
        tri, f, x = ctx.saved_tensors
        gb = _cholesky_solve(ctx.b.to_host(g), tri, ctx.upper)
        common = gb @ mT(x)
        common = common + mT(common)
        gf = -(f @ common) if ctx.upper else -(common @ f)   # the whole factor, as torch's formula
        return ctx.b.asarray(np.ascontiguousarray(gb)), ctx.b.asarray(np.ascontiguousarray(gf))


class CholeskyInverse(Function):
    """Y = (L L^T)^-1 (upper: (U^T U)^-1), L read from its triangle. torch's backward:
    C = Y (g + g^T) Y; gL = -C L (upper: -U C), L there the whole input."""
    @staticmethod
    def forward(ctx, factor, upper=False):
        f = _host(ctx, factor)
        tri = np.triu(f) if upper else np.tril(f)
        eye = np.broadcast_to(np.eye(f.shape[-1], dtype=f.dtype), f.shape)
        y = _cholesky_solve(eye, tri, upper)
        ctx.upper = upper
        ctx.save_for_backward(f, y)
        return ctx.b.asarray(np.ascontiguousarray(y))

    @staticmethod
    def backward(ctx, g):
        f, y = ctx.saved_tensors   # the whole factor, as torch's formula
        g = ctx.b.to_host(g)
        common = y @ (g + mT(g)) @ y
        return ctx.b.asarray(np.ascontiguousarray(-(f @ common) if ctx.upper else -(common @ f)))
