"""The create_graph=True backward of ops_linalg's Functions (recompose.DIRECT): torch's formulas
(derivatives.yaml, FunctionsManual.cpp) written with differentiable Tensor ops, so that a second
derivative (hessian, jvp, jacfwd, gradgradcheck) goes through them. The first-order backward
stays ops_linalg's, on host arrays; the values here are the same expressions, in the same order.

Each function takes (node, its inputs as Tensors, its output gradients as Tensors or None) and
recomputes the outputs it needs from the inputs with the same op, so that the formula's reads of
them have graphs too. Shapes as in ops_linalg: A [..., M, N], S [..., K], K = min(M, N)."""
import numpy as np

from tinygrad_seq import autograd, ops
from tinygrad_seq.ops_linalg import (QR, SVD, Cholesky, CholeskyInverse, CholeskySolve, Det, Eigh, Inv, Pinv,
                                    SlogDet, Solve)
from tinygrad_seq.no_graph import NoGraph


def _const(array, like):
    """A constant Tensor (no graph) on like's device."""
    t = autograd._Tensor._wrap(np.ascontiguousarray(array, dtype=like.array.dtype), "cpu")
    return t if like.device == "cpu" else t.to(like.device)


def _eye(n, like):
    return _const(np.eye(n), like)


def _zeros(shape, like):
    return _const(np.zeros(shape), like)


def _diag_embed(d, like):
    """[..., K] -> [..., K, K] with d on the diagonal."""
    return d.unsqueeze(-1) * _eye(d.shape[-1], like)


def inv_graph_backward(ctx, ps, grads):
    """Y = A^-1: gA = -Y^T g Y^T."""
    yt = Inv.apply(ps[0]).mT
    return (-(yt @ grads[0] @ yt),)


def det_graph_backward(ctx, ps, grads):
    """gA = g det(A) A^-T; where a matrix of the batch is singular, g times the cofactor matrix
    from the SVD (ops_linalg.cofactor): det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, the sign a
    constant (+-1 near A)."""
    a, g = ps[0], grads[0]
    if np.all(ctx.saved_tensors[1] != 0):
        return ((g * Det.apply(a)).unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT,)
    u, s, vh = SVD.apply(a, full_matrices=True)
    n = s.shape[-1]
    eye = _eye(n, a)
    others = (s.unsqueeze(-2) * (1.0 - eye) + eye).prod(-1)          # [..., n]: prod_{j != i} s_j
    sign = np.linalg.det(u.array) * np.linalg.det(vh.array)
    cof = _const(sign, a).unsqueeze(-1).unsqueeze(-1) * ((u * others.unsqueeze(-2)) @ vh)
    return (g.unsqueeze(-1).unsqueeze(-1) * cof,)


def slogdet_graph_backward(ctx, ps, grads):
    """gA = g_logabsdet A^-T; sign has no gradient."""
    a, g = ps[0], grads[1]
    if g is None:
        return (_zeros(tuple(a.shape), a),)
    return (g.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT,)


def solve_graph_backward(ctx, ps, grads):
    """X = A_eff^-1 B_eff (ops_linalg.Solve): gB_eff = A_eff^-T g_eff, gA_eff = -gB_eff X_eff^T,
    A_eff = A (left) or A^T, the transposed triangle solved as its own triangle."""
    a, b = ps
    g, vector, left = grads[0], ctx.vector, ctx.left
    lower = None if ctx.lower is None else not ctx.lower   # A_eff^T's triangle
    a_eff_t = a.mT if left else a
    g_eff = g.unsqueeze(-1) if vector else (g if left else g.mT)
    gb = Solve.apply(a_eff_t, g_eff, vector=False, left=True, lower=lower)
    ga = None
    if ctx.needs_input_grad[0]:
        x = Solve.apply(a, b, vector=vector, left=left, lower=None if ctx.lower is None else ctx.lower == left)
        x_eff = x.unsqueeze(-1) if vector else (x if left else x.mT)
        ga = -(gb @ x_eff.mT)
        ga = ga if left else ga.mT
    gb = gb.squeeze(-1) if vector else (gb if left else gb.mT)
    return ga, gb if ctx.needs_input_grad[1] else None


def cholesky_graph_backward(ctx, ps, grads):
    """A = L L^T: P = tril(L^T gL), gA = L^-T (P + tril(P, -1)^T) / 2 L^-1."""
    low = Cholesky.apply(ps[0], upper=False)
    gl = grads[0].mT if ctx.upper else grads[0]
    p = (low.mT @ gl).tril()
    p = 0.5 * (p + p.tril(-1).mT)
    linv = Inv.apply(low)
    return (linv.mT @ p @ linv,)


def eigh_graph_backward(ctx, ps, grads):
    """A = V diag(L) V^T: gA = V (skew(V^T gV) / 2 / E + diag(gL)) V^T, E_jk = L_k - L_j (1 on the
    diagonal, where the skew part is 0)."""
    a, (gw, gv) = ps[0], grads
    w, v = Eigh.apply(a, uplo=ctx.uplo)
    if gv is None:
        return ((v * gw.unsqueeze(-2)) @ v.mT,)
    vhgv = v.mT @ gv
    vhgv = 0.5 * (vhgv - vhgv.mT)
    e = w.unsqueeze(-2) - w.unsqueeze(-1) + _eye(w.shape[-1], a)
    inner = vhgv / e
    if gw is not None:
        inner = inner + _diag_embed(gw, a)
    return (v @ (inner @ v.mT),)


def svd_graph_backward(ctx, ps, grads):
    """torch's svd_backward (ops_linalg.SVD), U and Vh narrowed to K columns / rows."""
    a, (gu, gs, gvh) = ps[0], grads
    su, ss, svh = ctx.saved_tensors
    k = ss.shape[-1]
    full = su.shape[-1] != k or svh.shape[-2] != k
    u, s, vh = SVD.apply(a, full_matrices=full)
    u, vh = u[..., :k], vh[..., :k, :]
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return (u @ (gs.unsqueeze(-1) * vh),) if gs is not None else (_zeros(tuple(a.shape), a),)
    gu = None if gu is None else gu[..., :k]
    gvh = None if gvh is None else gvh[..., :k, :]
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye(k, a)
    inner = None
    if gu is not None:
        uhgu = u.mT @ gu
        inner = (uhgu - uhgu.mT) / e * s.unsqueeze(-2)
    if gvh is not None:
        vhgv = vh @ gvh.mT
        part = s.unsqueeze(-1) * ((vhgv - vhgv.mT) / e)
        inner = part if inner is None else inner + part
    if gs is not None:
        inner = inner + _diag_embed(gs, a)
    if m > k and gu is not None:
        gusinv = gu / s.unsqueeze(-2)
        return ((u @ inner + gusinv - u @ (u.mT @ gusinv)) @ vh,)
    if n > k and gvh is not None:
        sinvgvh = gvh / s.unsqueeze(-1)
        return (u @ (inner @ vh + sinvgvh - (sinvgvh @ vh.mT) @ vh),)
    return (u @ inner @ vh,)


def pinv_graph_backward(ctx, ps, grads):
    """torch's pinv_backward (ops_linalg.Pinv) from P = pinv(A) recomputed with the call's cutoffs."""
    a, g = ps[0], grads[0]
    p = Pinv.apply(a, atol=ctx.atol, rtol=ctx.rtol, hermitian=ctx.hermitian)
    m, n = a.shape[-2:]
    ph, gh = p.mT, g.mT
    if m <= n:
        k = gh @ p
        kph = k @ ph
        return (-(p @ k).mT + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a),)
    k = p @ gh
    phk = ph @ k
    return (-(k @ p).mT + phk - phk @ p @ a + (gh - a @ k) @ p @ ph,)


def _qr_backward_tall(gq, gr, q, r):
    """gA for A = QR with M >= N: (gQ + Q syminvadj(triu(gR R^T - Q^T gQ))) R^-T."""
    m = (gr @ r.mT - q.mT @ gq).triu()
    sym = m + m.triu(1).mT   # m + m^T with the diagonal once
    rhs = q @ sym + gq
    return Solve.apply(r, rhs.mT).mT


def qr_graph_backward(ctx, ps, grads):
    """torch's linalg_qr_backward (ops_linalg.QR); the modes without a gradient raise there."""
    a, (gq, gr) = ps[0], grads
    m, n = a.shape[-2:]
    if ctx.mode == "r" or ctx.mode == "complete" and m > n:
        raise NoGraph()
    q, r = QR.apply(a, mode=ctx.mode)
    gq = _zeros(tuple(q.shape), a) if gq is None else gq
    gr = _zeros(tuple(r.shape), a) if gr is None else gr
    if m >= n:
        return (_qr_backward_tall(gq, gr, q, r),)
    y, u, gv = a[..., m:], r[..., :m], gr[..., m:]   # A = [X | Y], R = [U | V], X = QU square
    gx = _qr_backward_tall(gq + y @ gv.mT, gr[..., :m], q, u)
    return (ops.Cat.apply(gx, q @ gv, axis=gx.ndim - 1),)


def cholesky_solve_graph_backward(ctx, ps, grads):
    """X = A^-1 B, A = L L^T (ops_linalg.CholeskySolve): gB = A^-1 g; C = gB X^T + X gB^T;
    gL = -C L (upper: -U C), L there the whole input, as torch's."""
    b, f = ps
    gb = CholeskySolve.apply(grads[0], f, upper=ctx.upper)
    common = gb @ CholeskySolve.apply(b, f, upper=ctx.upper).mT
    common = common + common.mT
    gf = -(f @ common) if ctx.upper else -(common @ f)
    return gb if ctx.needs_input_grad[0] else None, gf if ctx.needs_input_grad[1] else None


def cholesky_inverse_graph_backward(ctx, ps, grads):
    """Y = (L L^T)^-1 (ops_linalg.CholeskyInverse): C = Y (g + g^T) Y; gL = -C L (upper: -U C)."""
    f, g = ps[0], grads[0]
    y = CholeskyInverse.apply(f, upper=ctx.upper)
    common = y @ (g + g.mT) @ y
    return (-(f @ common) if ctx.upper else -(common @ f),)


LINALG_GRAPH_BACKWARD = {Inv: inv_graph_backward, Det: det_graph_backward, SlogDet: slogdet_graph_backward,
                         Solve: solve_graph_backward, Cholesky: cholesky_graph_backward,
                         Eigh: eigh_graph_backward, SVD: svd_graph_backward, Pinv: pinv_graph_backward,
                         QR: qr_graph_backward, CholeskySolve: cholesky_solve_graph_backward,
                         CholeskyInverse: cholesky_inverse_graph_backward}
