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
from tinygrad_seq.nn.cells import built_for, call_form, class_builder
# PyTorch's RNN, LSTM and GRU are hand-written (nn/rnn.py): the builder takes them from this namespace
from tinygrad_seq.nn.rnn import GRU, LSTM, RNN, RNNBase  # noqa: F401

LAYER_ARGS = [("input_size", inspect.Parameter.empty), ("hidden_size", inspect.Parameter.empty), ("num_layers", 1),
              ("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False), ("fused", True),
              ("dtype", None), ("device", None), ("zoneout", 0.0)]

# layer classes by CellClasses key, PyTorch's "rnn", "lstm", "gru" included (seq2seq, compare and
# the benchmarks look layers up here)
LAYERS = {}


def _construct(self, cell, a):
    RNNBase.__init__(self, cell, a["input_size"], a["hidden_size"], a["num_layers"], a["bias"], a["batch_first"],
                     a["dropout"], a["bidirectional"], fused=a["fused"], dtype=a["dtype"], device=a["device"],
                     zoneout=a.get("zoneout", 0.0))


def _doc(classes, spec):
    return f"{classes.doc}\nCall: (output, {call_form(spec, '_n')})."


cell_library.subscribe(class_builder("layer", RNNBase, LAYER_ARGS, _construct, _doc, globals(), LAYERS))


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
    return built_for(LAYERS, name, args, kwargs)
