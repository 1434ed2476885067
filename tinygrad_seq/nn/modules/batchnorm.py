"""torch.nn.modules.batchnorm: BatchNorm1d, BatchNorm2d, their base _BatchNorm and the base
_NormBase they share with instance norm, so `isinstance(m, nn.modules.batchnorm._BatchNorm)`
finds both as torch's does."""
from tinygrad_seq.nn import BatchNorm1d, BatchNorm2d  # noqa: F401
from tinygrad_seq.nn.batchnorm import _BatchNorm, _NormBase  # noqa: F401
