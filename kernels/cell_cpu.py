"""The shared CPU time loop of the generated cells (tinygrad_seq/cellgen): any cell, one driver.

Forward hoists x W_ih^T into one GEMM over all T*B rows; each step runs, per stage, the recurrent
products of that stage (rows of the chunk x W_p^T, the step product of activations_cpu) and then
the generated pointwise code per batch row. Backward runs the steps in reverse: per stage the
generated backward per row, then dV_p = dP_p W_p for the products of that stage; after the loop
dx, dW_ih and each product's dW_p are GEMMs over all T*B rows. Threads split the batch rows (one
chunk per thread over the whole sequence; rows never meet inside the loop) or, for a cell whose
step is unit by unit, the hidden units (a range of units per thread, meeting at a spin barrier
around each stage's products; kernels/cell_loop.py). time_loop_plan chooses, as for the
hand-written cells: a default rule, calibrated on this machine for calls big enough.

    kern      the generated module: cell_loop's loops with the cell's code in them, LAYOUT (cellgen/emit.py)
    x         [T, B, I]         input;  states0 the S entering states [B, H] (h first), a
                                sequence or an [S, B, H] array
    w_ih      [WX*H, I]         input weight;  wcat [WR*H, H] the products' weight rows, stacked
    pv        [NPV]             pointwise parameters, flattened
    ext       [T, B, E*H]       extra per-step inputs (zoneout masks); E may be 0
    lengths   [B] int64, reverse bool: as kernels/__init__.py says
    -> y [T, B, H], states_n [S, B, H], saved

saved = (xp, st, sv, vin, ext, plan, padded): the loops' arrays, and the forward's time-loop plan
and whether some sequence is padded, which the backward reuses (the same shape and lengths: no
second plan look-up or pass over lengths, ~10 us of a small call's Python)
"""
from . import blas_cpu  # noqa: F401  (before numba: it trims numba's import of scipy)

import functools

import numpy as np
from numba import types

from . import background_compile, calibration, tuning
from .blas_cpu import (chunk_bounds, cores_for_spinning, gemm_into, gemm_route, input_projection, kernel_threads,
                       packed_columns, packed_rows, run_chunks)
from .compile_notice import announce, c_array
from .numba_threads import num_threads
from .spin_cpu import barrier_error, barrier_flags
from .weight_grads_cpu import transposed_gemm_jobs, weight_gradients
from .panel_cpu import fits_panels, panel_width
from .steps_cpu import one_step_of, time_loop_plan, transposed, units_split_first


@functools.lru_cache(maxsize=256)
def _layout(kern, hidden):
    """(LAYOUT, p_off [P+1] each product's first row in wcat, p_src [P], p_stage [P]) of a
    generated module at hidden size H, once per module and H (the arrays are read only)."""
    L = kern.LAYOUT
    p_off = np.zeros(len(L["p_rows"]) + 1, np.int64)
    for p, (_, _, rows) in enumerate(L["p_rows"]):
        p_off[p + 1] = p_off[p] + rows * hidden
    return (L, p_off, np.asarray(L["p_src"], np.int64).reshape(-1),
            np.asarray(L["p_stage"], np.int64).reshape(-1))


@functools.lru_cache(maxsize=256)
def _product_rows(kern):
    """The products' weight rows in blocks of H (WR: wcat is [WR*H, H])."""
    return sum(rows for _, _, rows in kern.LAYOUT["p_rows"])


def _macs(kern, seq_len, batch, n_in, hidden):
    return seq_len * batch * hidden * (kern.LAYOUT["wx"] * n_in + _product_rows(kern) * hidden)


def _units_ok(kern, hidden, threads):
    return bool(kern.LAYOUT.get("units")) and threads > 1 and hidden % threads == 0 and threads <= cores_for_spinning()


def _panels_ok(seq_len, hidden, chunks, dtype):
    """Whether the loops' products run on packed panels (kernels/panel_cpu.py): every block of
    units a thread multiplies (H, or H / chunks in the units split) a multiple of the panel
    width, and a loop of at least tuning.PANEL_MIN_STEPS steps."""
    return seq_len >= tuning.setting("PANEL_MIN_STEPS") and fits_panels(hidden // chunks, dtype)


def _forward_panels(wcat, seq_len, hidden, chunks, dtype, threads):
    """Panels [sum N_p / P, H, P] of W_p^T for every product (cell_loop's pan), packed by
    `threads` threads (blas_cpu.packed_rows), or None."""
    if _panels_ok(seq_len, hidden, chunks, dtype) and wcat.shape[0]:
        return packed_rows(wcat, dtype, threads)
    return None


def _backward_panels_ok(hidden, chunks, dtype):
    """Whether the backward loops' products run on panels: whenever the blocks of units fit them,
    at any length (the forward's PANEL_MIN_STEPS does not apply: the backward's other layout,
    W^T, is a transposed copy, which costs 3-6x the panels' plain copy: [4H, H] at H=512 646
    against 101 us, H=256 164 against 56; a one-step call's backward took 1.5-1.8x the LSTM's
    at B=1; AMD EPYC, one thread, 2026-12-03)."""
    return fits_panels(hidden // chunks, dtype)


def _backward_weights(wcat, p_off, hidden, chunks, dtype, threads):
    """(wt, pan) for the backward loops, flat: each product's W_p^T [H, N_p] (a banded
    transpose) and pan None, or wt None and each product's panels [H / P, N_p, P] of W_p (a plain
    copy, by `threads` threads, into its place in pan); product p's block starts at H * p_off[p]
    either way."""
    blocks = [wcat[p_off[p]:p_off[p + 1]] for p in range(len(p_off) - 1)]
    if blocks and _backward_panels_ok(hidden, chunks, dtype):
        pan = np.empty(wcat.shape[0] * hidden, dtype)
        width = panel_width(dtype)
        for w, lo, hi in zip(blocks, p_off[:-1], p_off[1:]):
            out = pan[lo * hidden:hi * hidden].reshape(hidden // width, hi - lo, width)
            packed_columns(w, dtype, threads, out)
        return None, pan
    pieces = [transposed(w, dtype).reshape(-1) for w in blocks]
    wt = pieces[0] if len(pieces) == 1 else np.concatenate(pieces) if pieces else np.empty(0, dtype)
    return wt, None


def _plan(kern, seq_len, batch, n_in, hidden, dtype):
    """The time loop's plan (steps_cpu.time_loop_plan) for a call of this shape: split "batch" or
    "units", and how the step product runs. Calibration times a short forward + backward of the
    cell on seeded data."""
    macs = _macs(kern, seq_len, batch, n_in, hidden)
    threads = kernel_threads.planned(seq_len, batch, macs, None)   # a one-step call's count: calibrated
    L = kern.LAYOUT
    w_bytes = _product_rows(kern) * hidden * hidden * np.dtype(dtype).itemsize
    units_first = units_split_first(batch, threads, w_bytes) if _units_ok(kern, hidden, threads) else None

    case = []   # drawn once: a calibration's timings follow each other with no drawing in between

    def run(plan, timer):
        if not case:
            steps = tuning.calibration_steps(seq_len, _macs(kern, 1, batch, n_in, hidden))
            rng = np.random.default_rng(0)
            scale = 1 / np.sqrt(hidden)
            case.extend((rng.standard_normal((steps, batch, n_in)).astype(dtype),
                         (0.5 * rng.standard_normal((L["states"], batch, hidden))).astype(dtype),
                         (scale * rng.standard_normal((L["wx"] * hidden, n_in))).astype(dtype),
                         (scale * rng.standard_normal((_product_rows(kern) * hidden, hidden))).astype(dtype),
                         (0.1 * rng.standard_normal(L["pv"] * hidden)).astype(dtype),
                         np.ones((steps, batch, L["ext"] * hidden), dtype), np.full(batch, steps, np.int64),
                         rng.standard_normal((steps, batch, hidden)).astype(dtype)))
        x, states0, w_ih, wcat, pv, ext, lengths, dy = case

        def call():
            # backward_follows: the first (untimed) run compiles the backward aside, as the call would
            y, states_n, saved = _forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, False, plan, True)
            _backward(kern, dy, np.zeros_like(states0), x, w_ih, wcat, pv, lengths, False, saved, plan)

        return calibration.timed(call, timer)

    cell = kern.__name__.rsplit(".", 1)[-1]
    return time_loop_plan(cell, batch, hidden, dtype, threads, macs, run, units_first, blas_route=False,
                          one_step=one_step_of(seq_len, batch, n_in, macs, "ONE_STEP_PARALLEL_MIN_MACS"))


def units_split_below_threads(cell, kernel_of, seq_len, batch, n_in, hidden, dtype):
    """Whether a call of this shape with fewer batch rows than the kernels' threads runs the
    generated kernel of `cell` (a name) with its hidden units split (its plan: the default rule
    or this machine's calibration). kernel_of() gives the kernel (or None), asked only for such a
    call. The hand-written GRU and RNN kernels split only the batch rows, so one thread runs their
    loop there; nn's layers then take the generated kernel of the same cell. Remembered per shape,
    thread count, cores to spin on, parallel threshold and tuning state (what the plan depends
    on; the plan costs ~10 us to look up, a small call's 5%)."""
    threads = num_threads()
    if seq_len < 2 or batch >= threads:
        return False
    key = (cell, seq_len, batch, n_in, hidden, np.dtype(dtype).num, threads, cores_for_spinning(),
           tuning.setting("PARALLEL_MIN_MACS"), tuning.state())
    split = _units_below_threads.get(key)
    if split is None:
        kern = kernel_of()
        split = kern is not None and _units_planned(kern, seq_len, batch, n_in, hidden, dtype)
        if not calibration.calibrating():
            _units_below_threads[key] = split
    return split


_units_below_threads = {}


def _units_planned(kern, seq_len, batch, n_in, hidden, dtype):
    threads = kernel_threads.planned(seq_len, batch, _macs(kern, seq_len, batch, n_in, hidden))
    return (batch < threads and _units_ok(kern, hidden, threads)
            and _plan(kern, seq_len, batch, n_in, hidden, dtype)["split"] == "units")


def cell_forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse, backward_follows=False):
    """See the module docstring. saved = (xp, st, sv, vin, ext, plan, padded). backward_follows: a backward will
    run (autograd records the call); a loop it needs that is not compiled yet then compiles in a
    second process while this one compiles the forward (kernels/background_compile.py)."""
    plan = _plan(kern, x.shape[0], x.shape[1], x.shape[2], states0[0].shape[1], x.dtype)
    return _forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse, plan, backward_follows)


# cell_backward takes need_dx (tinygrad_seq.recurrent passes it when the input needs no gradient)
INPUT_GRAD_OPTIONAL = True


def cell_backward(kern, dy, dstates_n, x, w_ih, wcat, pv, lengths, reverse, saved, need_dx=True):
    """dy [T,B,H], dstates_n the S leaving states' gradients [B,H] (as states0), the forward's
    inputs and saved -> dx [T,B,I], dstates0 [S,B,H], dw_ih, dwcat (as wcat), dpv [NPV].
    need_dx=False: dx is not computed (None)."""
    return _backward(kern, dy, dstates_n, x, w_ih, wcat, pv, lengths, reverse, saved, saved[5], need_dx)


def _raise_if_stopped(flags, n_chunks, what):
    error = barrier_error(flags, n_chunks, what)
    if error is not None:
        raise error


_announced = set()


def _announce(kern, loop, dtype):
    """compile_notice.announce for a generated loop ("the fused peephole_lstm CPU backward loop"),
    once per loop and dtype: the check costs a few microseconds, a small call's whole loop 0.2 ms."""
    key = (kern.__name__, loop, dtype)
    if key in _announced:
        return
    _announced.add(key)
    cell = kern.__name__.rsplit(".", 1)[-1].removeprefix("cell_").rsplit("_", 1)[0]
    announce(f"the fused {cell} CPU {loop.split('_')[1]} loop", dtype, (getattr(kern, loop),))


@functools.lru_cache(maxsize=None)
def _backward_signature(dtype, units, panels):
    """The Numba types _backward passes its loop (_backward_units when units, else _backward_rows):
    wt an array and pan None, or wt None and pan an array (panels). tests/test_background_compile.py
    checks this against the signature the backward compiles."""
    def a(nd):
        return c_array(dtype, nd)
    i64 = c_array(np.int64, 1)
    sig = (a(3), a(3), a(4), a(1), a(3), a(3), a(4), a(3), a(3), a(3), a(1), a(3), a(3), a(2),
           types.none if panels else a(1), a(1) if panels else types.none, i64, i64, types.int64, i64, types.boolean,
           types.int64, types.int64)
    return sig + (i64,) if units else sig


def _backward_aside(kern, dtype, units, panels, n_in, hidden):
    """Start compiling the backward loop this call's backward will run (and its weight gradients'
    GEMM) in a second process while this one compiles the forward loop
    (background_compile.start_unless_cached)."""
    dtype = np.dtype(dtype)
    background_compile.start_unless_cached(kern, "_backward_units" if units else "_backward_rows",
                                           _backward_signature(dtype, units, panels), (dtype.num, units, panels),
                                           getattr(kern, "_forward_units" if units else "_forward_rows"), dtype,
                                           lambda: transposed_gemm_jobs(dtype, (n_in, hidden)))


def _forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse, plan, backward_follows=False):
    x = np.ascontiguousarray(x)
    seq_len, batch, _ = x.shape
    n_states, hidden = len(states0), states0[0].shape[1]
    dt = x.dtype
    L, p_off, p_src, p_stage = _layout(kern, hidden)
    lengths = np.ascontiguousarray(lengths, np.int64)
    xp = np.empty((seq_len, batch, L["wx"] * hidden), dt)
    st = np.empty((n_states, seq_len + 1, batch, hidden), dt)
    for k in range(n_states):
        st[k, 0] = states0[k]
    sv = np.empty((seq_len, batch, L["sv"][0] * hidden + L["sv"][1]), dt)
    tmp = np.empty((batch, L["tmp"] * hidden), dt)
    padded = bool((lengths < seq_len).any())
    # rows past a length are never written: zeros keep garbage (NaN) out of dW = dP^T vin
    vin = (np.zeros if padded else np.empty)((L["vin"], seq_len, batch, hidden), dt)
    y = (np.zeros if padded else np.empty)((seq_len, batch, hidden), dt)
    ext = np.ascontiguousarray(ext, dt) if ext is not None else np.empty((seq_len, batch, 0), dt)
    wcat = np.ascontiguousarray(wcat, dt)
    pv = np.ascontiguousarray(pv, dt)
    macs = _macs(kern, seq_len, batch, x.shape[2], hidden)
    with kernel_threads(seq_len, batch, macs, plan=plan) as n_chunks:
        input_projection(x, np.ascontiguousarray(w_ih, dt), xp, n_chunks)
        units = plan["split"] == "units" and _units_ok(kern, hidden, n_chunks)
        pan = _forward_panels(wcat, seq_len, hidden, n_chunks if units else 1, dt, n_chunks)
        args = (xp, st, pv, ext, sv, tmp, vin, y, wcat, pan, p_src, p_stage, p_off,
                L["n_stages"], lengths, bool(reverse))
        _announce(kern, "_forward_units" if units else "_forward_rows", dt)
        if backward_follows:
            # the panels _backward_weights will pack or not
            panels = len(p_off) > 1 and _backward_panels_ok(hidden, n_chunks if units else 1, dt)
            _backward_aside(kern, dt, units, panels, x.shape[2], hidden)
        if units:
            flags = barrier_flags(n_chunks)
            run_chunks(lambda c: kern._forward_units(*args, c, n_chunks, flags), n_chunks)
            _raise_if_stopped(flags, n_chunks, f"{kern.__name__} forward")
        else:
            n = min(n_chunks, batch)
            run_chunks(lambda c: kern._forward_rows(*args, *chunk_bounds(c, n, batch)), n)
    # a copy: with one state st[:, seq_len] is contiguous, and st is saved for the backward
    return y, st[:, seq_len].copy(), (xp, st, sv, vin, ext, plan, padded)


def _backward(kern, dy, dstates_n, x, w_ih, wcat, pv, lengths, reverse, saved, plan, need_dx=True):
    x = np.ascontiguousarray(x)
    xp, st, sv, vin, ext, _, padded = saved
    seq_len, batch, n_in = x.shape
    n_states, _, _, hidden = st.shape
    dt = x.dtype
    L, p_off, _, p_stage = _layout(kern, hidden)
    lengths = np.ascontiguousarray(lengths, np.int64)
    wcat = np.ascontiguousarray(wcat, dt)
    dst = np.array(dstates_n, dt)
    dnx = np.empty_like(dst)
    # the generated backward assigns every element of a row that reaches step t (emit._FirstWrites);
    # rows past a length stay zero (padded: the forward's finding), which dW = dP^T x needs
    dprod = (np.zeros if padded else np.empty)((seq_len, batch, wcat.shape[0]), dt)
    # the input projection's gradient is the product's (an LSTM's dG): the generated code writes
    # only dprod, which stands for both (emit.Plan._shared_gradient)
    shared = L.get("dxp_is_dprod", -1) >= 0
    dxp = dprod if shared else (np.zeros if padded else np.empty)(xp.shape, dt)
    dvin = np.zeros((max(len(p_stage), 1), batch, hidden), dt)
    adj = np.empty((batch, L["adj"][0] * hidden + L["adj"][1]), dt)
    dy = np.ascontiguousarray(dy, dt)
    macs = _macs(kern, seq_len, batch, n_in, hidden)
    with kernel_threads(seq_len, batch, macs, plan=plan) as n_chunks:
        units = plan["split"] == "units" and _units_ok(kern, hidden, n_chunks)
        n = n_chunks if units else min(n_chunks, batch)
        dpv_chunks = np.zeros((max(n, 1), pv.shape[0]), dt)
        wt, pan = _backward_weights(wcat, p_off, hidden, n if units else 1, dt, n_chunks)
        args = (dy, xp, st, np.ascontiguousarray(pv, dt), ext, sv, vin, dst, dnx, dxp)
        rest = (dprod, dvin, adj, wt, pan, p_stage, p_off, L["n_stages"], lengths, bool(reverse))
        loop = "_backward_units" if units else "_backward_rows"
        background_compile.wait(kern, loop, _backward_signature(np.dtype(dt), units, pan is not None))
        _announce(kern, loop, dt)
        if units:
            flags = barrier_flags(n)
            run_chunks(lambda c: kern._backward_units(*args, dpv_chunks[c], *rest, c, n, flags), n)
            _raise_if_stopped(flags, n, f"{kern.__name__} backward")
        else:
            run_chunks(lambda c: kern._backward_rows(*args, dpv_chunks[c], *rest, *chunk_bounds(c, n, batch)), n)
        src = L["p_src"]
        # dprod (and st, vin) run in step order s; dxp in time order t. When dprod stands for dxp
        # on a reversed direction, x is taken in step order and dx put back in time order.
        x_in = np.ascontiguousarray(x[::-1]) if shared and reverse else x
        if len(src) == 1 and src[0] >= 0 and wcat.shape[0] == dxp.shape[2]:
            # one product, on a state, as wide as the input projection (LSTM-like): dx, dW_ih and
            # dW_hh as the hand-written kernels run them (split over the threads)
            dx, dw_ih, dwcat = weight_gradients(dxp, dprod, x_in, st[src[0], :seq_len],
                                                np.ascontiguousarray(w_ih, dt), n_chunks, need_dx)
        else:
            rows = seq_len * batch
            dxp2 = dxp.reshape(rows, -1)
            route = gemm_route(dt)
            dx = None
            if need_dx:
                dx = np.empty((rows, n_in), dt)
                gemm_into(dxp2, np.ascontiguousarray(w_ih, dt), dx, route)
                dx = dx.reshape(seq_len, batch, n_in)
            dw_ih = np.empty((dxp2.shape[1], n_in), dt)
            gemm_into(dxp2.T, x_in.reshape(rows, n_in), dw_ih, route)
            dwcat = np.empty_like(wcat)
            for p in range(len(p_off) - 1):
                v = st[src[p], :seq_len] if src[p] >= 0 else vin[-1 - src[p]]
                dp = np.ascontiguousarray(dprod[:, :, p_off[p]:p_off[p + 1]]).reshape(rows, -1)
                gemm_into(dp.T, v.reshape(rows, hidden), dwcat[p_off[p]:p_off[p + 1]], route)
    if x_in is not x and dx is not None:
        dx = np.ascontiguousarray(dx[::-1])
    dpv = dpv_chunks[0] if dpv_chunks.shape[0] == 1 else dpv_chunks.sum(0)
    for off, width, src in L.get("pv_copies", ()):  # biases whose gradient another one summed
        dpv[off * hidden:(off + width) * hidden] = dpv[src * hidden:(src + width) * hidden]
    return dx, dst, dw_ih, dwcat, dpv
