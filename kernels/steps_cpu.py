"""Time-loop plumbing shared by the fused CPU cell kernels (lstm_cpu, gru_cpu, rnn_cpu).

A loop runs batch rows lo..hi-1 (a chunk; one per thread when the batch is split). The state of
step t lives in state_prev[t] [B, H] (what backward reads); the step's recurrent product reads
the chunk's rows through a contiguous copy so that the product kernel sees C-contiguous arrays.
"""
import numpy as np
from numba import njit

from .activations_cpu import matmul_nt_into

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


def lengths_array(lengths, seq_len, batch):
    """Per-sequence lengths as a contiguous int64 array [B]; None means every sequence is full."""
    if lengths is None:
        return np.full(batch, seq_len, np.int64)
    return np.ascontiguousarray(lengths, dtype=np.int64)
