"""The layout of torch's *_like tensors (empty_like, zeros_like, rand_like, ...): memory_format=
preserve_format (the default) keeps the strides of a non-overlapping and dense source (so
zeros_like(x.t()).stride() is x.t()'s), lays a gapped or expanded one out densely in the order of
its strides (infer_dense_strides), and contiguous_format / channels_last give those layouts, as
clone() does (memory_formats.clone_strides). Random *_like tensors are torch's empty_like(t)
filled in place (uniform_, normal_, random_), so their draws land in the new tensor's memory
order, and normal_ takes its one-by-one path for a non-contiguous one."""
import numpy as np

from tinygrad_seq.memory_formats import clone_strides, copy_with_strides
from tinygrad_seq.tensor import Tensor


def like_strides(t, memory_format, device):
    """Element strides of a *_like tensor of t on device (None: row-major, the common case).
    Host tensors only (a device array is always row-major here). A source numpy flags
    contiguous (row-major up to its size-1 dims) is taken as row-major, so the common case
    costs one flag lookup."""
    arr = t.array
    if not isinstance(arr, np.ndarray) or (device is not None and str(device) != "cpu"):
        return None
    name = getattr(memory_format, "name", None)
    if name in (None, "preserve_format") and arr.flags.c_contiguous:
        return None
    strides = clone_strides(arr, memory_format)
    row_major = tuple(int(np.prod(arr.shape[d + 1:])) for d in range(arr.ndim))
    return None if strides is None or tuple(strides) == row_major else strides


def laid_out(made, strides, requires_grad, fill=None):
    """A new host tensor with made's shape, dtype and values laid out with element `strides`,
    then filled in place by fill(tensor) when given (a random fill, drawn in that memory order)."""
    out = Tensor._wrap(copy_with_strides(made.array, strides), "cpu", False)
    out._torch_layout = out.array   # view() then refuses what torch's refuses
    if fill is not None:
        fill(out)
    return out.requires_grad_(True) if requires_grad else out
