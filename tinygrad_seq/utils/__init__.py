"""tinygrad_seq.utils: PyTorch's torch.utils subset (utils.data)."""
from tinygrad_seq.utils import data  # noqa: F401
