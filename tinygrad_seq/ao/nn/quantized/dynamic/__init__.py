"""torch.ao.nn.quantized.dynamic: modules with int8 (or float16) weights whose float inputs are
quantized at each call (DynamicQuantizedLinear / LSTM / GRU)."""
from tinygrad_seq.ao.nn.quantized.dynamic.linear import Linear  # noqa: F401
from tinygrad_seq.ao.nn.quantized.dynamic.rnn import GRU, LSTM, RNNBase  # noqa: F401

__all__ = ["Linear", "LSTM", "GRU", "RNNBase"]


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.ao.nn.quantized.dynamic", __name__, name)
