"""torch.nn.modules.pooling: the 1-D pooling modules."""
from tinygrad_seq.nn import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d  # noqa: F401
