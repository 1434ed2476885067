"""Fused recurrent Functions: one layer, one direction, the whole sequence per call.

Each wraps a kernel pair from tinygrad_seq.kernels (chosen by device.kernels: the Numba CPU file or
the numba.cuda file of the cell, which export the same signatures). Shapes, time-major:
    x (T, B, I), h0/c0 (B, H), w_ih (G*H, I), w_hh (G*H, H), b_ih/b_hh (G*H,), lengths (B,) int64
    -> y (T, B, H), h_n (B, H) [, c_n (B, H)]
"""
from tinygrad_seq import device as _device
from tinygrad_seq.autograd import Function


def _zeros_if_none(B, g, like):
    return B.zeros(like.shape, like.dtype) if g is None else B.ascontiguous(g)


class RNNFunction(Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, relu=False):
        K = _device.kernels(ctx.device, "rnn")
        x = ctx.b.ascontiguous(x)
        y, h_n, saved = K.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu)
        ctx.save_for_backward(x, h0, w_ih, w_hh, saved)
        ctx.K, ctx.lengths, ctx.reverse, ctx.relu = K, lengths, reverse, relu
        return y, h_n

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, h0, w_ih, w_hh, saved = ctx.saved_tensors
        B = ctx.b
        dy = _zeros_if_none(B, dy, _Like((x.shape[0],) + h0.shape, x.dtype))
        dh_n = _zeros_if_none(B, dh_n, h0)
        return ctx.K.rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, ctx.lengths, ctx.reverse, ctx.relu, saved)


class LSTMFunction(Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
        K = _device.kernels(ctx.device, "lstm")
        x = ctx.b.ascontiguous(x)
        y, h_n, c_n, saved = K.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, saved)
        ctx.K, ctx.lengths, ctx.reverse = K, lengths, reverse
        return y, h_n, c_n

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n):
        x, h0, c0, w_ih, w_hh, saved = ctx.saved_tensors
        B = ctx.b
        dy = _zeros_if_none(B, dy, _Like((x.shape[0],) + h0.shape, x.dtype))
        dh_n, dc_n = _zeros_if_none(B, dh_n, h0), _zeros_if_none(B, dc_n, c0)
        return ctx.K.lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, ctx.lengths, ctx.reverse, saved)


class GRUFunction(Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
        K = _device.kernels(ctx.device, "gru")
        x = ctx.b.ascontiguous(x)
        y, h_n, saved = K.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_hh, saved)
        ctx.K, ctx.lengths, ctx.reverse = K, lengths, reverse
        return y, h_n

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, h0, w_ih, w_hh, b_hh, saved = ctx.saved_tensors
        B = ctx.b
        dy = _zeros_if_none(B, dy, _Like((x.shape[0],) + h0.shape, x.dtype))
        dh_n = _zeros_if_none(B, dh_n, h0)
        return ctx.K.gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, ctx.lengths, ctx.reverse, saved)


class _Like:
    """Shape and dtype holder for a gradient that did not arrive (its output was unused)."""
    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype
