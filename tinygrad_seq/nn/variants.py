r"""The recurrent cell variants as layers (their cells are in nn/cells.py; their descriptions, the
one place that says their gates, parameters and step, in tinygrad_seq/cell_library.py). Each takes
the layer options of nn.LSTM (num_layers, bias, batch_first, dropout, bidirectional, fused, dtype,
device, zoneout for the gated ones) and calls (hx, lengths, unbatched input), and names its
parameters <name>_l{k}[_reverse]. Fused on the CPU by the generated kernels.
"""
from tinygrad_seq.nn.rnn import GRU, LSTM, RNN, RNNBase


def _layer(name, cell, doc):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, fused=True, dtype=None, device=None, zoneout=0.0):
        RNNBase.__init__(self, cell, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         fused=fused, dtype=dtype, device=device, zoneout=zoneout)
    return type(name, (RNNBase,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


PeepholeLSTM = _layer("PeepholeLSTM", "peephole_lstm", r"""Peephole LSTM (Gers and Schmidhuber 2000):

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi + p_i * c)     f likewise with p_f * c
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)                  c' = f * c + i * g
    o = sigmoid(W_io x + b_io + W_ho h + b_ho + p_o * c')    h' = o * tanh(c')

LSTM parameters plus weight_peephole_l{k} [3, H] (rows p_i, p_f, p_o), zero at init.
Call: (output, (h_n, c_n)).""")

CIFGLSTM = _layer("CIFGLSTM", "cifg_lstm", r"""Coupled input-forget gate LSTM: gates i, g, o (weight_ih
[3H, I], weight_hh [3H, H]); f = 1 - i, c' = f * c + i * g, h' = o * tanh(c').
Call: (output, (h_n, c_n)).""")

LayerNormLSTM = _layer("LayerNormLSTM", "layernorm_lstm", r"""LayerNorm LSTM (Ba et al. 2016, as haste):

    gates = LN_ih(W_ih x) + LN_hh(W_hh h) + bias      (i, f, g, o)
    c' = f * c + i * g                                h' = o * tanh(LN_c(c'))

Parameters weight_ih_l{k}, weight_hh_l{k}, bias_l{k} [4H], ln_ih_weight/bias_l{k},
ln_hh_weight/bias_l{k} [4H], ln_c_weight/bias_l{k} [H]; eps 1e-5, gains 1, biases 0.
Call: (output, (h_n, c_n)).""")

LayerNormGRU = _layer("LayerNormGRU", "layernorm_gru", r"""LayerNorm GRU:

    xg = LN_ih(W_ih x) + b_ih, hg = LN_hh(W_hh h) + b_hh (each split r, z, n)
    r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn), h' = (1 - z) n + z h

Parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, ln_ih_weight/bias_l{k},
ln_hh_weight/bias_l{k} [3H]. Call: (output, h_n).""")


class IndRNN(RNNBase):
    r"""Independently recurrent network (Li et al. 2018): h' = act(W_ih x + b_ih + u * h + b_hh) with a
    diagonal recurrent weight u = weight_hh_l{k} [H]; act "relu" (default) or "tanh".
    Call: (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="relu", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("indrnn_" + nonlinearity, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, fused=fused, dtype=dtype, device=device)
        self.nonlinearity = nonlinearity


# layer classes by name (seq2seq, compare and the benchmarks look layers up here)
LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU, "peephole_lstm": PeepholeLSTM, "cifg_lstm": CIFGLSTM,
          "layernorm_lstm": LayerNormLSTM, "layernorm_gru": LayerNormGRU, "indrnn": IndRNN}


def layer_class(name):
    """The layer class called `name` (a LAYERS key, case-insensitive), with an error listing them."""
    try:
        return LAYERS[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown recurrent layer {name!r}: expected one of {sorted(LAYERS)}") from None
