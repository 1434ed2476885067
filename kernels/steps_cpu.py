"""Time-loop plumbing shared by the fused CPU cell kernels (lstm_cpu, gru_cpu, rnn_cpu).

A loop runs batch rows lo..hi-1 (a chunk; one per thread when the batch is split). The state of
step t lives in state_prev[t] [B, H] (what backward reads); the step's recurrent product reads
the chunk's rows through a contiguous copy so that the product kernel sees C-contiguous arrays.
"""
from . import blas_cpu  # before numba: it trims numba's import of scipy

import numpy as np

from .cache_load import njit
from . import panel_cpu, tuning
from .activations_cpu import column_sums_into, copy_into, has_panels, step_product
from .blas_cpu import gemm_into

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")
# helpers called only from @njit code: no Python or C entry point to build (compile time)
_INNER = dict(_JIT, no_cpython_wrapper=True, no_cfunc_wrapper=True)


@njit(inline="always", **_INNER)
def leaving_state(state_n, state_prev, s, t, reverse):
    """Where the state leaving step t (the s-th step run) goes: the next step's state_prev slot,
    or state_n after the last step."""
    if s == state_prev.shape[0] - 1:
        return state_n
    return state_prev[t - 1 if reverse else t + 1]


@njit(inline="always", **_INNER)
def step_state(state0, state_n, state_prev, s, t, reverse, lo, hi):
    """(entering, leaving) for step t, the s-th step run: entering = state_prev[t], its rows
    lo..hi-1 filled from state0 at the first step; leaving as leaving_state says."""
    entering = state_prev[t]
    if s == 0:
        for b in range(lo, hi):
            copy_into(entering[b], state0[b])
    return entering, leaving_state(state_n, state_prev, s, t, reverse)


@njit(inline="always", **_INNER)
def rows_product(src, w, panels, rows, out, lo, hi, blas_rows):
    """out [hi-lo, N] = src[lo:hi] @ w^T (w [N, K], or its panels), through rows [hi-lo, K], a
    contiguous copy of the chunk's rows of src [B, K]; the product routed by blas_rows
    (step_product)."""
    for b in range(lo, hi):
        copy_into(rows[b - lo], src[b])
    step_product(rows, w, panels, out, blas_rows)


@njit(inline="always", **_INNER)
def hidden_grad_step(d_rec, w_hh_t, panels, rows, out, dh, db, lengths, s, t, lo, hi, accumulate, blas_rows):
    """Backward step t (the s-th run) for rows lo..hi-1, once the cell's backward has written
    d_rec[t] [B,G*H], the hidden-side pre-activation gradients: db [G*H] += their column sums,
    and dh[b] = (or += with accumulate) d_rec[t, b] @ W_hh for the rows whose sequence reaches t,
    through rows [hi-lo,G*H] and out [hi-lo,H]; W_hh as w_hh_t [H,G*H] or as panels
    (backward_weights). Without panels the last step run leaves its product (dh0) to
    first_step_product, after the loop (a one-step call has no W_hh^T: dh0 is then BLAS's, on
    W_hh as stored). blas_rows routes the product (step_product)."""
    if s == d_rec.shape[0] - 1 and not has_panels(panels):
        column_sums_into(d_rec[t, lo:hi], db)
        return
    rows_product(d_rec[t], w_hh_t, panels, rows, out, lo, hi, blas_rows)
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


def first_step_product(d_rec, w_hh, dh, lengths, reverse, accumulate, panels=None):
    """The recurrent product of the step a backward runs last (t0 = 0, or T-1 reversed), which
    gives dh0, unless the loops ran on panels (panels not None: they did it themselves): dh [B,H]
    <- d_rec[t0] [B,G*H] @ w_hh [G*H,H] (or += with accumulate) for the rows whose sequence
    reaches t0; the other rows keep dh. The backward loops stop before this
    product so that a one-step call (a decoder step) needs no transposed copy of W_hh: BLAS reads
    W_hh as stored (a [1024,256] float32 transpose cost 0.45 ms, 3x the product at B=32)."""
    if d_rec.shape[0] == 0 or panels is not None:  # T=0: dh0 is dh_n; with panels: done in the loops
        return
    t0 = d_rec.shape[0] - 1 if reverse else 0
    prod = np.empty_like(dh)
    gemm_into(d_rec[t0], np.ascontiguousarray(w_hh, dh.dtype), prod)
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


def uses_panels(seq_len, batch, n_cols, plan, dtype):
    """Whether a time loop's step product runs on packed panels (panel_cpu): a loop of at least
    tuning.PANEL_MIN_STEPS steps (packing reads the weight once, a step's product reads it once),
    the register-blocked route for every chunk's rows (at most batch: step_product takes BLAS
    above plan["blas_rows"]), N a multiple of the panel width."""
    return (seq_len >= tuning.setting("PANEL_MIN_STEPS") and plan["blas_rows"] >= batch
            and panel_cpu.fits_panels(n_cols, dtype))


def forward_panels(w_hh, seq_len, batch, plan, dtype, n_chunks=1):
    """The panels of W_hh^T [H, G*H] for the forward step product h @ W_hh^T, or None; packed
    by n_chunks threads (blas_cpu.packed_rows)."""
    if uses_panels(seq_len, batch, w_hh.shape[0], plan, dtype):
        return blas_cpu.packed_rows(w_hh, dtype, n_chunks)
    return None


def backward_weights(w_hh, seq_len, batch, plan, dtype, n_chunks=1):
    """(w_hh_t, panels) of the backward step product dG @ W_hh: the panels of W_hh [G*H, H] (a
    plain copy, no transpose; packed by n_chunks threads) with an empty w_hh_t, or W_hh^T
    (transposed_w_hh) and None."""
    if uses_panels(seq_len, batch, w_hh.shape[1], plan, dtype):
        return np.empty((0, 0), dtype), blas_cpu.packed_columns(w_hh, dtype, n_chunks)
    return transposed_w_hh(w_hh, seq_len, dtype), None


def transposed_w_hh(w_hh, seq_len, dtype):
    """W_hh^T [H,G*H] contiguous, which the backward loops' step product reads by rows; a
    one-step call runs no loop product (see first_step_product) and gets an empty array."""
    if seq_len < 2:
        return np.empty((0, 0), dtype)
    return transposed(w_hh, dtype)


TRANSPOSE_BAND = 16


def transposed(a, dtype):
    """a.T [C, R] C-contiguous, for a 2-D a [R, C], copied in bands of TRANSPOSE_BAND rows of a:
    within a band the copy reads TRANSPOSE_BAND cache lines per row it writes and reuses them for
    the next, where numpy's whole-array copy misses the cache at every element. Measured (AMD
    EPYC, float32, best of 15): [2048, 512] 1.39 ms against 3.08 for np.ascontiguousarray(a.T),
    [4096, 1024] 7.3 against 29.4 ms (an LSTM's W_hh at H=512 and 1024)."""
    rows, cols = a.shape
    out = np.empty((cols, rows), dtype)
    for lo in range(0, rows, TRANSPOSE_BAND):
        out[:, lo:lo + TRANSPOSE_BAND] = a[lo:lo + TRANSPOSE_BAND].T
    return out


def lengths_array(lengths, seq_len, batch):
    """Per-sequence lengths as a contiguous int64 array [B]; None means every sequence is full."""
    if lengths is None:
        return np.full(batch, seq_len, np.int64)
    return np.ascontiguousarray(lengths, dtype=np.int64)


def units_split_first(batch, n_threads, w_bytes):
    """The default rule of a cell whose time loop can split its hidden units (every thread on its
    own core, H divisible, W_hh at least tuning.UNITS_SPLIT_BYTES): whether the units split comes
    first. It does for fewer rows than threads, where a batch split leaves threads idle (see
    lstm_cpu.units_chunks for the measurements); time_loop_plan calibrates the choice."""
    if n_threads < 2 or w_bytes < tuning.setting("UNITS_SPLIT_BYTES"):
        return False
    return batch < n_threads


# blas_rows of a time-loop plan's step product: "loop" (the register-blocked loop at any row
# count) or "blas" (one BLAS call per step)
_STEP_BLAS_ROWS = {"loop": 1 << 30, "blas": 0}


def time_loop_plan(cell, batch, hidden, dtype, threads, macs, run, units_first=None, blas_route=True, one_step=None):
    """How a cell's time loop runs on ``threads`` threads, as a dict: split "batch" (each thread
    runs the whole sequence for a chunk of batch rows, no barrier per step) or "units" (the hidden
    units split, the chunks meeting at a spin barrier every step; offered when ``units_first`` is not None, first
    when it is True), step_product "loop" or "blas" (the step's product as the register-blocked
    loop or one BLAS call), and blas_rows for the kernels. The default rule comes first: batch
    split unless units_first, the loop up to tuning.STEP_BLAS_ROWS rows a thread. A call of at
    least tuning.CALIBRATE_MIN_MACS multiply-adds calibrates its shape class (tuning.decide):
    ``run(plan, timer) -> seconds`` times a short forward + backward with a plan. blas_route=False:
    the loop has no BLAS route for its step product (the generated cells: an np.dot call site
    costs compile time), only the register-blocked loop is offered. one_step: for a one-step call
    (a decoder's step), (n_in, rule_threads) (one_step_of): such a call is a shape class of its own (its
    units split meets no barrier, and a decision measured on whole sequences of the same batch and
    hidden size does not hold for it: the encoder's batch split made seq2seq's decoder steps run on
    one thread), ``threads`` is the most it may use, and one thread is a candidate too
    ("one_step_threads": "one" or "all"; first when the default rule, the tuning threshold the
    cell's one-step call splits from, gives rule_threads 1). A one-step class on more than one
    thread is calibrated whatever its size: the threshold is one machine's measurement (GRU
    B=16 H=256 ran 1.15x slower split on 2026-12-03 and 1.22x faster on 2026-12-06, AMD EPYC)."""
    worth = macs >= tuning.setting("CALIBRATE_MIN_MACS") or (one_step is not None and threads > 1)
    if worth:
        blas_cpu.gemm_route(dtype)   # the machine's GEMM route first: calibrations run with it
    memo_key = (cell, batch, hidden, np.dtype(dtype).num, threads, units_first, worth, tuning.setting("STEP_BLAS_ROWS"),
                blas_route, one_step, tuning.state())
    plan = _plans.get(memo_key)
    if plan is None:
        plan = _plans[memo_key] = _decide_plan(cell, batch, hidden, dtype, threads, macs, worth, run, units_first,
                                               blas_route, one_step)
    return plan


def one_step_of(seq_len, batch, n_in, macs, one_step_min):
    """time_loop_plan's one_step for a call of seq_len steps: None for a sequence; for one step,
    (n_in, rule_threads: the threads the tuning threshold one_step_min gives it)."""
    return None if seq_len != 1 else (n_in, blas_cpu.kernel_threads.planned(1, batch, macs, one_step_min))


_plans = {}  # a plan per shape class and tuning state: a call's plan costs a dict look-up


def _decide_plan(cell, batch, hidden, dtype, threads, macs, worth, run, units_first, blas_route=True, one_step=None):
    splits = ["batch"]
    if units_first is not None and threads > 1:
        splits = ["units", "batch"] if units_first else ["batch", "units"]
    candidates = []
    for split in splits:
        candidates += [dict(split=split, step_product=p) for p in _products(batch, threads, split, blas_route)]
    shape_class = dict(cell=cell, batch=batch, hidden=hidden, threads=threads, dtype=np.dtype(dtype).name)
    calls = 0   # a sequence: one timed call, no untimed one before it (calibration runs one per candidate)
    if one_step is not None:  # only then: the whole-sequence classes keep their keys (and decisions on disk)
        shape_class.update(steps=1, n_in=one_step[0])
        if threads > 1:
            # one thread's step product is chosen for all the rows (before 2026-12-06 an LSTM step whose
            # hidden size did not divide over the threads ran on one thread a product chosen for half)
            alone = [dict(split="batch", step_product=p, one_step_threads="one")
                     for p in _products(batch, 1, "batch", blas_route)]
            candidates = [dict(c, one_step_threads="all") for c in candidates]
            candidates = alone + candidates if one_step[1] == 1 else candidates + alone
        # a step takes 0.1-10 ms: a timing runs enough calls for ~2^24 multiply-adds, after an
        # untimed one: steps run back to back, the workers awake (a split timed right after one-thread
        # candidates, the other vCPU halted, took 8.8-9.5 ms where it takes 5.8: GRU B=64 H=512)
        calls = max(1, min(16, (1 << 24) // max(macs, 1)))

    def measure(c, timer):
        if not calls:
            return run(_with_rows(c), timer)
        run(_with_rows(c), timer)
        return sum(run(_with_rows(c), timer) for _ in range(calls))
    # compiled_only: a first run times only the candidates it has compiled (tuning.CALIBRATE_COMPILES)
    chosen = tuning.decide("time_loop", shape_class, candidates, measure, worth, compiled_only=True)
    return _with_rows(chosen)


def _products(batch, threads, split, blas_route):
    """The step-product candidates, the default rule's first: the loop up to STEP_BLAS_ROWS rows a thread."""
    if not blas_route:
        return ["loop"]
    rows = batch if split == "units" else -(-batch // threads)  # rows one thread's product takes
    return ["blas", "loop"] if rows > tuning.setting("STEP_BLAS_ROWS") else ["loop", "blas"]


def _with_rows(candidate):
    return dict(candidate, blas_rows=_STEP_BLAS_ROWS[candidate["step_product"]])


def synthetic_case(seq_len, batch, n_in, hidden, gates, dtype):
    """Seeded arrays of a calibration run: x [T,B,I], h0 [B,H], w_ih [G*H,I], w_hh [G*H,H], b
    [G*H], lengths [B] (all full), dy [T,B,H]. The last case is kept (the kernels never write
    their inputs): a calibration's timings follow each other without drawing data in between."""
    key = (seq_len, batch, n_in, hidden, gates, np.dtype(dtype).num)
    if _last_case[0] != key:
        rng = np.random.default_rng(0)
        scale = 1 / np.sqrt(hidden)
        _last_case[:] = key, dict(
            x=rng.standard_normal((seq_len, batch, n_in)).astype(dtype),
            h0=(0.5 * rng.standard_normal((batch, hidden))).astype(dtype),
            w_ih=(scale * rng.standard_normal((gates * hidden, n_in))).astype(dtype),
            w_hh=(scale * rng.standard_normal((gates * hidden, hidden))).astype(dtype),
            b=np.zeros(gates * hidden, dtype), lengths=np.full(batch, seq_len, np.int64),
            dy=rng.standard_normal((seq_len, batch, hidden)).astype(dtype))
    return _last_case[1]


_last_case = [None, None]



def project_gate_units(x, w_ih, act, c, hc, n_gates):
    """act[..., units c*hc..(c+1)*hc-1 of each of the n_gates gates] = x @ their rows of W_ih^T:
    x [T,B,I], w_ih [G*H,I], act [T,B,G*H] (a one-step call's units split: each thread projects
    its own units). One nogil call for the G products: as G numpy matmuls each thread took the
    GIL back between them and the two threads' products ran largely one after the other (LSTMCell
    B=32 H=256, 2 threads: 1010 us a call before, 590 after; AMD EPYC Zen 3, 2026-12-07). Run as
    (W x^T)^T where blas_cpu.swaps says so for this row count (the machine's calibrated choice)."""
    rows = x.shape[0] * x.shape[1]
    x2 = x.reshape(rows, x.shape[2])
    act2 = act.reshape(rows, act.shape[2])
    swapped = blas_cpu.swaps(x2, w_ih[:hc].T)
    tmp = np.empty((hc, rows) if swapped else (rows, hc), act.dtype)
    project_gate_units_nogil(x2, w_ih, act2, c, hc, act.shape[2] // n_gates, swapped, tmp)


@njit(**_JIT)
def project_gate_units_nogil(x2, w_ih, act2, c, hc, hidden, swapped, tmp):
    for g in range(act2.shape[1] // hidden):
        lo = g * hidden + c * hc
        if swapped:   # tmp [hc, rows]
            np.dot(w_ih[lo:lo + hc], x2.T, tmp)
            act2[:, lo:lo + hc] = tmp.T
        else:         # tmp [rows, hc]
            np.dot(x2, w_ih[lo:lo + hc].T, tmp)
            act2[:, lo:lo + hc] = tmp
