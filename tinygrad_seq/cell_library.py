r"""The built-in cell descriptions: one CellSpec per cell, the single place that says its gates,
states, parameters and step (see cellspec.py). Gate orders follow PyTorch where it has the cell.

Adding a built-in variant: write its step and CellSpec here, register it in CELLS, and give it a
layer / cell class through nn.rnn.layer_class / nn.cells.cell_class.
"""
from tinygrad_seq.cellspec import CellSpec, ParamSpec, standard_params


def _act(v, nonlinearity):
    if nonlinearity == "tanh":
        return v.tanh()
    if nonlinearity == "relu":
        return v.relu()
    raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def _rnn(nonlinearity):
    def step(cell, x, s):
        """h' = act(W_ih x + b_ih + W_hh h + b_hh)"""
        return {"h": _act(cell.linear(x, cell.weight_ih, cell.bias_ih)
                          + cell.linear(s.h, cell.weight_hh, cell.bias_hh), nonlinearity)}
    return step


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
    "rnn_tanh": CellSpec("rnn_tanh", 1, ("h",), _rnn("tanh")),
    "rnn_relu": CellSpec("rnn_relu", 1, ("h",), _rnn("relu")),
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


def get(name):
    """The built-in CellSpec called `name` (a CELLS key or a PyTorch mode string)."""
    key = MODES.get(name, name)
    if key not in CELLS:
        raise ValueError(f"unknown cell {name!r}: expected one of {sorted(CELLS)} or {sorted(MODES)}")
    return CELLS[key]
