"""Fused LSTM forward/backward on the CPU (haste / cuDNN recipe, Numba + BLAS).

Gate order i, f, g, o (PyTorch). Forward hoists x @ W_ih^T into one GEMM over all T*B rows;
the time loop does h @ W_hh^T into a [B, 4H] buffer and one fused pointwise pass. Backward
runs the steps in reverse producing the pre-activation gate gradients dG [T, B, 4H] and the
recurrent dh; dW_ih, dW_hh and dx are then single GEMMs over all T*B rows.

saved = (act, h_prev, c_prev, tanh_c):
    act     [T, B, 4H]  gate activations i, f, g, o of step t (garbage where t >= lengths[b])
    h_prev  [T, B, H]   state entering step t
    c_prev  [T, B, H]   cell entering step t
    tanh_c  [T, B, H]   tanh of the cell leaving step t
"""
from . import blas_cpu  # before numba: it trims numba's import of scipy

import numpy as np
from numba import njit, prange

from .activations_cpu import column_sums_into, fast_sigmoid, fast_tanh, matmul_nt_into
from .blas_cpu import chunk, gate_buffer, input_projection, kernel_threads, weight_gradients

_JIT = dict(cache=True, fastmath=True, error_model="numpy")


@njit(inline="always", **_JIT)
def _cell_row(a, rec, bias, c_in, c_out, h_out, tanh_c, y):
    # one batch row: a [4H] input projection -> activations i, f, g, o in place; rec [4H] h W_hh^T.
    # Short loops over one or two arrays each: LLVM vectorizes those; a loop reading a, rec and
    # bias while applying an activation stayed scalar (measured 3.4x slower at H=512).
    hidden = c_in.shape[0]
    for k in range(a.shape[0]):
        a[k] = a[k] + rec[k] + bias[k]
    gi = a[:hidden]
    gf = a[hidden:2 * hidden]
    gg = a[2 * hidden:3 * hidden]
    go = a[3 * hidden:]
    for j in range(hidden):
        gi[j] = fast_sigmoid(gi[j])
    for j in range(hidden):
        gf[j] = fast_sigmoid(gf[j])
    for j in range(hidden):
        gg[j] = fast_tanh(gg[j])
    for j in range(hidden):
        go[j] = fast_sigmoid(go[j])
    for j in range(hidden):
        c_out[j] = gf[j] * c_in[j] + gi[j] * gg[j]
    for j in range(hidden):
        th = fast_tanh(c_out[j])
        tanh_c[j] = th
        h_out[j] = go[j] * th
    for j in range(hidden):
        y[j] = h_out[j]


@njit(inline="always", **_JIT)
def _cell_row_backward(a, c_in, tanh_c, dy, dh, dc, dg):
    # one batch row: dh, dc [H] carried gradients (updated in place: dh <- dh + dy, dc <- dc_prev),
    # dg [4H] <- pre-activation gate gradients
    hidden = dh.shape[0]
    one = a.dtype.type(1)
    gi = a[:hidden]
    gf = a[hidden:2 * hidden]
    gg = a[2 * hidden:3 * hidden]
    go = a[3 * hidden:]
    dgi = dg[:hidden]
    dgf = dg[hidden:2 * hidden]
    dgg = dg[2 * hidden:3 * hidden]
    dgo = dg[3 * hidden:]
    for j in range(hidden):
        dh[j] += dy[j]
    for j in range(hidden):
        th = tanh_c[j]
        dc[j] += dh[j] * go[j] * (one - th * th)
        dgo[j] = dh[j] * th * go[j] * (one - go[j])
    for j in range(hidden):
        dgi[j] = dc[j] * gg[j] * gi[j] * (one - gi[j])
        dgg[j] = dc[j] * gi[j] * (one - gg[j] * gg[j])
    for j in range(hidden):
        dgf[j] = dc[j] * c_in[j] * gf[j] * (one - gf[j])
        dc[j] = dc[j] * gf[j]


@njit(**_JIT)
def _forward(act, h0, c0, w_hh, bias, lengths, reverse, y, h_n, c_n, h_prev, c_prev, tanh_c, lo, hi):
    # batch rows lo..hi-1 of the whole sequence (rows are independent: one chunk per thread).
    # act [T,B,4H]: the hoisted input projection x W_ih^T, overwritten step by step with the
    # activations; w_hh [4H,H] as stored (the step product reads its rows: no transposed copy);
    # bias [4H] = b_ih + b_hh
    seq_len = act.shape[0]
    dt = act.dtype
    h_chunk = np.empty((hi - lo, h0.shape[1]), dt)  # contiguous copy of the chunk's state rows
    rec = np.empty((hi - lo, act.shape[2]), dt)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        hp = h_prev[t]
        cp = c_prev[t]
        if s == 0:
            for b in range(lo, hi):
                hp[b] = h0[b]
                cp[b] = c0[b]
        # the state leaving step t is written straight into the next step's h_prev/c_prev slot
        if s == seq_len - 1:
            h_out = h_n
            c_out = c_n
        else:
            t_next = t - 1 if reverse else t + 1
            h_out = h_prev[t_next]
            c_out = c_prev[t_next]
        for b in range(lo, hi):
            h_chunk[b - lo] = hp[b]
        matmul_nt_into(h_chunk, w_hh, rec)
        for b in range(lo, hi):
            if t >= lengths[b]:
                h_out[b] = hp[b]
                c_out[b] = cp[b]
            else:
                _cell_row(act[t, b], rec[b - lo], bias, cp[b], c_out[b], h_out[b], tanh_c[t, b], y[t, b])


@njit(**_JIT)
def _backward(dy, dh, dc, w_hh_t, lengths, reverse, act, c_prev, tanh_c, d_gates, db, lo, hi):
    # batch rows lo..hi-1. dy [T,B,H]; dh, dc [B,H] carried gradients, in: dh_n, dc_n, out: dh0,
    # dc0; w_hh_t [H,4H] (W_hh transposed: the blocked step product reads its rows); d_gates
    # [T,B,4H] <- pre-activation gate gradients (zeroed by the caller when some sequence is
    # padded); db [4H] += the chunk's bias gradient
    seq_len = dy.shape[0]
    dt = dy.dtype
    dg_chunk = np.empty((hi - lo, d_gates.shape[2]), dt)
    dh_rec = np.empty((hi - lo, dh.shape[1]), dt)
    for s in range(seq_len):
        t = s if reverse else seq_len - 1 - s
        for b in range(lo, hi):
            if t < lengths[b]:
                _cell_row_backward(act[t, b], c_prev[t, b], tanh_c[t, b], dy[t, b], dh[b], dc[b],
                                   d_gates[t, b])
            dg_chunk[b - lo] = d_gates[t, b]
        matmul_nt_into(dg_chunk, w_hh_t, dh_rec)
        for b in range(lo, hi):
            if t < lengths[b]:
                dh[b] = dh_rec[b - lo]
        column_sums_into(dg_chunk, db)


@njit(parallel=True, **_JIT)
def _forward_chunks(act, h0, c0, w_hh, bias, lengths, reverse, y, h_n, c_n, h_prev, c_prev, tanh_c,
                    n_chunks):
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, act.shape[1])
        _forward(act, h0, c0, w_hh, bias, lengths, reverse, y, h_n, c_n, h_prev, c_prev, tanh_c, lo, hi)


@njit(parallel=True, **_JIT)
def _backward_chunks(dy, dh, dc, w_hh_t, lengths, reverse, act, c_prev, tanh_c, d_gates, db_chunks):
    n_chunks = db_chunks.shape[0]
    for c in prange(n_chunks):
        lo, hi = chunk(c, n_chunks, dy.shape[1])
        _backward(dy, dh, dc, w_hh_t, lengths, reverse, act, c_prev, tanh_c, d_gates, db_chunks[c], lo, hi)


def _lengths(lengths, seq_len, batch):
    if lengths is None:
        return np.full(batch, seq_len, np.int64)
    return np.ascontiguousarray(lengths, dtype=np.int64)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
    """x [T,B,I], h0/c0 [B,H], w_ih [4H,I], w_hh [4H,H], b_ih/b_hh [4H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], c_n [B,H], saved."""
    x = np.ascontiguousarray(x)
    seq_len, batch, _ = x.shape
    hidden = h0.shape[1]
    dt = x.dtype
    lengths = _lengths(lengths, seq_len, batch)
    # outputs past a length stay zero; no memset when nothing is padded
    y = (np.zeros if (lengths < seq_len).any() else np.empty)((seq_len, batch, hidden), dt)
    h_n = np.empty((batch, hidden), dt)
    c_n = np.empty((batch, hidden), dt)
    h_prev = np.empty((seq_len, batch, hidden), dt)
    c_prev = np.empty((seq_len, batch, hidden), dt)
    tanh_c = np.empty((seq_len, batch, hidden), dt)
    act = gate_buffer((seq_len, batch, 4 * hidden), dt)
    args = (act, np.ascontiguousarray(h0, dt), np.ascontiguousarray(c0, dt), np.ascontiguousarray(w_hh, dt),
            (b_ih + b_hh).astype(dt), lengths, bool(reverse), y, h_n, c_n, h_prev, c_prev, tanh_c)
    with kernel_threads(seq_len * batch) as n_chunks:
        input_projection(x, np.ascontiguousarray(w_ih, dt), act, n_chunks)
        if min(n_chunks, batch) > 1:
            _forward_chunks(*args, min(n_chunks, batch))
        else:
            _forward(*args, 0, batch)
    return y, h_n, c_n, (act, h_prev, c_prev, tanh_c)


def lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved):
    """dy [T,B,H], dh_n/dc_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dc0 [B,H], dw_ih [4H,I], dw_hh [4H,H], db_ih [4H], db_hh [4H]."""
    x = np.ascontiguousarray(x)
    dt = x.dtype
    seq_len, batch, _ = x.shape
    act, h_prev, c_prev, tanh_c = saved
    hidden = h_prev.shape[2]
    lengths = _lengths(lengths, seq_len, batch)
    d_gates = gate_buffer(act.shape, dt, padded=bool((lengths < seq_len).any()))
    dh0 = np.array(dh_n, dt)  # carried through the steps in place
    dc0 = np.array(dc_n, dt)
    args = (np.ascontiguousarray(dy, dt), dh0, dc0, np.ascontiguousarray(w_hh.T, dt), lengths, bool(reverse),
            act, c_prev, tanh_c, d_gates)
    with kernel_threads(seq_len * batch) as n_chunks:
        db_chunks = np.zeros((min(n_chunks, batch), 4 * hidden), dt)
        if len(db_chunks) > 1:
            _backward_chunks(*args, db_chunks)
        else:
            _backward(*args, db_chunks[0], 0, batch)
        dx, dw_ih, dw_hh = weight_gradients(d_gates, d_gates, x, h_prev, np.ascontiguousarray(w_ih, dt), n_chunks)
    db = db_chunks.sum(0)
    return dx, dh0, dc0, dw_ih, dw_hh, db, db.copy()
