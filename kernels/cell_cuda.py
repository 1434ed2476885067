"""The time loop of the generated cells on numba.cuda: kernels/cell_cpu.py's names and signatures.

Per step and stage: the stage's recurrent products as GEMMs over all batch rows (gemm_cuda), then
the generated stage kernel (cellgen/emit_cuda.py: one thread per batch row). Backward in reverse:
the stage kernel, then dV_p = dP_p W_p and dW_p += dP_p^T V_p per product. Layouts as on the CPU,
except that rec and dprod hold product p of all rows as one [B, N_p] block (a GEMM's output) and
dpv is per row [B, NPV], summed after the loop. Correct first: one launch per stage and step.
"""
import numpy as np
from numba import cuda

from .gemm_cuda import gemm
from .ops_cuda import SIM, as_device, ascontiguous, fill

_THREADS = 4 if SIM else 128


def _grid(n):
    return (max(1, -(-n // _THREADS)), _THREADS)


@cuda.jit
def _finish_forward(st, y, s, t, lengths):
    # after step t: y[t] = the new h for rows still running; finished rows keep their states
    i = cuda.grid(1)
    B, H = st.shape[2], st.shape[3]
    if i >= B * H:
        return
    b, j = i // H, i % H
    if t < lengths[b]:
        y[t, b, j] = st[0, s + 1, b, j]
    else:
        for k in range(st.shape[0]):
            st[k, s + 1, b, j] = st[k, s, b, j]


@cuda.jit
def _add_dy(dst, dy, t, lengths):
    i = cuda.grid(1)
    B, H = dst.shape[1], dst.shape[2]
    if i < B * H and t < lengths[i // H]:
        dst[0, i // H, i % H] += dy[t, i // H, i % H]


@cuda.jit
def _take_entering(dst, dnx, t, lengths):
    # the gradients entering step t become the ones leaving step t-1 (rows still running)
    i = cuda.grid(1)
    B, H = dst.shape[1], dst.shape[2]
    if i < B * H and t < lengths[i // H]:
        for k in range(dst.shape[0]):
            dst[k, i // H, i % H] = dnx[k, i // H, i % H]


def _offsets(kern, hidden):
    rows = [r for _, _, r in kern.LAYOUT["p_rows"]]
    return np.concatenate([[0], np.cumsum(rows)]).astype(np.int64) * hidden


def _block(flat, batch, lo, hi):
    return flat[batch * lo:batch * hi].reshape(batch, hi - lo)


def _source(st, vin, src, s):
    return st[src, s] if src >= 0 else vin[-1 - src, s]


def cell_forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse, backward_follows=False):
    """See kernels/cell_cpu.py. saved = (xp, st, sv, vin, ext, lengths on the device).
    backward_follows is accepted for the CPU driver's signature (nothing compiles aside here)."""
    L = kern.LAYOUT
    x = ascontiguous(as_device(x))
    seq_len, batch, n_in = x.shape
    n_states, hidden = len(states0), states0[0].shape[1]
    dt = x.dtype
    off = _offsets(kern, hidden)
    lens = cuda.to_device(np.ascontiguousarray(lengths, np.int64))
    xp = gemm(x.reshape(seq_len * batch, n_in), w_ih, trans_b=True).reshape(seq_len, batch, L["wx"] * hidden)
    st = cuda.device_array((n_states, seq_len + 1, batch, hidden), dt)
    for k in range(n_states):
        st[k, 0].copy_to_device(states0[k])
    sv = cuda.device_array((seq_len, batch, L["sv"][0] * hidden + L["sv"][1]), dt)
    tmp = cuda.device_array((batch, max(L["tmp"] * hidden, 1)), dt)
    vin = cuda.device_array((L["vin"], seq_len, batch, hidden), dt)
    if L["vin"]:
        fill(vin, 0)
    y = cuda.device_array((seq_len, batch, hidden), dt)
    fill(y, 0)
    ext = ext if ext is not None else cuda.device_array((seq_len, batch, 0), dt)
    rec = cuda.device_array(max(batch * int(off[-1]), 1), dt)
    for s in range(seq_len):
        t = seq_len - 1 - s if reverse else s
        for stage in range(L["n_stages"]):
            for p, src in enumerate(L["p_src"]):
                if L["p_stage"][p] == stage:
                    gemm(_source(st, vin, src, s), wcat[off[p]:off[p + 1]], out=_block(rec, batch, off[p], off[p + 1]),
                         trans_b=True)
            kern.forward_stage[_grid(batch)](stage, s, t, batch, xp, st, pv, ext, sv, tmp, vin, rec, lens)
        _finish_forward[_grid(batch * hidden)](st, y, s, t, lens)
    states_n = cuda.device_array((n_states, batch, hidden), dt)
    _copy_states(states_n, st[:, seq_len])
    return y, states_n, (xp, st, sv, vin, ext, lens)


def _copy_states(dst, src):
    for k in range(dst.shape[0]):
        dst[k].copy_to_device(src[k])


def cell_backward(kern, dy, dstates_n, x, w_ih, wcat, pv, lengths, reverse, saved):
    """See kernels/cell_cpu.py."""
    L = kern.LAYOUT
    xp, st, sv, vin, ext, lens = saved
    x = ascontiguous(as_device(x))
    seq_len, batch, n_in = x.shape
    n_states, _, _, hidden = st.shape
    dt = x.dtype
    off = _offsets(kern, hidden)
    dst = cuda.device_array((n_states, batch, hidden), dt)
    _copy_states(dst, dstates_n)
    dnx = cuda.device_array_like(dst)
    dxp = cuda.device_array(xp.shape, dt)
    fill(dxp, 0)
    dprod = cuda.device_array((seq_len, max(batch * int(off[-1]), 1)), dt)
    fill(dprod, 0)
    dvin = cuda.device_array((max(len(L["p_src"]), 1), batch, hidden), dt)
    dpv = cuda.device_array((batch, max(pv.shape[0], 1)), dt)
    fill(dpv, 0)
    adj = cuda.device_array((batch, max(L["adj"][0] * hidden + L["adj"][1], 1)), dt)
    dwcat = cuda.device_array((int(off[-1]), hidden), dt)
    fill(dwcat, 0)
    dy = ascontiguous(as_device(dy))
    for s in range(seq_len - 1, -1, -1):
        t = seq_len - 1 - s if reverse else s
        _add_dy[_grid(batch * hidden)](dst, dy, t, lens)
        for stage in range(L["n_stages"] - 1, -1, -1):
            kern.backward_stage[_grid(batch)](stage, s, t, batch, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod,
                                              dvin, adj, lens)
            for p, src in enumerate(L["p_src"]):
                if L["p_stage"][p] == stage:
                    d_p = _block(dprod[s], batch, off[p], off[p + 1])
                    gemm(d_p, wcat[off[p]:off[p + 1]], out=dvin[p])
                    gemm(d_p, _source(st, vin, src, s), out=dwcat[off[p]:off[p + 1]], trans_a=True, accumulate=True)
        _take_entering[_grid(batch * hidden)](dst, dnx, t, lens)
    rows = seq_len * batch
    dxp2 = dxp.reshape(rows, dxp.shape[2])
    dx = gemm(dxp2, w_ih).reshape(seq_len, batch, n_in)
    dw_ih = gemm(dxp2, x.reshape(rows, n_in), trans_a=True)
    ones = cuda.to_device(np.ones((1, batch), dt))
    dpv_sum = gemm(ones, dpv).reshape(dpv.shape[1])
    return dx, dst, dw_ih, dwcat, dpv_sum[:pv.shape[0]]


def stage_signatures(dtype):
    """Argument types of a generated cell's forward_stage and backward_stage kernels for dtype:
    (forward, backward), for compile_ptx (tests/test_cell_cuda.py)."""
    from numba import from_dtype, types
    f = from_dtype(np.dtype(dtype))
    a = [None] + [types.Array(f, n, "C") for n in range(1, 5)]
    i64, idx = types.int64, types.Array(types.int64, 1, "C")
    forward = (i64, i64, i64, i64, a[3], a[4], a[1], a[3], a[3], a[2], a[4], a[1], idx)
    backward = (i64, i64, i64, i64, a[3], a[4], a[1], a[3], a[3], a[4], a[3], a[3], a[3], a[2], a[2], a[3], a[2], idx)
    return forward, backward


def ptx_kernels():
    """The time loop's own kernels (the generated stage kernels are compiled per cell by
    tests/test_cell_cuda.py)."""
    from .ops_cuda import ptx_listing

    def kernels(dt, ty):
        from numba import types
        a4 = types.Array(ty.f, 4, "C")
        return [(f"cell_finish_forward_{ty.name}", _finish_forward, (a4, ty.a3, ty.i64, ty.i64, ty.idx1)),
                (f"cell_add_dy_{ty.name}", _add_dy, (ty.a3, ty.a3, ty.i64, ty.idx1)),
                (f"cell_take_entering_{ty.name}", _take_entering, (ty.a3, ty.a3, ty.i64, ty.idx1))]
    return ptx_listing(kernels)
