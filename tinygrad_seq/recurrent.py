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


class CellFunction(Function):
    """Any described cell, fused: the generated kernel module `kern` (tinygrad_seq.cellgen) in the
    shared CPU time loop (kernels/cell_cpu.py). Inputs: x, the S entering states, weight_ih, the
    weight matrices the step's products read (`mats`), then the pointwise parameters in the
    kernel's order. kwargs: kern, n_states, mats (names, in input order), ext (None or
    [T,B,E*H] masks), lengths, reverse. Outputs: y, then the S leaving states."""

    @staticmethod
    def forward(ctx, x, *arrays, kern, n_states, mats, ext, lengths, reverse):
        K = _device.kernels(ctx.device, "cell")
        B = ctx.b
        x = B.ascontiguous(x)
        states0 = B.stack(list(arrays[:n_states]), 0)
        w_ih = arrays[n_states]
        mat_arrays = dict(zip(mats, arrays[n_states + 1:n_states + 1 + len(mats)]))
        pv_arrays = arrays[n_states + 1 + len(mats):]
        hidden = states0.shape[2]
        wcat = _np_concat([mat_arrays[name][row0 * hidden:(row0 + rows) * hidden]
                           for name, row0, rows in kern.LAYOUT["p_rows"]], (0, hidden), x.dtype)
        pv = _np_concat([a.reshape(-1) for a in pv_arrays], (0,), x.dtype)
        y, states_n, saved = K.cell_forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse)
        ctx.save_for_backward(x, w_ih, wcat, pv, saved)
        ctx.K, ctx.kern, ctx.lengths, ctx.reverse = K, kern, lengths, reverse
        ctx.shapes = [a.shape for a in arrays]
        ctx.n_states, ctx.mats = n_states, mats
        return (y,) + tuple(states_n[k] for k in range(n_states))

    @staticmethod
    def backward(ctx, dy, *dstates):
        x, w_ih, wcat, pv, saved = ctx.saved_tensors
        B = ctx.b
        n_states, shapes = ctx.n_states, ctx.shapes
        hidden = shapes[0][1]
        dy = _zeros_if_none(B, dy, _Like((x.shape[0],) + shapes[0], x.dtype))
        dst = _np_stack([_zeros_if_none(B, g, _Like(shapes[k], x.dtype)) for k, g in enumerate(dstates)])
        dx, dst0, dw_ih, dwcat, dpv = ctx.K.cell_backward(ctx.kern, dy, dst, x, w_ih, wcat, pv, ctx.lengths,
                                                          ctx.reverse, saved)
        grads = [dx] + [dst0[k] for k in range(n_states)] + [dw_ih]
        dmats = {name: B.zeros(shapes[n_states + 1 + i], x.dtype) for i, name in enumerate(ctx.mats)}
        off = 0
        for name, row0, rows in ctx.kern.LAYOUT["p_rows"]:
            dmats[name][row0 * hidden:(row0 + rows) * hidden] += dwcat[off:off + rows * hidden]
            off += rows * hidden
        grads += [dmats[name] for name in ctx.mats]
        off = 0
        for shape in shapes[n_states + 1 + len(ctx.mats):]:
            size = int(_prod(shape))
            grads.append(dpv[off:off + size].reshape(shape))
            off += size
        return tuple(grads)


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _np_stack(arrays):
    import numpy as np
    return np.stack(arrays, 0)


def _np_concat(arrays, empty_shape, dtype):
    import numpy as np
    if not arrays:
        return np.empty(empty_shape, dtype)
    return np.ascontiguousarray(np.concatenate(arrays, 0), dtype)
