"""Fused recurrent kernels on numba.cuda, shared by rnn_cuda, lstm_cuda and gru_cuda: the host
drivers `forward` / `backward`, which choose between two paths that compute the same thing and save
the same layout, so either backward follows either forward:

- per-step (recurrent_step_cuda): x @ W_ih^T + b_ih is one GEMM over all T*B rows
  (gemm_cuda.gemm); then each step is one launch of a tiled GEMM h @ W_hh^T fused with the cell's
  gate math. Backward launches one kernel per step computing dh = dG_{t+1} @ W_hh fused with the
  gate gradients of step t, then dx, dW_ih, dW_hh and the biases are single GEMMs / reductions
  over all T*B rows.
- persistent (recurrent_persistent_cuda, Diamos et al. 2016): one cooperative launch per
  sequence, each block keeping its slice of W_hh in registers for all steps, a grid-wide barrier
  between steps.
The gate math of both lives in recurrent_gates_cuda.

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
import numpy as np
from numba import cuda

from . import ops_cuda as ops, reduce_cuda
from .gemm_cuda import gemm
from .ops_cuda import SIM
from .recurrent_gates_cuda import GATES, GRU, LSTM, RNN_RELU, RNN_TANH  # noqa: F401  (the cell codes)
from .recurrent_persistent_cuda import persistent_kernels, persistent_plan
from .recurrent_persistent_cuda import ptx_kernels as _persistent_ptx
from .recurrent_step_cuda import step_launcher
from .recurrent_step_cuda import ptx_kernels as _step_ptx


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
    _LAUNCH_ERRORS = ()     # the simulator launches any grid
else:
    from numba.cuda.cudadrv.driver import CudaAPIError
    try:  # numba-cuda launches through cuda.core, whose driver errors are CUDAError
        from cuda.core._utils.cuda_utils import CUDAError
    except ImportError:
        CUDAError = CudaAPIError
    # cuda.core refuses a cooperative grid larger than the device can hold with ValueError
    _LAUNCH_ERRORS = (CudaAPIError, CUDAError, ValueError)


def _resident_blocks(kern, args, threads):
    """How many blocks of `threads` threads of kern the device can hold at once (a cooperative
    launch needs the whole grid resident); None in the simulator, which runs any grid."""
    if SIM:
        return None
    overload = kern.compile(tuple(kern.typeof_pyval(a) for a in args))
    return overload.max_cooperative_grid_blocks(threads)


def _persistent(cell, dtype, hidden, batch, path, blocks, slices, which, *args):
    """Launches persistent kernel `which` (0: forward, 1: backward) over args -> True, or False
    where the per-step path must run instead: path "step", no plan fits, the device cannot hold
    the plan's grid at once, or its cooperative launch failed before (path "persistent" raises
    in those cases)."""
    if path == "step":
        return False
    plan = persistent_plan(cell, hidden, batch, dtype, blocks, slices)
    if path == "persistent" and plan is None:
        raise ValueError(f"persistent path does not fit: H={hidden}, B={batch}, blocks={blocks}, "
                         f"slices={slices}")
    if plan is None or (path != "persistent" and (cell, dtype, plan, which) in _coop_failed):
        return False
    U, S, K, nblocks = plan
    threads = GATES[cell] * U * S
    kern = persistent_kernels(cell, dtype, U, S, K)[which]
    resident = _resident_blocks(kern, args, threads)
    if resident is not None and nblocks > resident:
        if path == "persistent":
            raise ValueError(f"persistent path: the device holds {resident} blocks of {threads} threads "
                             f"at once, the plan needs {nblocks} (H={hidden}, U={U}, S={S}, K={K})")
        _coop_failed.add((cell, dtype, plan, which))
        return False
    try:
        kern[nblocks, threads](*args)
        return True
    except _LAUNCH_ERRORS:
        if path == "persistent":
            raise
        _coop_failed.add((cell, dtype, plan, which))   # the per-step path from now on
        return False


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
    xp = gemm(x.reshape((T * B, I)), w_ih, trans_b=True, bias=b_ih).reshape((T, B, G * H))
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
    if T and B and H and not _persistent(cell, dt, H, B, path, blocks, slices, 0,
                                         T, rev, w_hh, xp, b_hh, hs, cs, act, aux, y, lengths):
        step_fwd = step_launcher(cell, dt, H, B, 0)
        wt = ops.transpose(w_hh)
        for s in range(T):
            t = T - 1 - s if rev else s
            step_fwd(t, t + rev, t + 1 - rev, wt, xp, b_hh, hs, cs, act, aux, y, lengths)
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
    if T and B and H and not _persistent(cell, dt, H, B, path, blocks, slices, 1, T, rev, w_hh, dgi,
                                         dgh, dh_dir, dc, dy, act, aux, hs, cs, lengths):
        step_bwd = step_launcher(cell, dt, H, B, 1)
        tp = -1
        for s in range(T + 1):
            t = (s if rev else T - 1 - s) if s < T else -1
            step_bwd(t, tp, t + rev, w_hh, dgi, dgh, dh_dir, dc, dy, act, aux, hs, cs, lengths)
            tp = t
    rows = T * B
    dgi2 = dgi.reshape((rows, G * H))
    dgh2 = dgh.reshape((rows, G * H))
    dx = gemm(dgi2, w_ih).reshape((T, B, I))
    dw_ih = gemm(dgi2, x.reshape((rows, I)), trans_a=True)
    dw_hh = gemm(dgh2, hs[rev:rev + T].reshape((rows, H)), trans_a=True)
    db_ih = reduce_cuda.sum(dgi2, axis=0)
    db_hh = reduce_cuda.sum(dgh2, axis=0) if cell == GRU else ops.copy(db_ih)
    return dx, dh_dir, (dc if cell == LSTM else None), dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- PTX listing

def ptx_kernels(cell):
    """[(name, kernel py_func, argument types, threads per block)] of every kernel of one cell,
    both dtypes, per-step and persistent, for tests/test_cuda_ptx.py."""
    return _step_ptx(cell) + _persistent_ptx(cell)
