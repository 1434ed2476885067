"""Fused Elman RNN forward/backward on the CPU (tanh or relu), Numba + BLAS.

h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh). Forward hoists x @ W_ih^T into one GEMM over all
T*B rows; the loop adds h @ W_hh^T and applies the activation in place. Backward produces the
pre-activation gradients dA [T, B, H] step by step; dW_ih, dW_hh and dx are single GEMMs.

saved = (h_seq, h_prev):
    h_seq   [T, B, H]  state leaving step t (garbage where t >= lengths[b])
    h_prev  [T, B, H]  state entering step t
"""
from . import blas_cpu  # before numba: it trims numba's import of scipy

import numpy as np
from numba import njit

from .activations_cpu import column_sums_into, fast_tanh, matmul_into, matmul_nt_into
from .blas_cpu import gate_buffer, gemm_threads, input_projection, step_threads, weight_gradients

_JIT = dict(cache=True, fastmath=True, error_model="numpy")


@njit(**_JIT)
def _forward(h_seq, h0, w_hh, bias, lengths, reverse, relu, y, h_n, h_prev):
    # h_seq [T,B,H]: the hoisted input projection x W_ih^T, overwritten step by step with the new
    # state; w_hh [H,H] as stored (the step product reads its rows: no transposed copy);
    # bias [H] = b_ih + b_hh
    seq_len, batch, hidden = h_seq.shape
    zero = h_seq.dtype.type(0)
    rec = np.empty((batch, hidden), h_seq.dtype)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        hp = h_prev[t]
        if s == 0:
            hp[:] = h0
        # the state leaving step t is written straight into the next step's h_prev slot
        if s == seq_len - 1:
            h_out = h_n
        else:
            h_out = h_prev[t - 1 if reverse else t + 1]
        matmul_nt_into(hp, w_hh, rec)
        for b in range(batch):
            if t >= lengths[b]:
                h_out[b] = hp[b]
                continue
            a = h_seq[t, b]
            r = rec[b]
            if relu:
                for j in range(hidden):
                    a[j] = max(a[j] + r[j] + bias[j], zero)
            else:
                # two loops: an activation inside a three-array loop stayed scalar (3x slower)
                for j in range(hidden):
                    a[j] = a[j] + r[j] + bias[j]
                for j in range(hidden):
                    a[j] = fast_tanh(a[j])
            h_out[b] = a
            y[t, b] = a


@njit(**_JIT)
def _backward(dy, dh_n, w_hh, lengths, reverse, relu, h_seq, d_pre):
    # dy [T,B,H]; w_hh [H,H]; d_pre [T,B,H] <- pre-activation gradients (zeroed by the caller
    # when some sequence is padded); returns dh0, db
    seq_len, batch, hidden = dy.shape
    dt = dy.dtype
    one = dt.type(1)
    zero = dt.type(0)
    dh = dh_n.copy()
    dh_rec = np.empty((batch, hidden), dt)
    db = np.zeros(hidden, dt)
    for s in range(seq_len):
        t = s if reverse else seq_len - 1 - s
        full = True
        for b in range(batch):
            if t >= lengths[b]:
                full = False
                continue
            h = h_seq[t, b]
            dp = d_pre[t, b]
            dhb = dh[b]
            dyb = dy[t, b]
            for j in range(hidden):
                dhb[j] += dyb[j]
            if relu:
                for j in range(hidden):
                    dp[j] = dhb[j] if h[j] > zero else zero
            else:
                for j in range(hidden):
                    dp[j] = dhb[j] * (one - h[j] * h[j])
        if full:
            matmul_into(d_pre[t], w_hh, dh)
        else:
            matmul_into(d_pre[t], w_hh, dh_rec)
            for b in range(batch):
                if t < lengths[b]:
                    dh[b] = dh_rec[b]
        column_sums_into(d_pre[t], db)
    return dh, db


def _lengths(lengths, seq_len, batch):
    if lengths is None:
        return np.full(batch, seq_len, np.int64)
    return np.ascontiguousarray(lengths, dtype=np.int64)


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu):
    """x [T,B,I], h0 [B,H], w_ih [H,I], w_hh [H,H], b_ih/b_hh [H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], saved."""
    x = np.ascontiguousarray(x)
    seq_len, batch, _ = x.shape
    hidden = h0.shape[1]
    dt = x.dtype
    lengths = _lengths(lengths, seq_len, batch)
    # outputs past a length stay zero; no memset when nothing is padded
    y = (np.zeros if (lengths < seq_len).any() else np.empty)((seq_len, batch, hidden), dt)
    h_n = np.empty((batch, hidden), dt)
    h_prev = np.empty((seq_len, batch, hidden), dt)
    h_seq = gate_buffer((seq_len, batch, hidden), dt)
    with gemm_threads(x.size * hidden):
        input_projection(x, np.ascontiguousarray(w_ih, dt), h_seq)
    with step_threads(batch * hidden * hidden):
        _forward(h_seq, np.ascontiguousarray(h0, dt), np.ascontiguousarray(w_hh, dt),
                 (b_ih + b_hh).astype(dt), lengths, bool(reverse), bool(relu), y, h_n, h_prev)
    return y, h_n, (h_seq, h_prev)


def rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved):
    """dy [T,B,H], dh_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dw_ih [H,I], dw_hh [H,H], db_ih [H], db_hh [H]."""
    x = np.ascontiguousarray(x)
    dt = x.dtype
    seq_len, batch, _ = x.shape
    h_seq, h_prev = saved
    hidden = h_prev.shape[2]
    lengths = _lengths(lengths, seq_len, batch)
    d_pre = gate_buffer(h_seq.shape, dt, padded=bool((lengths < seq_len).any()))
    with step_threads(batch * hidden * hidden):
        dh0, db = _backward(
            np.ascontiguousarray(dy, dt), np.ascontiguousarray(dh_n, dt), np.ascontiguousarray(w_hh, dt),
            lengths, bool(reverse), bool(relu), h_seq, d_pre)
    with gemm_threads(x.size * hidden):
        dx, dw_ih, dw_hh = weight_gradients(d_pre, d_pre, x, h_prev, np.ascontiguousarray(w_ih, dt))
    return dx, dh0, dw_ih, dw_hh, db, db.copy()
