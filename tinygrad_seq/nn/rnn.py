"""nn.RNN, nn.LSTM, nn.GRU: PyTorch's multi-layer, bidirectional recurrent layers.

Each (layer, direction) runs either as one fused Function over the whole sequence (the Numba CPU
or numba.cuda kernels, `fused=True`, the default) or, with `fused=False`, as a Python loop over the
cells composed from primitive ops (nn/cells.py): the reference the fused kernels are tested against.
"""
import math

import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq import random, recurrent
from tinygrad_seq.creation import cat, stack
from tinygrad_seq.nn import cells
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.nn.utils import rnn as _rnn_utils
from tinygrad_seq.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, dtype=None):
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.fused = float(dropout), bidirectional, fused
        gates = _GATES[mode] * hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        dt = np.dtype(dtype or np.float32)
        dirs = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gates, layer_in)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(random.uniform(-bound, bound, shape).astype(dt)))

    def flatten_parameters(self):
        """PyTorch compatibility: the weights are always laid out for the kernels."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------ input checks
    def _check_input(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got {type(x).__name__}")
        if x.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: input must be float32 or float64, got {x.dtype}")
        if x.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected input of 2 (unbatched) or 3 dimensions, "
                             f"got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input.size(-1) must be equal to input_size. "
                             f"Expected {self.input_size}, got {x.shape[-1]} (input shape {x.shape})")
        time_axis = 1 if x.ndim == 3 and self.batch_first else 0
        if x.shape[time_axis] == 0:
            raise ValueError(f"{type(self).__name__}: expected sequence length to be larger than 0, got input "
                             f"of shape {x.shape} (time axis {time_axis})")

    def _check_hidden(self, h, expected, what):
        if not isinstance(h, Tensor):
            raise TypeError(f"{type(self).__name__}: {what} must be a Tensor, got {type(h).__name__}")
        if h.shape != expected:
            raise ValueError(f"{type(self).__name__}: expected {what} size {expected}, got {h.shape}")

    @staticmethod
    def _check_lengths(lengths, batch, steps):
        arr = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
        if arr.dtype.kind not in "iu":
            if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            else:
                raise TypeError(f"lengths must be integers, got dtype {arr.dtype}")
        arr = arr.reshape(-1).astype(np.int64)
        if arr.shape[0] != batch:
            raise ValueError(f"lengths has {arr.shape[0]} entries but the batch has {batch} sequences")
        bad = np.nonzero((arr < 1) | (arr > steps))[0]
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"lengths[{i}] = {int(arr[i])} is out of range 1..{steps} (the sequence length)")
        return np.ascontiguousarray(arr)

    # ------------------------------------------------------------ forward
    def forward(self, input, hx=None, lengths=None):
        if isinstance(input, _rnn_utils.PackedSequence):  # unpack, run with lengths, repack
            return _rnn_utils.packed_forward(self, input, hx)
        self._check_input(input)
        is_lstm = self.mode == "LSTM"
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        T, B = x.shape[0], x.shape[1]
        dirs = 2 if self.bidirectional else 1
        state_shape = (self.num_layers * dirs, B, self.hidden_size)
        want = state_shape[::2] if unbatched else state_shape
        if hx is None:
            zeros = Tensor._wrap(_zeros_like_dev(x, state_shape), x.device)
            h0, c0 = zeros, zeros
        elif is_lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            self._check_hidden(hx[0], want, "hidden[0] (h_0)")
            self._check_hidden(hx[1], want, "hidden[1] (c_0)")
            h0, c0 = (h.unsqueeze(1) if unbatched else h for h in hx)
        else:
            self._check_hidden(hx, want, "hidden (h_0)")
            h0 = c0 = hx.unsqueeze(1) if unbatched else hx
        for h in (h0, c0):
            if h.device != x.device:
                raise RuntimeError(f"input is on {x.device} but the hidden state is on {h.device}")
        lens = np.full(B, T, np.int64) if lengths is None else self._check_lengths(lengths, B, T)

        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                y, h, c = self._run_direction(layer_in, h0[k], c0[k] if is_lstm else None, sfx, lens, bool(d))
                outs.append(y)
                h_n.append(h)
                c_n.append(c)
            layer_in = outs[0] if dirs == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        out = layer_in
        h_n = stack(h_n, 0)
        c_n = stack(c_n, 0) if is_lstm else None
        if unbatched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if is_lstm else (out, h_n)

    def _weights(self, sfx, like):
        w_ih, w_hh = getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx)
        if w_ih.dtype != like.dtype:
            raise TypeError(f"{type(self).__name__}: input is {like.dtype} but the weights are "
                            f"{w_ih.dtype}; convert one with .float() / .double()")
        if w_ih.device != like.device:
            raise RuntimeError(f"input is on {like.device} but the weights are on {w_ih.device}")
        if self.bias:
            return w_ih, w_hh, getattr(self, "bias_ih" + sfx), getattr(self, "bias_hh" + sfx)
        zero = Tensor._wrap(_zeros_like_dev(like, (w_ih.shape[0],)), like.device)
        return w_ih, w_hh, zero, zero

    def _run_direction(self, x, h0, c0, sfx, lens, reverse):
        """x (T, B, I), h0/c0 (B, H) -> y (T, B, H), h_n (B, H), c_n (B, H) or None."""
        w_ih, w_hh, b_ih, b_hh = self._weights(sfx, x)
        if self.fused:
            if self.mode == "LSTM":
                return recurrent.LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                    lengths=lens, reverse=reverse)
            if self.mode == "GRU":
                y, h = recurrent.GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=lens, reverse=reverse)
            else:
                y, h = recurrent.RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=lens,
                                                   reverse=reverse, relu=self.mode == "RNN_RELU")
            return y, h, None
        return self._unfused(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lens, reverse)

    def _unfused(self, x, h, c, w_ih, w_hh, b_ih, b_hh, lens, reverse):
        """The reference: one cell per step; a sequence past its length keeps its state and
        outputs zeros (mask (B, 1) per step)."""
        T = x.shape[0]
        full = bool(np.all(lens == T))
        ys = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            if self.mode == "LSTM":
                h_new, c_new = cells.lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
            elif self.mode == "GRU":
                h_new, c_new = cells.gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh), None
            else:
                nl = "relu" if self.mode == "RNN_RELU" else "tanh"
                h_new, c_new = cells.rnn_cell(x[t], h, w_ih, w_hh, b_ih, b_hh, nl), None
            if full:
                h, c, ys[t] = h_new, c_new, h_new
            else:
                m = Tensor._wrap(_as_dev((t < lens).astype(x.dtype).reshape(-1, 1), x), x.device)
                ys[t] = h_new * m
                h = h + (h_new - h) * m
                if c_new is not None:
                    c = c + (c_new - c) * m
        return stack(ys, 0), h, c


def _zeros_like_dev(like, shape):
    from tinygrad_seq import device
    return device.backend(like.device).zeros(shape, like.dtype)


def _as_dev(arr, like):
    from tinygrad_seq import device
    return device.backend(like.device).asarray(arr)


class RNN(RNNBase):
    r"""Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Args as torch.nn.RNN, plus fused=True (False: the unfused reference path).
    Call: rnn(input, hx=None, lengths=None) -> (output, h_n); input (T, B, I) or (B, T, I) with
    batch_first, or unbatched (T, I); h_n (num_layers * num_directions, B, H).
    """
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, fused=True, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, fused, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    r"""Long short-term memory, gates in PyTorch's order i, f, g, o:

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                             h' = o * tanh(c')

    Call: lstm(input, hx=None, lengths=None) -> (output, (h_n, c_n)).
    """
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, fused, dtype)


class GRU(RNNBase):
    r"""Gated recurrent unit, gates in PyTorch's order r, z, n (reset applied after the matmul):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h

    Call: gru(input, hx=None, lengths=None) -> (output, h_n).
    """
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, fused, dtype)
