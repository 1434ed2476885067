"""torch.utils.data._utils.worker: the names programs import from it (the workers themselves are
emulated in the calling process: tinygrad_seq.utils.data.worker)."""
from tinygrad_seq.utils.data.worker import WorkerInfo, get_worker_info  # noqa: F401
