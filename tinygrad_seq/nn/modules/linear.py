"""torch.nn.modules.linear: Linear, Bilinear and Identity."""
from tinygrad_seq.nn import Bilinear, Identity, Linear  # noqa: F401
