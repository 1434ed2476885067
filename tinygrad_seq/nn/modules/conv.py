"""torch.nn.modules.conv: Conv1d."""
from tinygrad_seq.nn import Conv1d  # noqa: F401
