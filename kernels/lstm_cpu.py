"""Fused LSTM forward/backward on the CPU (haste / cuDNN recipe, Numba + BLAS).

Gate order i, f, g, o (PyTorch). Forward hoists x @ W_ih^T into one GEMM over all T*B rows; the
time loop does h @ W_hh^T into a [B, 4H] buffer and one fused pointwise pass. Backward runs the steps
in reverse giving dG [T, B, 4H] and dh; dW_ih, dW_hh and dx are single GEMMs over all T*B rows.

Threads (kernels/blas_cpu.py): the time loop splits either the batch rows (one loop per thread
over the whole sequence, no barrier per step) or, for fewer rows than threads, the hidden units
(a chunk per thread, meeting at a spin barrier each step, kernels/spin_cpu.py; units_chunks).

saved = (act, h_prev, c_prev, tanh_c):
    act     [T, B, 4H]  gate activations i, f, g, o of step t (garbage where t >= lengths[b])
    h_prev  [T, B, H]   state entering step t
    c_prev  [T, B, H]   cell entering step t
    tanh_c  [T, B, H]   tanh of the cell leaving step t
"""
from . import blas_cpu  # before numba: it trims numba's import of scipy

import functools
import sys

import numpy as np
from numba import types

from . import background_compile, calibration, panel_cpu, tuning
from .cache_load import njit
from .compile_notice import announce, c_array
from .spin_cpu import arrive_and_wait, barrier_error, barrier_flags
from .activations_cpu import copy_into, panels_at, step_product   # inlined: activations_cpu.REVISION 2
from .lstm_cell_cpu import cell_row, cell_row_backward, cell_row_backward_units, cell_row_units
from .blas_cpu import chunk_bounds, cores_for_spinning, gemm_into, gate_buffer, input_projection, kernel_threads, run_chunks
from .weight_grads_cpu import one_step_gradients, transposed_gemm_jobs, weight_gradients
from .steps_cpu import (backward_weights, first_step_product, forward_panels, hidden_grad_step, leaving_state,
                        lengths_array, one_step_of, project_gate_units, project_gate_units_nogil, rows_product,
                        step_state, synthetic_case, time_loop_plan, transposed, units_split_first, uses_panels)

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")


@njit(**_JIT)
def _forward(act, h0, c0, w_hh, panels, bias, lengths, reverse, y, h_n, c_n, h_prev, c_prev, tanh_c, blas_rows, lo, hi):
    # batch rows lo..hi-1 of the whole sequence (rows are independent: one chunk per thread).
    # act [T,B,4H]: the hoisted input projection x W_ih^T, overwritten step by step with the
    # activations; w_hh [4H,H] as stored, panels the same packed (steps_cpu.forward_panels); bias [4H] = b_ih + b_hh; blas_rows routes the step product (steps_cpu.rows_product)
    seq_len = act.shape[0]
    hidden = h0.shape[1]
    dt = act.dtype
    h_chunk = np.empty((hi - lo, hidden), dt)  # contiguous copy of the chunk's state rows
    rec = np.empty((hi - lo, act.shape[2]), dt)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        hp, h_out = step_state(h0, h_n, h_prev, s, t, reverse, lo, hi)
        cp, c_out = step_state(c0, c_n, c_prev, s, t, reverse, lo, hi)
        rows_product(hp, w_hh, panels, h_chunk, rec, lo, hi, blas_rows)
        for b in range(lo, hi):
            if t >= lengths[b]:
                copy_into(h_out[b], hp[b])
                copy_into(c_out[b], cp[b])
            else:
                cell_row(act[t, b], rec[b - lo], bias, cp[b], c_out[b], h_out[b], tanh_c[t, b], y[t, b])


@njit(**_JIT)
def _backward(dy, dh, dc, w_hh_t, panels, lengths, reverse, act, c_prev, tanh_c, d_gates, db, blas_rows, lo, hi):
    # batch rows lo..hi-1. dy [T,B,H]; dh, dc [B,H] carried gradients, in: dh_n, dc_n, out: dh0,
    # dc0; W_hh as w_hh_t [H,4H] or panels (steps_cpu.backward_weights); d_gates [T,B,4H] <-
    # pre-activation gate gradients (zeroed by the caller when some sequence is padded); db [4H] +=
    # the chunk's bias gradient. dh leaves as dh0 with panels; without, as the gradient entering
    # the last step run, which the caller finishes (first_step_product).
    seq_len, _, hidden = dy.shape
    dt = dy.dtype
    dg_chunk = np.empty((hi - lo, d_gates.shape[2]), dt)
    dh_rec = np.empty((hi - lo, dh.shape[1]), dt)
    for s in range(seq_len):
        t = s if reverse else seq_len - 1 - s
        for b in range(lo, hi):
            if t < lengths[b]:
                cell_row_backward(act[t, b], c_prev[t, b], tanh_c[t, b], dy[t, b], dh[b], dc[b], d_gates[t, b])
        hidden_grad_step(d_gates, w_hh_t, panels, dg_chunk, dh_rec, dh, db, lengths, s, t, lo, hi, False, blas_rows)


@njit(**_JIT)
def _forward_units(act, h0, c0, w_hh, panels, bias, lengths, reverse, y, h_n, c_n, h_prev, c_prev, tanh_c, blas_rows,
                   c, flags):
    # The hidden units split: chunk c (one thread, the whole sequence) runs units jlo..jhi-1 of
    # every batch row; the chunks meet at a spin barrier after each step (each needs the whole
    # previous state). For fewer batch rows than threads or a large W_hh, where splitting the batch
    # would leave threads idle or make each thread stream all of W_hh every step. w_hh [4, n_chunks,
    # hc, H]: W_hh as stored, by gate and chunk of units; panels [4, n_chunks, hc/P, H, P] each block
    # packed (or None); rec [4, B, hc] the chunk's share of the step product.
    seq_len, batch, _ = act.shape
    n_chunks, hc = w_hh.shape[1], w_hh.shape[2]
    jlo = c * hc
    jhi = jlo + hc
    rec = np.empty((4, batch, hc), act.dtype)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        cp = c_prev[t]
        if s == 0:  # the saved entering state, this chunk's units
            for b in range(batch):
                copy_into(h_prev[t, b, jlo:jhi], h0[b, jlo:jhi])
                copy_into(cp[b, jlo:jhi], c0[b, jlo:jhi])
        hp = h0 if s == 0 else h_prev[t]  # the whole entering state
        h_out = leaving_state(h_n, h_prev, s, t, reverse)
        c_out = leaving_state(c_n, c_prev, s, t, reverse)
        for g in range(4):
            step_product(hp, w_hh[g, c], panels_at(panels_at(panels, g), c), rec[g], blas_rows)
        for b in range(batch):
            if t >= lengths[b]:
                copy_into(h_out[b, jlo:jhi], hp[b, jlo:jhi])
                copy_into(c_out[b, jlo:jhi], cp[b, jlo:jhi])
            else:
                cell_row_units(act[t, b], rec[0, b], rec[1, b], rec[2, b], rec[3, b], bias, cp[b], c_out[b],
                                h_out[b], tanh_c[t, b], y[t, b], jlo, jhi)
        if s < seq_len - 1 and not arrive_and_wait(flags, c, n_chunks, s + 1):
            return


@njit(**_JIT)
def _backward_units(dy, dh, dc, w_hh_t, panels, lengths, reverse, act, c_prev, tanh_c, d_gates, db, blas_rows, c,
                    flags):
    # the units split of _forward_units, backward, chunk c: w_hh_t [n_chunks, hc, 4H] W_hh transposed,
    # by chunk of units (rows), or (panels not None) panels [n_chunks, hc/P, 4H, P] of W_hh's columns
    # by chunk (units_backward_weights); db [4H] (the chunk adds to its units' entries). Step s: the step's
    # recurrent product finished before the barrier (it needs every chunk's gate gradients) for this
    # chunk's units of dh, then their cell backward at step t.
    seq_len, batch, _ = act.shape
    n_chunks = w_hh_t.shape[0]   # (w_hh_t is [n_chunks, 0, 4H] when the panels are used)
    hidden = dh.shape[1]
    hc = hidden // n_chunks
    jlo = c * hc
    jhi = jlo + hc
    dh_rec = np.empty((batch, hc), act.dtype)
    for s in range(seq_len + 1):
        if s > 0:
            t_done = s - 1 if reverse else seq_len - s
            step_product(d_gates[t_done], w_hh_t[c], panels_at(panels, c), dh_rec, blas_rows)
            for b in range(batch):
                if t_done < lengths[b]:
                    copy_into(dh[b, jlo:jhi], dh_rec[b])
        if s < seq_len:
            t = s if reverse else seq_len - 1 - s
            for b in range(batch):
                if t < lengths[b]:
                    g_row = d_gates[t, b]
                    cell_row_backward_units(act[t, b], c_prev[t, b], tanh_c[t, b], dy[t, b], dh[b], dc[b], g_row, jlo,
                                       jhi)
                    for g in range(4):
                        k0 = g * hidden
                        for j in range(jlo, jhi):
                            db[k0 + j] += g_row[k0 + j]
            if not arrive_and_wait(flags, c, n_chunks, s + 1):
                return


def units_chunks(batch, hidden, n_threads, itemsize):
    """The default rule: chunks of hidden units for the units split, or 1 to split the batch rows.
    Measured on the AMD EPYC (2 cores, float32, LSTM forward + backward): with W_hh of
    tuning.UNITS_SPLIT_BYTES (1 MiB) or more the units split was faster at B=1 (T=50, H=256:
    2.6-2.9 vs 3.5-3.6 ms; H=512: 13.1 vs 16.7-17.9 ms), and slower below 1 MiB (B=1, H=64: 0.40
    vs 0.27 ms). With a row or more a thread the batch split is as fast or faster since the step
    product's 8-row tiles (T=50, units against batch, same process, alternating, 2026-12-03 18:05-18:15
    UTC: H=256 B=4 6.59/6.22 ms, B=12 15.75/13.42, B=18 21.27/18.28, B=33 35.92/30.67, B=100
    93.67/86.60; H=512 B=4 18.76/19.12, B=12 42.72/42.11, B=34 116.0/113.2, B=128 517/460); the
    rule before (units for rows outside 4-row blocks or over 32 a thread) was measured on 4-row
    tiles. time_loop_plan calibrates the choice on the machine it runs on."""
    if hidden % n_threads == 0 and units_split_first(batch, n_threads, 4 * hidden * hidden * itemsize):
        return n_threads
    return 1


def units_forward_panels(w_units, seq_len, batch, plan, dtype):
    """The array [4, n_chunks, hc/P, H, P] for the panels of each gate's block of units (w_units
    [4, n_chunks, hc, H]), each chunk's packed by its own thread (pack_unit_rows), or None where
    the loop runs without them (steps_cpu.uses_panels)."""
    n_gates, n_chunks, hc, hidden = w_units.shape
    width = panel_cpu.panel_width(dtype)
    if not uses_panels(seq_len, batch, hc, plan, dtype):
        return None
    return np.empty((n_gates, n_chunks, hc // width, hidden, width), dtype)


def pack_unit_rows(w_units, panels, c):
    """Chunk c's panels of units_forward_panels: panels[g, c] <- its units of gate g, packed
    (the chunk's thread, before its time loop: the only one that reads them)."""
    n_gates, n_chunks, hc, hidden = w_units.shape
    w = w_units.reshape(n_gates * n_chunks * hc, hidden)
    for g in range(n_gates):
        panel_cpu.pack_rows(w, panels.dtype, (g * n_chunks + c) * hc, hc, panels[g, c])


def units_backward_weights(w_hh, n_chunks, seq_len, batch, plan, dtype):
    """(w_hh_t [n_chunks, hc, 4H], panels [n_chunks, hc/P, 4H, P]) of the units split's backward
    product dG @ W_hh[:, chunk's units]: the array for the panels of W_hh's columns by chunk (a
    plain copy, each chunk's by its own thread: pack_unit_columns) with an empty w_hh_t
    [n_chunks, 0, 4H], or W_hh^T by chunk and None."""
    four_h, hidden = w_hh.shape
    hc = hidden // n_chunks
    if uses_panels(seq_len, batch, hc, plan, dtype):
        width = panel_cpu.panel_width(dtype)
        return np.empty((n_chunks, 0, four_h), dtype), np.empty((n_chunks, hc // width, four_h, width), dtype)
    return transposed(w_hh, dtype).reshape(n_chunks, hc, four_h), None


def pack_unit_columns(w_hh, panels, c):
    """Chunk c's panels of units_backward_weights: panels[c] <- W_hh's columns of its units."""
    hc = w_hh.shape[1] // panels.shape[0]
    panel_cpu.pack_columns(w_hh, panels.dtype, c * hc, hc, panels[c])


def _raise_if_stopped(flags, n_chunks, what):
    error = barrier_error(flags, n_chunks, what)
    if error is not None:
        raise error


def _macs(seq_len, batch, n_in, hidden):
    return seq_len * batch * 4 * hidden * (n_in + hidden)  # input-side + recurrent products


_ONE_STEP = {True: "ONE_STEP_UNITS_MIN_MACS", False: "ONE_STEP_PARALLEL_MIN_MACS"}  # by units split or not


def _plan(seq_len, batch, n_in, hidden, dtype):
    """The time loop's plan (steps_cpu.time_loop_plan) for a call of this shape. A one-step call's
    rule (its calibration's default) splits its gate units from tuning.ONE_STEP_UNITS_MIN_MACS (no
    barrier is met, each thread reads its share of the weights), else its rows from ONE_STEP_PARALLEL_MIN_MACS."""
    one_step, macs = seq_len == 1, _macs(seq_len, batch, n_in, hidden)
    threads = kernel_threads.planned(seq_len, batch, macs, None)   # a one-step call's count: calibrated
    units_ok = (threads > 1 and hidden % threads == 0 and threads <= cores_for_spinning()
                and (one_step or 4 * hidden * hidden * np.dtype(dtype).itemsize >= tuning.setting("UNITS_SPLIT_BYTES")))
    units_rule = one_step and units_ok and macs >= tuning.setting(_ONE_STEP[True])
    if one_step:
        units_first = units_rule if units_ok else None
    else:
        units_first = units_chunks(batch, hidden, threads, np.dtype(dtype).itemsize) > 1 if units_ok else None

    def run(plan, timer):
        steps = tuning.calibration_steps(seq_len, _macs(1, batch, n_in, hidden))
        a = synthetic_case(steps, batch, n_in if one_step else hidden, hidden, 4, dtype)
        args = (a["x"], a["h0"], a["h0"], a["w_ih"], a["w_hh"], a["b"], a["b"], a["lengths"], False)

        def call():
            # backward_follows: the first (untimed) run compiles the backward aside, as the call would
            y, h_n, c_n, saved = _lstm_forward(*args, plan, True)
            _lstm_backward(a["dy"], a["h0"], a["h0"], *args[:5], a["lengths"], False, saved, plan)

        return calibration.timed(call, timer)

    return time_loop_plan("lstm", batch, hidden, dtype, threads, macs, run, units_first,
                          one_step=one_step_of(seq_len, batch, n_in, macs, _ONE_STEP[units_rule]))


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, backward_follows=False):
    """x [T,B,I], h0/c0 [B,H], w_ih [4H,I], w_hh [4H,H], b_ih/b_hh [4H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], c_n [B,H], saved. backward_follows: a backward will run (autograd
    records the call); its time loop, when not compiled yet, then compiles in a second process
    while this one compiles the forward (kernels/background_compile.py)."""
    plan = _plan(x.shape[0], x.shape[1], x.shape[2], h0.shape[1], x.dtype)
    return _lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, plan, backward_follows)


_THIS = sys.modules[__name__]


@functools.lru_cache(maxsize=None)
def _backward_signature(dtype, panels):
    """The Numba types _lstm_backward passes _backward (the batch split): W_hh^T and no panels,
    or an empty W_hh^T and the panels (steps_cpu.backward_weights). tests/test_background_compile.py
    checks this against the signature the backward compiles."""
    a = functools.partial(c_array, dtype)
    return (a(3), a(2), a(2), a(2), a(3) if panels else types.none, c_array(np.int64, 1), types.boolean, a(3), a(3),
            a(3), a(3), a(1), types.int64, types.int64, types.int64)


@functools.lru_cache(maxsize=None)
def _backward_units_signature(dtype, panels):
    """The Numba types _lstm_backward passes _backward_units (the hidden-units split): W_hh^T by
    chunk and no panels, or an empty one and the panels by chunk (units_backward_weights), then
    the barrier's flags."""
    a = functools.partial(c_array, dtype)
    i64 = c_array(np.int64, 1)
    return (a(3), a(2), a(2), a(3), a(4) if panels else types.none, i64, types.boolean, a(3), a(3), a(3), a(3), a(1),
            types.int64, types.int64, i64)


def _backward_aside(loop, signature, key, forward, dt, n_in, hidden, one_step=False):
    """Compile the backward's time loop `loop` for `signature` (and, but for a one-step call, its weight
    gradients' GEMM) in a second process while this one compiles `forward` (background_compile)."""
    background_compile.start_unless_cached(_THIS, loop, signature, key, forward, dt,
                                           () if one_step else lambda: transposed_gemm_jobs(dt, (n_in, hidden)))


# lstm_backward takes weight_factors (tinygrad_seq.recurrent asks for them on a one-step call) and need_dx
WEIGHT_FACTORS = INPUT_GRAD_OPTIONAL = True


def lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved, weight_factors=False, need_dx=True):
    """dy [T,B,H], dh_n/dc_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dc0 [B,H], dw_ih [4H,I], dw_hh [4H,H], db_ih [4H], db_hh [4H].
    weight_factors, on a one-step call (a decoder's step): dw_ih, dw_hh as their factors (dG, x) and
    (dG, h0), dW = dG^T @ factor, multiplied once over a decoder's steps (tinygrad_seq/outer_grad.py).
    need_dx=False: a sequence's dx is not computed (None; weight_grads_cpu.weight_gradients)."""
    plan = _plan(x.shape[0], x.shape[1], x.shape[2], h0.shape[1], x.dtype)
    return _lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved, plan,
                          weight_factors and x.shape[0] == 1, need_dx)


def _lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, plan, backward_follows=False):
    x = np.ascontiguousarray(x)
    seq_len, batch, n_in = x.shape
    hidden = h0.shape[1]
    dt = x.dtype
    lengths = lengths_array(lengths, seq_len, batch)
    # outputs past a length stay zero; no memset when nothing is padded
    y = (np.zeros if (lengths < seq_len).any() else np.empty)((seq_len, batch, hidden), dt)
    h_n = np.empty((batch, hidden), dt)
    c_n = np.empty((batch, hidden), dt)
    h_prev = np.empty((seq_len, batch, hidden), dt)
    if seq_len == 0:  # no step runs: the state passes through
        h_n[:] = h0
        c_n[:] = c0
    c_prev = np.empty((seq_len, batch, hidden), dt)
    tanh_c = np.empty((seq_len, batch, hidden), dt)
    act = gate_buffer((seq_len, batch, 4 * hidden), dt)
    bias = (b_ih + b_hh).astype(dt)
    h0 = np.ascontiguousarray(h0, dt)
    c0 = np.ascontiguousarray(c0, dt)
    units_plan = plan["split"] == "units"
    with kernel_threads(seq_len, batch, _macs(seq_len, batch, n_in, hidden), _ONE_STEP[units_plan], plan) as n_chunks:
        units = units_plan and n_chunks > 1 and hidden % n_chunks == 0
        announce("the LSTM CPU forward kernels", dt,
                 ((_forward_units, project_gate_units_nogil) if seq_len == 1 else (_forward_units,)) if units else (_forward,))
        w_ih = np.ascontiguousarray(w_ih, dt)
        # a one-step call's chunks project their own units (each reads its share of W_ih)
        projected_by_units = units and seq_len == 1
        if not projected_by_units:
            input_projection(x, w_ih, act, n_chunks)
        blas_rows = plan["blas_rows"]
        if units:
            hc = hidden // n_chunks
            w_units = np.ascontiguousarray(w_hh, dt).reshape(4, n_chunks, hc, hidden)
            panels = units_forward_panels(w_units, seq_len, batch, plan, dt)
            flags = barrier_flags(n_chunks)
            if backward_follows and projected_by_units:  # a one-step call's backward: the batch split's loop
                _backward_aside("_backward", _backward_signature(dt, False), (dt.num, False), _forward_units, dt,
                                n_in, hidden, one_step=True)
            elif backward_follows:
                panels_b = uses_panels(seq_len, batch, hc, plan, dt)
                _backward_aside("_backward_units", _backward_units_signature(dt, panels_b), (dt.num, "units", panels_b),
                                _forward_units, dt, n_in, hidden)

            def chunk(c):
                if projected_by_units:
                    project_gate_units(x, w_ih, act, c, hc, 4)
                if panels is not None:
                    pack_unit_rows(w_units, panels, c)
                _forward_units(act, h0, c0, w_units, panels, bias, lengths, bool(reverse), y, h_n, c_n, h_prev, c_prev,
                               tanh_c, blas_rows, c, flags)

            run_chunks(chunk, n_chunks)
            _raise_if_stopped(flags, n_chunks, "LSTM forward")
        else:
            w_hh = np.ascontiguousarray(w_hh, dt)
            args = (act, h0, c0, w_hh, forward_panels(w_hh, seq_len, batch, plan, dt, n_chunks), bias, lengths,
                    bool(reverse), y, h_n, c_n, h_prev, c_prev, tanh_c, blas_rows)
            if backward_follows:  # its time loop compiles aside while the forward's compiles
                panels = uses_panels(seq_len, batch, hidden, plan, dt)
                _backward_aside("_backward", _backward_signature(dt, panels), (dt.num, panels), _forward, dt, n_in,
                                hidden)
            n_rows = max(1, min(n_chunks, batch))
            run_chunks(lambda c: _forward(*args, *chunk_bounds(c, n_rows, batch)), n_rows)
    return y, h_n, c_n, (act, h_prev, c_prev, tanh_c)


def _lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved, plan, weight_factors=False,
                   need_dx=True):
    x = np.ascontiguousarray(x)
    dt = x.dtype
    seq_len, batch, n_in = x.shape
    act, h_prev, c_prev, tanh_c = saved
    hidden = h_prev.shape[2]
    lengths = lengths_array(lengths, seq_len, batch)
    d_gates = gate_buffer(act.shape, dt, padded=bool((lengths < seq_len).any()))
    dh0 = np.array(dh_n, dt)  # carried through the steps in place
    dc0 = np.array(dc_n, dt)
    dy = np.ascontiguousarray(dy, dt)
    units_plan = plan["split"] == "units"
    with kernel_threads(seq_len, batch, _macs(seq_len, batch, n_in, hidden), _ONE_STEP[units_plan], plan) as n_chunks:
        # a one-step call: the pointwise backward on one thread (a step's few rows), then its four
        # products two a thread (weight_grads_cpu.one_step_gradients)
        one_step = units_plan and seq_len == 1 and n_chunks > 1
        units = units_plan and not one_step and n_chunks > 1 and hidden % n_chunks == 0
        # a child compiling the time loop (lstm_forward's backward_follows): its cache, then
        if units:
            background_compile.wait(_THIS, "_backward_units", _backward_units_signature(
                dt, uses_panels(seq_len, batch, hidden // n_chunks, plan, dt)))
        else:
            background_compile.wait(_THIS, "_backward", _backward_signature(
                dt, uses_panels(seq_len, batch, hidden, plan, dt)))
        announce("the LSTM CPU backward kernels", dt, (_backward_units if units else _backward,))
        blas_rows = plan["blas_rows"]
        if units:
            w_hh_t, panels = units_backward_weights(w_hh, n_chunks, seq_len, batch, plan, dt)
            db = np.zeros(4 * hidden, dt)
            flags = barrier_flags(n_chunks)

            def chunk(c):
                if panels is not None:
                    pack_unit_columns(w_hh, panels, c)
                _backward_units(dy, dh0, dc0, w_hh_t, panels, lengths, bool(reverse), act, c_prev, tanh_c, d_gates, db,
                                blas_rows, c, flags)

            run_chunks(chunk, n_chunks)
            _raise_if_stopped(flags, n_chunks, "LSTM backward")
        else:
            w_hh_t, panels = backward_weights(w_hh, seq_len, batch, plan, dt, 1 if one_step else n_chunks)
            args = (dy, dh0, dc0, w_hh_t, panels, lengths, bool(reverse), act, c_prev, tanh_c, d_gates)
            n_rows = 1 if one_step else max(1, min(n_chunks, batch))
            db_chunks = np.zeros((n_rows, 4 * hidden), dt)
            run_chunks(lambda c: _backward(*args, db_chunks[c], blas_rows, *chunk_bounds(c, n_rows, batch)), n_rows)
            db = db_chunks.sum(0)
            if one_step:
                dx, dh_step, dw_ih, dw_hh = one_step_gradients(d_gates[0], x[0], h_prev[0], np.ascontiguousarray(w_ih, dt),
                                                               np.ascontiguousarray(w_hh, dt), n_chunks,
                                                               weights=not weight_factors)
                live = lengths > 0   # rows of length 0 pass dh_n through, as first_step_product
                dh0[live] = dh_step[live]
                if weight_factors:
                    dw_ih, dw_hh = (d_gates[0], x[0]), (d_gates[0], h_prev[0])
                return dx[None], dh0, dc0, dw_ih, dw_hh, db, db.copy()
            first_step_product(d_gates, w_hh, dh0, lengths, reverse, accumulate=False, panels=panels)
            if weight_factors:  # T=1 on one thread: dx now, the weights' products left to the engine
                dx = np.empty(x.shape, dt)
                gemm_into(d_gates[0], np.ascontiguousarray(w_ih, dt), dx[0])
                return dx, dh0, dc0, (d_gates[0], x[0]), (d_gates[0], h_prev[0]), db, db.copy()
        dx, dw_ih, dw_hh = weight_gradients(d_gates, d_gates, x, h_prev, np.ascontiguousarray(w_ih, dt), n_chunks, need_dx)
    return dx, dh0, dc0, dw_ih, dw_hh, db, db.copy()
