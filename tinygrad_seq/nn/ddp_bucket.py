"""DistributedDataParallel's small parts (nn/parallel.py): the gradient buckets (flat buffers a
bucket's gradients, its per-parameter counts and each rank's (status, step digits) are reduced
in) and the outputs' hold on the wrapper."""
import numpy as np

from tinygrad_seq.tensor import Tensor

_DIGIT = 1024                      # step digits: exact in every float dtype, float16 included
_OK, _ABANDONED, _JOINED = 1, 2, 3  # a rank's status in a bucket (_JOINED: shadowing, ddp_join.py)


class _Bucket:
    __slots__ = ("params", "offsets", "numel", "dtype", "buf", "flags", "steps", "tensor",
                 "pending", "filled")

    def __init__(self, dtype):
        self.params, self.offsets, self.numel, self.dtype = [], [], 0, dtype

    def allocate(self, world):
        n = len(self.params)
        # gradients, then one count per parameter, then (status, step digits) per rank
        self.buf = np.zeros(self.numel + n + 3 * world, self.dtype)
        self.flags = self.buf[self.numel:self.numel + n]
        self.steps = self.buf[self.numel + n:].reshape(world, 3)
        self.tensor = Tensor._wrap(self.buf, "cpu")


def _keep_alive(out, ddp):
    """Hold ddp from the tensors of a forward's output (nested in tuples, lists, dicts): its
    gradient hooks hold it weakly, so a wrapper no variable holds would be gone by the backward
    (torch's reducer outlives it)."""
    if isinstance(out, Tensor):
        out._ddp_wrapper = ddp
    elif isinstance(out, (tuple, list)):
        for o in out:
            _keep_alive(o, ddp)
    elif isinstance(out, dict):
        for o in out.values():
            _keep_alive(o, ddp)
