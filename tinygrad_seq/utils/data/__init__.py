"""tinygrad_seq.utils.data: PyTorch's torch.utils.data (datasets, samplers, DataLoader,
random_split). Loading runs in the calling process: num_workers > 0 emulates torch's worker
processes there (worker.py, loader_iter.py); pin_memory is accepted and ignored."""
from tinygrad_seq.data import DistributedSampler  # noqa: F401
from tinygrad_seq.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,  # noqa: F401
                                             StackDataset, Subset, TensorDataset, random_split)
from tinygrad_seq.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,  # noqa: F401
                                             SequentialSampler, SubsetRandomSampler,
                                             WeightedRandomSampler)
from tinygrad_seq.utils.data.dataloader import (DataLoader, default_collate, default_convert,  # noqa: F401
                                                get_worker_info)
from tinygrad_seq.utils.data.generator import Generator  # noqa: F401
from tinygrad_seq.utils.data import distributed  # noqa: F401,E402  (torch.utils.data.distributed)
