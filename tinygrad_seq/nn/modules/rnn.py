"""torch.nn.modules.rnn: the recurrent layers and cells."""
from tinygrad_seq.nn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell  # noqa: F401
from tinygrad_seq.nn.cells import RNNCellBase  # noqa: F401
