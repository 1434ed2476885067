"""Fused GRU on numba.cuda: gru_forward / gru_backward of the kernel contract over device arrays
(host numpy arrays are copied to the device first). PyTorch's formulation, gate order r, z, n:
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

The kernels, the per-step / persistent dispatch and the saved layout live in recurrent_cuda;
`forward` / `backward` there take path="step" | "persistent" (and blocks, slices) to force one.
"""
from .recurrent_cuda import GRU, backward, forward, ptx_kernels as _ptx_kernels


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, backward_follows=False):
    """x [T,B,I], h0 [B,H], w_ih [3H,I], w_hh [3H,H], b_ih/b_hh [3H], lengths [B] int64
    -> y [T,B,H], h_n [B,H], saved. backward_follows is accepted for the CPU driver's signature
    (nothing compiles aside here)."""
    y, h_n, _, saved = forward(GRU, x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
    return y, h_n, saved


def gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, reverse, saved):
    """dy [T,B,H], dh_n [B,H], the forward's inputs and saved
    -> dx [T,B,I], dh0 [B,H], dw_ih [3H,I], dw_hh [3H,H], db_ih [3H], db_hh [3H].
    h0 and b_hh are not read: the forward saved the states and W_hn h + b_hn."""
    dx, dh0, _, dw_ih, dw_hh, db_ih, db_hh = backward(GRU, dy, dh_n, None, x, w_ih, w_hh, lengths,
                                                      reverse, saved)
    return dx, dh0, dw_ih, dw_hh, db_ih, db_hh


def ptx_kernels():
    """[(name, py_func, argument types, threads per block)] of every GRU kernel, both dtypes (for the PTX test)."""
    return _ptx_kernels(GRU)
