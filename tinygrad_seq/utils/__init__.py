"""tinygrad_seq.utils: PyTorch's torch.utils subset (utils.data, utils.checkpoint, utils.hooks,
utils._pytree)."""
from tinygrad_seq.utils import _pytree, checkpoint, data, hooks  # noqa: F401
