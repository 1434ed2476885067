"""PyTorch's layout rules for views of host (numpy) arrays, where numpy's own rules differ:
whether view(shape) can share memory (ATen's computeStride), the stride of unsqueeze's new dim,
and view(dtype) (ATen's view_dtype checks). Strides here count elements, as Tensor.stride()."""
import math

import numpy as np

from tinygrad_seq.elementwise_layout import laid_as_torch
from tinygrad_seq.memory_formats import channels_last_dense
from tinygrad_seq.errors import DTypeMismatch
from tinygrad_seq.tensor_matmul import scalar_name

VIEW_SIZE_ERROR = ("view size is not compatible with input tensor's size and stride (at least one dimension "
                   "spans across two contiguous subspaces). Use .reshape(...) instead.")


def element_strides(arr):
    """arr's strides in elements as torch states them: a C-contiguous array gets torch's
    contiguous strides (a size-0 or size-1 dim counts as size 1 for the dims before it), which
    numpy leaves free for size-0 and size-1 dims."""
    if arr.flags.c_contiguous:
        strides, step = [], 1
        for n in reversed(arr.shape):
            strides.append(step)
            step *= max(n, 1)
        return tuple(reversed(strides))
    return tuple(s // arr.itemsize for s in arr.strides)


def view_strides(shape, strides, new_shape):
    """The strides of shape -> new_shape as a view of memory laid out as (shape, strides), or
    None where no view exists (a new dim would span two chunks that are not contiguous with each
    other). ATen's computeStride, step for step."""
    if not shape:
        return (1,) * len(new_shape)
    numel = math.prod(shape)
    if numel == 0 and tuple(shape) == tuple(new_shape):
        return tuple(strides)
    new_strides = [0] * len(new_shape)
    if numel == 0:   # any layout views an empty tensor: contiguous strides
        for d in range(len(new_shape) - 1, -1, -1):
            new_strides[d] = 1 if d == len(new_shape) - 1 else max(new_shape[d + 1], 1) * new_strides[d + 1]
        return tuple(new_strides)
    view_d = len(new_shape) - 1
    chunk_base_stride = strides[-1]   # the stride of the innermost dim of the current chunk
    tensor_numel = view_numel = 1
    for tensor_d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[tensor_d]
        # a chunk ends where the next outer dim is not laid out right after this one
        if tensor_d == 0 or (shape[tensor_d - 1] != 1 and strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def has_zero_stride(arr):
    """Whether a dim of size > 1 repeats its elements (stride 0): an expand's layout."""
    return any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape))


def unsqueezed(arr, dim, reshaped):
    """arr (a host array) with a new size-1 dim at dim, every stride torch's: the new one that of
    one step over the dim it goes before (size * stride), 1 at the end. reshaped: numpy's
    reshape of arr to that shape, returned where its strides are these (numpy may give size-1
    dims other strides)."""
    strides = arr.strides
    step = arr.itemsize if dim == arr.ndim else arr.shape[dim] * strides[dim]
    strides = strides[:dim] + (step,) + strides[dim:]
    return reshaped if reshaped.strides == strides else strided_view(arr, reshaped.shape, strides)


def strided_view(arr, shape, byte_strides):
    """A view of arr's memory as (shape, byte_strides), as writable as arr. Built over the array
    that owns the memory, so that the view's base chain leads there (storage_offset); where that
    owner exports no buffer, stride_tricks.as_strided (whose base hides the owner)."""
    owner = arr
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner.flags.c_contiguous and owner.flags.writeable:
        offset = arr.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
        out = np.ndarray(shape, arr.dtype, buffer=owner, offset=offset, strides=byte_strides)
        out.flags.writeable = arr.flags.writeable
        return out
    return np.lib.stride_tricks.as_strided(arr, shape, byte_strides, writeable=arr.flags.writeable)


def strides_are_torchs(tensor, arr):
    """Whether tensor's host array arr has torch's strides: a view's, an expand's, a *_like's, an
    elementwise result laid out as torch's, a channels-last copy (view() and view(dtype) then
    follow torch's rule; other results of ops may be laid out otherwise than torch's)."""
    return (tensor._view is not None or has_zero_stride(arr) or tensor._torch_layout is arr or laid_as_torch(arr)
            or channels_last_dense(arr))


def view_as_dtype(tensor, dtype):
    """tensor's memory read as dtype (a host array; no copy on "cpu"), with torch's checks: an
    element size that changes needs a last dim of stride 1 and, when it grows, a last dim,
    storage offset and strides that divide into whole new elements."""
    arr, offset = tensor.numpy(), 0
    if tensor.device == "cpu":
        if arr.flags.c_contiguous or strides_are_torchs(tensor, arr):
            offset = tensor.storage_offset()   # a view's or an expand's layout is torch's
        else:   # an op's result laid out other than torch's (contiguous) one: a copy laid out as torch's
            arr = arr.copy(order="C")
    old, new = arr.dtype, np.dtype(dtype)
    if old.itemsize == new.itemsize:
        return arr.view(new)
    what = f"to view {scalar_name(old)} as {scalar_name(new)} (different element sizes)"
    if arr.ndim == 0:
        raise DTypeMismatch(f"self.dim() cannot be 0 {what}")
    strides = element_strides(arr)
    ratio = new.itemsize // old.itemsize   # 0 when the elements shrink
    if ratio:
        for label, value in (("self.size(-1)", arr.shape[-1]), ("self.storage_offset()", offset)):
            if value % ratio:
                raise DTypeMismatch(f"{label} must be divisible by {ratio} {what}, but got {value}")
    if strides[-1] != 1:
        raise DTypeMismatch(f"self.stride(-1) must be 1 {what}, but got {strides[-1]}")
    for d, s in enumerate(strides[:-1] if ratio else ()):
        if s % ratio:
            raise DTypeMismatch(f"self.stride({d}) must be divisible by {ratio} {what}, but got {s}")
    return arr.view(new)   # numpy's view of a last dim of stride 1: the other byte strides kept, as torch's
