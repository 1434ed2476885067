r"""nn.RNNCell, nn.LSTMCell, nn.GRUCell, composed from primitive ops.

These are the unfused references: the fused Numba / numba.cuda kernels are tested against them,
and nn.RNN / nn.LSTM / nn.GRU with fused=False run the plain functions below once per step.
Shapes: x (B, I) or unbatched (I,); h, c (B, H) or (H,); w_ih (G*H, I), w_hh (G*H, H),
b_ih, b_hh (G*H,) or None, with G = 1 (RNN), 4 (LSTM), 3 (GRU).
"""
import math

import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq import random
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.tensor import Tensor


def _gates(x, h, w_ih, w_hh, b_ih, b_hh):
    return F.linear(x, w_ih, b_ih), F.linear(h, w_hh, b_hh)


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    r"""h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""
    gi, gh = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    pre = gi + gh
    if nonlinearity == "tanh":
        return pre.tanh()
    if nonlinearity == "relu":
        return pre.relu()
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}: expected 'tanh' or 'relu'")


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""Gates in PyTorch's order i, f, g, o:
    i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.) of x W_ih^T + b_ih + h W_hh^T + b_hh;
    c' = f * c + i * g;  h' = o * tanh(c'). Returns (h', c')."""
    gi, gh = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    gates = gi + gh
    H = h.shape[-1]
    i = gates[..., 0:H].sigmoid()
    f = gates[..., H:2 * H].sigmoid()
    g = gates[..., 2 * H:3 * H].tanh()
    o = gates[..., 3 * H:4 * H].sigmoid()
    c_new = f * c + i * g
    return o * c_new.tanh(), c_new


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""Gates in PyTorch's order r, z, n:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h."""
    gi, gh = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    H = h.shape[-1]
    r = (gi[..., 0:H] + gh[..., 0:H]).sigmoid()
    z = (gi[..., H:2 * H] + gh[..., H:2 * H]).sigmoid()
    n = (gi[..., 2 * H:] + r * gh[..., 2 * H:]).tanh()
    return n + z * (h - n)


class RNNCellBase(Module):
    _gates = 1

    def __init__(self, input_size, hidden_size, bias, device=None, dtype=None):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, got {v!r}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        G = self._gates * hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        dt = np.dtype(dtype or np.float32)
        shapes = [("weight_ih", (G, input_size)), ("weight_hh", (G, hidden_size))]
        if bias:
            shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
        for name, shape in shapes:
            setattr(self, name, Parameter(random.uniform(-bound, bound, shape).astype(dt)))
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if device is not None and device != "cpu":
            self.to(device)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _check(self, x, states):
        """Validate x and the states; return (x, states) batched, and whether x was unbatched."""
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead "
                             f"(shape {x.shape})")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has inconsistent input_size: got {x.shape[-1]} expected "
                             f"{self.input_size} (input shape {x.shape})")
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} does not match the parameters' dtype "
                            f"{self.weight_ih.dtype} (use .float() / .double() on the cell or the input)")
        in_shape, unbatched = x.shape, x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        B, H = x.shape[0], self.hidden_size
        want = (H,) if unbatched else (B, H)
        out = []
        for label, s in states:
            if s is None:
                s = Tensor._wrap(_zeros(x, (B, H)), x.device)
            else:
                if s.shape != want:
                    raise ValueError(f"{name}: expected {label} of shape {want} for input of shape "
                                     f"{in_shape}, got {s.shape}")
                if s.device != x.device:
                    raise RuntimeError(f"{name}: input is on {x.device} but {label} is on {s.device}")
                if unbatched:
                    s = s.unsqueeze(0)
            out.append(s)
        return x, out, unbatched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


def _zeros(like, shape):
    from tinygrad_seq import device
    return device.backend(like.device).zeros(shape, like.dtype)


class RNNCell(RNNCellBase):
    r"""h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).

    weight_ih (hidden_size, input_size), weight_hh (hidden_size, hidden_size), bias_ih and
    bias_hh (hidden_size,), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    Call cell(x, hx=None): x (B, input_size) or (input_size,) -> h' (B, hidden_size) or (hidden_size,).
    """
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._check(input, [("hidden", hx)])
        out = rnn_cell(x, h, *self._weights(), self.nonlinearity)
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    r"""i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the chunks of W_ih x + b_ih + W_hh h + b_hh;
    c' = f * c + i * g; h' = o * tanh(c').

    weight_ih (4*hidden_size, input_size), weight_hh (4*hidden_size, hidden_size), biases
    (4*hidden_size,), gate order i, f, g, o, all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    Call cell(x, hx=None) with hx = (h, c) -> (h', c').
    """
    _gates = 4

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTMCell: hx must be a tuple (h_0, c_0)")
        x, (h, c), unbatched = self._check(input, [("hx[0] (h_0)", hx[0]), ("hx[1] (c_0)", hx[1])])
        h1, c1 = lstm_cell(x, h, c, *self._weights())
        return (h1.squeeze(0), c1.squeeze(0)) if unbatched else (h1, c1)


class GRUCell(RNNCellBase):
    r"""r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    weight_ih (3*hidden_size, input_size), weight_hh (3*hidden_size, hidden_size), biases
    (3*hidden_size,), gate order r, z, n, all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """
    _gates = 3

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._check(input, [("hidden", hx)])
        out = gru_cell(x, h, *self._weights())
        return out.squeeze(0) if unbatched else out
