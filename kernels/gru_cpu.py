"""Fused GRU forward/backward on the CPU (PyTorch's formulation), Numba + BLAS.

Gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
Forward hoists x @ W_ih^T into one GEMM over all T*B rows; the loop does h @ W_hh^T into a
[B, 3H] buffer and one fused pointwise pass. Backward produces two gradient buffers per step,
input side dGi = [dr, dz, dn] and hidden side dGh = [dr, dz, dn * r] (they differ only in the n
block, where r multiplies the hidden product); dW_ih, dW_hh, dx are then single GEMMs.

saved = (act, hn, h_prev):
    act     [T, B, 3H]  r, z, n of step t (garbage where t >= lengths[b])
    hn      [T, B, H]   W_hn h + b_hn of step t
    h_prev  [T, B, H]   state entering step t
"""
from . import blas_cpu  # before numba: it trims numba's import of scipy

import functools
import sys

import numpy as np
from numba import types

from .cache_load import njit
from . import background_compile, calibration, tuning
from .compile_notice import announce, c_array
from .activations_cpu import column_sums_into, copy_into, fast_sigmoid, fast_tanh   # inlined: activations_cpu.REVISION 2
from .blas_cpu import chunk_bounds, gate_buffer, input_projection, kernel_threads, run_chunks
from .weight_grads_cpu import one_step_gradients, transposed_gemm_jobs, weight_gradients
from .steps_cpu import (backward_weights, first_step_product, forward_panels, hidden_grad_step, lengths_array,
                        one_step_of, rows_product, step_state, synthetic_case, time_loop_plan, uses_panels)

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")
# helpers called only from @njit code: no Python or C entry point to build (compile time)
_INNER = dict(_JIT, no_cpython_wrapper=True, no_cfunc_wrapper=True)


@njit(**_INNER)
def _cell_row(a, rec, bias, h_in, h_out, hn, y):
    # one batch row: a [3H] input projection -> r, z, n in place; rec [3H] h W_hh^T; hn [H] <-
    # W_hn h + b_hn. Short loops over one or two arrays each: LLVM vectorizes those; a loop that
    # reads three arrays while applying an activation stayed scalar (3x slower).
    hidden = h_in.shape[0]
    one = a.dtype.type(1)
    for k in range(2 * hidden):
        a[k] = a[k] + rec[k] + bias[k]
    gr = a[:hidden]
    gz = a[hidden:2 * hidden]
    gn = a[2 * hidden:]
    for j in range(hidden):
        gr[j] = fast_sigmoid(gr[j])
    for j in range(hidden):
        gz[j] = fast_sigmoid(gz[j])
    rec_n = rec[2 * hidden:]
    b_in = bias[2 * hidden:3 * hidden]
    b_hn = bias[3 * hidden:]
    for j in range(hidden):
        hn[j] = rec_n[j] + b_hn[j]
    for j in range(hidden):
        gn[j] = gn[j] + b_in[j] + gr[j] * hn[j]
    for j in range(hidden):
        gn[j] = fast_tanh(gn[j])
    for j in range(hidden):
        h_out[j] = (one - gz[j]) * gn[j] + gz[j] * h_in[j]
    for j in range(hidden):
        y[j] = h_out[j]


@njit(**_INNER)
def _cell_row_backward(a, h_in, hn, dy, dh, d_in, d_hid):
    # one batch row: dh [H] carried gradient (in place: dh + dy, then the direct path dh * z);
    # d_in / d_hid [3H] <- input-side / hidden-side pre-activation gradients
    hidden = dh.shape[0]
    one = a.dtype.type(1)
    gr = a[:hidden]
    gz = a[hidden:2 * hidden]
    gn = a[2 * hidden:]
    for j in range(hidden):
        dh[j] += dy[j]
    dn_in = d_in[2 * hidden:]
    dn_hid = d_hid[2 * hidden:]
    for j in range(hidden):
        d_n = dh[j] * (one - gz[j]) * (one - gn[j] * gn[j])
        dn_in[j] = d_n
        dn_hid[j] = d_n * gr[j]
    dz_in = d_in[hidden:2 * hidden]
    dz_hid = d_hid[hidden:2 * hidden]
    for j in range(hidden):
        d_z = dh[j] * (h_in[j] - gn[j]) * gz[j] * (one - gz[j])
        dz_in[j] = d_z
        dz_hid[j] = d_z
    dr_in = d_in[:hidden]
    dr_hid = d_hid[:hidden]
    for j in range(hidden):
        d_r = dn_in[j] * hn[j] * gr[j] * (one - gr[j])
        dr_in[j] = d_r
        dr_hid[j] = d_r
    # the direct path h' = ... + z * h; the product through W_hh is added after the step
    for j in range(hidden):
        dh[j] = dh[j] * gz[j]


@njit(**_JIT)
def _forward(act, h0, w_hh, panels, bias, lengths, reverse, y, h_n, hn_seq, h_prev, blas_rows, lo, hi):
    # batch rows lo..hi-1 of the whole sequence (rows are independent: one chunk per thread).
    # act [T,B,3H]: the hoisted input projection x W_ih^T, overwritten step by step with r, z, n;
    # w_hh [3H,H] as stored, panels the same packed (steps_cpu.forward_panels);
    # bias [4H] = (b_ir + b_hr, b_iz + b_hz, b_in, b_hn); blas_rows routes the step product
    seq_len = act.shape[0]
    dt = act.dtype
    h_chunk = np.empty((hi - lo, h0.shape[1]), dt)  # contiguous copy of the chunk's state rows
    rec = np.empty((hi - lo, act.shape[2]), dt)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        hp, h_out = step_state(h0, h_n, h_prev, s, t, reverse, lo, hi)
        rows_product(hp, w_hh, panels, h_chunk, rec, lo, hi, blas_rows)
        for b in range(lo, hi):
            if t >= lengths[b]:
                copy_into(h_out[b], hp[b])
            else:
                _cell_row(act[t, b], rec[b - lo], bias, hp[b], h_out[b], hn_seq[t, b], y[t, b])


@njit(**_JIT)
def _backward(dy, dh, w_hh_t, panels, lengths, reverse, act, hn_seq, h_prev, d_in, d_hid, db_ih, db_hh, blas_rows, lo,
              hi):
    # batch rows lo..hi-1. dy [T,B,H]; dh [B,H] carried gradient (in: dh_n, out: dh0); W_hh as
    # w_hh_t [H,3H] or panels (steps_cpu.backward_weights); d_in, d_hid [T,B,3H]
    # <- input-side / hidden-side pre-activation gradients (zeroed by the caller when some
    # sequence is padded); db_ih, db_hh [3H] += the chunk's bias gradients. The last step run's
    # recurrent term of dh is left to the caller without panels (first_step_product).
    seq_len = dy.shape[0]
    hidden = dh.shape[1]
    dt = dy.dtype
    dg_chunk = np.empty((hi - lo, d_hid.shape[2]), dt)
    dh_rec = np.empty((hi - lo, hidden), dt)
    for s in range(seq_len):
        t = s if reverse else seq_len - 1 - s
        for b in range(lo, hi):
            if t < lengths[b]:
                _cell_row_backward(act[t, b], h_prev[t, b], hn_seq[t, b], dy[t, b], dh[b],
                                   d_in[t, b], d_hid[t, b])
        hidden_grad_step(d_hid, w_hh_t, panels, dg_chunk, dh_rec, dh, db_hh, lengths, s, t, lo, hi, True, blas_rows)
        column_sums_into(d_in[t, lo:hi], db_ih)


def _macs(seq_len, batch, n_in, hidden):
    return seq_len * batch * 3 * hidden * (n_in + hidden)  # input-side + recurrent products


# the threshold (kernels/tuning.py) a one-step call (a decoder's step) splits from: its rows
# forward, its products two a thread backward (weight_grads_cpu.one_step_gradients)
_ONE_STEP = "ONE_STEP_SPLIT_MIN_MACS"
# gru_backward takes need_dx (tinygrad_seq.recurrent passes it when the input needs no gradient)
INPUT_GRAD_OPTIONAL = True


def _plan(seq_len, batch, n_in, hidden, dtype):
    """The time loop's plan (steps_cpu.time_loop_plan) for a call of this shape."""
    macs = _macs(seq_len, batch, n_in, hidden)
    threads = kernel_threads.planned(seq_len, batch, macs, None)   # a one-step call's count: calibrated

    def run(plan, timer):
        steps = tuning.calibration_steps(seq_len, _macs(1, batch, n_in, hidden))
        a = synthetic_case(steps, batch, n_in if seq_len == 1 else hidden, hidden, 3, dtype)
        args = (a["x"], a["h0"], a["w_ih"], a["w_hh"], a["b"], a["b"], a["lengths"], False)

        def call():
            y, h_n, saved = _gru_forward(*args, plan)
            _gru_backward(a["dy"], a["h0"], *args[:4], a["b"], a["lengths"], False, saved, plan)

        return calibration.timed(call, timer)

    return time_loop_plan("gru", batch, hidden, dtype, threads, macs, run,
                          one_step=one_step_of(seq_len, batch, n_in, macs, _ONE_STEP))


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, backward_follows=False):
    """x [T,B,I], h0 [B,H], w_ih [3H,I], w_hh [3H,H], b_ih/b_hh [3H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], saved. backward_follows: a backward will run (autograd records the
    call); its time loop, when not compiled yet, then compiles in the second process of an
    earlier call (kernels/background_compile.py) while this one compiles the forward."""
    plan = _plan(x.shape[0], x.shape[1], x.shape[2], h0.shape[1], x.dtype)
    return _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, plan, backward_follows)


_THIS = sys.modules[__name__]


@functools.lru_cache(maxsize=None)
def _backward_signature(dtype, panels):
    """The Numba types _gru_backward passes _backward: W_hh^T and no panels, or an empty W_hh^T
    and the panels (steps_cpu.backward_weights). tests/test_background_compile.py checks this
    against the signature the backward compiles."""
    a = functools.partial(c_array, dtype)
    return (a(3), a(2), a(2), a(3) if panels else types.none, c_array(np.int64, 1), types.boolean, a(3), a(3), a(3),
            a(3), a(3), a(1), a(1), types.int64, types.int64, types.int64)


def gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, reverse, saved, need_dx=True):
    """dy [T,B,H], dh_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dw_ih [3H,I], dw_hh [3H,H], db_ih [3H], db_hh [3H].
    b_hh is not read here: the forward saved W_hn h + b_hn. need_dx=False: a sequence's dx is not
    computed (None; weight_grads_cpu.weight_gradients)."""
    plan = _plan(x.shape[0], x.shape[1], x.shape[2], h0.shape[1], x.dtype)
    return _gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, reverse, saved, plan, need_dx)


def _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, plan, backward_follows=False):
    x = np.ascontiguousarray(x)
    seq_len, batch, n_in = x.shape
    hidden = h0.shape[1]
    dt = x.dtype
    lengths = lengths_array(lengths, seq_len, batch)
    # outputs past a length stay zero; no memset when nothing is padded
    y = (np.zeros if (lengths < seq_len).any() else np.empty)((seq_len, batch, hidden), dt)
    h_n = np.empty((batch, hidden), dt)
    hn_seq = np.empty((seq_len, batch, hidden), dt)
    h_prev = np.empty((seq_len, batch, hidden), dt)
    if seq_len == 0:  # no step runs: the state passes through
        h_n[:] = h0
    # [4H]: r and z take both biases, n keeps b_in and b_hn apart (b_hn sits inside r * (...))
    bias = np.concatenate([b_ih[:2 * hidden] + b_hh[:2 * hidden], b_ih[2 * hidden:], b_hh[2 * hidden:]])
    bias = bias.astype(dt)
    act = gate_buffer((seq_len, batch, 3 * hidden), dt)
    w_hh = np.ascontiguousarray(w_hh, dt)
    with kernel_threads(seq_len, batch, _macs(seq_len, batch, n_in, hidden), _ONE_STEP, plan) as n_chunks:
        announce("the GRU CPU forward kernels", dt, (_forward,))
        if backward_follows:
            # only to a second process already running (an LSTM's, a cell's): this forward compiles
            # too little after them to pay for a new one's start-up (background_compile's docstring)
            panels = uses_panels(seq_len, batch, hidden, plan, dt)
            background_compile.start_unless_cached(_THIS, "_backward", _backward_signature(dt, panels),
                                                   (dt.num, panels), _forward, dt,
                                                   lambda: transposed_gemm_jobs(dt, (n_in, hidden)), spawn=False)
        args = (act, np.ascontiguousarray(h0, dt), w_hh, forward_panels(w_hh, seq_len, batch, plan, dt, n_chunks), bias,
                lengths, bool(reverse), y, h_n, hn_seq, h_prev, plan["blas_rows"])
        input_projection(x, np.ascontiguousarray(w_ih, dt), act, n_chunks)
        n_rows = max(1, min(n_chunks, batch))
        run_chunks(lambda c: _forward(*args, *chunk_bounds(c, n_rows, batch)), n_rows)
    return y, h_n, (act, hn_seq, h_prev)


def _gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, reverse, saved, plan, need_dx=True):
    x = np.ascontiguousarray(x)
    dt = x.dtype
    seq_len, batch, n_in = x.shape
    act, hn_seq, h_prev = saved
    hidden = h_prev.shape[2]
    lengths = lengths_array(lengths, seq_len, batch)
    padded = bool((lengths < seq_len).any())
    d_in = gate_buffer(act.shape, dt, padded)
    d_hid = gate_buffer(act.shape, dt, padded)
    dh0 = np.array(dh_n, dt)  # carried through the steps in place
    # a one-step call (a decoder's step): the pointwise part on one thread (a step's few rows),
    # then its four products two a thread (weight_grads_cpu.one_step_gradients)
    one_step = seq_len == 1
    with kernel_threads(seq_len, batch, _macs(seq_len, batch, n_in, hidden), _ONE_STEP, plan) as n_chunks:
        background_compile.wait(_THIS, "_backward", _backward_signature(dt, uses_panels(seq_len, batch, hidden, plan,
                                                                                          dt)))
        announce("the GRU CPU backward kernels", dt, (_backward,))
        one_step = one_step and n_chunks > 1
        w_hh_t, panels = backward_weights(w_hh, seq_len, batch, plan, dt, 1 if one_step else n_chunks)
        one_step = one_step and panels is None   # (a loop on panels makes the recurrent product itself)
        args = (np.ascontiguousarray(dy, dt), dh0, w_hh_t, panels, lengths, bool(reverse), act, hn_seq, h_prev, d_in,
                d_hid)
        n_rows = 1 if one_step else max(1, min(n_chunks, batch))
        db_ih = np.zeros((n_rows, 3 * hidden), dt)
        db_hh = np.zeros_like(db_ih)
        run_chunks(lambda c: _backward(*args, db_ih[c], db_hh[c], plan["blas_rows"], *chunk_bounds(c, n_rows, batch)),
                   n_rows)
        if one_step:
            dx, dh_step, dw_ih, dw_hh = one_step_gradients(d_in[0], x[0], h_prev[0], np.ascontiguousarray(w_ih, dt),
                                                           np.ascontiguousarray(w_hh, dt), n_chunks, d_hid=d_hid[0])
            live = lengths > 0   # rows of length 0 pass dh_n through, as first_step_product
            dh0[live] += dh_step[live]   # dh0 holds the direct path dh * z
            return dx[None], dh0, dw_ih, dw_hh, db_ih.sum(0), db_hh.sum(0)
        first_step_product(d_hid, w_hh, dh0, lengths, reverse, accumulate=True, panels=panels)
        dx, dw_ih, dw_hh = weight_gradients(d_in, d_hid, x, h_prev, np.ascontiguousarray(w_ih, dt), n_chunks, need_dx)
    return dx, dh0, dw_ih, dw_hh, db_ih.sum(0), db_hh.sum(0)
