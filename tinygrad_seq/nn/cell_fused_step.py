"""One step of PyTorch's cells (nn.LSTMCell, nn.GRUCell, nn.RNNCell) through the fused recurrent
kernels: the step is a sequence of length 1, run by the same LSTMFunction / GRUFunction /
RNNFunction as the layers (whose one-step path splits the gate units over the kernels' threads
and keeps the weights' gradients factored over a decoder's steps, recurrent.py). The cell's
description (cellspec.run_step) stays the reference it is tested against, and runs where the
kernels do not apply (other cells, other devices, dtypes, no units or no rows).

Shapes: x (B, I), states [(B, H)] -> new states [(B, H)].
"""
import numpy as np

from tinygrad_seq import cell_library, recurrent
from tinygrad_seq.creation import zeros
from tinygrad_seq.grad_fn_names import named_output

_KERNEL_CELLS = ("lstm", "gru", "rnn_tanh", "rnn_relu")


def fusable(spec, x, hidden_size):
    return (spec.name in _KERNEL_CELLS and spec is cell_library.CELLS[spec.name] and x.device == "cpu"
            and x.array.dtype in (np.float32, np.float64) and hidden_size > 0 and x.shape[0] > 0)


def shapes_fit(spec, x, states, params, hidden_size):
    """Whether the arguments are the batched shapes and the one dtype the kernels take (the plain
    functions' are unchecked; a module's parameter may have been replaced by one of another dtype
    or shape); otherwise the composition runs, raising its errors."""
    G, H = spec.gates * hidden_size, hidden_size
    if x.ndim != 2 or any(s.ndim != 2 or s.shape != (x.shape[0], H) or s.dtype != x.dtype for s in states):
        return False
    want = {"weight_ih": (G, x.shape[1]), "weight_hh": (G, H), "bias_ih": (G,), "bias_hh": (G,)}
    return all(t is None or (t.shape == want[n] and t.dtype == x.dtype and t.device == x.device)
               for n, t in params.items()) and params["weight_ih"] is not None and params["weight_hh"] is not None


def fused_step(spec, x, states, params):
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    b_ih, b_hh = (params[b] if params[b] is not None else zeros((w_ih.shape[0],), dtype=x.dtype, device=x.device)
                  for b in ("bias_ih", "bias_hh"))
    x1 = x.unsqueeze(0)   # (1, B, I): a sequence of one step
    # each new state's grad_fn keeps the name of torch's last op of the composed cell
    if spec.name == "lstm":
        _, h, c = recurrent.LSTMFunction.apply(x1, states[0], states[1], w_ih, w_hh, b_ih, b_hh)
        return [named_output(h, "MulBackward0"), named_output(c, "AddBackward0")]
    if spec.name == "gru":
        _, h = recurrent.GRUFunction.apply(x1, states[0], w_ih, w_hh, b_ih, b_hh)
        return [named_output(h, "AddBackward0")]
    relu = spec.name == "rnn_relu"
    _, h = recurrent.RNNFunction.apply(x1, states[0], w_ih, w_hh, b_ih, b_hh, relu=relu)
    return [named_output(h, "ReluBackward0" if relu else "TanhBackward0")]
