"""torch.nn.modules.conv: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d and the bases
_ConvNd / _ConvTransposeNd (`isinstance(m, nn.modules.conv._ConvNd)` finds every convolution)."""
from tinygrad_seq.nn import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from tinygrad_seq.nn.conv2d import _ConvNd, _ConvTransposeNd  # noqa: F401
