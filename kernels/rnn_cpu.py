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

from .cache_load import njit
from . import calibration, tuning
from .compile_notice import announce
from .activations_cpu import copy_into, fast_tanh   # inlined: activations_cpu.REVISION 2
from .blas_cpu import chunk_bounds, gate_buffer, input_projection, kernel_threads, run_chunks
from .weight_grads_cpu import one_step_gradients, weight_gradients
from .steps_cpu import (backward_weights, first_step_product, forward_panels, hidden_grad_step, lengths_array,
                        one_step_of, rows_product, step_state, synthetic_case, time_loop_plan)

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")


@njit(**_JIT)
def _forward(h_seq, h0, w_hh, panels, bias, lengths, reverse, relu, y, h_n, h_prev, blas_rows, lo, hi):
    # batch rows lo..hi-1 of the whole sequence (rows are independent: one chunk per thread).
    # h_seq [T,B,H]: the hoisted input projection x W_ih^T, overwritten step by step with the new
    # state; w_hh [H,H] as stored, panels the same packed (steps_cpu.forward_panels);
    # bias [H] = b_ih + b_hh; blas_rows routes the step product
    seq_len, _, hidden = h_seq.shape
    dt = h_seq.dtype
    zero = dt.type(0)
    h_chunk = np.empty((hi - lo, hidden), dt)  # contiguous copy of the chunk's state rows
    rec = np.empty((hi - lo, hidden), dt)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        hp, h_out = step_state(h0, h_n, h_prev, s, t, reverse, lo, hi)
        rows_product(hp, w_hh, panels, h_chunk, rec, lo, hi, blas_rows)
        for b in range(lo, hi):
            if t >= lengths[b]:
                copy_into(h_out[b], hp[b])
                continue
            a = h_seq[t, b]
            r = rec[b - lo]
            if relu:
                for j in range(hidden):
                    a[j] = max(a[j] + r[j] + bias[j], zero)
            else:
                # two loops: an activation inside a three-array loop stayed scalar (3x slower)
                for j in range(hidden):
                    a[j] = a[j] + r[j] + bias[j]
                for j in range(hidden):
                    a[j] = fast_tanh(a[j])
            copy_into(h_out[b], a)
            copy_into(y[t, b], a)


@njit(**_JIT)
def _backward(dy, dh, w_hh_t, panels, lengths, reverse, relu, h_seq, d_pre, db, blas_rows, lo, hi):
    # batch rows lo..hi-1. dy [T,B,H]; dh [B,H] carried gradient (in: dh_n, out: dh0); W_hh as
    # w_hh_t [H,H] or panels (steps_cpu.backward_weights); d_pre [T,B,H] <-
    # pre-activation gradients (zeroed by the caller when some sequence is padded); db [H] +=
    # the chunk's bias gradient. dh leaves as dh0 with panels; without, as the gradient entering
    # the last step run, which the caller finishes (first_step_product).
    seq_len, _, hidden = dy.shape
    dt = dy.dtype
    one = dt.type(1)
    zero = dt.type(0)
    dp_chunk = np.empty((hi - lo, hidden), dt)
    dh_rec = np.empty((hi - lo, hidden), dt)
    for s in range(seq_len):
        t = s if reverse else seq_len - 1 - s
        for b in range(lo, hi):
            if t < lengths[b]:
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
        hidden_grad_step(d_pre, w_hh_t, panels, dp_chunk, dh_rec, dh, db, lengths, s, t, lo, hi, False, blas_rows)


def _macs(seq_len, batch, n_in, hidden):
    return seq_len * batch * hidden * (n_in + hidden)  # input-side + recurrent products


# the threshold (kernels/tuning.py) a one-step call (a decoder's step) splits from: its rows
# forward, its products two a thread backward (weight_grads_cpu.one_step_gradients)
_ONE_STEP = "ONE_STEP_SPLIT_MIN_MACS"
# rnn_backward takes need_dx (tinygrad_seq.recurrent passes it when the input needs no gradient)
INPUT_GRAD_OPTIONAL = True


def _plan(seq_len, batch, n_in, hidden, dtype):
    """The time loop's plan (steps_cpu.time_loop_plan) for a call of this shape."""
    macs = _macs(seq_len, batch, n_in, hidden)
    threads = kernel_threads.planned(seq_len, batch, macs, None)   # a one-step call's count: calibrated

    def run(plan, timer):
        steps = tuning.calibration_steps(seq_len, _macs(1, batch, n_in, hidden))
        a = synthetic_case(steps, batch, n_in if seq_len == 1 else hidden, hidden, 1, dtype)
        args = (a["x"], a["h0"], a["w_ih"], a["w_hh"], a["b"], a["b"], a["lengths"], False, False)

        def call():
            y, h_n, saved = _rnn_forward(*args, plan)
            _rnn_backward(a["dy"], a["h0"], *args[:4], a["lengths"], False, False, saved, plan)

        return calibration.timed(call, timer)

    return time_loop_plan("rnn", batch, hidden, dtype, threads, macs, run,
                          one_step=one_step_of(seq_len, batch, n_in, macs, _ONE_STEP))


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu):
    """x [T,B,I], h0 [B,H], w_ih [H,I], w_hh [H,H], b_ih/b_hh [H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], saved."""
    plan = _plan(x.shape[0], x.shape[1], x.shape[2], h0.shape[1], x.dtype)
    return _rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu, plan)


def rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved, need_dx=True):
    """dy [T,B,H], dh_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dw_ih [H,I], dw_hh [H,H], db_ih [H], db_hh [H]. need_dx=False: a
    sequence's dx is not computed (None; weight_grads_cpu.weight_gradients)."""
    plan = _plan(x.shape[0], x.shape[1], x.shape[2], h0.shape[1], x.dtype)
    return _rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved, plan, need_dx)


def _rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu, plan):
    x = np.ascontiguousarray(x)
    seq_len, batch, n_in = x.shape
    hidden = h0.shape[1]
    dt = x.dtype
    lengths = lengths_array(lengths, seq_len, batch)
    # outputs past a length stay zero; no memset when nothing is padded
    y = (np.zeros if (lengths < seq_len).any() else np.empty)((seq_len, batch, hidden), dt)
    h_n = np.empty((batch, hidden), dt)
    h_prev = np.empty((seq_len, batch, hidden), dt)
    if seq_len == 0:  # no step runs: the state passes through
        h_n[:] = h0
    h_seq = gate_buffer((seq_len, batch, hidden), dt)
    w_hh = np.ascontiguousarray(w_hh, dt)
    with kernel_threads(seq_len, batch, _macs(seq_len, batch, n_in, hidden), _ONE_STEP, plan) as n_chunks:
        announce("the RNN CPU forward kernels", dt, (_forward,))
        args = (h_seq, np.ascontiguousarray(h0, dt), w_hh, forward_panels(w_hh, seq_len, batch, plan, dt, n_chunks),
                (b_ih + b_hh).astype(dt), lengths, bool(reverse), bool(relu), y, h_n, h_prev, plan["blas_rows"])
        input_projection(x, np.ascontiguousarray(w_ih, dt), h_seq, n_chunks)
        n_rows = max(1, min(n_chunks, batch))
        run_chunks(lambda c: _forward(*args, *chunk_bounds(c, n_rows, batch)), n_rows)
    return y, h_n, (h_seq, h_prev)


def _rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved, plan, need_dx=True):
    x = np.ascontiguousarray(x)
    dt = x.dtype
    seq_len, batch, n_in = x.shape
    h_seq, h_prev = saved
    hidden = h_prev.shape[2]
    lengths = lengths_array(lengths, seq_len, batch)
    d_pre = gate_buffer(h_seq.shape, dt, padded=bool((lengths < seq_len).any()))
    dh0 = np.array(dh_n, dt)  # carried through the steps in place
    # a one-step call (a decoder's step): the pointwise part on one thread (a step's few rows),
    # then its four products two a thread (weight_grads_cpu.one_step_gradients)
    one_step = seq_len == 1
    with kernel_threads(seq_len, batch, _macs(seq_len, batch, n_in, hidden), _ONE_STEP, plan) as n_chunks:
        announce("the RNN CPU backward kernels", dt, (_backward,))
        one_step = one_step and n_chunks > 1
        w_hh_t, panels = backward_weights(w_hh, seq_len, batch, plan, dt, 1 if one_step else n_chunks)
        one_step = one_step and panels is None   # (a loop on panels makes the recurrent product itself)
        args = (np.ascontiguousarray(dy, dt), dh0, w_hh_t, panels, lengths, bool(reverse), bool(relu), h_seq, d_pre)
        n_rows = 1 if one_step else max(1, min(n_chunks, batch))
        db_chunks = np.zeros((n_rows, hidden), dt)
        run_chunks(lambda c: _backward(*args, db_chunks[c], plan["blas_rows"], *chunk_bounds(c, n_rows, batch)),
                   n_rows)
        if one_step:
            dx, dh_step, dw_ih, dw_hh = one_step_gradients(d_pre[0], x[0], h_prev[0], np.ascontiguousarray(w_ih, dt),
                                                           np.ascontiguousarray(w_hh, dt), n_chunks)
            live = lengths > 0   # rows of length 0 pass dh_n through, as first_step_product
            dh0[live] = dh_step[live]
            db = db_chunks.sum(0)
            return dx[None], dh0, dw_ih, dw_hh, db, db.copy()
        first_step_product(d_pre, w_hh, dh0, lengths, reverse, accumulate=False, panels=panels)
        dx, dw_ih, dw_hh = weight_gradients(d_pre, d_pre, x, h_prev, np.ascontiguousarray(w_ih, dt), n_chunks, need_dx)
    db = db_chunks.sum(0)
    return dx, dh0, dw_ih, dw_hh, db, db.copy()
