"""torch.nn.modules.batchnorm: BatchNorm1d; _BatchNorm and _NormBase name it too (the one batch
norm here), so `isinstance(m, nn.modules.batchnorm._BatchNorm)` finds it as torch's does."""
from tinygrad_seq.nn import BatchNorm1d  # noqa: F401

_NormBase = _BatchNorm = BatchNorm1d
