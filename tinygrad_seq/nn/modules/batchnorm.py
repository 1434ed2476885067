"""torch.nn.modules.batchnorm: BatchNorm1d."""
from tinygrad_seq.nn import BatchNorm1d  # noqa: F401
