"""tinygrad_seq.nn: PyTorch's torch.nn subset for sequence models."""
from tinygrad_seq.nn.module import Module, ModuleList, Parameter, Sequential  # noqa: F401
from tinygrad_seq.nn.layers import Dropout, Embedding, LayerNorm, Linear  # noqa: F401
from tinygrad_seq.nn.cells import GRUCell, LSTMCell, RNNCell  # noqa: F401
from tinygrad_seq.nn.cells import (CIFGLSTMCell, IndRNNCell, LayerNormGRUCell, LayerNormLSTMCell,  # noqa: F401
                                   PeepholeLSTMCell, RecurrentCell)
from tinygrad_seq.nn import init, parallel, utils  # noqa: F401
from tinygrad_seq.nn.rnn import GRU, LSTM, RNN, RNNBase, Recurrent  # noqa: F401
from tinygrad_seq.nn.variants import CIFGLSTM, IndRNN, LayerNormGRU, LayerNormLSTM, PeepholeLSTM  # noqa: F401
from tinygrad_seq.cellspec import CellSpec, ParamSpec  # noqa: F401
from tinygrad_seq.nn.attention import BahdanauAttention, LuongAttention  # noqa: F401
from tinygrad_seq.nn.seq2seq import Decoder, Encoder, Seq2Seq  # noqa: F401
