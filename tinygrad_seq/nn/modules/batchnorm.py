"""torch.nn.modules.batchnorm: BatchNorm1d, BatchNorm2d and their base _BatchNorm (_NormBase
names it too), so `isinstance(m, nn.modules.batchnorm._BatchNorm)` finds both as torch's does."""
from tinygrad_seq.nn import BatchNorm1d, BatchNorm2d  # noqa: F401
from tinygrad_seq.nn.batchnorm import _BatchNorm  # noqa: F401

_NormBase = _BatchNorm
