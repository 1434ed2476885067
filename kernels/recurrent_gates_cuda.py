"""Gate math of the fused recurrent kernels on numba.cuda: one device function per cell and dtype
for a forward step of one hidden unit and one for its backward, shared by the per-step
(recurrent_step_cuda) and the persistent (recurrent_persistent_cuda) kernels. The arrays they read
and write are the saved layout documented in recurrent_cuda.
"""
import math

import numpy as np
from numba import cuda, from_dtype

RNN_TANH, RNN_RELU, LSTM, GRU = 0, 1, 2, 3
GATES = {RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3}
CELL_NAMES = {RNN_TANH: "rnn_tanh", RNN_RELU: "rnn_relu", LSTM: "lstm", GRU: "gru"}
_cache = {}


# ---------------------------------------------------------------- gate math

def pointwise(cell, dtype):
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
