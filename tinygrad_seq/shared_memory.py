"""Tensor.share_memory_ / is_shared and Module.share_memory (Hogwild-style A3C: a model whose
parameters live in memory that fork-started worker processes write in place): the tensor's
data moves into an anonymous shared mapping (mmap MAP_SHARED), which a process started by fork
(multiprocessing's default on Linux, torch.multiprocessing's too) maps at the same place, so
the workers' optimizer steps reach the parent's model (the optimizers here update parameters in
place). A shared tensor sent to a process by pickling (the spawn / forkserver start methods, a
multiprocessing Queue) would arrive as a copy that no longer shares: that raises instead of
silently training a model nobody reads (torch passes a file descriptor there)."""
import mmap
import multiprocessing.reduction

import numpy as np

from tinygrad_seq.memory_formats import clone_strides


def _memory_owner(arr):
    """The object under an array's memory (numpy wraps an mmap's buffer in a memoryview)."""
    owner = arr
    while getattr(owner, "base", None) is not None:   # (as_strided's views hold a DummyArray with .base)
        owner = owner.base
    return owner.obj if isinstance(owner, memoryview) else owner


def is_shared(self):
    """Whether the tensor's data is in shared memory (share_memory_ put it, or a view of it, there)."""
    arr = self.array
    return type(arr) is np.ndarray and isinstance(_memory_owner(arr), mmap.mmap)


def share_memory_(self):
    """Move the data into shared memory (same values, layout and dtype; a no-op when there
    already, or on a device, as torch's for CUDA tensors). Unlike torch's, which moves the whole
    storage, views of the tensor taken before keep the old memory: take views after sharing."""
    arr = self.array
    if type(arr) is not np.ndarray or is_shared(self):
        return self
    buffer = mmap.mmap(-1, max(arr.nbytes, 1))   # anonymous, MAP_SHARED: inherited across fork
    flat = np.frombuffer(buffer, dtype=arr.dtype, count=arr.size)
    strides = clone_strides(arr, None)   # the layout kept (a transposed tensor stays transposed), as torch's
    shared = flat.reshape(arr.shape) if strides is None else np.lib.stride_tricks.as_strided(
        flat, arr.shape, tuple(st * arr.itemsize for st in strides))
    np.copyto(shared, arr)
    self.array = shared
    # (the dispatch table is per exact class: Tensor, Parameter, Buffer each on their first share)
    multiprocessing.reduction.ForkingPickler.register(type(self), _reduce_for_process)
    return self


def share_module_memory(module):
    """Module.share_memory: every parameter, buffer and existing gradient moved (torch's _apply)."""
    for t in (*module.parameters(), *module.buffers()):
        t.share_memory_()
        if getattr(t, "grad", None) is not None:
            t.grad.share_memory_()
    return module


def _reduce_for_process(t):
    if is_shared(t):
        raise RuntimeError("a tensor in shared memory (share_memory_) was pickled to another process (a spawn or "
                           "forkserver start method, or a multiprocessing Queue): it would arrive as a copy that no "
                           "longer shares; start the workers with fork (torch.multiprocessing.set_start_method('fork')) "
                           "and pass the model as a Process argument")
    return t.__reduce_ex__(4)   # not shared: pickled by value, as before (tensor_pickle.py)
