"""torch.nn.modules.instancenorm: the instance normalization layers."""
from tinygrad_seq.nn import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: F401
