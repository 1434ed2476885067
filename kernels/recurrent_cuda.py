"""Fused recurrent kernels on numba.cuda, shared by rnn_cuda, lstm_cuda and gru_cuda.

Two paths compute the same thing and save the same layout, so either backward follows either
forward:

- per-step: x @ W_ih^T + b_ih is one GEMM over all T*B rows (ops_cuda.gemm); then each step is
  one launch of a tiled GEMM h @ W_hh^T fused with the cell's gate math. Backward launches one
  kernel per step computing dh = dG_{t+1} @ W_hh fused with the gate gradients of step t, then
  dx, dW_ih, dW_hh and the biases are single GEMMs / reductions over all T*B rows.
- persistent (Diamos et al. 2016): one cooperative launch per sequence. Block q owns hidden units
  [q*U, q*U + U); its threads hold that slice of W_hh in registers (K values each) for all steps,
  each thread owning one weight row slice k = s, s + S, s + 2S, ... (forward) or one weight
  column slice r = s, s + G*S, ... (backward, where dh needs W_hh's columns); partial dot products
  meet in shared memory, the owner of unit j applies the gate math, and the grid-wide barrier
  (cuda.cg.this_grid().sync()) publishes the new state to every block before the next step.

Layout (private to this module; G gates, PyTorch gate order):
    xp   [T, B, G*H]  x @ W_ih^T + b_ih
    hs   [T+1, B, H]  states: step t reads hs[t + rev] and writes hs[t + 1 - rev], so the states
                      entering steps 0..T-1 are the contiguous rows hs[rev : rev + T]
    cs   [T+1, B, H]  LSTM cells, same indexing (a [1, 1, 1] placeholder otherwise)
    act  [T, B, G*H]  gate activations (LSTM i,f,g,o; GRU r,z,n; RNN the new state)
    aux  [T, B, H]    LSTM tanh(c_t); GRU W_hn h + b_hn; RNN placeholder [1, 1, 1]
A step t >= lengths[b] copies the state through and writes y = 0, act/aux are left unwritten
there; its backward writes dG = 0 and passes dh (and dc) through.
"""
import math

import numpy as np
from numba import config, cuda, from_dtype, uint64

from . import ops_cuda as ops

SIM = bool(config.ENABLE_CUDASIM)
RNN_TANH, RNN_RELU, LSTM, GRU = 0, 1, 2, 3
GATES = {RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3}
CELL_NAMES = {RNN_TANH: "rnn_tanh", RNN_RELU: "rnn_relu", LSTM: "lstm", GRU: "gru"}
PERSISTENT_MAX_BATCH = 32      # above this the per-step GEMM reuses weights across the batch
# batch rows per shared-memory pass of the persistent forward / backward (the backward stages
# G*H gate gradients per row, the forward H states)
PERSISTENT_BATCH_CHUNK = (2, 2) if SIM else (4, 2)
_SHARED_BYTES = 48 * 1024      # static shared memory per block
_cache = {}


# ---------------------------------------------------------------- gate math

def _pointwise(cell, dtype):
    """(fwd_point, bwd_point) device functions of one cell for one dtype (typed constants)."""
    key = ("point", cell, np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    nbt = from_dtype(np.dtype(dtype))
    zero, one = nbt.cast_python_value(0.0), nbt.cast_python_value(1.0)
    G = GATES[cell]

    @cuda.jit(device=True)
    def sigmoid(x):
        return one / (one + math.exp(-x))

    @cuda.jit(device=True)
    def fwd_point(acc, t, b, j, H, sin, sout, xp, bhh, hs, cs, act, aux, y, active):
        # acc [G]: (W_hh h)[g*H + j] of batch row b; writes the state leaving step t of unit j
        if not active:
            hs[sout, b, j] = hs[sin, b, j]
            if cell == LSTM:
                cs[sout, b, j] = cs[sin, b, j]
            y[t, b, j] = zero
            return
        if cell == LSTM:
            gi = sigmoid(xp[t, b, j] + acc[0] + bhh[j])
            gf = sigmoid(xp[t, b, H + j] + acc[1] + bhh[H + j])
            gg = math.tanh(xp[t, b, 2 * H + j] + acc[2] + bhh[2 * H + j])
            go = sigmoid(xp[t, b, 3 * H + j] + acc[3] + bhh[3 * H + j])
            c = gf * cs[sin, b, j] + gi * gg
            th = math.tanh(c)
            h = go * th
            act[t, b, j] = gi
            act[t, b, H + j] = gf
            act[t, b, 2 * H + j] = gg
            act[t, b, 3 * H + j] = go
            aux[t, b, j] = th
            cs[sout, b, j] = c
        elif cell == GRU:
            gr = sigmoid(xp[t, b, j] + acc[0] + bhh[j])
            gz = sigmoid(xp[t, b, H + j] + acc[1] + bhh[H + j])
            hn = acc[2] + bhh[2 * H + j]
            gn = math.tanh(xp[t, b, 2 * H + j] + gr * hn)
            h = (one - gz) * gn + gz * hs[sin, b, j]
            act[t, b, j] = gr
            act[t, b, H + j] = gz
            act[t, b, 2 * H + j] = gn
            aux[t, b, j] = hn
        else:
            a = xp[t, b, j] + acc[0] + bhh[j]
            if cell == RNN_TANH:
                h = math.tanh(a)
            else:
                h = a if a > zero else zero
            act[t, b, j] = h
        hs[sout, b, j] = h
        y[t, b, j] = h

    @cuda.jit(device=True)
    def bwd_point(dh_state, t, b, k, H, sin, dgi, dgh, dh_dir, dc, dy, act, aux, hs, cs, active):
        # dh_state: gradient of the state leaving step t (unit k, row b); writes the gate
        # gradients dG[t, b, g*H + k] and the part of dh that does not go through W_hh
        if not active:
            for g in range(G):
                dgi[t, b, g * H + k] = zero
                if cell == GRU:
                    dgh[t, b, g * H + k] = zero
            dh_dir[b, k] = dh_state
            return
        d_h = dh_state + dy[t, b, k]
        if cell == LSTM:
            gi = act[t, b, k]
            gf = act[t, b, H + k]
            gg = act[t, b, 2 * H + k]
            go = act[t, b, 3 * H + k]
            th = aux[t, b, k]
            d_c = dc[b, k] + d_h * go * (one - th * th)
            dgi[t, b, k] = d_c * gg * gi * (one - gi)
            dgi[t, b, H + k] = d_c * cs[sin, b, k] * gf * (one - gf)
            dgi[t, b, 2 * H + k] = d_c * gi * (one - gg * gg)
            dgi[t, b, 3 * H + k] = d_h * th * go * (one - go)
            dc[b, k] = d_c * gf
            dh_dir[b, k] = zero
        elif cell == GRU:
            gr = act[t, b, k]
            gz = act[t, b, H + k]
            gn = act[t, b, 2 * H + k]
            d_n = d_h * (one - gz) * (one - gn * gn)
            d_z = d_h * (hs[sin, b, k] - gn) * gz * (one - gz)
            d_r = d_n * aux[t, b, k] * gr * (one - gr)
            dgi[t, b, k] = d_r
            dgi[t, b, H + k] = d_z
            dgi[t, b, 2 * H + k] = d_n
            dgh[t, b, k] = d_r
            dgh[t, b, H + k] = d_z
            dgh[t, b, 2 * H + k] = d_n * gr
            dh_dir[b, k] = d_h * gz
        else:
            h = act[t, b, k]
            if cell == RNN_TANH:
                dgi[t, b, k] = d_h * (one - h * h)
            else:
                dgi[t, b, k] = d_h if h > zero else zero
            dh_dir[b, k] = zero

    _cache[key] = (fwd_point, bwd_point)
    return fwd_point, bwd_point


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
    fwd_point, bwd_point = _pointwise(cell, dtype)

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


# ---------------------------------------------------------------- persistent kernels

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
    jit = dict(fastmath=True) if SIM else dict(fastmath=True, max_registers=min(255, 65536 // NT))
    nbt = from_dtype(np.dtype(dtype))
    zero = nbt.cast_python_value(0.0)
    fwd_point, bwd_point = _pointwise(cell, dtype)

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


# ---------------------------------------------------------------- host drivers

def _dev(a, dtype):
    return ops.ascontiguous(ops.as_device(a, dtype))


def _lengths(lengths, seq_len, batch):
    if lengths is None:
        return cuda.to_device(np.full(batch, seq_len, np.int64))
    if ops.is_device(lengths):
        return lengths if lengths.dtype == np.int64 else ops.astype(lengths, np.int64)
    return cuda.to_device(np.ascontiguousarray(lengths, dtype=np.int64))


def _placeholder(dtype):
    return cuda.device_array((1, 1, 1), dtype)


_coop_failed = set()
if SIM:
    class _LaunchError(Exception):
        """Never raised: the simulator launches any grid."""
else:
    from numba.cuda.cudadrv.driver import CudaAPIError as _LaunchError


def forward(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, path="auto", blocks=None,
            slices=None):
    """x [T,B,I], h0/c0 [B,H] (c0 only for LSTM, else None), w_ih [G*H,I], w_hh [G*H,H],
    b_ih/b_hh [G*H] -> y [T,B,H], h_n [B,H], c_n [B,H] or None, saved.
    path: "auto" (persistent when persistent_plan allows), "persistent" or "step"."""
    dt = np.dtype(x.dtype)
    x = _dev(x, dt)
    T, B, I = (int(n) for n in x.shape)
    h0 = _dev(h0, dt)
    H = int(h0.shape[1])
    G = GATES[cell]
    w_ih, w_hh = _dev(w_ih, dt), _dev(w_hh, dt)
    b_ih, b_hh = _dev(b_ih, dt), _dev(b_hh, dt)
    lengths = _lengths(lengths, T, B)
    rev = 1 if reverse else 0
    xp = ops.gemm(x.reshape((T * B, I)), w_ih, trans_b=True, bias=b_ih).reshape((T, B, G * H))
    hs = cuda.device_array((T + 1, B, H), dt)
    ops.copy_into(hs[T if rev else 0], h0)
    if cell == LSTM:
        cs = cuda.device_array((T + 1, B, H), dt)
        ops.copy_into(cs[T if rev else 0], _dev(c0, dt))
        aux = cuda.device_array((T, B, H), dt)
    else:
        cs = _placeholder(dt)
        aux = cuda.device_array((T, B, H), dt) if cell == GRU else _placeholder(dt)
    act = cuda.device_array((T, B, G * H), dt)
    y = cuda.device_array((T, B, H), dt)
    if T and B and H:
        plan = None if path == "step" else persistent_plan(cell, H, B, dt, blocks, slices)
        if path == "persistent" and plan is None:
            raise ValueError(f"persistent path does not fit: H={H}, B={B}, blocks={blocks}, slices={slices}")
        done = False
        if plan is not None and (cell, dt, plan) not in _coop_failed:
            U, S, K, nblocks = plan
            kern = persistent_kernels(cell, dt, U, S, K)[0]
            try:
                kern[nblocks, G * U * S](T, rev, w_hh, xp, b_hh, hs, cs, act, aux, y, lengths)
                done = True
            except _LaunchError:
                if path == "persistent":
                    raise
                _coop_failed.add((cell, dt, plan))   # grid too large to be co-resident
        if not done:
            cfg = step_config(B)
            TJ, TB, _ = cfg
            step_fwd = step_kernels(cell, dt, cfg)[0]
            wt = ops.transpose(w_hh)
            grid = (-(-H // TJ), -(-B // TB))
            for s in range(T):
                t = T - 1 - s if rev else s
                step_fwd[grid, (TJ, TB)](t, t + rev, t + 1 - rev, wt, xp, b_hh, hs, cs, act, aux, y,
                                         lengths)
    final = 0 if rev else T
    h_n = ops.copy(hs[final])
    c_n = ops.copy(cs[final]) if cell == LSTM else None
    return y, h_n, c_n, (act, aux, hs, cs)


def backward(cell, dy, dh_n, dc_n, x, w_ih, w_hh, lengths, reverse, saved, path="auto", blocks=None,
             slices=None):
    """dy [T,B,H], dh_n/dc_n [B,H] (dc_n only for LSTM), the forward's x, w_ih, w_hh, lengths,
    reverse and saved -> dx [T,B,I], dh0 [B,H], dc0 [B,H] or None, dw_ih [G*H,I], dw_hh [G*H,H],
    db_ih [G*H], db_hh [G*H]."""
    act, aux, hs, cs = saved
    dt = np.dtype(act.dtype)
    x = _dev(x, dt)
    T, B, I = (int(n) for n in x.shape)
    H = int(hs.shape[2])
    G = GATES[cell]
    w_ih, w_hh = _dev(w_ih, dt), _dev(w_hh, dt)
    lengths = _lengths(lengths, T, B)
    rev = 1 if reverse else 0
    dy = ops.zeros((T, B, H), dt) if dy is None else _dev(dy, dt)
    dh_dir = ops.zeros((B, H), dt) if dh_n is None else ops.copy(_dev(dh_n, dt))
    if cell == LSTM:
        dc = ops.zeros((B, H), dt) if dc_n is None else ops.copy(_dev(dc_n, dt))
    else:
        dc = cuda.device_array((1, 1), dt)
    dgi = cuda.device_array((T, B, G * H), dt)
    dgh = cuda.device_array((T, B, G * H), dt) if cell == GRU else dgi
    if T and B and H:
        plan = None if path == "step" else persistent_plan(cell, H, B, dt, blocks, slices)
        if path == "persistent" and plan is None:
            raise ValueError(f"persistent path does not fit: H={H}, B={B}, blocks={blocks}, slices={slices}")
        done = False
        if plan is not None and (cell, dt, plan) not in _coop_failed:
            U, S, K, nblocks = plan
            kern = persistent_kernels(cell, dt, U, S, K)[1]
            try:
                kern[nblocks, G * U * S](T, rev, w_hh, dgi, dgh, dh_dir, dc, dy, act, aux, hs, cs,
                                         lengths)
                done = True
            except _LaunchError:
                if path == "persistent":
                    raise
                _coop_failed.add((cell, dt, plan))
        if not done:
            cfg = step_config(B)
            TJ, TB, _ = cfg
            step_bwd = step_kernels(cell, dt, cfg)[1]
            grid = (-(-H // TJ), -(-B // TB))
            tp = -1
            for s in range(T + 1):
                t = (s if rev else T - 1 - s) if s < T else -1
                step_bwd[grid, (TJ, TB)](t, tp, t + rev, w_hh, dgi, dgh, dh_dir, dc, dy, act, aux,
                                         hs, cs, lengths)
                tp = t
    rows = T * B
    dgi2 = dgi.reshape((rows, G * H))
    dgh2 = dgh.reshape((rows, G * H))
    dx = ops.gemm(dgi2, w_ih).reshape((T, B, I))
    dw_ih = ops.gemm(dgi2, x.reshape((rows, I)), trans_a=True)
    dw_hh = ops.gemm(dgh2, hs[rev:rev + T].reshape((rows, H)), trans_a=True)
    db_ih = ops.sum(dgi2, axis=0)
    db_hh = ops.sum(dgh2, axis=0) if cell == GRU else ops.copy(db_ih)
    return dx, dh_dir, (dc if cell == LSTM else None), dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- PTX listing

def ptx_kernels(cell):
    """[(name, kernel py_func, argument types, threads per block)] of every kernel of one cell, per dtype, at the
    production configurations (per-step tiles for B = 1 and 8; persistent H = 1024 over 128
    blocks, LSTM's K = 64 registers of weights per thread), for tests/test_cuda_ptx.py."""
    from numba import types
    out = []
    name = CELL_NAMES[cell]
    for dt in (np.float32, np.float64):
        nbt = from_dtype(np.dtype(dt))
        a1, a2, a3 = (types.Array(nbt, n, "C") for n in (1, 2, 3))
        lens = types.Array(types.int64, 1, "C")
        i64 = types.int64
        for cfg in ((32, 1, 32), (32, 8, 32)):
            fwd, bwd = step_kernels(cell, dt, cfg)
            tag = f"{np.dtype(dt).name}_TJ{cfg[0]}_TB{cfg[1]}_KT{cfg[2]}"
            out.append((f"{name}_step_fwd_{tag}", fwd.py_func,
                        (i64, i64, i64, a2, a3, a1, a3, a3, a3, a3, a3, lens), cfg[0] * cfg[1]))
            out.append((f"{name}_step_bwd_{tag}", bwd.py_func,
                        (i64, i64, i64, a2, a3, a3, a2, a2, a3, a3, a3, a3, a3, lens), cfg[0] * cfg[1]))
        hidden = 1024 if dt == np.float32 else 512
        U, S, K, _ = persistent_plan(cell, hidden, 8, dt, blocks=128)
        pf, pb = persistent_kernels(cell, dt, U, S, K)
        tag = f"{np.dtype(dt).name}_U{U}_S{S}_K{K}"
        nt = GATES[cell] * U * S
        out.append((f"{name}_persist_fwd_{tag}", pf.py_func,
                    (i64, i64, a2, a3, a1, a3, a3, a3, a3, a3, lens), nt))
        out.append((f"{name}_persist_bwd_{tag}", pb.py_func,
                    (i64, i64, a2, a3, a3, a2, a2, a3, a3, a3, a3, a3, lens), nt))
    return out
