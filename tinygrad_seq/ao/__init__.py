"""torch.ao: dynamic quantization (torch.ao.quantization.quantize_dynamic and the modules it
makes, torch.ao.nn.quantized.dynamic)."""
from tinygrad_seq.ao import nn, quantization  # noqa: F401


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.ao", __name__, name)
