"""tinygrad_seq.utils: PyTorch's torch.utils subset (utils.data, utils.checkpoint, utils.hooks,
utils._pytree, utils.swap_tensors)."""
from tinygrad_seq.utils import _pytree, checkpoint, data, hooks  # noqa: F401
from tinygrad_seq.utils.swap import swap_tensors  # noqa: F401
