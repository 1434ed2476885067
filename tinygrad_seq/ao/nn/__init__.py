"""torch.ao.nn: the quantized modules (torch.ao.nn.quantized.dynamic)."""
from tinygrad_seq.ao.nn import quantized  # noqa: F401


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.ao.nn", __name__, name)
