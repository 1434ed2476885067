"""Time-loop plumbing shared by the fused CPU cell kernels (lstm_cpu, gru_cpu, rnn_cpu).

A loop runs batch rows lo..hi-1 (a chunk; one per thread when the batch is split). The state of
step t lives in state_prev[t] [B, H] (what backward reads); the step's recurrent product reads
the chunk's rows through a contiguous copy so that the product kernel sees C-contiguous arrays.
"""
import numpy as np
from numba import njit

from .activations_cpu import column_sums_into, matmul_nt_into

_JIT = dict(cache=True, fastmath=True, error_model="numpy")


@njit(inline="always", **_JIT)
def leaving_state(state_n, state_prev, s, t, reverse):
    """Where the state leaving step t (the s-th step run) goes: the next step's state_prev slot,
    or state_n after the last step."""
    if s == state_prev.shape[0] - 1:
        return state_n
    return state_prev[t - 1 if reverse else t + 1]


@njit(inline="always", **_JIT)
def step_state(state0, state_n, state_prev, s, t, reverse, lo, hi):
    """(entering, leaving) for step t, the s-th step run: entering = state_prev[t], its rows
    lo..hi-1 filled from state0 at the first step; leaving as leaving_state says."""
    entering = state_prev[t]
    if s == 0:
        for b in range(lo, hi):
            entering[b] = state0[b]
    return entering, leaving_state(state_n, state_prev, s, t, reverse)


@njit(inline="always", **_JIT)
def rows_product(src, w, rows, out, lo, hi):
    """out [hi-lo, N] = src[lo:hi] @ w^T (w [N, K]), through rows [hi-lo, K], a contiguous copy of
    the chunk's rows of src [B, K]."""
    for b in range(lo, hi):
        rows[b - lo] = src[b]
    matmul_nt_into(rows, w, out)


@njit(inline="always", **_JIT)
def hidden_grad_step(d_rec, w_hh_t, rows, out, dh, db, lengths, s, t, lo, hi, accumulate):
    """Backward step t (the s-th run) for rows lo..hi-1, once the cell's backward has written
    d_rec[t] [B,G*H], the hidden-side pre-activation gradients: db [G*H] += their column sums,
    and dh[b] = (or += with accumulate) d_rec[t, b] @ W_hh for the rows whose sequence reaches t,
    through rows [hi-lo,G*H] and out [hi-lo,H]. The last step run leaves its product (dh0) to
    first_step_product, after the loop."""
    if s == d_rec.shape[0] - 1:
        column_sums_into(d_rec[t, lo:hi], db)
        return
    rows_product(d_rec[t], w_hh_t, rows, out, lo, hi)
    for b in range(lo, hi):
        if t < lengths[b]:
            dhb = dh[b]
            rb = out[b - lo]
            if accumulate:
                for j in range(dhb.shape[0]):
                    dhb[j] += rb[j]
            else:
                for j in range(dhb.shape[0]):
                    dhb[j] = rb[j]
    column_sums_into(rows, db)


@njit(**_JIT)
def _matmul_into(a, b, out):
    np.dot(a, b, out)


def first_step_product(d_rec, w_hh, dh, lengths, reverse, accumulate):
    """The recurrent product of the step a backward runs last (t0 = 0, or T-1 reversed), which
    gives dh0: dh [B,H] <- d_rec[t0] [B,G*H] @ w_hh [G*H,H] (or += with accumulate) for the rows
    whose sequence reaches t0; the other rows keep dh. The backward loops stop before this
    product so that a one-step call (a decoder step) needs no transposed copy of W_hh: BLAS reads
    W_hh as stored (a [1024,256] float32 transpose cost 0.45 ms, 3x the product at B=32)."""
    if d_rec.shape[0] == 0:  # T=0: dh0 is dh_n
        return
    t0 = d_rec.shape[0] - 1 if reverse else 0
    prod = np.empty_like(dh)
    _matmul_into(d_rec[t0], np.ascontiguousarray(w_hh, dh.dtype), prod)
    live = t0 < lengths
    if live.all():
        if accumulate:
            dh += prod
        else:
            dh[:] = prod
    elif accumulate:
        dh[live] += prod[live]
    else:
        dh[live] = prod[live]


def transposed_w_hh(w_hh, seq_len, dtype):
    """W_hh^T [H,G*H] contiguous, which the backward loops' step product reads by rows; a
    one-step call runs no loop product (see first_step_product) and gets an empty array."""
    if seq_len < 2:
        return np.empty((0, 0), dtype)
    return np.ascontiguousarray(w_hh.T, dtype)


def lengths_array(lengths, seq_len, batch):
    """Per-sequence lengths as a contiguous int64 array [B]; None means every sequence is full."""
    if lengths is None:
        return np.full(batch, seq_len, np.int64)
    return np.ascontiguousarray(lengths, dtype=np.int64)
