"""Per-step recurrent kernels on numba.cuda: each time step is one launch of a tiled GEMM
h @ W_hh^T fused with the cell's gate math (forward), or dh = dG_{t+1} @ W_hh fused with the gate
gradients of step t (backward). Arrays in the saved layout of recurrent_cuda.
"""
import numpy as np
from numba import cuda, from_dtype

from .ops_cuda import SIM, ptx_listing
from .recurrent_gates_cuda import CELL_NAMES, GATES, pointwise

_cache = {}


# ---------------------------------------------------------------- per-step kernels

def step_config(batch):
    """(TJ units, TB batch rows, KT reduction tile) of a per-step block."""
    if SIM:
        return (4, 2, 4)
    tb = 1 if batch <= 1 else 2 if batch <= 2 else 4 if batch <= 4 else 8
    return (32, tb, 32)


def step_kernels(cell, dtype, cfg):
    """(step_fwd, step_bwd) launched once per time step with a (TJ, TB) block."""
    key = ("step", cell, np.dtype(dtype), cfg)
    if key in _cache:
        return _cache[key]
    TJ, TB, KT = cfg
    G = GATES[cell]
    NT = TJ * TB
    nbt = from_dtype(np.dtype(dtype))
    zero = nbt.cast_python_value(0.0)
    GTJ = G * TJ                # shared-array shapes must be plain constants
    fwd_point, bwd_point = pointwise(cell, dtype)

    @cuda.jit(fastmath=True)
    def step_fwd(t, sin, sout, wt, xp, bhh, hs, cs, act, aux, y, lengths):
        # wt [H, G*H] = W_hh^T: acc[g] = sum_k hs[sin, b, k] * wt[k, g*H + j], tiled through
        # shared memory (Wsh: KT x G*TJ weights, Hsh: TB x KT states), then the gate math
        H = hs.shape[2]
        B = hs.shape[1]
        Wsh = cuda.shared.array((KT, GTJ), nbt)
        Hsh = cuda.shared.array((TB, KT), nbt)
        acc = cuda.local.array(G, nbt)
        jl = cuda.threadIdx.x
        bl = cuda.threadIdx.y
        tid = bl * TJ + jl
        j0 = cuda.blockIdx.x * TJ
        b0 = cuda.blockIdx.y * TB
        for g in range(G):
            acc[g] = zero
        for k0 in range(0, H, KT):
            for l in range(tid, KT * G * TJ, NT):
                kk = l // (G * TJ)
                c = l % (G * TJ)
                jg = j0 + c % TJ
                Wsh[kk, c] = wt[k0 + kk, (c // TJ) * H + jg] if (k0 + kk < H and jg < H) else zero
            for l in range(tid, TB * KT, NT):
                bb = l // KT
                kk = l % KT
                Hsh[bb, kk] = hs[sin, b0 + bb, k0 + kk] if (k0 + kk < H and b0 + bb < B) else zero
            cuda.syncthreads()
            for kk in range(KT):
                hv = Hsh[bl, kk]
                for g in range(G):
                    acc[g] += Wsh[kk, g * TJ + jl] * hv
            cuda.syncthreads()
        j = j0 + jl
        b = b0 + bl
        if j < H and b < B:
            fwd_point(acc, t, b, j, H, sin, sout, xp, bhh, hs, cs, act, aux, y, t < lengths[b])

    @cuda.jit(fastmath=True)
    def step_bwd(t, tp, sin, w, dgi, dgh, dh_dir, dc, dy, act, aux, hs, cs, lengths):
        # w [G*H, H] = W_hh: dh_state[b, k] = sum_r dgh[tp, b, r] * w[r, k] + dh_dir[b, k]
        # (tp < 0: first step, nothing through W_hh); t < 0: the final pass, dh_dir <- dh0
        H = dh_dir.shape[1]
        B = dh_dir.shape[0]
        R = G * H
        Wsh = cuda.shared.array((KT, TJ), nbt)
        Dsh = cuda.shared.array((TB, KT), nbt)
        jl = cuda.threadIdx.x
        bl = cuda.threadIdx.y
        tid = bl * TJ + jl
        k0u = cuda.blockIdx.x * TJ
        b0 = cuda.blockIdx.y * TB
        acc = zero
        if tp >= 0:
            for r0 in range(0, R, KT):
                for l in range(tid, KT * TJ, NT):
                    rr = l // TJ
                    kg = k0u + l % TJ
                    Wsh[rr, l % TJ] = w[r0 + rr, kg] if (r0 + rr < R and kg < H) else zero
                for l in range(tid, TB * KT, NT):
                    bb = l // KT
                    rr = l % KT
                    Dsh[bb, rr] = dgh[tp, b0 + bb, r0 + rr] if (r0 + rr < R and b0 + bb < B) else zero
                cuda.syncthreads()
                for rr in range(KT):
                    acc += Wsh[rr, jl] * Dsh[bl, rr]
                cuda.syncthreads()
        k = k0u + jl
        b = b0 + bl
        if k < H and b < B:
            dh_state = acc + dh_dir[b, k]
            if t < 0:
                dh_dir[b, k] = dh_state
            else:
                bwd_point(dh_state, t, b, k, H, sin, dgi, dgh, dh_dir, dc, dy, act, aux, hs, cs,
                          t < lengths[b])

    _cache[key] = (step_fwd, step_bwd)
    return step_fwd, step_bwd


def step_launcher(cell, dtype, hidden, batch, which):
    """Kernel `which` (0: step_fwd, 1: step_bwd) of step_kernels, configured for [batch, hidden]
    states: one (TJ, TB) block per TJ units and TB batch rows; call it once per step."""
    cfg = step_config(batch)
    TJ, TB, _ = cfg
    return step_kernels(cell, dtype, cfg)[which][(-(-hidden // TJ), -(-batch // TB)), (TJ, TB)]


# ---------------------------------------------------------------- PTX listing

def ptx_kernels(cell):
    """[(name, kernel py_func, argument types, threads per block)] of the per-step kernels of one
    cell, both dtypes, at the production tiles for B = 1 and 8 (for tests/test_cuda_ptx.py)."""
    def kernels(dt, ty):
        out = []
        i64, a1, a2, a3 = ty.i64, ty.a1, ty.a2, ty.a3
        for cfg in ((32, 1, 32), (32, 8, 32)):
            fwd, bwd = step_kernels(cell, dt, cfg)
            tag = f"{ty.name}_TJ{cfg[0]}_TB{cfg[1]}_KT{cfg[2]}"
            out.append((f"{CELL_NAMES[cell]}_step_fwd_{tag}", fwd,
                        (i64, i64, i64, a2, a3, a1, a3, a3, a3, a3, a3, ty.idx1), cfg[0] * cfg[1]))
            out.append((f"{CELL_NAMES[cell]}_step_bwd_{tag}", bwd,
                        (i64, i64, i64, a2, a3, a3, a2, a2, a3, a3, a3, a3, a3, ty.idx1), cfg[0] * cfg[1]))
        return out
    return ptx_listing(kernels)
