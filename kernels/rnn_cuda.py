"""Fused Elman RNN on numba.cuda: rnn_forward / rnn_backward of the kernel contract over device
arrays (host numpy arrays are copied to the device first). h' = act(W_ih x + b_ih + W_hh h + b_hh),
act = tanh or relu.

The kernels, the per-step / persistent dispatch and the saved layout live in recurrent_cuda;
`forward` / `backward` there take path="step" | "persistent" (and blocks, slices) to force one.
"""
from .recurrent_cuda import RNN_RELU, RNN_TANH, backward, forward, ptx_kernels as _ptx_kernels


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu):
    """x [T,B,I], h0 [B,H], w_ih [H,I], w_hh [H,H], b_ih/b_hh [H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], saved."""
    cell = RNN_RELU if relu else RNN_TANH
    y, h_n, _, saved = forward(cell, x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
    return y, h_n, saved


def rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved):
    """dy [T,B,H], dh_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dw_ih [H,I], dw_hh [H,H], db_ih [H], db_hh [H].
    h0 is not read: the saved states start with it."""
    cell = RNN_RELU if relu else RNN_TANH
    dx, dh0, _, dw_ih, dw_hh, db_ih, db_hh = backward(cell, dy, dh_n, None, x, w_ih, w_hh, lengths,
                                                      reverse, saved)
    return dx, dh0, dw_ih, dw_hh, db_ih, db_hh


def ptx_kernels():
    """[(name, py_func, argument types, threads per block)] of every RNN kernel (tanh and relu), both dtypes."""
    return _ptx_kernels(RNN_TANH) + _ptx_kernels(RNN_RELU)
