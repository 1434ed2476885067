"""DistributedDataParallel.register_comm_hook: a user function reduces each gradient bucket.

    def hook(state, bucket: dist.GradBucket) -> ts.futures.Future[Tensor]: ...
    ddp.register_comm_hook(state, hook)

As torch's: the hook gets each bucket when all its gradients are in, in bucket order on every
rank, and returns a Future whose value is the reduced flat bucket (a Tensor of bucket.buffer()'s
size); DDP writes it into .grad as it is: no division by the world size (the hook divides, as
default_hooks.allreduce_hook does). One hook per model, registered at any step boundary.

Our buckets carry, after the gradients, one count per parameter (which ranks have a gradient
for it) and each rank's step marker (nn/parallel.py). The hook sees only the gradients
(bucket.buffer() is a view of them): a hook may compress, scale or skip them, which would
garble those numbers. So with a hook, after every bucket's future has completed, the counts and
markers of all buckets travel in one extra all-reduce of a few numbers per parameter (float64,
exact), and the step check reads them as without a hook. The path without a hook is unchanged.
"""
from __future__ import annotations

import inspect

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.futures import Future
from tinygrad_seq.tensor import Tensor


def check_comm_hook(hook):
    """torch's checks at registration: callable; a `bucket` annotation, where given, is
    GradBucket; a return annotation, where given, is Future[Tensor]. (String annotations, from
    `from __future__ import annotations`, are not checked.)"""
    if not callable(hook):
        raise TypeError("Communication hook must be callable.")
    from tinygrad_seq.distributed.grad_bucket import GradBucket
    sig = inspect.signature(hook)
    bucket = sig.parameters.get("bucket")
    if bucket is not None and bucket.annotation not in (inspect.Parameter.empty, GradBucket) \
            and not isinstance(bucket.annotation, str):
        raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
    ret = sig.return_annotation
    if ret not in (inspect.Signature.empty, Future[Tensor]) and not isinstance(ret, str):
        raise ValueError("Communication hook: return annotation should be "
                         "tinygrad_seq.futures.Future[Tensor] (torch.futures.Future[torch.Tensor]).")


class CommHook:
    """A registered hook with its state, and how DDP runs a step's buckets through it."""

    def __init__(self, ddp, state, hook):
        from tinygrad_seq.distributed.grad_bucket import GradBucket
        self.state, self.hook, self._grad_bucket = state, hook, GradBucket
        self._ddp = ddp

    def start(self, index):
        """Hand bucket `index` to the hook; its Future (checked to be one)."""
        ddp = self._ddp
        b = ddp._buckets[index]
        flat = b.buf[:b.numel]   # [numel]: the gradients only, a view of the bucket
        views = [Tensor._wrap(flat[o:o + p.array.size].reshape(p.shape), "cpu")
                 for o, p in zip(b.offsets, b.params)]
        bucket = self._grad_bucket(index, Tensor._wrap(flat, "cpu"), views, list(b.params),
                                   index == len(ddp._buckets) - 1)
        fut = self.hook(self.state, bucket)
        if not isinstance(fut, Future):
            kind = type(fut)
            raise RuntimeError(
                f"DDP communication hook's callback must return a tinygrad_seq.futures.Future "
                f"(torch.futures.Future) object, but got {kind.__module__}.{kind.__qualname__} "
                f"(from the hook {getattr(self.hook, '__qualname__', self.hook)!r})")
        return fut

    def finish(self, futures):
        """Wait for every bucket's future, write its value into the bucket, then all-reduce the
        counts and step markers of all buckets in one go."""
        ddp = self._ddp
        for index, (b, fut) in enumerate(zip(ddp._buckets, futures)):
            self._store(index, b, fut.wait())
        tails = np.concatenate([b.buf[b.numel:] for b in ddp._buckets]).astype(np.float64)
        ddp._dist.all_reduce(Tensor._wrap(tails, "cpu"), group=ddp._group)
        o = 0
        for b in ddp._buckets:
            n = b.buf.size - b.numel
            b.buf[b.numel:] = tails[o:o + n]
            o += n

    def _store(self, index, b, value):
        if not isinstance(value, Tensor):
            raise RuntimeError(
                f"DDP communication hook: the future of bucket {index} holds a "
                f"{type(value).__name__}; it must hold the reduced bucket as one Tensor of "
                f"{b.numel} elements")
        if value.numel() != b.numel:
            raise RuntimeError(
                f"DDP communication hook: the future of bucket {index} holds a tensor of "
                f"{value.numel()} elements (shape {tuple(value.shape)}); the bucket has {b.numel} "
                f"(the gradients of {len(b.params)} parameters)")
        arr = value.array if value.device == "cpu" else _device.backend(value.device).to_host(value.array)
        flat = b.buf[:b.numel]
        if not (isinstance(arr, np.ndarray) and arr.ctypes.data == flat.ctypes.data
                and arr.dtype == flat.dtype):
            np.copyto(flat, np.reshape(arr, -1), casting="unsafe")
