"""torch.ao.quantization, dynamic quantization only: quantize_dynamic with its QConfigs and
weight observers. Static (post-training, calibrated) quantization, quantization-aware
training, FX / PT2E flows and quantized tensors are not supported (README, "Dynamic
quantization")."""
from tinygrad_seq.ao.quantization.observer import (MinMaxObserver, ObserverBase,  # noqa: F401
                                                   PerChannelMinMaxObserver, PlaceholderObserver,
                                                   default_dynamic_quant_observer,
                                                   default_per_channel_weight_observer, default_placeholder_observer,
                                                   default_weight_observer, float16_placeholder)
from tinygrad_seq.ao.quantization.qconfig import (QConfig, default_dynamic_qconfig,  # noqa: F401
                                                  float16_dynamic_qconfig, per_channel_dynamic_qconfig)
from tinygrad_seq.ao.quantization.quantize import (convert, get_default_dynamic_quant_module_mappings,  # noqa: F401
                                                   propagate_qconfig_, quantize_dynamic, swap_module)

__all__ = ["quantize_dynamic", "QConfig", "default_dynamic_qconfig", "float16_dynamic_qconfig",
           "per_channel_dynamic_qconfig", "MinMaxObserver", "PerChannelMinMaxObserver", "PlaceholderObserver",
           "ObserverBase", "default_weight_observer", "default_per_channel_weight_observer",
           "default_dynamic_quant_observer", "default_placeholder_observer", "float16_placeholder",
           "propagate_qconfig_", "convert", "swap_module", "get_default_dynamic_quant_module_mappings"]

# torch.ao.quantization names a program may reach for, with what to do instead
_STATIC = "quantize_dynamic (dynamic quantization of nn.Linear / nn.LSTM / nn.GRU)"
_ALTERNATIVES = dict.fromkeys(("quantize", "prepare", "prepare_qat", "quantize_qat", "QuantStub", "DeQuantStub",
                               "fuse_modules", "get_default_qconfig", "default_qconfig", "get_default_qat_qconfig",
                               "FakeQuantize", "HistogramObserver", "MovingAverageMinMaxObserver"), _STATIC)


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    error = submodule_attribute_error("torch.ao.quantization", __name__, name)
    raise AttributeError(f"{error}; instead use {_ALTERNATIVES[name]}") if name in _ALTERNATIVES else error
