"""tinygrad_seq.utils: PyTorch's torch.utils subset (utils.data, utils.checkpoint)."""
from tinygrad_seq.utils import checkpoint, data  # noqa: F401
