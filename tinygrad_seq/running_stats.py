"""The running statistics of batch norm, written in place on the buffers' arrays: the arithmetic
of running.mul_(1 - momentum).add_(stat * momentum) in the buffer's dtype, as one recorded write
a buffer (the two tensor ops cost 25 us each a training step)."""
import numpy as np

from tinygrad_seq.grad_mode import _state as _grad_state, no_grad


def update_running(t, batch_stat, momentum, scale=1.0):
    """t = t * (1 - momentum) + batch_stat * (momentum * scale) (batch_stat: a [C] array)."""
    arr = t.array
    if type(arr) is not np.ndarray:   # a device buffer: the tensor ops
        with no_grad():
            t.mul_(1 - momentum).add_(type(t)._wrap(batch_stat.astype(arr.dtype), t.device) * (momentum * scale))
        return
    _refuse(t)
    arr *= 1 - momentum
    arr += np.asarray(batch_stat).astype(arr.dtype, copy=False) * (momentum * scale)
    t._record_write()


def count_batch(t):
    """num_batches_tracked += 1."""
    if type(t.array) is not np.ndarray:
        t._shared_array()   # (a 0-d buffer loaded as a numpy scalar)
    if type(t.array) is not np.ndarray:
        with no_grad():
            t.add_(1)
        return
    _refuse(t)
    t.array += 1
    t._record_write()


def _refuse(t):
    """torch's error for a write to an inference tensor outside inference mode (its kernel writes
    the buffers outside autograd: no leaf or view checks)."""
    if not _grad_state.inference and t.is_inference():
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed")
