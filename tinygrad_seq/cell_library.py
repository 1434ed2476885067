r"""The built-in cell descriptions: one CellSpec per cell, the single place that says its gates,
states, parameters and step (see cellspec.py). Gate orders follow PyTorch where it has the cell.

Each built-in cell family also has a CellClasses record (CLASSES): the names, docstrings and
options of its public layer and cell classes, which nn/variants.py and nn/cells.py build from it and
tinygrad_seq.nn exports. Adding a built-in variant: write its step, CellSpec and CellClasses here
and add them with register() (the classes appear at once, also after import); then its tests and
the README. Nothing else names it.
"""
from tinygrad_seq.cellspec import CellClasses, CellSpec, Option, ParamSpec, standard_params


def _act(v, nonlinearity):
    if nonlinearity == "tanh":
        return v.tanh()
    if nonlinearity == "relu":
        return v.relu()
    raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def rnn_tanh_step(cell, x, s):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"""
    return {"h": _act(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh),
                      "tanh")}


def rnn_relu_step(cell, x, s):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh)"""
    return {"h": _act(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh),
                      "relu")}


def lstm_step(cell, x, s):
    """i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of W_ih x + b_ih + W_hh h + b_hh;
    c' = f c + i g; h' = o tanh(c')"""
    i, f, g, o = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh))
    c = f.sigmoid() * s.c + i.sigmoid() * g.tanh()
    return {"h": o.sigmoid() * c.tanh(), "c": c}


def gru_step(cell, x, s):
    """r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn), h' = (1 - z) n + z h,
    with x* = W_i* x + b_i*, h* = W_h* h + b_h* (PyTorch: reset after the product)"""
    xr, xz, xn = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih))
    hr, hz, hn = cell.split(cell.linear(s.h, cell.weight_hh, cell.bias_hh))
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return {"h": n + z * (s.h - n)}


def gru_reset_before_step(cell, x, s):
    """Cho et al. 2014: as the GRU but n = tanh(W_in x + b_in + W_hn (r * h) + b_hn): a second
    recurrent product inside the step"""
    xr, xz, xn = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih))
    hr, hz = cell.split(cell.linear(s.h, cell.gate(cell.weight_hh, 0, 2), cell.gate(cell.bias_hh, 0, 2)))
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + cell.linear(r * s.h, cell.gate(cell.weight_hh, 2), cell.gate(cell.bias_hh, 2))).tanh()
    return {"h": n + z * (s.h - n)}


def peephole_lstm_step(cell, x, s):
    """Gers and Schmidhuber 2000: i, f see c(t-1) and o sees c(t) through weight_peephole rows
    p_i, p_f, p_o"""
    i, f, g, o = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh))
    p = cell.weight_peephole
    c = (f + p[1] * s.c).sigmoid() * s.c + (i + p[0] * s.c).sigmoid() * g.tanh()
    return {"h": (o + p[2] * c).sigmoid() * c.tanh(), "c": c}


def cifg_lstm_step(cell, x, s):
    """Coupled input-forget gate: gates i, g, o; f = 1 - i"""
    i, g, o = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh))
    i = i.sigmoid()
    c = (1 - i) * s.c + i * g.tanh()
    return {"h": o.sigmoid() * c.tanh(), "c": c}


def layernorm_lstm_step(cell, x, s):
    """gates = LN_ih(W_ih x) + LN_hh(W_hh h) + bias; c as LSTM; h = o tanh(LN_c(c))"""
    gates = (cell.layer_norm(cell.linear(x, cell.weight_ih), cell.ln_ih_weight, cell.ln_ih_bias)
             + cell.layer_norm(cell.linear(s.h, cell.weight_hh), cell.ln_hh_weight, cell.ln_hh_bias) + cell.bias)
    i, f, g, o = cell.split(gates)
    c = f.sigmoid() * s.c + i.sigmoid() * g.tanh()
    return {"h": o.sigmoid() * cell.layer_norm(c, cell.ln_c_weight, cell.ln_c_bias).tanh(), "c": c}


def layernorm_gru_step(cell, x, s):
    """xg = LN_ih(W_ih x) + b_ih, hg = LN_hh(W_hh h) + b_hh, then the GRU's gates"""
    xr, xz, xn = cell.split(cell.layer_norm(cell.linear(x, cell.weight_ih), cell.ln_ih_weight, cell.ln_ih_bias)
                            + cell.bias_ih)
    hr, hz, hn = cell.split(cell.layer_norm(cell.linear(s.h, cell.weight_hh), cell.ln_hh_weight, cell.ln_hh_bias)
                            + cell.bias_hh)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return {"h": n + z * (s.h - n)}


def _indrnn(nonlinearity):
    def step(cell, x, s):
        """Li et al. 2018: h' = act(W_ih x + b_ih + u * h + b_hh), u = weight_hh [H]"""
        return {"h": _act(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.weight_hh * s.h + cell.bias_hh,
                          nonlinearity)}
    return step


def _ln_params(prefix, width):
    return [ParamSpec(f"ln_{prefix}_weight", (width,), init="ones"),
            ParamSpec(f"ln_{prefix}_bias", (width,), init="zeros")]


CELLS = {
    # module-level steps, not closures: a module holding the spec pickles (spawned DataLoader
    # workers, copy by pickle)
    "rnn_tanh": CellSpec("rnn_tanh", 1, ("h",), rnn_tanh_step),
    "rnn_relu": CellSpec("rnn_relu", 1, ("h",), rnn_relu_step),
    "lstm": CellSpec("lstm", 4, ("h", "c"), lstm_step),
    "gru": CellSpec("gru", 3, ("h",), gru_step),
    "gru_reset_before": CellSpec("gru_reset_before", 3, ("h",), gru_reset_before_step),
    "peephole_lstm": CellSpec("peephole_lstm", 4, ("h", "c"), peephole_lstm_step,
                              standard_params() + [ParamSpec("weight_peephole", (3, "H"), init="zeros")]),
    "cifg_lstm": CellSpec("cifg_lstm", 3, ("h", "c"), cifg_lstm_step),
    "layernorm_lstm": CellSpec("layernorm_lstm", 4, ("h", "c"), layernorm_lstm_step,
                               standard_params(biases=("bias",)) + _ln_params("ih", "G*H") + _ln_params("hh", "G*H")
                               + _ln_params("c", "H")),
    "layernorm_gru": CellSpec("layernorm_gru", 3, ("h",), layernorm_gru_step,
                              standard_params() + _ln_params("ih", "G*H") + _ln_params("hh", "G*H")),
    "indrnn_relu": CellSpec("indrnn_relu", 1, ("h",), _indrnn("relu"), standard_params(hh="vector")),
    "indrnn_tanh": CellSpec("indrnn_tanh", 1, ("h",), _indrnn("tanh"), standard_params(hh="vector")),
}

# PyTorch's RNNBase mode strings
MODES = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}

_NONLINEARITY = dict(values=("tanh", "relu"), layer_after="num_layers", cell_after="bias")

# the public classes of each cell family (hand_written: PyTorch's, in nn/rnn.py and nn/cells.py)
CLASSES = {}
_subscribers = []


def register(classes, *specs):
    """Add built-in cells: each CellSpec to CELLS, and (classes a CellClasses, or None) their public
    classes, which every subscriber (nn/cells.py, nn/variants.py, tinygrad_seq.nn) builds and
    exports at once. Returns classes."""
    for spec in specs:
        if not isinstance(spec, CellSpec):
            raise TypeError(f"register: expected CellSpecs, got {type(spec).__name__}")
        if spec.name in CELLS or spec.name in MODES:
            raise ValueError(f"register: a cell called {spec.name!r} is already registered")
    if classes is not None:
        if not isinstance(classes, CellClasses):
            raise TypeError(f"register: classes must be a CellClasses or None, got {type(classes).__name__}")
        taken = {n for c in CLASSES.values() for n in (c.key, c.layer, c.cell)}
        clash = [n for n in (classes.key, classes.layer, classes.cell) if n in taken]
        if clash:
            raise ValueError(f"register: {clash[0]!r} already names a built-in cell's classes")
    CELLS.update({spec.name: spec for spec in specs})
    if classes is not None:
        missing = [name for name, _ in classes.choices() if name not in CELLS]
        if missing:
            for spec in specs:
                del CELLS[spec.name]
            raise ValueError(f"register: {classes.layer} runs cell {missing[0]!r}, which is not registered")
        CLASSES[classes.key] = classes
        done = []
        try:
            for fn in _subscribers:
                fn(classes, True)
                done.append(fn)
        except Exception:   # a class that cannot be built (an option placed after no argument): undo
            for fn in reversed(done):
                fn(classes, False)
            del CLASSES[classes.key]
            for spec in specs:
                del CELLS[spec.name]
            raise
    return classes


def unregister(key):
    """Remove the classes registered under `key` and the cells they run (the subscribers drop the
    classes too)."""
    if key not in CLASSES:
        raise ValueError(f"unregister: no built-in classes called {key!r} (registered: {sorted(CLASSES)})")
    classes = CLASSES.pop(key)
    for fn in reversed(_subscribers):
        fn(classes, False)
    for name, _ in classes.choices():
        CELLS.pop(name, None)


def subscribe(fn):
    """Call fn(classes, True) for every registered CellClasses now and for each one registered
    later, fn(classes, False) for each one removed: how nn builds and exports the classes."""
    _subscribers.append(fn)
    for classes in list(CLASSES.values()):
        fn(classes, True)


def classes_of(name):
    """(CellClasses, option values) whose public classes run the CellSpec `name`, or (None, None)."""
    for classes in CLASSES.values():
        for spec_name, values in classes.choices():
            if spec_name == name:
                return classes, values
    return None, None


register(CellClasses("rnn", "RNN", "RNNCell", lambda nonlinearity: "rnn_" + nonlinearity,
                     options=[Option("nonlinearity", "tanh", **_NONLINEARITY)], zoneout=False, hand_written=True))
register(CellClasses("lstm", "LSTM", "LSTMCell", "lstm", hand_written=True))
register(CellClasses("gru", "GRU", "GRUCell", lambda reset_after: "gru" if reset_after else "gru_reset_before",
                     options=[Option("reset_after", True, (True, False), layer_after="zoneout", cell_after="dtype")],
                     hand_written=True))

register(CellClasses("peephole_lstm", "PeepholeLSTM", "PeepholeLSTMCell", "peephole_lstm",
                     r"""Peephole LSTM (Gers and Schmidhuber 2000):

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi + p_i * c)     f likewise with p_f * c
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)                  c' = f * c + i * g
    o = sigmoid(W_io x + b_io + W_ho h + b_ho + p_o * c')    h' = o * tanh(c')

LSTM parameters plus weight_peephole_l{k} [3, H] (rows p_i, p_f, p_o), zero at init."""))

register(CellClasses("cifg_lstm", "CIFGLSTM", "CIFGLSTMCell", "cifg_lstm",
                     r"""Coupled input-forget gate LSTM: gates i, g, o (weight_ih [3H, I], weight_hh
[3H, H]); f = 1 - i, c' = f * c + i * g, h' = o * tanh(c')."""))

register(CellClasses("layernorm_lstm", "LayerNormLSTM", "LayerNormLSTMCell", "layernorm_lstm",
                     r"""LayerNorm LSTM (Ba et al. 2016, as haste):

    gates = LN_ih(W_ih x) + LN_hh(W_hh h) + bias      (i, f, g, o)
    c' = f * c + i * g                                h' = o * tanh(LN_c(c'))

Parameters weight_ih_l{k}, weight_hh_l{k}, bias_l{k} [4H], ln_ih_weight/bias_l{k},
ln_hh_weight/bias_l{k} [4H], ln_c_weight/bias_l{k} [H]; eps 1e-5, gains 1, biases 0."""))

register(CellClasses("layernorm_gru", "LayerNormGRU", "LayerNormGRUCell", "layernorm_gru",
                     r"""LayerNorm GRU:

    xg = LN_ih(W_ih x) + b_ih, hg = LN_hh(W_hh h) + b_hh (each split r, z, n)
    r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn), h' = (1 - z) n + z h

Parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, ln_ih_weight/bias_l{k},
ln_hh_weight/bias_l{k} [3H]."""))

register(CellClasses("indrnn", "IndRNN", "IndRNNCell", lambda nonlinearity: "indrnn_" + nonlinearity,
                     r"""Independently recurrent network (Li et al. 2018): h' = act(W_ih x + b_ih + u * h + b_hh)
with a diagonal recurrent weight u = weight_hh_l{k} [H]; act "relu" (default) or "tanh".""",
                     cell_doc="One step of nn.IndRNN: h' = act(W_ih x + b_ih + u * h + b_hh), u = weight_hh [H].",
                     options=[Option("nonlinearity", "relu", **_NONLINEARITY)], zoneout=False))


def get(name):
    """The built-in CellSpec called `name` (a CELLS key or a PyTorch mode string)."""
    key = MODES.get(name, name)
    if key not in CELLS:
        raise ValueError(f"unknown cell {name!r}: expected one of {sorted(CELLS)} or {sorted(MODES)}")
    return CELLS[key]
