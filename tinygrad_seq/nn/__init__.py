"""tinygrad_seq.nn: PyTorch's torch.nn subset for sequence models."""
from tinygrad_seq import cell_library as _cell_library
from tinygrad_seq.nn.module import Module, Parameter  # noqa: F401
from tinygrad_seq.nn.parameter_containers import ParameterDict, ParameterList  # noqa: F401
from tinygrad_seq.nn.container import (Flatten, Identity, ModuleDict, ModuleList, Sequential,  # noqa: F401
                                       Unflatten)
from tinygrad_seq.nn.layers import Dropout, Embedding, LayerNorm, Linear  # noqa: F401
from tinygrad_seq.nn.multihead import MultiheadAttention  # noqa: F401
from tinygrad_seq.nn.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401
from tinygrad_seq.nn.batchnorm import BatchNorm1d, BatchNorm2d  # noqa: F401
from tinygrad_seq.nn.more_layers import (Bilinear, ConstantPad1d, CosineEmbeddingLoss, Dropout1d,  # noqa: F401
                                         EmbeddingBag, GaussianNLLLoss, GroupNorm, HingeEmbeddingLoss,
                                         MarginRankingLoss, MultiLabelSoftMarginLoss, MultiMarginLoss,
                                         PoissonNLLLoss, PReLU, ReflectionPad1d, ReplicationPad1d, RMSNorm,
                                         SoftMarginLoss, Tanhshrink, Threshold, TripletMarginLoss, ZeroPad1d)
from tinygrad_seq.nn.conv import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, Conv1d,  # noqa: F401
                                  MaxPool1d)
from tinygrad_seq.nn.conv2d import Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from tinygrad_seq.nn.pool2d import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d,  # noqa: F401
                                    Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)
from tinygrad_seq.nn.layers_2d import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad2d,  # noqa: F401
                                       ConstantPad3d, Fold, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
                                       LocalResponseNorm, LPPool1d, LPPool2d, MaxUnpool1d, MaxUnpool2d,
                                       PixelShuffle, PixelUnshuffle, ReflectionPad2d, ReflectionPad3d,
                                       ReplicationPad2d, ReplicationPad3d, Unfold, ZeroPad2d, ZeroPad3d)
from tinygrad_seq.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                                         TransformerEncoder, TransformerEncoderLayer)
from tinygrad_seq.nn.activation import Hardshrink, Softshrink  # noqa: F401
from tinygrad_seq.nn.more_layers import AlphaDropout, Dropout2d, Dropout3d  # noqa: F401
from tinygrad_seq.nn.activation import (CELU, ELU, GELU, GLU, SELU, CosineSimilarity, Hardsigmoid,  # noqa: F401
                                        Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, PairwiseDistance,
                                        ReLU, ReLU6, RReLU, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign, Tanh)
from tinygrad_seq.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss,  # noqa: F401
                                  CTCLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from tinygrad_seq.nn.cells import GRUCell, LSTMCell, RNNCell  # noqa: F401
from tinygrad_seq.nn.linear_cross_entropy_loss import LinearCrossEntropyLoss, LinearCrossEntropyOptions  # noqa: F401
from tinygrad_seq.nn.cells import RecurrentCell  # noqa: F401
from tinygrad_seq.nn import functional, grad, init, parallel, utils  # noqa: F401
from tinygrad_seq.nn.data_parallel import DataParallel  # noqa: F401
from tinygrad_seq.nn.rnn import GRU, LSTM, RNN, RNNBase, Recurrent  # noqa: F401
from tinygrad_seq.nn import cells as _cells, variants as _variants
from tinygrad_seq.cellspec import CellSpec, ParamSpec  # noqa: F401
from tinygrad_seq.nn.attention import BahdanauAttention, LuongAttention  # noqa: F401
from tinygrad_seq.nn.seq2seq import Decoder, Encoder, Seq2Seq  # noqa: F401
from tinygrad_seq.nn.buffer import Buffer  # noqa: F401
from tinygrad_seq.nn.lazy_parameter import UninitializedBuffer, UninitializedParameter  # noqa: F401
from tinygrad_seq.nn.lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d,  # noqa: F401
                                  LazyConvTranspose1d, LazyConvTranspose2d, LazyInstanceNorm1d, LazyInstanceNorm2d,
                                  LazyLinear)
from tinygrad_seq.nn.sync_batchnorm import SyncBatchNorm  # noqa: F401
from tinygrad_seq.nn.more_modules2 import (ChannelShuffle, Container, FeatureAlphaDropout,  # noqa: F401
                                           MultiLabelMarginLoss, Softmax2d, TripletMarginWithDistanceLoss)
from tinygrad_seq.nn.cells import RNNCellBase  # noqa: F401


def _export(classes, added):
    """The cell variants' layer and cell classes (nn.PeepholeLSTM, nn.PeepholeLSTMCell, ...), built
    from their descriptions in tinygrad_seq/cell_library.py, also those registered later."""
    if classes.hand_written:
        return
    for module, name in ((_cells, classes.cell), (_variants, classes.layer)):
        if added:
            globals()[name] = getattr(module, name)
        else:
            globals().pop(name, None)


_cell_library.subscribe(_export)


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn", "tinygrad_seq.nn", name)
