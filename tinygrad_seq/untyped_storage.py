"""Tensor.untyped_storage() (torch's UntypedStorage): the bytes of the memory a tensor views.

A tensor's memory here is its backend array's owning array (a view's base, followed to the
array that owns the memory); the storage reports that array's bytes: nbytes() (== size() ==
len()), data_ptr() of its first byte, element_size() 1, its device, and its bytes by index.
torch._assert is here too: the assert a traced program keeps."""
import numpy as np


def _owning_array(arr):
    """The array whose memory arr views (arr itself when it owns its memory)."""
    if isinstance(arr, np.generic):   # a 0-d result's numpy scalar: its own memory
        return np.asarray(arr)
    root = arr
    while isinstance(getattr(root, "base", None), np.ndarray):
        root = root.base
    return root


class UntypedStorage:
    """The memory of a tensor, in bytes (no dtype: torch's untyped storage)."""

    def __init__(self, array, device):
        self._array, self.device = _owning_array(array), device

    def nbytes(self):
        return int(self._array.nbytes)

    def size(self):
        return self.nbytes()

    def __len__(self):
        return self.nbytes()

    def element_size(self):
        return 1

    def data_ptr(self):
        arr = self._array
        if hasattr(arr, "__cuda_array_interface__"):
            return arr.__cuda_array_interface__["data"][0]
        return arr.__array_interface__["data"][0]

    def _bytes(self):
        arr = self._array.copy_to_host() if hasattr(self._array, "copy_to_host") else self._array
        return np.ascontiguousarray(arr).reshape(-1).view(np.uint8) if arr.size else np.zeros(0, np.uint8)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._bytes()[index].tolist()
        n = self.nbytes()
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for storage of size {n}")
        return int(self._bytes()[index])

    def tolist(self):
        return self._bytes().tolist()

    def is_shared(self):
        return False

    def is_pinned(self, device="cuda"):
        return False

    @property
    def is_cuda(self):
        return getattr(self.device, "type", self.device) == "cuda"

    def __repr__(self):
        values = "\n".join(f" {b}" for b in self.tolist())
        head = f"[{type(self).__module__}.UntypedStorage(device={self.device}) of size {self.nbytes()}]"
        return f"{values}\n{head}" if values else head


def untyped_storage(self):
    """Tensor.untyped_storage(): the UntypedStorage of the memory this tensor views."""
    return UntypedStorage(self.array, self.device)


def _assert(condition, message):
    """torch._assert: AssertionError(message) unless condition (a bool or a one-element tensor)
    is true."""
    if not bool(condition):
        raise AssertionError(message)


def attach(Tensor, namespace):
    if not hasattr(Tensor, "untyped_storage"):
        Tensor.untyped_storage = untyped_storage
    namespace.setdefault("_assert", _assert)
    namespace.setdefault("UntypedStorage", UntypedStorage)
