"""Persistent recurrent kernels on numba.cuda (Diamos et al. 2016): one cooperative launch per
sequence. Block q owns hidden units [q*U, q*U + U); its threads hold that slice of W_hh in
registers (K values each) for all steps, each thread owning one weight row slice k = s, s + S,
s + 2S, ... (forward) or one weight column slice r = s, s + G*S, ... (backward, where dh needs
W_hh's columns); partial dot products meet in shared memory, the owner of unit j applies the gate
math, and the grid-wide barrier (cuda.cg.this_grid().sync()) publishes the new state to every
block before the next step. Arrays in the saved layout of recurrent_cuda; persistent_plan says
whether a problem fits.
"""
import numpy as np
from numba import cuda, from_dtype, uint64

from .ops_cuda import SIM, ptx_listing
from .recurrent_gates_cuda import CELL_NAMES, GATES, pointwise

PERSISTENT_MAX_BATCH = 32      # above this the per-step GEMM reuses weights across the batch
# batch rows per shared-memory pass of the persistent forward / backward (the backward stages
# G*H gate gradients per row, the forward H states)
PERSISTENT_BATCH_CHUNK = (2, 2) if SIM else (4, 2)
_SHARED_BYTES = 48 * 1024      # static shared memory per block
_cache = {}


# ---------------------------------------------------------------- persistent kernels

def register_cap(threads):
    """Registers per thread that let one block of `threads` threads fit an SM's 65536-register
    file. Registers are handed out per warp of 32 threads, in steps of 8 per thread (sm_80,
    sm_90), so a 504-thread block takes 16 full warps: 65536 // 504 = 130 would round up to 136
    per thread, 69,632 in all, and the block could never be resident (a cooperative launch is
    then refused)."""
    warps = -(-threads // 32)
    return min(255, 65536 // (32 * warps) // 8 * 8)


def persistent_kernels(cell, dtype, U, S, K):
    """(persist_fwd, persist_bwd) for blocks of G*U*S threads owning U hidden units each, every
    thread holding K = ceil(H / S) weights in registers (H <= S*K)."""
    key = ("persist", cell, np.dtype(dtype), U, S, K)
    if key in _cache:
        return _cache[key]
    G = GATES[cell]
    NT = G * U * S
    SB = G * S                  # backward: column slices per unit (U*SB == NT threads)
    BCF, BCB = PERSISTENT_BATCH_CHUNK
    SK, SBK = S * K, SB * K     # padded lengths of a staged state row / gate-gradient row
    HSHF, DSHB = BCF * SK, BCB * SBK  # shared-array shapes must be plain constants
    REDF, REDB = BCF * NT, BCB * NT
    # unsigned index constants: numba adds a negative-index wraparound select to every signed
    # index, which makes LLVM hoist K 64-bit offsets out of the step loop (255 registers, spills);
    # unsigned indices fold into the shared-memory load's immediate offset
    KU, SU, SBU, SKU, SBKU = (np.uint64(v) for v in (K, S, SB, SK, SBK))
    # all NT threads of the one block per SM must fit in the 64K-register file
    jit = dict(fastmath=True) if SIM else dict(fastmath=True, max_registers=register_cap(NT))
    nbt = from_dtype(np.dtype(dtype))
    zero = nbt.cast_python_value(0.0)
    fwd_point, bwd_point = pointwise(cell, dtype)

    @cuda.jit(**jit)
    def persist_fwd(T, rev, w, xp, bhh, hs, cs, act, aux, y, lengths):
        # w [G*H, H] = W_hh. Thread (row q = g*U + u, slice s) keeps w[g*H + j, s + S*i], i < K,
        # with j = blockIdx.x*U + u. Per step and chunk of BCF batch rows the states are staged
        # in hsh (zero-padded to S*K, so the unrolled loop reads shared memory at constant
        # offsets and keeps no addresses live) and the partial sums meet in red [BCF, NT]
        grid = cuda.cg.this_grid()
        H = hs.shape[2]
        B = hs.shape[1]
        tid = cuda.threadIdx.x
        q = tid // S
        s = tid % S
        g = q // U
        j = cuda.blockIdx.x * U + q % U
        wreg = cuda.local.array(K, nbt)
        for i in range(K):
            k = s + S * i
            wreg[i] = w[g * H + j, k] if (j < H and k < H) else zero
        hsh = cuda.shared.array(HSHF, nbt)
        red = cuda.shared.array(REDF, nbt)
        acc = cuda.local.array(G, nbt)
        for step in range(T):
            t = T - 1 - step if rev else step
            sin = t + rev
            sout = t + 1 - rev
            for b0 in range(0, B, BCF):
                nb = min(BCF, B - b0)
                for l in range(tid, nb * SK, NT):
                    bb = l // SK
                    k = l % SK
                    hsh[l] = hs[sin, b0 + bb, k] if k < H else zero
                cuda.syncthreads()
                for bb in range(nb):
                    p = zero
                    hb = uint64(bb) * SKU + uint64(s)
                    for i in range(KU):
                        p += wreg[i] * hsh[hb + SU * i]
                    red[bb * NT + tid] = p
                cuda.syncthreads()
                for idx in range(tid, U * nb, NT):
                    u = idx % U
                    bb = idx // U
                    ju = cuda.blockIdx.x * U + u
                    if ju < H:
                        for gg in range(G):
                            v = zero
                            base = bb * NT + (gg * U + u) * S
                            for ss in range(S):
                                v += red[base + ss]
                            acc[gg] = v
                        b = b0 + bb
                        fwd_point(acc, t, b, ju, H, sin, sout, xp, bhh, hs, cs, act, aux, y,
                                  t < lengths[b])
                cuda.syncthreads()
            grid.sync()

    @cuda.jit(**jit)
    def persist_bwd(T, rev, w, dgi, dgh, dh_dir, dc, dy, act, aux, hs, cs, lengths):
        # w [G*H, H] = W_hh. Thread (unit u, slice s) keeps the column w[s + SB*i, j], i < K,
        # j = blockIdx.x*U + u; the previous step's gate gradients are staged in dsh [BCB, SB*K]
        # (zero-padded), dh of (b, j) = sum over the slices + dh_dir, then the gate gradients
        grid = cuda.cg.this_grid()
        H = dh_dir.shape[1]
        B = dh_dir.shape[0]
        R = G * H
        tid = cuda.threadIdx.x
        u0 = tid // SB
        s = tid % SB
        j = cuda.blockIdx.x * U + u0
        wreg = cuda.local.array(K, nbt)
        for i in range(K):
            r = s + SB * i
            wreg[i] = w[r, j] if (j < H and r < R) else zero
        dsh = cuda.shared.array(DSHB, nbt)
        red = cuda.shared.array(REDB, nbt)
        for step in range(T + 1):
            # steps run t = T-1 .. 0 (t = 0 .. T-1 when rev), then a last pass for dh0
            if step < T:
                t = step if rev else T - 1 - step
            else:
                t = -1
            tp = -1
            if step > 0:
                tp = step - 1 if rev else T - step
            for b0 in range(0, B, BCB):
                nb = min(BCB, B - b0)
                if tp >= 0:
                    for l in range(tid, nb * SBK, NT):
                        bb = l // SBK
                        r = l % SBK
                        dsh[l] = dgh[tp, b0 + bb, r] if r < R else zero
                    cuda.syncthreads()
                    for bb in range(nb):
                        p = zero
                        db = uint64(bb) * SBKU + uint64(s)
                        for i in range(KU):
                            p += wreg[i] * dsh[db + SBU * i]
                        red[bb * NT + tid] = p
                else:
                    for bb in range(nb):
                        red[bb * NT + tid] = zero
                cuda.syncthreads()
                for idx in range(tid, U * nb, NT):
                    u = idx % U
                    bb = idx // U
                    ju = cuda.blockIdx.x * U + u
                    if ju < H:
                        b = b0 + bb
                        v = dh_dir[b, ju]
                        base = bb * NT + u * SB
                        for ss in range(SB):
                            v += red[base + ss]
                        if t < 0:
                            dh_dir[b, ju] = v
                        else:
                            bwd_point(v, t, b, ju, H, t + rev, dgi, dgh, dh_dir, dc, dy, act, aux,
                                      hs, cs, t < lengths[b])
                cuda.syncthreads()
            grid.sync()

    _cache[key] = (persist_fwd, persist_bwd)
    return persist_fwd, persist_bwd


def persistent_plan(cell, hidden, batch, dtype, blocks=None, slices=None):
    """(U, S, K, nblocks) of the persistent kernels, or None when the per-step path should run:
    batch above PERSISTENT_MAX_BATCH, or W_hh not fitting in registers (K above 64 floats /
    32 doubles per thread, blocks above 1024 threads). blocks/slices override the choice (the
    simulator can only run 1 block: its grid barrier is wrong across blocks)."""
    G = GATES[cell]
    if batch > PERSISTENT_MAX_BATCH and blocks is None:
        return None
    if blocks is None:
        blocks = 1 if SIM else cuda.get_current_device().MULTIPROCESSOR_COUNT
    U = -(-hidden // blocks)
    nblocks = -(-hidden // U)
    if slices is None:
        slices = max(1, min(hidden, (64 if SIM else 512) // (G * U)))
    K = -(-hidden // slices)
    NT = G * U * slices
    kmax = 64 if np.dtype(dtype) == np.float32 else 32
    bcf, bcb = PERSISTENT_BATCH_CHUNK
    item = np.dtype(dtype).itemsize
    smem = max(bcf * (slices * K + NT), bcb * (G * slices * K + NT)) * item
    if NT > 1024 or K > kmax or smem > _SHARED_BYTES:
        return None
    return U, slices, K, nblocks


# ---------------------------------------------------------------- PTX listing

def ptx_kernels(cell):
    """[(name, kernel py_func, argument types, threads per block)] of the persistent kernels of one
    cell, both dtypes, at the production configuration (H = 1024 over 128 blocks, LSTM's K = 64
    registers of weights per thread; H = 512 for float64), for tests/test_cuda_ptx.py."""
    def kernels(dt, ty):
        i64, a1, a2, a3 = ty.i64, ty.a1, ty.a2, ty.a3
        hidden = 1024 if dt == np.float32 else 512
        U, S, K, _ = persistent_plan(cell, hidden, 8, dt, blocks=128)
        pf, pb = persistent_kernels(cell, dt, U, S, K)
        tag = f"{ty.name}_U{U}_S{S}_K{K}"
        nt = GATES[cell] * U * S
        return [(f"{CELL_NAMES[cell]}_persist_fwd_{tag}", pf,
                 (i64, i64, a2, a3, a1, a3, a3, a3, a3, a3, ty.idx1), nt),
                (f"{CELL_NAMES[cell]}_persist_bwd_{tag}", pb,
                 (i64, i64, a2, a3, a3, a2, a2, a3, a3, a3, a3, a3, ty.idx1), nt)]
    return ptx_listing(kernels)
