"""torch.nn.modules.normalization: the normalization layers."""
from tinygrad_seq.nn import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm  # noqa: F401
