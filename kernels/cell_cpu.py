"""The shared CPU time loop of the generated cells (tinygrad_seq/cellgen): any cell, one driver.

Forward hoists x W_ih^T into one GEMM over all T*B rows; each step runs, per stage, the recurrent
products of that stage (rows of the chunk x W_p^T, the step product of activations_cpu) and then
the generated pointwise code per batch row. Backward runs the steps in reverse: per stage the
generated backward per row, then dV_p = dP_p W_p for the products of that stage; after the loop
dx, dW_ih and each product's dW_p are GEMMs over all T*B rows. Threads split the batch rows (one
chunk per thread over the whole sequence; rows never meet inside the loop).

    kern      the generated module: forward_stage, backward_stage, LAYOUT (cellgen/emit.py)
    x         [T, B, I]         input;  states0 [S, B, H] entering states (h first)
    w_ih      [WX*H, I]         input weight;  wcat [WR*H, H] the products' weight rows, stacked
    pv        [NPV]             pointwise parameters, flattened
    ext       [T, B, E*H]       extra per-step inputs (zoneout masks); E may be 0
    lengths   [B] int64, reverse bool: as kernels/__init__.py says
    -> y [T, B, H], states_n [S, B, H], saved
"""
from . import blas_cpu  # noqa: F401  (before numba: it trims numba's import of scipy)

import numpy as np
from numba import njit, prange

from .activations_cpu import matmul_nt_into
from .blas_cpu import chunk, input_projection, kernel_threads

_JIT = dict(cache=True, fastmath=True, error_model="numpy")


@njit(**_JIT)
def _forward_rows(fwd, xp, st, pv, ext, sv, tmp, vin, y, wcat, p_src, p_stage, p_off, n_stages, lengths,
                  reverse, lo, hi):
    seq_len = xp.shape[0]
    hidden = st.shape[3]
    nr = hi - lo
    rec = np.empty(nr * wcat.shape[0], xp.dtype)
    rows = np.empty((nr, hidden), xp.dtype)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        for stage in range(n_stages):
            for p in range(p_src.shape[0]):
                if p_stage[p] != stage:
                    continue
                src = p_src[p]
                for b in range(lo, hi):
                    if src >= 0:
                        rows[b - lo] = st[src, s, b]
                    else:
                        rows[b - lo] = vin[-1 - src, s, b]
                out = rec[nr * p_off[p]:nr * p_off[p + 1]].reshape(nr, p_off[p + 1] - p_off[p])
                matmul_nt_into(rows, wcat[p_off[p]:p_off[p + 1]], out)
            for b in range(lo, hi):
                if t < lengths[b]:
                    fwd(stage, s, t, b, b - lo, nr, xp, st, pv, ext, sv, tmp, vin, rec)
        for b in range(lo, hi):
            if t < lengths[b]:
                y[t, b] = st[0, s + 1, b]
            else:
                for k in range(st.shape[0]):
                    st[k, s + 1, b] = st[k, s, b]


@njit(parallel=True, **_JIT)
def _forward_chunks(fwd, xp, st, pv, ext, sv, tmp, vin, y, wcat, p_src, p_stage, p_off, n_stages, lengths,
                    reverse, n_chunks):
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, xp.shape[1])
        _forward_rows(fwd, xp, st, pv, ext, sv, tmp, vin, y, wcat, p_src, p_stage, p_off, n_stages, lengths,
                      reverse, lo, hi)


@njit(**_JIT)
def _backward_rows(bwd, dy, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj, wt, p_stage, p_off,
                   n_stages, lengths, reverse, lo, hi):
    # dst [S,B,H]: in, the gradients of the final states; out, of the entering states. wt: the
    # products' weights transposed, product p as an [H, N_p] block of the flat array.
    seq_len = xp.shape[0]
    hidden = st.shape[3]
    nr = hi - lo
    n_rows_max = p_off[-1]
    rows = np.empty(nr * max(n_rows_max, 1), xp.dtype)
    out = np.empty((nr, hidden), xp.dtype)
    for s in range(seq_len - 1, -1, -1):
        t = seq_len - 1 - s if reverse else s
        for b in range(lo, hi):
            if t < lengths[b]:
                for j in range(hidden):
                    dst[0, b, j] += dy[t, b, j]
        for stage in range(n_stages - 1, -1, -1):
            for b in range(lo, hi):
                if t < lengths[b]:
                    bwd(stage, s, t, b, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj)
            if stage == 0:
                continue
            for p in range(p_stage.shape[0]):
                if p_stage[p] != stage:
                    continue
                n_p = p_off[p + 1] - p_off[p]
                src = rows[:nr * n_p].reshape(nr, n_p)
                for b in range(lo, hi):
                    src[b - lo] = dprod[s, b, p_off[p]:p_off[p + 1]]
                w_t = wt[hidden * p_off[p]:hidden * p_off[p + 1]].reshape(hidden, n_p)
                matmul_nt_into(src, w_t, out)
                for b in range(lo, hi):
                    dvin[p, b] = out[b - lo]
        for b in range(lo, hi):
            if t < lengths[b]:
                for k in range(dst.shape[0]):
                    dst[k, b] = dnx[k, b]


@njit(parallel=True, **_JIT)
def _backward_chunks(bwd, dy, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv_chunks, dprod, dvin, adj, wt, p_stage,
                     p_off, n_stages, lengths, reverse):
    n_chunks = dpv_chunks.shape[0]
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, xp.shape[1])
        _backward_rows(bwd, dy, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv_chunks[c], dprod, dvin, adj, wt,
                       p_stage, p_off, n_stages, lengths, reverse, lo, hi)


@njit(**_JIT)
def _dot(a, b, out):
    np.dot(a, b, out)


def _layout(kern, hidden):
    L = kern.LAYOUT
    p_off = np.zeros(len(L["p_rows"]) + 1, np.int64)
    for p, (_, _, rows) in enumerate(L["p_rows"]):
        p_off[p + 1] = p_off[p] + rows * hidden
    return (L, p_off, np.asarray(L["p_src"], np.int64).reshape(-1),
            np.asarray(L["p_stage"], np.int64).reshape(-1))


def cell_forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse):
    """See the module docstring. saved = (xp, st, sv, vin)."""
    x = np.ascontiguousarray(x)
    seq_len, batch, _ = x.shape
    n_states, _, hidden = states0.shape
    dt = x.dtype
    L, p_off, p_src, p_stage = _layout(kern, hidden)
    lengths = np.ascontiguousarray(lengths, np.int64)
    xp = np.empty((seq_len, batch, L["wx"] * hidden), dt)
    st = np.empty((n_states, seq_len + 1, batch, hidden), dt)
    st[:, 0] = states0
    sv = np.empty((seq_len, batch, L["sv"][0] * hidden + L["sv"][1]), dt)
    tmp = np.empty((batch, L["tmp"] * hidden), dt)
    vin = np.empty((L["vin"], seq_len, batch, hidden), dt)
    y = (np.zeros if (lengths < seq_len).any() else np.empty)((seq_len, batch, hidden), dt)
    ext = np.ascontiguousarray(ext, dt) if ext is not None else np.empty((seq_len, batch, 0), dt)
    wcat = np.ascontiguousarray(wcat, dt)
    pv = np.ascontiguousarray(pv, dt)
    macs = x.size * xp.shape[2] + seq_len * batch * wcat.shape[0] * hidden
    with kernel_threads(seq_len, batch, macs) as n_chunks:
        input_projection(x, np.ascontiguousarray(w_ih, dt), xp, n_chunks)
        args = (kern.forward_stage, xp, st, pv, ext, sv, tmp, vin, y, wcat, p_src, p_stage, p_off,
                L["n_stages"], lengths, bool(reverse))
        n = min(n_chunks, batch)
        if n > 1:
            _forward_chunks(*args, n)
        else:
            _forward_rows(*args, 0, batch)
    return y, np.ascontiguousarray(st[:, seq_len]), (xp, st, sv, vin, ext)


def cell_backward(kern, dy, dstates_n, x, w_ih, wcat, pv, lengths, reverse, saved):
    """dy [T,B,H], dstates_n [S,B,H], the forward's inputs and saved
    -> dx [T,B,I], dstates0 [S,B,H], dw_ih, dwcat (as wcat), dpv [NPV]."""
    x = np.ascontiguousarray(x)
    xp, st, sv, vin, ext = saved
    seq_len, batch, n_in = x.shape
    n_states, _, _, hidden = st.shape
    dt = x.dtype
    L, p_off, _, p_stage = _layout(kern, hidden)
    lengths = np.ascontiguousarray(lengths, np.int64)
    wcat = np.ascontiguousarray(wcat, dt)
    wt = np.empty(wcat.size, dt)
    for p in range(len(p_off) - 1):  # each product's rows, transposed: [H, N_p]
        wt[hidden * p_off[p]:hidden * p_off[p + 1]] = wcat[p_off[p]:p_off[p + 1]].T.ravel()
    dst = np.array(dstates_n, dt)
    dnx = np.empty_like(dst)
    dxp = np.zeros_like(xp)
    dprod = np.zeros((seq_len, batch, wcat.shape[0]), dt)
    dvin = np.zeros((max(len(p_stage), 1), batch, hidden), dt)
    adj = np.empty((batch, L["adj"][0] * hidden + L["adj"][1]), dt)
    dy = np.ascontiguousarray(dy, dt)
    macs = x.size * xp.shape[2] + seq_len * batch * wcat.shape[0] * hidden
    with kernel_threads(seq_len, batch, macs) as n_chunks:
        n = min(n_chunks, batch)
        dpv_chunks = np.zeros((max(n, 1), pv.shape[0]), dt)
        args = (kern.backward_stage, dy, xp, st, np.ascontiguousarray(pv, dt), ext, sv, vin, dst, dnx, dxp)
        rest = (dprod, dvin, adj, wt, p_stage, p_off, L["n_stages"], lengths, bool(reverse))
        if n > 1:
            _backward_chunks(*args, dpv_chunks, *rest)
        else:
            _backward_rows(*args, dpv_chunks[0], *rest, 0, batch)
        rows = seq_len * batch
        dxp2 = dxp.reshape(rows, -1)
        dx = np.empty((rows, n_in), dt)
        _dot(dxp2, np.ascontiguousarray(w_ih, dt), dx)
        dw_ih = np.empty((dxp2.shape[1], n_in), dt)
        _dot(dxp2.T, x.reshape(rows, n_in), dw_ih)
        dwcat = np.empty_like(wcat)
        src = L["p_src"]
        for p in range(len(p_off) - 1):
            v = st[src[p], :seq_len] if src[p] >= 0 else vin[-1 - src[p]]
            dp = np.ascontiguousarray(dprod[:, :, p_off[p]:p_off[p + 1]]).reshape(rows, -1)
            _dot(dp.T, v.reshape(rows, hidden), dwcat[p_off[p]:p_off[p + 1]])
    return dx.reshape(seq_len, batch, n_in), dst, dw_ih, dwcat, dpv_chunks.sum(0)
