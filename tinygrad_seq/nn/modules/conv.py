"""torch.nn.modules.conv: Conv1d; _ConvNd names it too (the one convolution here), for
`isinstance(m, nn.modules.conv._ConvNd)`."""
from tinygrad_seq.nn import Conv1d  # noqa: F401

_ConvNd = Conv1d
