"""torch.ao.quantization.QConfig and the dynamic-quantization configurations: a pair of
observer factories (activation, weight). Dynamic modules use only the weight one; the
activation is quantized at each call (uint8, from its own min and max)."""
from collections import namedtuple

from tinygrad_seq.nn.module import Module
from tinygrad_seq.ao.quantization.observer import (default_dynamic_quant_observer, default_per_channel_weight_observer,
                                                   default_weight_observer, PlaceholderObserver)
from tinygrad_seq.dtypes import float16


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """QConfig(activation=ObserverFactory, weight=ObserverFactory): observer classes or
    with_args factories, never observer instances (each module gets its own)."""
    __slots__ = ()

    def __new__(cls, activation, weight):
        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError("QConfig received observer instance, please pass observer class instead. "
                             "Use MyObserver.with_args(x=1) to override arguments to constructor if needed")
        return super().__new__(cls, activation, weight)


default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_weight_observer)
float16_dynamic_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=float16, is_dynamic=True),
                                  weight=PlaceholderObserver.with_args(dtype=float16))
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
