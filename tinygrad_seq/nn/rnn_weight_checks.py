"""The shape check of the weights a recurrent layer (nn/rnn.py's RNNBase) reads for one layer and
direction: each against the shape its cell description declares (cellspec.ParamSpec.shape; with
LSTM's proj_size weight_hh [4H, P] and weight_hr [P, H]), so that a weight set to the wrong shape
raises torch's RuntimeError (errors.ShapeMismatch) instead of the kernels reading past its end.

A bias torch broadcasts onto its [B, G*H] gate sum is read as the declared [G*H]: shape [1, G*H]
(a reshape view), or one value ((), (1,), (1, 1), expanded); the gradient flows back into the
parameter's own shape. (torch also takes a [B, G*H] bias, one per batch row; that is refused here.)
"""
import re

from tinygrad_seq.errors import ShapeMismatch

_expected = {}   # (cell spec, suffix, input_size, hidden_size, proj_size, bidirectional) -> {name: shape}


def check_param_shapes(module, sfx, params):
    """params {name: Tensor or None} of layer/direction sfx ("_l{k}[_reverse]"), checked in place:
    a bias in a broadcast shape replaced by its [G*H] view; any other wrong shape raises."""
    key = (module.cell_spec, sfx, module.input_size, module.hidden_size, module.proj_size, module.bidirectional)
    want = _expected.get(key)
    if want is None:
        want = _expected[key] = _expected_shapes(module, _layer_of(sfx))
    for name, t in params.items():
        if t is not None and t.array.shape != want[name]:   # the common case: one tuple compare
            params[name] = _fitted(module, name, sfx, t, want[name])


def _layer_of(sfx):
    return int(sfx[2:].split("_")[0])


def _expected_shapes(module, layer):
    """{name: shape} of every parameter the layer reads (the biases too, bias=False or not)."""
    H, P = module.hidden_size, module.proj_size
    shapes = module.cell_spec.param_shapes(module._layer_input_size(layer), H, True)
    if P:
        shapes["weight_hh"], shapes["weight_hr"] = (4 * H, P), (P, H)
    return shapes


def _fitted(module, name, sfx, t, want):
    """t read as shape want where torch would broadcast it (a bias), else ShapeMismatch."""
    given = tuple(t.array.shape)
    if name.startswith("bias") and len(want) == 1 and len(given) <= 2 and (len(given) < 2 or given[0] == 1):
        size = t.array.size
        if size == want[0]:
            return t.reshape(want)   # [1, G*H] -> [G*H]: a view, the gradient back in [1, G*H]
        if size == 1:
            return t.reshape(1).expand(want).contiguous()   # one value for every gate row
    raise ShapeMismatch(f"{type(module).__name__}: {name + sfx} has shape {given}, expected {tuple(want)} "
                        f"({_describe(module, name, _layer_of(sfx))})")


def _describe(module, name, layer):
    """The expected shape in the module's hyperparameters, e.g. "4 * hidden_size, hidden_size"."""
    if module.proj_size and name in ("weight_hh", "weight_hr"):
        return "4 * hidden_size, proj_size" if name == "weight_hh" else "proj_size, hidden_size"
    if layer == 0:
        i_desc = "input_size"
    else:
        i_desc = ("proj_size" if module.proj_size else "hidden_size") + (" * 2" if module.bidirectional else "")
    G = module.cell_spec.gates
    words = {"G": str(G), "H": "hidden_size", "I": i_desc}
    spec = next(p for p in module.cell_spec.params if p.name == name)
    dims = []
    for d in spec.shape:
        s = re.sub(r"\b[GHI]\b", lambda m: words[m.group(0)], str(d).replace(" ", "").replace("*", " * "))
        dims.append(s[len("1 * "):] if s.startswith("1 * ") else s)
    return ", ".join(dims)
