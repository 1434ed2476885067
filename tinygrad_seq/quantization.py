"""torch.quantization: the older path of torch.ao.quantization (the same objects)."""
from tinygrad_seq.ao.quantization import *  # noqa: F401,F403
from tinygrad_seq.ao.quantization import __all__  # noqa: F401


def __getattr__(name):
    from tinygrad_seq.ao import quantization
    try:
        return quantization.__getattr__(name)
    except AttributeError as e:
        raise AttributeError(str(e).replace("torch.ao.quantization", "torch.quantization")) from None
