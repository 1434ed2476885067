"""One step of nn.LSTMCell / GRUCell / RNNCell when nothing is recorded (under no_grad, or no
argument requires grad): a decoder's greedy or beam step. Plain numpy on the CPU arrays, torch's
cell formulas (aten/src/ATen/native/RNN.cpp, the CPU cells), with no autograd node and none of
the fused kernels' per-call planning (threads, panels, saved gates), which a sequence of one
step of a few rows does not pay back: a GRUCell step of B = 1, H = 96 spent ~60 us there
against torch's ~15 (README, Programs and tutorials, Round 43).

Shapes: x (B, I); states [(B, H)] (the LSTM's (h, c)); w_ih (G H, I), w_hh (G H, H), biases
(G H,) or None, G the gate count -> the new states [(B, H)], new arrays.
The fused path (cell_fused_step.py, the Functions' kernels) and the composed reference
(cellspec.run_step) stay what a recorded step runs; tests compare all three.
"""
import numpy as np

from tinygrad_seq import backend_cpu


def _linear(x, w, b):
    """x @ w.T + b, (B, I) (G H, I) (G H,) -> (B, G H), a new C-contiguous array; the product
    as every CPU matmul (backend_cpu.matmul: a large one off numpy's BLAS threads)."""
    out = backend_cpu.matmul(x, w.T)
    if b is not None:
        out += b
    return out


def _sigmoid(a):
    """1 / (1 + exp(-a)) as a new array; exp of a large -a is inf, giving 0 (the errstate the
    caller holds). No in-place op touches a view here: numpy 2.4.6's in-place negative of a
    strided column (a (B, 1) gate block, rows 16 or 64 bytes apart) writes the wrong elements."""
    e = np.negative(a)   # a new, contiguous array
    np.exp(e, out=e)
    e += 1
    return np.reciprocal(e, out=e)


def step(name, x, states, w_ih, w_hh, b_ih, b_hh):
    """The new states of cell `name` ("lstm", "gru", "rnn_tanh", "rnn_relu") as numpy arrays."""
    H = w_hh.shape[1]
    gates = _linear(x, w_ih, b_ih)          # (B, G H): torch's linear_ih(input)
    hidden = _linear(states[0], w_hh, b_hh)   # (B, G H): linear_hh(hx)
    with np.errstate(over="ignore"):
        if name == "lstm":
            gates += hidden
            in_forget = _sigmoid(gates[:, :2 * H])        # i, f
            g = np.tanh(gates[:, 2 * H:3 * H])
            o = _sigmoid(gates[:, 3 * H:])
            c = in_forget[:, H:] * states[1]
            c += in_forget[:, :H] * g                      # c' = f c + i g
            h = np.tanh(c)
            h *= o                                         # h' = o tanh(c')
            return [h, c]
        if name == "gru":
            rz = _sigmoid(hidden[:, :2 * H] + gates[:, :2 * H])   # r, z
            n = hidden[:, 2 * H:] * rz[:, :H]
            n += gates[:, 2 * H:]
            np.tanh(n, out=n)                              # n = tanh(x_n + r * (W_hn h + b_hn))
            h = states[0] - n
            h *= rz[:, H:]
            h += n                                         # h' = (h - n) z + n, torch's order
            return [h]
        gates += hidden
        if name == "rnn_relu":
            return [np.maximum(gates, 0, out=gates)]
        return [np.tanh(gates, out=gates)]
