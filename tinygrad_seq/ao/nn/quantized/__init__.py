"""torch.ao.nn.quantized: here only its dynamic modules (static quantized modules, which take
and give quantized tensors, are not supported)."""
from tinygrad_seq.ao.nn.quantized import dynamic  # noqa: F401


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.ao.nn.quantized", __name__, name)
