"""Fused LSTM on numba.cuda: lstm_forward / lstm_backward of the kernel contract over device
arrays (host numpy arrays are copied to the device first). Gate order i, f, g, o.

The kernels, the per-step / persistent dispatch and the saved layout live in recurrent_cuda;
`forward` / `backward` there take path="step" | "persistent" (and blocks, slices) to force one.
"""
from .recurrent_cuda import LSTM, backward, forward, ptx_kernels as _ptx_kernels


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, backward_follows=False):
    """x [T,B,I], h0/c0 [B,H], w_ih [4H,I], w_hh [4H,H], b_ih/b_hh [4H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], c_n [B,H], saved. backward_follows is the CPU driver's (nothing
    compiles aside here)."""
    return forward(LSTM, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)


def lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved):
    """dy [T,B,H], dh_n/dc_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dc0 [B,H], dw_ih [4H,I], dw_hh [4H,H], db_ih [4H], db_hh [4H].
    h0 and c0 are not read: the saved states start with them."""
    return backward(LSTM, dy, dh_n, dc_n, x, w_ih, w_hh, lengths, reverse, saved)


def ptx_kernels():
    """[(name, py_func, argument types, threads per block)] of every LSTM kernel, both dtypes (for the PTX test)."""
    return _ptx_kernels(LSTM)
