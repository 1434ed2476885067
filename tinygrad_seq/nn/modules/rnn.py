"""torch.nn.modules.rnn: the recurrent layers and cells, and _VF (torch's module names it)."""
from tinygrad_seq import _VF  # noqa: F401
from tinygrad_seq.nn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell  # noqa: F401
from tinygrad_seq.nn.cells import RNNCellBase  # noqa: F401
