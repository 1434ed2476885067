r"""The recurrent cell variants as layers, built from their descriptions (tinygrad_seq/cell_library.py:
each variant's CellSpec says its gates, parameters and step; its CellClasses record says its class
names, docstring and options). Their cells are built the same way in nn/cells.py. Each layer takes
the layer options of nn.LSTM (num_layers, bias, batch_first, dropout, bidirectional, fused, dtype,
device, zoneout for the gated ones) plus its options (nn.IndRNN's nonlinearity), calls (hx,
lengths, unbatched input), and names its parameters <name>_l{k}[_reverse]. Fused on the CPU by the
generated kernels.

The classes (nn.PeepholeLSTM, nn.CIFGLSTM, nn.LayerNormLSTM, nn.LayerNormGRU, nn.IndRNN, and any
registered later with cell_library.register) are module attributes like hand-written ones.
"""
import inspect

from tinygrad_seq import cell_library
from tinygrad_seq.nn import rnn
from tinygrad_seq.nn.cells import bind, call_form, signature
from tinygrad_seq.nn.rnn import RNNBase

LAYER_ARGS = [("input_size", inspect.Parameter.empty), ("hidden_size", inspect.Parameter.empty), ("num_layers", 1),
              ("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False), ("fused", True),
              ("dtype", None), ("device", None), ("zoneout", 0.0)]

# layer classes by CellClasses key, PyTorch's "rnn", "lstm", "gru" included (seq2seq, compare and
# the benchmarks look layers up here)
LAYERS = {}


def _build(classes):
    spec = cell_library.get(classes.spec_name())
    sig = signature(classes.arguments(LAYER_ARGS, "layer"))

    def __init__(self, *args, **kwargs):
        a = bind(classes.layer, sig, (self,) + args, kwargs)
        options = {o.name: o.check(a[o.name]) for o in classes.options}
        RNNBase.__init__(self, classes.spec_name(**options), a["input_size"], a["hidden_size"], a["num_layers"],
                         a["bias"], a["batch_first"], a["dropout"], a["bidirectional"], fused=a["fused"],
                         dtype=a["dtype"], device=a["device"], zoneout=a.get("zoneout", 0.0))
        for name, value in options.items():
            setattr(self, name, value)
    __init__.__signature__ = sig
    __init__.__qualname__ = classes.layer + ".__init__"
    final = "h_n" if len(spec.states) == 1 else call_form(spec, "_n")
    doc = f"{classes.doc}\nCall: (output, {final})."
    return type(classes.layer, (RNNBase,), {"__init__": __init__, "__doc__": doc, "__module__": __name__,
                                            "__qualname__": classes.layer})


def _on_register(classes, added):
    if not added:
        LAYERS.pop(classes.key, None)
        if not classes.hand_written:
            globals().pop(classes.layer, None)
        return
    if classes.hand_written:   # PyTorch's, in nn/rnn.py
        LAYERS[classes.key] = getattr(rnn, classes.layer)
        return
    globals()[classes.layer] = LAYERS[classes.key] = _build(classes)


cell_library.subscribe(_on_register)


def layer_class(name):
    """The layer class called `name` (a LAYERS key, case-insensitive), with an error listing them."""
    try:
        return LAYERS[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown recurrent layer {name!r}: expected one of {sorted(LAYERS)}") from None


def layer_for(name, *args, **kwargs):
    """The layer running the built-in CellSpec `name` (its class, with the options that pick it:
    "indrnn_tanh" -> IndRNN(..., nonlinearity="tanh"), "gru_reset_before" -> GRU(...,
    reset_after=False)); args and kwargs go to the class."""
    classes, options = cell_library.classes_of(name)
    if classes is None:
        raise ValueError(f"no built-in layer runs cell {name!r}")
    return LAYERS[classes.key](*args, **options, **kwargs)
