"""torch.utils.data._utils.collate: `from torch.utils.data._utils.collate import default_collate`
(tinygrad_seq.utils.data.dataloader's)."""
from tinygrad_seq.utils.data.dataloader import default_collate, default_convert  # noqa: F401
