"""The shared time loop of the generated cells, as a template: cellgen appends this file's text
below the generated forward_stage / backward_stage of each cell, so that each cell's loop is
compiled and cached on disk with its pointwise code (Numba cannot cache a jitted function
specialised on another jitted function passed as an argument: its cache index misses in every new
process). Nothing here is compiled where it is defined; kernels/cell_cpu.py calls the copies,
one chunk of batch rows per thread (blas_cpu.run_chunks: nogil kernels on Python threads, no
Numba parallel region, whose wrapper would compile the whole loop a second time).

Per step, per stage: the stage's recurrent products (the chunk's rows x W_p^T, the step product
of activations_cpu), then the generated pointwise code per batch row; backward the same in reverse,
with dV_p = dP_p W_p after each stage's rows.
"""
import numpy as np
from numba import njit

from tinygrad_seq.kernels.activations_cpu import matmul_nt_into

_JIT = dict(cache=True, fastmath=True, error_model="numpy", nogil=True)
forward_stage = backward_stage = None  # defined by the generated module this text is appended to

# ---- loops (cellgen copies from here on)
@njit(**_JIT)
def _forward_rows(xp, st, pv, ext, sv, tmp, vin, y, wcat, p_src, p_stage, p_off, n_stages, lengths,
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
                    forward_stage(stage, s, t, b, b - lo, nr, xp, st, pv, ext, sv, tmp, vin, rec)
        for b in range(lo, hi):
            if t < lengths[b]:
                y[t, b] = st[0, s + 1, b]
            else:
                for k in range(st.shape[0]):
                    st[k, s + 1, b] = st[k, s, b]


@njit(**_JIT)
def _backward_rows(dy, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj, wt, p_stage, p_off,
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
                    backward_stage(stage, s, t, b, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj)
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
