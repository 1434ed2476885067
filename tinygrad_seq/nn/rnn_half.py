"""float16 recurrent layers on the CPU, as torch 2.13 runs them (`nn.LSTM(...).half()` takes a
float16 input and returns float16): here the fused kernels run in float32 on float32 copies of the
weights, the input and the states, and the outputs are rounded to float16 once. The copies are
graph nodes, so backward gives each float16 weight its float16 gradient. torch's own float16
kernels round inside the step; the two agree to float16's precision (about 1e-3), not bit for bit.

The weights are cast where the layer reads them (RNNBase._params asks weights_in_float32()), for
the calling thread only: the module itself is never changed, so other threads, parametrized
weights and optimizers see it as it is.
"""
import threading

import numpy as np

from tinygrad_seq.errors import DTypeMismatch

HALF = np.dtype(np.float16)
_calls = threading.local()


def runs_in_half(layer, input):
    """Whether input is float16 and the layer's registered weights are too (a float16 input with
    float32 weights keeps the dtype error, as torch's)."""
    if getattr(input, "dtype", None) is not HALF:
        return False
    weights = [p for p in layer._parameters.values() if p is not None]
    return all(p.dtype == HALF for p in weights)


def weights_in_float32():
    """Whether this thread is inside a float16 layer's call (its float16 weights read as float32)."""
    return getattr(_calls, "depth", 0) > 0


def half_forward(layer, input, hx, lengths):
    """layer(input, hx, lengths) for a float16 layer, computed in float32: (output, states) in float16."""
    for h in (hx if isinstance(hx, (tuple, list)) else (hx,)):
        if h is not None and getattr(h, "dtype", HALF) != HALF:   # torch's error for mixed states
            raise DTypeMismatch(f"mat1 and mat2 must have the same dtype, but got {_torch_name(h.dtype)} and "
                                f"Half (the input is float16, hx {h.dtype})")
    _calls.depth = getattr(_calls, "depth", 0) + 1
    try:
        out, state = layer.forward(input.float(), _as(hx, np.float32), lengths)
    finally:
        _calls.depth -= 1
    return _as(out, HALF), _as(state, HALF)


def _torch_name(dtype):
    return {"float32": "Float", "float64": "Double"}.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _as(t, dtype):
    if t is None:
        return None
    if isinstance(t, (tuple, list)):
        return tuple(_as(s, dtype) for s in t)
    return t.to(dtype=dtype)
