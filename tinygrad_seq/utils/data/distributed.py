"""torch.utils.data.distributed: `from torch.utils.data.distributed import DistributedSampler`,
the import of pytorch/examples' DDP scripts (the sampler itself is tinygrad_seq.data's)."""
from tinygrad_seq.data import DistributedSampler  # noqa: F401
