"""torch._VF: the functional recurrent entry points under torch's names, for code that calls
`_VF.lstm(input, hx, self._flat_weights, ...)` (custom LSTM subclasses, weight-drop wrappers).
The functions live in tinygrad_seq/functional_rnn.py."""
from tinygrad_seq.functional_rnn import (gru, gru_cell, lstm, lstm_cell, rnn_relu, rnn_relu_cell,  # noqa: F401
                                         rnn_tanh, rnn_tanh_cell)

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]
