"""User data to the host array a Tensor holds, by API.md's dtype rules (torch's): float arrays
keep float16/32/64, Python floats and lists of them take the default dtype, integers become
int64 (beyond int64 raises), bools stay bool; one-element tensors inside a list are scalars."""
import numbers

import numpy as np

from tinygrad_seq import dtypes
from tinygrad_seq import autograd   # autograd._Tensor is the Tensor class (set by tensor.py; a cycle to import)
from tinygrad_seq.errors import IntegerOverflow, UnsupportedData

_FLOAT = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))   # kept, as torch keeps them


def to_array(data, dtype):
    """Host array from user data, applying the dtype rules of API.md (torch's)."""
    if dtype is not None:
        return np.asarray(data, dtype=dtypes.as_dtype(dtype)).view(np.ndarray)
    if isinstance(data, np.ndarray):
        # a subclass (a state-dict value, a masked or matrix array) as the plain array it holds:
        # a tensor's array answers numpy's calls with numpy's meanings
        arr = data if type(data) is np.ndarray else data.view(np.ndarray)
    elif isinstance(data, (bool, np.bool_, np.floating)):
        arr = np.asarray(data)   # numpy float scalars keep their dtype, as in torch
    elif isinstance(data, numbers.Integral):
        return np.asarray(data, np.int64)
    elif isinstance(data, numbers.Real):
        return np.asarray(data, dtypes.get_default_dtype())
    else:
        tensor = autograd._Tensor
        if isinstance(data, (list, tuple)) and any(isinstance(x, tensor) for x in data):
            # a one-element tensor in a list is a scalar (its dtype kept), as torch reads it
            data = [(x.numpy().reshape(()) if x.numel() == 1 else x.numpy()) if isinstance(x, tensor) else x
                    for x in data]
        arr = np.asarray(data)
        if arr.dtype == np.float64 and _python_floats(data):
            return arr.astype(dtypes.get_default_dtype())  # Python floats and lists: the default
    kind = arr.dtype.kind
    if kind == "f":
        return arr if arr.dtype in _FLOAT else arr.astype(np.float32)
    if kind in "iu":
        if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise IntegerOverflow(f"Tensor: value {int(arr.max())} cannot be converted to int64 without overflow")
        return arr.astype(np.int64, copy=False)   # API.md: integer data becomes int64
    if kind == "b":
        return arr
    if arr.dtype == object:   # torch's words: a set, a dict, None, a generator, mixed objects
        odd = next((x for x in np.ravel(arr) if not isinstance(x, (numbers.Number, np.generic))), arr.flat[0])
        raise UnsupportedData(f"Could not infer dtype of {type(odd).__name__}")
    raise UnsupportedData(f"Tensor: unsupported data type {arr.dtype}")


def _python_floats(data):
    """Whether float64 data came from a list or tuple (of Python floats, numpy values, arrays or
    tensors, nested), which takes the default dtype: API.md's "Python floats and lists become
    float32", as torch.Tensor([...]) does (ts.tensor infers torch.tensor's dtype before it gets
    here and passes it)."""
    return isinstance(data, (list, tuple))
