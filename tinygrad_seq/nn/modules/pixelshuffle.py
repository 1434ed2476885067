"""torch.nn.modules.pixelshuffle: PixelShuffle and PixelUnshuffle."""
from tinygrad_seq.nn import PixelShuffle, PixelUnshuffle  # noqa: F401
