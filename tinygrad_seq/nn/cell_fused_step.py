"""One step of PyTorch's cells (nn.LSTMCell, nn.GRUCell, nn.RNNCell) through the fused recurrent
kernels: the step is a sequence of length 1, run by the same LSTMFunction / GRUFunction /
RNNFunction as the layers (whose one-step path splits the gate units over the kernels' threads
and keeps the weights' gradients factored over a decoder's steps, recurrent.py). The cell's
description (cellspec.run_step) stays the reference it is tested against, and runs where the
kernels do not apply (other cells, other devices, dtypes, no units or no rows).

Shapes: x (B, I), states [(B, H)] -> new states [(B, H)].
"""
import numpy as np

from tinygrad_seq import cell_inference, cell_library, recurrent
from tinygrad_seq.creation import zeros
from tinygrad_seq.grad_fn_names import named_output
from tinygrad_seq.grad_mode import _state
from tinygrad_seq.tensor import Tensor

_KERNEL_CELLS = ("lstm", "gru", "rnn_tanh", "rnn_relu")


def fusable(spec, x, hidden_size):
    return (spec.name in _KERNEL_CELLS and spec is cell_library.CELLS[spec.name] and x.device == "cpu"
            and x.array.dtype in (np.float32, np.float64) and hidden_size > 0 and x.shape[0] > 0)


def shapes_fit(spec, x, states, params, hidden_size):
    """Whether the arguments are the batched shapes and the one dtype the kernels take (the plain
    functions' are unchecked; a module's parameter may have been replaced by one of another dtype
    or shape); otherwise the composition runs, raising its errors."""
    G, H = spec.gates * hidden_size, hidden_size
    if x.ndim != 2:
        return False
    B, dt, dev = x.shape[0], x.dtype, x.device
    if any(s.ndim != 2 or s.shape != (B, H) or s.dtype != dt for s in states):
        return False
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    if w_ih is None or w_hh is None:
        return False
    for t, shape in ((w_ih, (G, x.shape[1])), (w_hh, (G, H)), (params["bias_ih"], (G,)), (params["bias_hh"], (G,))):
        if t is not None and (t.shape != shape or t.dtype != dt or t.device != dev):
            return False
    # (a step whose gradient reaches only the weights, step 0 of a loop from zero states, runs
    # fused too: the Functions keep W_ih / W_hh for the write check only where torch's composed
    # cell does, recurrent._checked_w_ih / _checked_w_hh)
    return True


def fused_step(spec, x, states, params):
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    if not _state.grad or not (x.requires_grad or any(s.requires_grad for s in states)
                               or any(p is not None and p.requires_grad for p in params.values())):
        # nothing recorded (a decoder's step under no_grad): numpy's few calls, no node
        new = cell_inference.step(spec.name, x.array, [s.array for s in states], w_ih.array, w_hh.array,
                                  *(None if params[b] is None else params[b].array for b in ("bias_ih", "bias_hh")))
        return [Tensor._wrap(a, x.device) for a in new]
    b_ih, b_hh = (params[b] if params[b] is not None else zeros((w_ih.shape[0],), dtype=x.dtype, device=x.device)
                  for b in ("bias_ih", "bias_hh"))
    out = _step(spec, x, states, w_ih, w_hh, b_ih, b_hh)   # (the Functions take x (B, I) as one step)
    ctx = out[0]._ctx
    if ctx is not None and not x.array.flags.c_contiguous:
        # the Function keeps a contiguous copy of a strided x (a batch-first x[:, t]); torch's cell
        # keeps the view, so a write into x before the backward raises: x's array is kept too,
        # where writes.saved_was_written looks
        ctx.kept_input = x.array
    return out


def _step(spec, x, states, w_ih, w_hh, b_ih, b_hh):
    # each new state's grad_fn keeps the name of torch's last op of the composed cell
    if spec.name == "lstm":
        _, h, c = recurrent.LSTMFunction.apply(x, states[0], states[1], w_ih, w_hh, b_ih, b_hh)
        return [named_output(h, "MulBackward0"), named_output(c, "AddBackward0")]
    if spec.name == "gru":
        _, h = recurrent.GRUFunction.apply(x, states[0], w_ih, w_hh, b_ih, b_hh)
        return [named_output(h, "AddBackward0")]
    relu = spec.name == "rnn_relu"
    _, h = recurrent.RNNFunction.apply(x, states[0], w_ih, w_hh, b_ih, b_hh, relu=relu)
    if h._ctx is not None:
        # torch's TanhBackward0 / ReluBackward0 keeps its result: writing h in place before the
        # backward raises there, so the node keeps h's array where writes.saved_was_written looks
        h._ctx.kept_output = h.array
    return [named_output(h, "ReluBackward0" if relu else "TanhBackward0")]
