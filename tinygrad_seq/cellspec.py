r"""Cell descriptions: a recurrent cell written once, as data plus a step of Tensor ops.

A CellSpec says how many gates the cell has (weight_ih is [gates*H, I]), which states it carries
(("h",) or ("h", "c"); the first is the output), its parameters (names, shapes, initialisation)
and its step. The step, written with Tensor ops, is the unfused reference; the fused CPU kernel
is generated from it (tinygrad_seq/cellgen: the step is traced on a symbolic graph, its backward
derived by reverse mode). Every layer, cell class, benchmark and test takes cells from here.

    def step(cell, x, state):        # x (B, I); state.h, state.c (B, H); returns the new states
        gates = cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(state.h, cell.weight_hh, cell.bias_hh)
        i, f, g, o = cell.split(gates)               # H-wide gate chunks, in order
        c = f.sigmoid() * state.c + i.sigmoid() * g.tanh()
        return {"h": o.sigmoid() * c.tanh(), "c": c}

The `cell` argument offers the layer's parameters as attributes (a bias of a bias=False layer
reads as zeros), `hidden_size`, and four helpers that work on Tensors and on the symbolic graph
alike: linear(v, w, b=None) = v w^T + b; split(v, n=None) -> the H-wide chunks of v (last axis;
rows for a weight matrix); gate(v, k, n=1) -> chunks k..k+n-1; layer_norm(v, w, b, eps=1e-5)
over the last axis. Ops the generator fuses: + - * / (with numbers too), unary -, sigmoid, tanh,
relu, exp, sqrt, mean(dim=-1, keepdim=True), slicing by split/gate, and linear on the input
(once, the hoisted input projection) or on any H-wide value (a recurrent product in the step).
"""
import types

import numpy as np

from tinygrad_seq import random


class ParamSpec:
    """One parameter of a cell. shape: a tuple of ints or expressions in I (input size), H
    (hidden size) and G (gates), e.g. ("G*H", "I"), ("3", "H"). init: "uniform" (PyTorch's
    U(-1/sqrt(H), 1/sqrt(H))), "zeros", "ones", or a function (shape, hidden_size) -> array.
    bias=True: the parameter exists only when the layer has bias=True (else it reads as zeros)."""

    def __init__(self, name, shape, init="uniform", bias=False):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"ParamSpec: name must be an identifier, got {name!r}")
        if init not in ("uniform", "zeros", "ones") and not callable(init):
            raise ValueError(f"ParamSpec {name}: init must be 'uniform', 'zeros', 'ones' or a function, got {init!r}")
        self.name, self.shape, self.init, self.bias = name, tuple(shape), init, bool(bias)

    def resolve(self, I, H, G):
        env = {"I": I, "H": H, "G": G, "__builtins__": {}}
        try:
            dims = tuple(int(d) if isinstance(d, (int, np.integer)) else int(eval(str(d), env)) for d in self.shape)
        except Exception as e:
            raise ValueError(f"ParamSpec {self.name}: cannot evaluate shape {self.shape} "
                             f"with I={I}, H={H}, G={G}: {e}") from None
        return dims

    def initial(self, I, H, G, dtype):
        shape = self.resolve(I, H, G)
        if self.init == "uniform":
            bound = 1.0 / np.sqrt(H) if H > 0 else 0.0   # torch's stdv for hidden_size 0
            arr = random.uniform(-bound, bound, shape, dtype=dtype)   # torch's draws for the dtype
        elif self.init == "zeros":
            arr = np.zeros(shape)
        elif self.init == "ones":
            arr = np.ones(shape)
        else:
            try:
                arr = np.asarray(self.init(shape, H))
            except TypeError as e:
                if "positional argument" not in str(e):
                    raise
                raise TypeError(f"ParamSpec {self.name}: init is called as init(shape, hidden_size) and "
                                f"returns an array of that shape ({e})") from None
            if arr.shape != shape:
                raise ValueError(f"ParamSpec {self.name}: init returned shape {arr.shape}, expected {shape}")
        return np.ascontiguousarray(arr, dtype=dtype)


def standard_params(hh="matrix", biases=("bias_ih", "bias_hh")):
    """PyTorch's weight_ih [G*H, I], weight_hh [G*H, H] (hh="vector": [H], a diagonal recurrent
    weight) and the named biases [G*H], in PyTorch's order."""
    ps = [ParamSpec("weight_ih", ("G*H", "I")),
          ParamSpec("weight_hh", ("G*H", "H") if hh == "matrix" else ("H",))]
    return ps + [ParamSpec(b, ("G*H",), bias=True) for b in biases]


class CellSpec:
    """A recurrent cell description (see the module docstring). name: shown in errors and used
    for the generated kernel's file; gates: rows of weight_ih in units of H; states: state names,
    the first ("h") is the output; step(cell, x, state) -> dict (or tuple in state order) of new
    states; params: ParamSpecs in parameter order (default standard_params()); nonlinearity: the
    RNN-style keyword the layer accepts, if any."""

    def __init__(self, name, gates, states, step, params=None, doc=""):
        if not isinstance(gates, (int, np.integer)) or gates < 1:
            raise ValueError(f"CellSpec {name}: gates must be a positive integer, got {gates!r}")
        states = tuple(states)
        if not states or states[0] != "h" or len(set(states)) != len(states):
            raise ValueError(f"CellSpec {name}: states must be distinct names starting with 'h', got {states}")
        if not callable(step):
            raise TypeError(f"CellSpec {name}: step must be a function (cell, x, state) -> new states")
        self.name, self.gates, self.states, self.step, self.doc = name, int(gates), states, step, doc
        self.params = list(standard_params() if params is None else params)
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"CellSpec {name}: parameter names repeat: {names}")
        self._kernel = None  # the generated fused kernel (cellgen), built on first fused call

    # a description, shared and never changed: a copied model keeps the same one, so it runs the
    # same kernels (a copy would be a new cell to the kernel registry: the generated kernel, with
    # its first compile and its own rounding, instead of the hand-written one)
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"CellSpec({self.name!r}, gates={self.gates}, states={self.states})"

    def param_shapes(self, input_size, hidden_size, bias=True):
        return {p.name: p.resolve(input_size, hidden_size, self.gates) for p in self.params if bias or not p.bias}

    def all_uniform(self):
        """Every parameter drawn from U(-1/sqrt(H), 1/sqrt(H)) (torch's built-in cells)."""
        return all(p.init == "uniform" for p in self.params)

    def init_params(self, input_size, hidden_size, bias, dtype):
        """name -> initial numpy array, in parameter order (bias parameters only with bias)."""
        return {p.name: p.initial(input_size, hidden_size, self.gates, dtype)
                for p in self.params if bias or not p.bias}

    def new_states(self, out, where="step"):
        """The step's result as a list in state order, with an error naming a missing state."""
        if isinstance(out, dict):
            missing = [s for s in self.states if s not in out]
            if missing:
                raise ValueError(f"cell {self.name}: the step never produced state {missing[0]!r} "
                                 f"(it returned {sorted(out)}; states are {self.states})")
            extra = [k for k in out if k not in self.states]
            if extra:
                raise ValueError(f"cell {self.name}: the step returned {extra[0]!r}, which is not a state "
                                 f"({self.states})")
            return [out[s] for s in self.states]
        out = list(out) if isinstance(out, (tuple, list)) else [out]
        if len(out) != len(self.states):
            raise ValueError(f"cell {self.name}: the step returned {len(out)} values for states {self.states}")
        return out


class TensorCell:
    """The `cell` argument of a step run on Tensors (the unfused path): parameters as attributes."""

    def __init__(self, spec, params, hidden_size, like, ext=None):
        self._spec, self._params, self.hidden_size, self._like = spec, params, hidden_size, like
        self._ext = ext

    def ext(self, k):
        """Extra per-step input k (B, H): a zoneout mask."""
        return self._ext[k]

    def __getattr__(self, name):
        params = self.__dict__.get("_params", {})
        if name in params and params[name] is not None:
            return params[name]
        spec = self.__dict__.get("_spec")
        for p in (spec.params if spec is not None else ()):
            if p.name == name:  # a bias of a bias=False layer: zeros, no gradient
                from tinygrad_seq.creation import zeros
                shape = p.resolve(0, self.hidden_size, spec.gates)
                return zeros(shape, dtype=self._like.dtype, device=self._like.device)
        raise AttributeError(f"cell {spec.name if spec else '?'} has no parameter {name!r} "
                             f"(parameters: {[p.name for p in spec.params] if spec else []})")

    def _axis(self, v):
        return 0 if v.ndim == 2 and any(v is p for p in self._params.values()) else v.ndim - 1

    def linear(self, v, w, b=None):
        # F.linear's one node, whose W gradient stays factored (outer_grad): a decoder's LSTMCell
        # over 20 steps makes one g^T x GEMM per weight, not 20 small ones (and no transposes)
        from tinygrad_seq.functional import linear
        if b is not None and b.shape != w.shape[:1]:
            return linear(v, w) + b
        return linear(v, w, b)

    def gate(self, v, k, n=1):
        H = self.hidden_size
        ax = self._axis(v)
        idx = (slice(None),) * ax + (slice(k * H, (k + n) * H),)
        return v[idx]

    def split(self, v, n=None):
        H = self.hidden_size
        width = v.shape[self._axis(v)]
        if width % H:
            raise ValueError(f"split: width {width} is not a multiple of hidden_size {H}")
        n = width // H if n is None else n
        size = width // n
        if size % H:
            raise ValueError(f"split: {width} does not split into {n} chunks of whole multiples of {H}")
        return [self.gate(v, k * size // H, size // H) for k in range(n)]

    def layer_norm(self, v, w, b, eps=1e-5):
        return layer_norm(v, w, b, eps)


def layer_norm(v, w, b, eps=1e-5):
    """LayerNorm over the last axis, written with the ops the generator fuses."""
    d = v - v.mean(dim=-1, keepdim=True)
    return d / ((d * d).mean(dim=-1, keepdim=True) + eps).sqrt() * w + b


def run_step(spec, params, x, states, hidden_size, ext=None):
    """One unfused step: x (B, I) and states (list of (B, H) Tensors) -> new states (list)."""
    cell = TensorCell(spec, params, hidden_size, x, ext)
    try:
        out = spec.step(cell, x, types.SimpleNamespace(**dict(zip(spec.states, states))))
    except (IndexError, KeyError, AttributeError) as e:   # the user's step: name the cell
        raise type(e)(f"cell {spec.name}: the step fails on input {tuple(x.shape)} with states "
                      f"{[tuple(s.shape) for s in states]}: {e}") from e
    return spec.new_states(out)


def run_sequence(spec, params, x, states, hidden_size, lengths, reverse=False, ext=None, proj=None):
    """The unfused reference of a fused layer: the step once per time step of x (T, B, I) from
    states [(B, H)]; a sequence past its length (lengths, a host int array (B,)) keeps its state
    and outputs zeros. ext: (T, B, S*H) per-step extra inputs or None; proj: (P, H) projection
    of h or None. Returns y (T, B, H or P) and the leaving states. The module's fused=False path
    and higher_order.py's recomposition of the fused functions both run it."""
    from tinygrad_seq.creation import stack, tensor
    T, H = x.shape[0], hidden_size
    full_len = bool(np.all(lengths == T))
    ys = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        step_ext = None if ext is None else [ext[t][:, k * H:(k + 1) * H] for k in range(len(states))]
        new = run_step(spec, params, x[t], states, H, step_ext)
        if proj is not None:
            new[0] = new[0] @ proj.transpose(0, 1)
        if full_len:
            states, ys[t] = new, new[0]
        else:
            m = tensor((t < lengths).astype(x.dtype).reshape(-1, 1), device=x.device)
            ys[t] = new[0] * m
            states = [s + (n - s) * m for s, n in zip(states, new)]
    return stack(ys, 0), states


class Option:
    """An extra constructor argument of a built-in cell's public classes that picks which CellSpec
    they run (nn.IndRNN's nonlinearity, nn.GRU's reset_after): its name, default, allowed values,
    and the argument it follows in the layer's and in the cell's signature (PyTorch's places:
    nn.RNN(input_size, hidden_size, num_layers, nonlinearity, bias, ...) but nn.RNNCell(input_size,
    hidden_size, bias, nonlinearity, ...)). The built classes keep the value as an attribute."""

    def __init__(self, name, default, values, layer_after="num_layers", cell_after="bias"):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Option: name must be an identifier, got {name!r}")
        values = tuple(values)
        if default not in values:
            raise ValueError(f"Option {name}: default {default!r} is not one of {values}")
        self.name, self.default, self.values = name, default, values
        self.layer_after, self.cell_after = layer_after, cell_after

    def check(self, value):
        """The value, or PyTorch's error for a value not allowed (nn.RNN's nonlinearity wording)."""
        if value not in self.values:
            raise ValueError(f"Unknown {self.name} '{value}'. Select from "
                             + " or ".join(f"'{v}'" for v in self.values) + ".")
        return value

    def __repr__(self):
        return f"Option({self.name!r}, {self.default!r}, {self.values})"


class CellClasses:
    """The public layer and cell classes of a built-in cell, as data: nn/variants.py and nn/cells.py
    build them from this record and tinygrad_seq.nn exports them (PyTorch's RNN, LSTM and GRU and
    their cells are written by hand there: hand_written=True, the record only says which CellSpec
    each of their options runs).

    key: the layer's name in nn.variants.LAYERS (seq2seq's rnn_type, the comparison run, the
    benchmarks); layer, cell: the class names (nn.<layer>, nn.<cell>); doc: the layer's docstring
    (the call form, from the states, is added); cell_doc: the cell's (default "One step of
    nn.<layer>"); cells: the CellSpec name the classes run, or with options a function of their
    values (keywords) -> CellSpec name; options: Options; zoneout: whether the layer takes zoneout."""

    def __init__(self, key, layer, cell, cells, doc="", cell_doc=None, options=(), zoneout=True,
                 hand_written=False):
        for what, v in (("key", key), ("layer", layer), ("cell", cell)):
            if not isinstance(v, str) or not v.isidentifier():
                raise ValueError(f"CellClasses: {what} must be an identifier, got {v!r}")
        self.options = tuple(options)
        if not callable(cells) and not isinstance(cells, str):
            raise TypeError(f"CellClasses {key}: cells must be a CellSpec name or a function of the options")
        if callable(cells) and not self.options:
            raise ValueError(f"CellClasses {key}: cells is a function but there are no options to call it with")
        self.key, self.layer, self.cell, self._cells = key, layer, cell, cells
        self.doc, self.cell_doc = doc, cell_doc
        self.zoneout, self.hand_written = bool(zoneout), bool(hand_written)

    def __repr__(self):
        return f"CellClasses({self.key!r}, {self.layer!r}, {self.cell!r})"

    def spec_name(self, **values):
        """The CellSpec name run for these option values (defaults for those not given)."""
        unknown = set(values) - {o.name for o in self.options}
        if unknown:
            raise TypeError(f"{self.layer}: unknown option {sorted(unknown)[0]!r} "
                            f"(options: {[o.name for o in self.options]})")
        if isinstance(self._cells, str):
            return self._cells
        return self._cells(**{o.name: o.check(values.get(o.name, o.default)) for o in self.options})

    def choices(self):
        """[(CellSpec name, {option: value})] for every combination of option values, defaults first."""
        combos = [{}]
        for o in self.options:
            order = [o.default] + [v for v in o.values if v != o.default]
            combos = [dict(c, **{o.name: v}) for c in combos for v in order]
        return [(self.spec_name(**c), c) for c in combos]

    def arguments(self, base, kind):
        """The constructor's (name, default) list: `base` (the layer's or the cell's common
        arguments, in order) with the options inserted where they stand; a layer without zoneout
        drops it. kind: "layer" or "cell"."""
        args = [a for a in base if kind != "layer" or self.zoneout or a[0] != "zoneout"]
        for o in self.options:
            after = o.layer_after if kind == "layer" else o.cell_after
            names = [a[0] for a in args]
            if after not in names:
                raise ValueError(f"CellClasses {self.key}: option {o.name} follows {after!r}, which is not "
                                 f"an argument of the {kind} ({names})")
            args.insert(names.index(after) + 1, (o.name, o.default))
        return args
