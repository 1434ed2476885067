"""torch's rules for numpy arrays handed to from_numpy / as_tensor / tensor (torch's
tensor_from_numpy): strides that are a whole number of elements and not negative, the machine's
byte order; from_numpy of a read-only array warns once and gives a tensor that writes anyway, and
of a view gives a tensor whose storage starts at the view's first byte (storage_offset() 0)."""
import warnings

import numpy as np

_NOT_WRITABLE_WARNING = (
    "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. This means "
    "writing to this tensor will result in undefined behavior. You may want to copy the array to protect its "
    "data or make it writable before converting it to a tensor. This type of warning will be suppressed for "
    "the rest of this program.")
_not_writable_warned = False   # torch's TORCH_WARN_ONCE: once a process


def check_numpy_array(arr):
    """ValueError, torch's text and order, for an array no tensor can view."""
    if any(s % arr.itemsize for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy "
                         "array to reallocate the memory.")
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    if not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")


class _Memory:
    """An __array_interface__ over an array's memory that numpy turns into a new array; `base`
    keeps the array (and so the memory) alive."""
    def __init__(self, interface, base):
        self.__array_interface__, self.base = interface, base


def shared_array(arr):
    """The array a from_numpy tensor holds: arr itself when it owns its memory and is writable;
    else a writable array over the same bytes that is the start of its own storage, as torch's
    tensor of a view starts its storage at the view's data (storage_offset() 0) and writes into a
    read-only array's memory (torch's warning says so: the array's owner may not expect it)."""
    if arr.base is None and arr.flags.writeable:
        return arr
    if not arr.flags.writeable:
        global _not_writable_warned
        if not _not_writable_warned:
            _not_writable_warned = True
            warnings.warn(_NOT_WRITABLE_WARNING, UserWarning, stacklevel=3)
    return writable_view(arr)


def writable_view(arr):
    """A new writable array over arr's memory, its own base (numpy cannot make a view of a
    read-only array writable)."""
    interface = dict(arr.__array_interface__)
    interface["data"] = (interface["data"][0], False)   # (address, read-only)
    return np.asarray(_Memory(interface, arr))
