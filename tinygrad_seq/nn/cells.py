r"""Cell modules: one step of a described cell (tinygrad_seq/cell_library.py), composed from
primitive ops. nn.RNNCell, nn.LSTMCell, nn.GRUCell (PyTorch's), the variants' cells (built here
from their CellClasses records by class_builder, which nn/variants.py uses for their layers) and
nn.RecurrentCell for a user's CellSpec. The plain functions rnn_cell / lstm_cell / gru_cell run
the same descriptions on given weights.
Shapes: x (B, I) or unbatched (I,); states (B, H) or (H,).
"""
import inspect

import numpy as np

from tinygrad_seq import cell_library, dtypes
from tinygrad_seq import cellgen
from tinygrad_seq.cellspec import CellSpec, run_step
from tinygrad_seq.creation import zeros
from tinygrad_seq.nn import cell_fused_step
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.parameter import empty_parameter, fill_parameter
from tinygrad_seq.nn.rnn_hidden_dims import torch_words_first, type_name
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.errors import DTypeMismatch, NotATensor, ShapeMismatch, StateCountError


def _run(name, x, states, w_ih, w_hh, b_ih, b_hh):
    params = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    spec, H = cell_library.get(name), w_hh.shape[-1]
    if cell_fused_step.fusable(spec, x, H) and cell_fused_step.shapes_fit(spec, x, states, params, H):
        return cell_fused_step.fused_step(spec, x, states, params)   # the step nn.LSTMCell runs
    return run_step(spec, params, x, states, H)


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    r"""h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}: expected 'tanh' or 'relu'")
    return _run("rnn_" + nonlinearity, x, [h], w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""Gates i, f, g, o of x W_ih^T + b_ih + h W_hh^T + b_hh; c' = f c + i g; h' = o tanh(c').
    Returns (h', c')."""
    return tuple(_run("lstm", x, [h, c], w_ih, w_hh, b_ih, b_hh))


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h."""
    return _run("gru", x, [h], w_ih, w_hh, b_ih, b_hh)[0]


class RNNCellBase(Module):
    """One step of the cell `cell` (a built-in name or a CellSpec): parameters named as the
    description says (no layer suffix), initialised as it says. torch's own form,
    RNNCellBase(input_size, hidden_size, bias, num_chunks), for a subclass that writes its own
    forward (a hand-written cell's super().__init__), makes torch's four parameters instead."""

    def __init__(self, cell=None, input_size=None, hidden_size=None, bias=True, device=None, dtype=None, *,
                 num_chunks=None):
        super().__init__()
        if cell is None or num_chunks is not None or (isinstance(cell, (int, np.integer))
                                                      and not isinstance(cell, bool)):
            # torch's form (input_size, hidden_size, bias, num_chunks), by position or keyword
            if cell is None:
                args = (input_size, hidden_size, bias, num_chunks)
            elif hidden_size is None:   # (I, H, bias=..., num_chunks=...)
                args = (cell, input_size, bias, num_chunks)
            else:                       # (I, H, bias, num_chunks), num_chunks perhaps by keyword
                args = (cell, input_size, hidden_size, bias if num_chunks is None else num_chunks)
            self._torch_form(*args, device, dtype)
            return
        spec = cell if isinstance(cell, CellSpec) else cell_library.get(cell)
        # 0 is allowed (torch builds a cell of no units; its layers refuse hidden_size=0)
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a non-negative integer, got {v!r}")
        self.cell_spec = spec
        cellgen.check(spec)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        # the flag kept apart: a cell's parameter may be named `bias` (the LayerNorm LSTM's)
        self._with_bias = self.bias
        dt = np.dtype(dtype or dtypes.get_default_dtype())  # PyTorch: the default dtype
        shapes = spec.param_shapes(self.input_size, self.hidden_size, self.bias)
        for p in spec.params:
            if p.name in shapes:
                setattr(self, p.name, empty_parameter(shapes[p.name], dt))
            else:
                self.__dict__.pop(p.name, None)   # the bias flag, where a parameter is named bias
                self.register_parameter(p.name, None)
        self.reset_parameters()
        if device is not None and device != "cpu":
            self.to(device)

    def _torch_form(self, input_size, hidden_size, bias, num_chunks, device, dtype):
        """torch's RNNCellBase.__init__: weight_ih [num_chunks H, I], weight_hh [num_chunks H, H],
        bias_ih / bias_hh [num_chunks H] (None without bias), drawn by reset_parameters."""
        self.cell_spec = None
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        self._with_bias = self.bias
        dt = np.dtype(dtype or dtypes.get_default_dtype())
        n = int(num_chunks) * self.hidden_size
        self.weight_ih = empty_parameter((n, self.input_size), dt)
        self.weight_hh = empty_parameter((n, self.hidden_size), dt)
        for name in ("bias_ih", "bias_hh"):
            if self.bias:
                setattr(self, name, empty_parameter((n,), dt))
            else:
                self.register_parameter(name, None)
        self.reset_parameters()
        if device is not None and device != "cpu":
            self.to(device)

    def reset_parameters(self):
        """Draws every parameter as the cell description says (PyTorch's cells: U(-1/sqrt(H),
        1/sqrt(H))), in its order."""
        if self.cell_spec is None or self.cell_spec.all_uniform():   # torch's loop: U(-1/sqrt(H), 1/sqrt(H))
            # over self.parameters(), in its order (a weight-normed weight's g and v, or a
            # parametrization's originals, last)
            from tinygrad_seq.nn import init
            stdv = 1.0 / np.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
            for weight in self.parameters():
                init.uniform_(weight, -stdv, stdv)
            return
        dtype = next(iter(self._parameters.values())).dtype   # torch draws in the parameters' dtype
        arrays = self.cell_spec.init_params(self.input_size, self.hidden_size, self._with_bias, dtype)
        for name, arr in arrays.items():
            fill_parameter(self._parameters[name], arr)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self._with_bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh" and type(self).__name__ == "RNNCell":
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
        for label, s in states:   # every state's rank before any size, as torch's
            if isinstance(s, Tensor) and s.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {label.split()[0]} to be 1D or 2D, got {s.ndim}D instead "
                                 f"(shape {s.shape})")
        if x.shape[-1] != self.input_size:
            raise ShapeMismatch(f"{name}: input has inconsistent input_size: got {x.shape[-1]} expected "
                             f"{self.input_size} (input shape {x.shape})")
        p_dtype = next(iter(self._parameters.values())).dtype
        if x.dtype != p_dtype:
            raise DTypeMismatch(f"{name}: input dtype {x.dtype} does not match the parameters' dtype "
                                f"{p_dtype} (use .float() / .double() on the cell or the input)")
        in_shape, unbatched = x.shape, x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        B, H = x.shape[0], self.hidden_size
        want = (H,) if unbatched else (B, H)
        out = []
        for i, (label, s) in enumerate(states):
            if s is None:
                s = zeros((B, H), dtype=x.dtype, device=x.device)
            else:
                if s.shape != want:
                    raise ShapeMismatch(f"{_torch_state_message(s.shape, i, B, H, unbatched)} ({name}: expected "
                                        f"{label} of shape {want} for input of shape {in_shape}, got {s.shape})")
                if s.device != x.device:
                    raise RuntimeError(f"{name}: input is on {x.device} but {label} is on {s.device}")
                # a later state (an LSTM's c) only meets the step's pointwise ops, which promote as
                # torch's (a float64 c_0 gives float64 h and c, an int64 one float32); the first one
                # meets W_hh's product
                if s.dtype != x.dtype and i == 0:
                    raise RuntimeError(f"{name}: input dtype {x.dtype} and {label} dtype {s.dtype} differ")
                if unbatched:
                    s = s.unsqueeze(0)
            out.append(s)
        return x, out, unbatched

    def forward(self, input, hx=None):
        names = self.cell_spec.states
        if len(names) == 1:
            if hx is not None and not isinstance(hx, Tensor):
                raise NotATensor(torch_words_first(hx, f"{type(self).__name__}: hx must be one Tensor (the hidden "
                                                       f"state {names[0]!r}), got {type_name(hx)}"))
            labels = [("hidden", hx)]
        else:
            if hx is None:
                hx = (None,) * len(names)
            elif not isinstance(hx, (tuple, list)) or len(hx) != len(names):
                theirs = (f"{self.cell_spec.name}_cell expects {'two' if len(names) == 2 else len(names)} hidden "
                          f"states: " if isinstance(hx, (tuple, list)) else "")   # torch's words for a tuple
                raise StateCountError(f"{theirs}{type(self).__name__}: hx must be a tuple of {len(names)} tensors "
                                      f"{names}")
            labels = [(f"hx[{k}] ({n}_0)", s) for k, (n, s) in enumerate(zip(names, hx))]
        x, states, unbatched = self._check(input, labels)
        params = {p.name: getattr(self, p.name) for p in self.cell_spec.params}
        if self.hidden_size == 0:
            # a cell of no units (torch builds one): each new state is (B, 0); the step's gate
            # chunks of width 0 cannot be told apart, so it is not run. The result stays in the
            # graph of the input, the states and the (empty) parameters, whose gradients are
            # zeros, as torch's.
            empty = x[:, :0]
            for p in params.values():
                if p is not None:
                    empty = empty + p.sum() * 0
            new = [empty + s for s in states]
        elif (all(s.dtype == x.dtype for s in states) and cell_fused_step.fusable(self.cell_spec, x, self.hidden_size)
              and cell_fused_step.shapes_fit(self.cell_spec, x, states, params, self.hidden_size)):
            new = cell_fused_step.fused_step(self.cell_spec, x, states, params)
        else:
            new = run_step(self.cell_spec, params, x, states, self.hidden_size)
        if unbatched:
            new = [s.squeeze(0) for s in new]
        return new[0] if len(new) == 1 else tuple(new)


class RNNCell(RNNCellBase):
    r"""h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).

    weight_ih (hidden_size, input_size), weight_hh (hidden_size, hidden_size), bias_ih and
    bias_hh (hidden_size,), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    Call cell(x, hx=None): x (B, input_size) or (input_size,) -> h' (B, hidden_size) or (hidden_size,).
    """
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        # an unknown nonlinearity constructs (tanh's parameters) and fails at the call, as torch's RNNCell
        known = nonlinearity in ("tanh", "relu")
        super().__init__("rnn_" + (nonlinearity if known else "tanh"), input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            self._check(input, [("hidden", hx)])   # torch checks the input and hx first
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return super().forward(input, hx)


class LSTMCell(RNNCellBase):
    r"""i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the chunks of W_ih x + b_ih + W_hh h + b_hh;
    c' = f * c + i * g; h' = o * tanh(c'). Call cell(x, hx=None) with hx = (h, c) -> (h', c')."""
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, bias, device, dtype)


class GRUCell(RNNCellBase):
    r"""r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
    reset_after=False: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn) (Cho et al. 2014)."""
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, reset_after=True):
        from tinygrad_seq.nn.rnn import _check_flag
        _check_flag("reset_after", reset_after)
        super().__init__("gru" if reset_after else "gru_reset_before", input_size, hidden_size, bias, device, dtype)
        self.reset_after = bool(reset_after)


class RecurrentCell(RNNCellBase):
    r"""One step of a user's CellSpec: RecurrentCell(cell, input_size, hidden_size, bias=True).
    Returns h' for a one-state cell, the tuple of new states otherwise."""
    def __init__(self, cell, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(cell, input_size, hidden_size, bias, device, dtype)


# the variants' cells, built from their CellClasses records (cell_library.CLASSES)
CELL_ARGS = [("input_size", inspect.Parameter.empty), ("hidden_size", inspect.Parameter.empty), ("bias", True),
             ("device", None), ("dtype", None)]
CELL_CLASSES = {}   # CellClasses key -> cell class, PyTorch's included


def call_form(spec, suffix="'"):
    """The states a step returns, as the docstrings write them: "h'" or "(h', c')"."""
    names = [s + suffix for s in spec.states]
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


def signature(arguments):
    """An inspect.Signature (self first) of (name, default) pairs."""
    P = inspect.Parameter
    return inspect.Signature([P("self", P.POSITIONAL_OR_KEYWORD)]
                             + [P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d in arguments])


def class_builder(kind, base, arguments, construct, doc, namespace, registry):
    """The cell_library subscriber that makes the `kind` ("layer" or "cell") class of each
    CellClasses record: a subclass of `base` whose constructor takes `arguments` ((name, default)
    pairs, in order) with the record's options inserted, checks the options and calls
    construct(self, CellSpec name, arguments by name); doc(classes, spec) is its docstring. The
    class goes into `namespace` (a module's globals, so that it imports like a written one) and
    `registry` (by key); a hand-written class (PyTorch's) is taken from `namespace` instead."""
    def build(classes):
        name = getattr(classes, kind)
        sig = signature(classes.arguments(arguments, kind))

        def __init__(self, *args, **kwargs):
            named = [o.name for o in classes.options if isinstance(o.default, str)]
            if kind == "layer" and len(args) > 2 and isinstance(args[2], str) and named:
                # API.md's nn.IndRNN(input_size, hidden_size, nonlinearity="relu", ...): a string third
                # is the layer's option, not num_layers
                kwargs[named[0]], args = args[2], args[:2] + args[3:]
            try:
                bound = sig.bind(self, *args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{name}(): {e}") from None
            bound.apply_defaults()
            options = {o.name: o.check(bound.arguments[o.name]) for o in classes.options}
            construct(self, classes.spec_name(**options), bound.arguments)
            for option, value in options.items():
                setattr(self, option, value)
        __init__.__signature__, __init__.__qualname__ = sig, name + ".__init__"
        spec = cell_library.get(classes.spec_name())
        return type(name, (base,), {"__init__": __init__, "__doc__": doc(classes, spec),
                                    "__module__": namespace["__name__"], "__qualname__": name})

    def on_register(classes, added):
        name = getattr(classes, kind)
        if not added:
            registry.pop(classes.key, None)
            if not classes.hand_written:
                namespace.pop(name, None)
        elif classes.hand_written:
            registry[classes.key] = namespace[name]
        else:
            namespace[name] = registry[classes.key] = build(classes)
    return on_register


def built_for(registry, name, args, kwargs):
    """An instance of the class in `registry` that runs the built-in CellSpec `name`, given the
    options that pick it."""
    classes, options = cell_library.classes_of(name)
    if classes is None or classes.key not in registry:
        raise ValueError(f"no built-in class runs cell {name!r}")
    return registry[classes.key](*args, **options, **kwargs)


def cell_for(name, *args, **kwargs):
    """The cell module running the built-in CellSpec `name` (its class, with the options that pick
    it: "indrnn_tanh" -> IndRNNCell(..., nonlinearity="tanh")); args and kwargs go to the class."""
    return built_for(CELL_CLASSES, name, args, kwargs)


cell_library.subscribe(class_builder(
    "cell", RNNCellBase, CELL_ARGS,
    lambda self, cell, a: RNNCellBase.__init__(self, cell, a["input_size"], a["hidden_size"], a["bias"], a["device"],
                                               a["dtype"]),
    lambda classes, spec: classes.cell_doc or f"One step of nn.{classes.layer}: {call_form(spec)}.",
    globals(), CELL_CLASSES))


def _torch_state_message(shape, i, batch, hidden, unbatched):
    """torch's sentence for state i (1-D or 2-D) of a wrong shape: its check runs on the state as
    its cell batches it (an unbatched input's state with a dimension put in front); a 1-D state
    beside a batched input has no hidden size to name."""
    shape = (1,) + tuple(shape) if unbatched else tuple(shape)
    if shape[0] != batch:
        return f"Input batch size {batch} doesn't match hidden{i} batch size {shape[0]}"
    if len(shape) < 2:
        return f"hidden{i} has no hidden_size dimension: got shape {shape}, expected ({batch}, {hidden})"
    return f"hidden{i} has inconsistent hidden_size: got {shape[1]}, expected {hidden}"

