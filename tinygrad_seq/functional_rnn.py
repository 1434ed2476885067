r"""torch's functional recurrent entry points (ATen's, reached as torch.lstm_cell, torch._VF.lstm,
...), on weights the caller holds: meta-learning code runs the cells with its own fast weights,
custom LSTM subclasses and weight-drop wrappers call `_VF.lstm` with a flat weight list.

Cells: lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> (h', c') with hx = (h, c);
gru_cell / rnn_tanh_cell / rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> h'.
input (B, I), states (B, H); like ATen's, 1-D (unbatched) input is refused (nn.*Cell unsqueezes
it before calling them). They run nn/cells.py's functions, the step nn.LSTMCell runs.

Layers, each with torch's two overloads:
    lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        -> (output, h_n, c_n)
    lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
        -> (output_data, h_n, c_n)       (a PackedSequence's data and batch_sizes; batch in packed order)
gru / rnn_tanh / rnn_relu likewise with hx one Tensor, returning (output, h_n). input (T, B, I)
or (B, T, I) with batch_first; hx (num_layers * num_directions, B, H); params torch's flat list
(module._flat_weights): per layer and direction w_ih, w_hh, [b_ih, b_hh], [w_hr], LSTM's
projection inferred as torch infers it (h and c of different widths). They run nn.RNNBase.forward
(the fused kernels, inter-layer dropout) on the given weights: FlatWeightsLayer below.
"""
import numpy as np

from tinygrad_seq import cell_library
from tinygrad_seq.argument_types import python_type_name, require_tensor_argument, require_tensor_sequence
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.nn import cells
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.rnn import RNNBase
from tinygrad_seq.nn.utils.rnn import PackedSequence, _host_ints
from tinygrad_seq.tensor import Tensor

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ------------------------------------------------------------------ cells
def _check_cell(op, input, states, w_ih, w_hh, b_ih, b_hh):
    """ATen's checks of a cell's arguments (check_rnn_cell_forward_input / _hidden), in its order
    and with its exception types, then the dtypes (torch's matmul refuses a mix)."""
    require_tensor_argument(input, op, "input", 1)   # torch's parser: the arguments in order
    if op == "lstm_cell":   # hx a tuple of Tensors
        require_tensor_sequence(states, op, position=2, argument="hx")
    else:
        require_tensor_argument(states[0], op, "hx", 2)
    for position, (label, t) in enumerate((("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)), 3):
        if t is not None:
            require_tensor_argument(t, op, label, position)
    given = ([("input", input), ("w_ih", w_ih), ("w_hh", w_hh)] + [(f"hx[{k}]", s) for k, s in enumerate(states)]
             + [(label, t) for label, t in (("b_ih", b_ih), ("b_hh", b_hh)) if t is not None])
    for label, t in (("w_ih", w_ih), ("w_hh", w_hh)):
        if t.ndim != 2:
            raise ShapeMismatch(f"{op}: {label} must be 2-D (gates * hidden_size, in_features), got shape {t.shape}")
    if input.ndim < 2:   # ATen reads input.size(1): an IndexError, as torch's
        raise IndexOutOfRange(f"{op}: input must be 2-D (batch, input_size), got shape {input.shape}; "
                              f"nn.{_CELL_CLASS[op]} takes unbatched input")
    if input.ndim > 2 or input.shape[1] != w_ih.shape[1]:
        raise ShapeMismatch(f"input has inconsistent input_size: got {input.shape[1]} expected {w_ih.shape[1]} "
                            f"({op} takes input (batch, input_size), got shape {input.shape})")
    hidden_size = w_hh.shape[1]
    for k, s in enumerate(states):   # ATen's order: batch size, then hidden size
        if s.ndim == 0 or s.ndim == 1 and s.shape[0] == input.shape[0]:
            raise IndexOutOfRange(f"{op}: hx[{k}] must be 2-D (batch, hidden_size), got shape {s.shape}")
        if s.shape[0] != input.shape[0]:
            raise ShapeMismatch(f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {s.shape[0]}")
        if s.ndim > 2 or s.shape[1] != hidden_size:
            raise ShapeMismatch(f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, expected {hidden_size}")
    for label, t in given[1:]:
        if t.dtype != input.dtype:
            raise DTypeMismatch(f"{op}: input is {input.dtype} but {label} is {t.dtype}; convert one with "
                                ".float() / .double()")
        if t.device != input.device:
            raise RuntimeError(f"{op}: input is on {input.device} but {label} is on {t.device}")


_CELL_CLASS = {"lstm_cell": "LSTMCell", "gru_cell": "GRUCell", "rnn_tanh_cell": "RNNCell",
               "rnn_relu_cell": "RNNCell"}


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.lstm_cell: one LSTM step on the given weights; hx = (h, c), each (B, H). -> (h', c')."""
    if not isinstance(hx, (tuple, list)):
        raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not {python_type_name(hx)}")
    if len(hx) != 2:
        raise InvalidArgument(f"lstm_cell expects two hidden states, got {len(hx)}")
    _check_cell("lstm_cell", input, hx, w_ih, w_hh, b_ih, b_hh)
    return cells.lstm_cell(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.gru_cell: one GRU step (r, z, n; reset applied after the recurrent product). -> h'."""
    _check_cell("gru_cell", input, [hx], w_ih, w_hh, b_ih, b_hh)
    return cells.gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.rnn_tanh_cell: h' = tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh)."""
    _check_cell("rnn_tanh_cell", input, [hx], w_ih, w_hh, b_ih, b_hh)
    return cells.rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.rnn_relu_cell: h' = relu(input w_ih^T + b_ih + hx w_hh^T + b_hh)."""
    _check_cell("rnn_relu_cell", input, [hx], w_ih, w_hh, b_ih, b_hh)
    return cells.rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="relu")


# ------------------------------------------------------------------ layers
class FlatWeightsLayer(RNNBase):
    """nn.RNNBase's forward over a caller's weights: no parameters of its own; `_params` hands
    each (layer, direction) its entries of the flat list. Made once per call (attributes only:
    no weights drawn, so the random stream is untouched)."""

    def __init__(self, mode, groups, input_size, hidden_size, proj_size, num_layers, dropout, train,
                 bidirectional, batch_first):
        Module.__init__(self)
        suffixes = [f"_l{k}{d}" for k in range(num_layers) for d in ([""] + ["_reverse"] * bidirectional)]
        self.__dict__.update(
            mode=mode, cell_spec=cell_library.get(mode), input_size=input_size, hidden_size=hidden_size,
            proj_size=proj_size, num_layers=num_layers, bias=groups[0]["bias_ih"] is not None,
            dropout=float(dropout), training=bool(train), bidirectional=bool(bidirectional),
            batch_first=bool(batch_first), fused=True, zoneout=0.0, _by_suffix=dict(zip(suffixes, groups)))

    def _params(self, sfx, like):
        return self._by_suffix[sfx]


def _group_names(has_biases, has_projections):
    return (["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if has_biases else [])
            + (["weight_hr"] if has_projections else []))


def _weight_groups(mode, params, has_biases, has_projections, num_layers, dirs, input_size, hidden_size, proj_size):
    """The flat list as one {name: Tensor} per (layer, direction), every shape checked."""
    if not isinstance(params, (list, tuple)) or not all(isinstance(p, Tensor) for p in params):
        raise TypeError(f"{mode.lower()}(): params must be a list of Tensors (module._flat_weights), "
                        f"got {type(params).__name__}" + ("" if not isinstance(params, (list, tuple)) else
                                                          f" holding {sorted({type(p).__name__ for p in params})}"))
    names = _group_names(has_biases, has_projections)
    if len(params) % len(names):
        raise InvalidArgument(f"got an incorrect number of RNN parameters: {len(params)} is not a multiple of "
                              f"{len(names)} ({', '.join(names)} per layer and direction)")
    n_groups = len(params) // len(names)
    if dirs == 2 and n_groups % 2:
        raise InvalidArgument(f"Odd number of params or hiddens given to a bidirectional RNN: {n_groups} "
                              f"groups of {len(names)} params")
    if n_groups != num_layers * dirs:
        raise InvalidArgument(f"Expected more weights in stacked_rnn: {len(params)} params make {n_groups} "
                              f"groups of {len(names)}, but num_layers={num_layers}"
                              f"{' bidirectional' if dirs == 2 else ''} needs {num_layers * dirs}")
    G, out = _GATES[mode] * hidden_size, []
    for k in range(num_layers * dirs):
        group = dict(zip(names, params[k * len(names):(k + 1) * len(names)]))
        in_size = input_size if k < dirs else (proj_size or hidden_size) * dirs
        want = {"weight_ih": (G, in_size), "weight_hh": (G, proj_size or hidden_size), "bias_ih": (G,),
                "bias_hh": (G,), "weight_hr": (proj_size, hidden_size)}
        for j, (name, t) in enumerate(group.items()):
            if t.shape != want[name]:
                raise ShapeMismatch(f"{mode.lower()}: params[{k * len(names) + j}] ({name} of layer {k // dirs}"
                                    f"{' reverse' if k % dirs else ''}) has shape {t.shape}, expected {want[name]}")
        group.setdefault("bias_ih", None)
        group.setdefault("bias_hh", None)
        out.append(group)
    return out


def _run_layers(mode, input, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                batch_first):
    op = mode.lower()
    if mode == "LSTM" and not isinstance(hx, (tuple, list)):
        raise TypeError(f"lstm(): argument 'hx' must be a tuple of two Tensors (h_0, c_0), not {type(hx).__name__}")
    states = list(hx) if mode == "LSTM" else [hx]
    if len(states) != 2 and mode == "LSTM":
        raise InvalidArgument(f"lstm expects two hidden states, got {len(states)}")
    for k, t in enumerate([input] + states):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): {'input' if k == 0 else f'hx[{k - 1}]'} must be a Tensor, got {type(t).__name__}")
    for s in states:   # ATen reads hx.size(2): an IndexError, as torch's
        if s.ndim != 3:
            raise IndexOutOfRange(f"{op}: hx must be 3-D (num_layers * num_directions, batch, hidden_size), "
                                  f"got shape {s.shape}")
    want_ndim = 2 if batch_sizes is not None else 3
    if input.ndim != want_ndim:
        raise (IndexOutOfRange if input.ndim < want_ndim else ShapeMismatch)(
            f"{op}: expected input of {want_ndim} dimensions ({'data, features' if want_ndim == 2 else 'T, B, I'}), "
            f"got shape {input.shape}; nn.{mode.split('_')[0]} unsqueezes unbatched input before calling {op}")
    dirs = 2 if bidirectional else 1
    hidden_size = states[-1].shape[2]
    has_projections = mode == "LSTM" and states[0].shape[2] != states[1].shape[2]
    proj_size = states[0].shape[2] if has_projections else 0
    input_size = input.shape[-1]
    for k, s in enumerate(states):
        if s.shape[0] != num_layers * dirs:
            raise IndexOutOfRange(f"Expected more hidden states in stacked_rnn: hx[{k}] has {s.shape[0]} "
                                  f"(layer, direction) states, num_layers={num_layers} needs {num_layers * dirs}")
    groups = _weight_groups(mode, params, bool(has_biases), has_projections, int(num_layers), dirs, input_size,
                            hidden_size, proj_size)
    dtype, device = input.array.dtype, input.device
    for k, t in enumerate(states + list(params)):
        if t.array.dtype != dtype or t.device != device:
            label = f"hx[{k}]" if k < len(states) else f"params[{k - len(states)}]"
            if t.array.dtype != dtype:
                raise DTypeMismatch(f"{op}: input is {input.dtype} but {label} is {t.dtype}; convert one with "
                                    ".float() / .double()")
            raise RuntimeError(f"{op}: input is on {input.device} but {label} is on {t.device}")
    if batch_sizes is None:
        if input.shape[1 if batch_first else 0] == 0:
            raise ShapeMismatch("Expected sequence length to be larger than 0 in RNN")
        batch = input.shape[0 if batch_first else 1]
    else:
        sizes = _check_batch_sizes(batch_sizes, input.shape[0])
        batch, input = int(sizes[0]), PackedSequence(input, batch_sizes)
    for k, s in enumerate(states):
        if s.shape[1] != batch:
            raise ShapeMismatch(f"{op}: hx[{k}] has batch size {s.shape[1]} but the input has {batch}")
    layer = FlatWeightsLayer(mode, groups, input_size, hidden_size, proj_size, int(num_layers), dropout, train,
                             bidirectional, batch_first)
    out, finals = RNNBase.forward(layer, input, tuple(states) if mode == "LSTM" else states[0])
    if batch_sizes is not None:
        out = out.data
    return (out, *finals) if mode == "LSTM" else (out, finals)


def _check_batch_sizes(batch_sizes, rows):
    """A packed batch's batch_sizes: int64 as torch's, non-increasing, summing to the data's rows."""
    if not isinstance(batch_sizes, Tensor) or batch_sizes.dtype != np.int64:
        raise DTypeMismatch(f"expected scalar type Long but found {getattr(batch_sizes, 'dtype', type(batch_sizes))}"
                            " (batch_sizes: a PackedSequence's int64 Tensor)")
    sizes = _host_ints(batch_sizes, "batch_sizes")
    if sizes.size == 0 or sizes[-1] < 1 or np.any(np.diff(sizes) > 0) or sizes.sum() != rows:
        raise ShapeMismatch(f"batch_sizes {sizes.tolist()} must be positive, non-increasing and sum to the "
                            f"data's {rows} rows (build them with nn.utils.rnn.pack_padded_sequence)")
    return sizes


def _layer_function(mode):
    """torch's two overloads of one layer function, told apart as torch's parser does: the packed
    one has a Tensor (batch_sizes) where the other has hx (LSTM's, a tuple) or params (a list)."""
    op = mode.lower()
    padded_args = ("input", "hx", "params", "has_biases", "num_layers", "dropout", "train", "bidirectional",
                   "batch_first")
    packed_args = ("data", "batch_sizes", "hx", "params", "has_biases", "num_layers", "dropout", "train",
                   "bidirectional")

    def layer(*args, **kwargs):
        at = 1 if mode == "LSTM" else 2
        packed = "batch_sizes" in kwargs or "data" in kwargs or (len(args) > at and isinstance(args[at], Tensor))
        names = packed_args if packed else padded_args
        if len(args) > len(names):
            raise TypeError(f"{op}() takes {len(names)} arguments, got {len(args)}")
        bound = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names or name in bound:
                raise TypeError(f"{op}() got an unexpected or repeated argument '{name}'")
            bound[name] = value
        missing = [n for n in names if n not in bound]
        if missing:
            raise TypeError(f"{op}() missing required argument(s): {', '.join(missing)} "
                            f"(signature: {op}({', '.join(names)}))")
        if packed:
            return _run_layers(mode, bound["data"], bound["batch_sizes"], *(bound[n] for n in names[2:]), False)
        return _run_layers(mode, bound["input"], None, *(bound[n] for n in names[1:]))

    layer.__name__ = layer.__qualname__ = op
    layer.__doc__ = (f"torch.{op}: {op}({', '.join(padded_args)}) or {op}({', '.join(packed_args)}) -> "
                     + ("(output, h_n, c_n)" if mode == "LSTM" else "(output, h_n)")
                     + "; see tinygrad_seq.functional_rnn.")
    return layer


lstm = _layer_function("LSTM")
gru = _layer_function("GRU")
rnn_tanh = _layer_function("RNN_TANH")
rnn_relu = _layer_function("RNN_RELU")
