"""Small top-level torch names training scripts call at startup or in passing: thread and
precision settings that change nothing here, `torch.version` (no CUDA build), `typename`,
`unravel_index` (a flat top-k index back to rows and columns in beam search), `empty_strided`,
`frombuffer`, the anomaly-mode flag, autocast queries (no mixed precision here) and
`torch.multiprocessing` (Python's own, with torch's sharing-strategy calls: device_modules.py)."""
import types

import numpy as np

from tinygrad_seq import dtypes
from tinygrad_seq.autocast_state import get_autocast_gpu_dtype, is_autocast_enabled  # noqa: F401
from tinygrad_seq.version_string import PACKAGE_VERSION, VERSION
# the anomaly-mode flag: torch.set_anomaly_enabled and its queries (anomaly_mode.py)
from tinygrad_seq.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled  # noqa: F401

_interop_threads = [1]

version = types.SimpleNamespace(__version__=VERSION, cuda=None, hip=None, git_version="unknown", debug=False,
                                package=PACKAGE_VERSION)


def set_num_interop_threads(n):
    if not isinstance(n, int) or n < 1:
        raise RuntimeError(f"Number of inter-op threads must be positive, got {n}")
    _interop_threads[0] = n


def get_num_interop_threads():
    return _interop_threads[0]


def set_flush_denormal(mode):
    """False: numpy keeps denormals (torch returns whether the CPU could flush them)."""
    return False


def clear_autocast_cache():
    """Nothing cached: there is no autocast here."""


def is_storage(obj):
    """Whether obj is a storage (Tensor.untyped_storage()'s UntypedStorage), as torch's."""
    from tinygrad_seq.untyped_storage import UntypedStorage
    return isinstance(obj, UntypedStorage)


def typename(obj):
    """'torch.FloatTensor' for a tensor (its legacy type name), else module.qualname as torch's."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", None)
    prefix = module + "." if module not in (None, "builtins", "__builtin__") else ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return prefix + name   # torch's: the object's own name (a class, a function) where it has one


def unravel_index(indices, shape):
    """torch.unravel_index: the coordinates of flat indices in a tensor of `shape`, one int64
    tensor per dimension (each of the indices' shape)."""
    from tinygrad_seq.tensor import Tensor
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    idx = indices if isinstance(indices, Tensor) else Tensor(np.asarray(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be an integer tensor, but got {idx.dtype}")
    flat = idx.numpy().astype(np.int64)
    size = int(np.prod(shape)) if shape else 1
    if flat.size and (flat.min() < -size or flat.max() >= size):
        raise RuntimeError(f"unravel_index: index out of bounds for a tensor of shape {shape}")
    coords = np.unravel_index(np.where(flat < 0, flat + size, flat), shape)
    return tuple(Tensor._wrap(np.asarray(c, np.int64), "cpu").to(idx.device) for c in coords)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of `size` laid out with `stride` (in elements), as torch's: a storage of
    1 + sum((size_i - 1) * stride_i) elements (zeros here, where torch leaves them unset) seen
    through numpy's as_strided, so .stride() and .is_contiguous() are torch's, and overlapping
    strides (a stride of 0) alias one element as in torch. On a GPU the strides are not kept
    (the device backend lays the array out row-major)."""
    from tinygrad_seq.creation import _make
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if any(st < 0 for st in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    dt = np.dtype(dtypes.as_dtype(dtype) or dtypes.get_default_dtype())
    n = 0 if 0 in size else 1 + sum((s - 1) * st for s, st in zip(size, stride))
    arr = np.lib.stride_tricks.as_strided(np.zeros(n, dt), size, tuple(st * dt.itemsize for st in stride))
    return _make(arr, dt, device or "cpu", requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of `buffer` (shared, as torch's; numpy.frombuffer)."""
    from tinygrad_seq.tensor import Tensor
    arr = np.frombuffer(buffer, dtype=dtypes.as_dtype(dtype), count=count, offset=offset)
    t = Tensor._wrap(arr, "cpu")
    return t.requires_grad_() if requires_grad else t

from tinygrad_seq.device_modules import multiprocessing  # noqa: E402,F401  (import tinygrad_seq.multiprocessing as mp)
