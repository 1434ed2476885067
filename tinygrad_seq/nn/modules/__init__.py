"""torch.nn.modules' import paths (`from torch.nn.modules.linear import Linear`,
`torch.nn.modules.module.register_module_forward_hook`): each submodule here names the classes
torch keeps in its file of that name, taken from tinygrad_seq.nn. A submodule is imported on
first use, so that this package costs nothing at `import tinygrad_seq`; the classes are also
attributes of the package itself, as torch's."""
import importlib

_SUBMODULES = ("activation", "batchnorm", "container", "conv", "dropout", "fold", "flatten", "instancenorm", "lazy",
               "linear", "loss", "module", "normalization", "padding", "pixelshuffle", "pooling", "rnn", "sparse",
               "transformer", "utils")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    import tinygrad_seq.nn as nn
    return getattr(nn, name)


def __dir__():
    return sorted(_SUBMODULES)
