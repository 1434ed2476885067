"""The shared time loop of the generated cells, as a template: cellgen copies this file's text into
each cell's generated module and writes the cell's pointwise code where the loops call
forward_stage / backward_stage (cellgen/emit.py), so that each cell's loop is compiled and cached
on disk with its pointwise code (Numba cannot cache a jitted function specialised on another
jitted function passed as an argument: its cache index misses in every new process).
Nothing here is compiled where it is defined; kernels/cell_cpu.py calls the copies on
its threads (blas_cpu.run_chunks: nogil kernels on Python threads, no Numba parallel region, whose
wrapper would compile the whole loop a second time). Rows are copied with copy_into: an
array-to-array assignment compiles numpy's shape-mismatch error path, about 0.8 s a site.

Two splits over threads, as the hand-written LSTM (kernels/lstm_cpu.py):
- batch rows (_forward_rows, _backward_rows): each thread runs the whole sequence for its rows;
  rows never meet inside the loop. Per step, per stage: the stage's recurrent products (the
  chunk's rows x W_p^T, activations_cpu.loop_product), then the generated pointwise code;
  backward the same in reverse, with dV_p = dP_p W_p after each stage. Where the call packed the
  weights into panels (kernels/panel_cpu.py: H a multiple of the panel width) the products run
  on them: pan [sum N_p / P, H, P] forward (product p's panels from p_off[p] / P), and backward
  one flat array holding each product's [H / P, N_p, P] panels of W_p from H * p_off[p], with wt
  None; otherwise pan is None (and backward wt holds each W_p^T). A loop is compiled for one of
  the two (the type of pan), so it holds only the product it runs.
- hidden units (_forward_units, _backward_units; cells whose step is unit by unit): each thread
  runs units jlo..jhi-1 of every gate block, for every row, and reads only those rows of each W_p.
  A product needs the whole vector it multiplies, so the threads meet at a spin barrier
  (kernels/spin_cpu.py) before each stage's products, forward, and after each stage's pointwise
  backward, before dV_p. For one batch row, or a W_p too big for one core's cache.
"""
import numpy as np

from .cache_load import njit
from tinygrad_seq.kernels.activations_cpu import block_of, copy_into, loop_product, slice_of
from tinygrad_seq.kernels.compile_options import GeneratedLoopCompiler
from tinygrad_seq.kernels.panel_cpu import PANEL_BYTES
from tinygrad_seq.kernels.spin_cpu import arrive_and_wait

_JIT = dict(cache=True, fastmath=True, error_model="numpy", nogil=True, pipeline_class=GeneratedLoopCompiler)
# defined by the generated module this text is appended to
forward_stage = backward_stage = STATE_DVIN = STATE_DVIN_ONLY = None

# ---- loops (cellgen copies from here on)
@njit(inline="always", **_JIT)
def _state_gradient(out, dnx_row, dvin, k, b, jlo, jhi):
    # units jlo..jhi-1 of state k's gradient leaving step s for row b: dnx (the generated code's
    # part), plus dV_p where the state feeds product p (STATE_DVIN), or dV_p alone. The loops
    # run from 0 over slices: a loop from jlo keeps a negative-index check and stays scalar
    n = jhi - jlo
    o = out[jlo:jhi]
    d = dnx_row[jlo:jhi]
    p = STATE_DVIN[k]
    if p < 0:
        for j in range(n):
            o[j] = d[j]
        return
    v = dvin[p, b, jlo:jhi]
    if STATE_DVIN_ONLY[k]:
        for j in range(n):
            o[j] = v[j]
    else:
        for j in range(n):
            o[j] = d[j] + v[j]


@njit(**_JIT)
def _forward_rows(xp, st, pv, ext, sv, tmp, vin, y, wcat, pan, p_src, p_stage, p_off, n_stages, lengths,
                  reverse, lo, hi):
    seq_len = xp.shape[0]
    hidden = st.shape[3]
    pw = PANEL_BYTES // xp.itemsize
    nr = hi - lo
    rec = np.empty(nr * wcat.shape[0], xp.dtype)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        for stage in range(n_stages):
            for p in range(p_src.shape[0]):
                if p_stage[p] != stage:
                    continue
                src = p_src[p]
                # the chunk's rows of the vector multiplied, [nr, H] and contiguous where they are
                v = st[src, s, lo:hi] if src >= 0 else vin[-1 - src, s, lo:hi]
                out = rec[nr * p_off[p]:nr * p_off[p + 1]].reshape(nr, p_off[p + 1] - p_off[p])
                loop_product(v, wcat[p_off[p]:p_off[p + 1]], slice_of(pan, p_off[p] // pw, p_off[p + 1] // pw), out)
            forward_stage(stage, s, t, lo, hi, 0, hidden, lengths, xp, st, pv, ext, sv, tmp, vin, rec, y)
        for b in range(lo, hi):  # a row past its length keeps its state (its y stays zero)
            if t >= lengths[b]:
                for k in range(st.shape[0]):
                    copy_into(st[k, s + 1, b], st[k, s, b])


@njit(**_JIT)
def _forward_units(xp, st, pv, ext, sv, tmp, vin, y, wcat, pan, p_src, p_stage, p_off, n_stages, lengths,
                   reverse, c, n_chunks, flags):
    # chunk c: units jlo..jhi-1 of every block of H, all rows. rec [B*WR] as in _forward_rows (nr =
    # B); part [B, hc] one gate block's share of a product, copied into rec's columns.
    seq_len, batch = xp.shape[0], xp.shape[1]
    hidden = st.shape[3]
    hc = hidden // n_chunks
    jlo = c * hc
    jhi = jlo + hc
    pw = PANEL_BYTES // xp.itemsize
    rec = np.empty(batch * wcat.shape[0], xp.dtype)
    part = np.empty((batch, hc), xp.dtype)
    phase = 0
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        for stage in range(n_stages):
            first = True
            for p in range(p_src.shape[0]):
                if p_stage[p] != stage:
                    continue
                if first:  # every chunk's share of the vectors this stage multiplies is written
                    phase += 1
                    if not arrive_and_wait(flags, c, n_chunks, phase):
                        return
                    first = False
                src = p_src[p]
                v = st[src, s] if src >= 0 else vin[-1 - src, s]
                n_p = p_off[p + 1] - p_off[p]
                out = rec[batch * p_off[p]:batch * p_off[p + 1]].reshape(batch, n_p)
                for q in range(n_p // hidden):
                    w0 = p_off[p] + q * hidden
                    loop_product(v, wcat[w0 + jlo:w0 + jhi], slice_of(pan, (w0 + jlo) // pw, (w0 + jhi) // pw), part)
                    for b in range(batch):
                        ob = out[b]
                        pb = part[b]
                        for j in range(hc):
                            ob[q * hidden + jlo + j] = pb[j]
            forward_stage(stage, s, t, 0, batch, jlo, jhi, lengths, xp, st, pv, ext, sv, tmp, vin, rec, y)
        for b in range(batch):  # a row past its length keeps its state (its y stays zero)
            if t >= lengths[b]:
                for k in range(st.shape[0]):
                    for j in range(jlo, jhi):
                        st[k, s + 1, b, j] = st[k, s, b, j]


@njit(**_JIT)
def _backward_rows(dy, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj, wt, pan, p_stage, p_off,
                   n_stages, lengths, reverse, lo, hi):
    # dst [S,B,H]: in, the gradients of the final states; out, of the entering states. wt: the
    # products' weights transposed, product p as an [H, N_p] block of the flat array, or (empty)
    # pan: their panels, product p as an [H/P, N_p, P] block (P = PW, the panel width).
    seq_len = xp.shape[0]
    hidden = st.shape[3]
    PW = PANEL_BYTES // xp.itemsize
    for s in range(seq_len - 1, -1, -1):
        t = seq_len - 1 - s if reverse else s
        for b in range(lo, hi):
            if t < lengths[b]:
                for j in range(hidden):
                    dst[0, b, j] += dy[t, b, j]
        for stage in range(n_stages - 1, -1, -1):
            backward_stage(stage, s, t, lo, hi, 0, hidden, lengths, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv,
                           dprod, dvin, adj)
            if stage == 0:
                continue
            for p in range(p_stage.shape[0]):
                if p_stage[p] != stage:
                    continue
                n_p = p_off[p + 1] - p_off[p]
                # the chunk's rows of dP_p, multiplied where they lie (with a copy into a contiguous
                # block first, LSTM T=200 B=64 H=512's backward took 1.00-1.37x the hand-written
                # one's, without 0.92-1.05x; AMD EPYC Zen 3, 512 KiB L2, 32 MiB L3, numpy matmul
                # 160-190 GFLOP/s, load 0.4-1.5, 2026-12-06)
                src = dprod[s, lo:hi, p_off[p]:p_off[p + 1]]
                lo_w, hi_w = hidden * p_off[p], hidden * p_off[p + 1]
                loop_product(src, block_of(wt, lo_w, hi_w, (hidden, n_p)),
                             block_of(pan, lo_w, hi_w, (hidden // PW, n_p, PW)), dvin[p, lo:hi])
        for b in range(lo, hi):
            if t < lengths[b]:
                for k in range(dst.shape[0]):
                    _state_gradient(dst[k, b], dnx[k, b], dvin, k, b, 0, hidden)


@njit(**_JIT)
def _backward_units(dy, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj, wt, pan, p_stage, p_off,
                    n_stages, lengths, reverse, c, n_chunks, flags):
    # chunk c of the units split (see _forward_units): the pointwise backward of its units, then,
    # once every chunk's share of dP_p is written, its units of dV_p = dP_p W_p (rows jlo..jhi-1
    # of W_p^T, an [hc, N_p] block of wt).
    seq_len, batch = xp.shape[0], xp.shape[1]
    hidden = st.shape[3]
    hc = hidden // n_chunks
    jlo = c * hc
    jhi = jlo + hc
    PW = PANEL_BYTES // xp.itemsize
    out = np.empty((batch, hc), xp.dtype)
    phase = 0
    for s in range(seq_len - 1, -1, -1):
        t = seq_len - 1 - s if reverse else s
        for b in range(batch):
            if t < lengths[b]:
                for j in range(jlo, jhi):
                    dst[0, b, j] += dy[t, b, j]
        for stage in range(n_stages - 1, -1, -1):
            backward_stage(stage, s, t, 0, batch, jlo, jhi, lengths, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv,
                           dprod, dvin, adj)
            if stage == 0:
                continue
            first = True
            for p in range(p_stage.shape[0]):
                if p_stage[p] != stage:
                    continue
                if first:  # every chunk's share of this stage's dP is written
                    phase += 1
                    if not arrive_and_wait(flags, c, n_chunks, phase):
                        return
                    first = False
                n_p = p_off[p + 1] - p_off[p]
                src = dprod[s, :, p_off[p]:p_off[p + 1]]
                lo_w, hi_w = hidden * p_off[p], hidden * p_off[p + 1]
                loop_product(src, slice_of(block_of(wt, lo_w, hi_w, (hidden, n_p)), jlo, jhi),
                             slice_of(block_of(pan, lo_w, hi_w, (hidden // PW, n_p, PW)), jlo // PW, jhi // PW), out)
                for b in range(batch):
                    ob = out[b]
                    for j in range(hc):
                        dvin[p, b, jlo + j] = ob[j]
        for b in range(batch):
            if t < lengths[b]:
                for k in range(dst.shape[0]):
                    _state_gradient(dst[k, b], dnx[k, b], dvin, k, b, jlo, jhi)
