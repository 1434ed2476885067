"""Tensors saved as views of shared storages, so that views saved together still share memory
after loading (torch.save keeps x and x[2:5], p and p.data, x and x.view(2, 5) sharing).

Saving: the host arrays of the tensors are grouped by the memory they touch (overlapping byte
ranges, numpy's byte_bounds); each group's memory [lowest byte, highest byte) is written once, as
a 1-D array of the group's dtype (a "storage"), and each tensor as (storage, offset, shape,
strides), offset and strides counted in elements as Tensor.stride() counts them. Only bytes some
saved tensor can reach are written, so a small view of a large array stays small.
Loading: each tensor is rebuilt with as_strided over its loaded storage, after checking that
every element it can reach lies inside the storage (a corrupt file raises, never reads outside).
"""
import math

import numpy as np

from tinygrad_seq.checkpoint_errors import SameDataAsTwoTypesError

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:   # numpy < 2
    byte_bounds = np.byte_bounds

SAME_DATA_AS_TWO_TYPES = "Cannot save multiple tensors or storages that view the same data as different types"


def _contiguous_strides(shape):
    """Row-major element strides of shape (a size-0 dim counts as 1, as torch's)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return list(reversed(strides))


class StoragePlan:
    """Collects the host arrays of the tensors being saved; layout() groups them into storages."""

    def __init__(self):
        self._arrays = []

    def add(self, arr):
        """Register arr (a tensor's host array, not copied); -> its index in layout()'s views."""
        self._arrays.append(arr)
        return len(self._arrays) - 1

    def layout(self):
        """-> (storages, views): storages are 1-D arrays to write (views of the saved memory, no
        copy, except for arrays numpy cannot describe in whole elements), views[k] is
        (storage index, offset, shape, strides) of the k-th added array. Raises
        SameDataAsTwoTypesError where one memory is saved as two dtypes, as torch.save does."""
        storages, views = [], [None] * len(self._arrays)
        spans = []   # (lowest byte, end byte, index) of every array that has elements
        for k, arr in enumerate(self._arrays):
            if arr.size and all(s % arr.itemsize == 0 for s in arr.strides):
                lo, hi = byte_bounds(arr)
                spans.append((lo, hi, k))
            else:   # empty, or strides numpy allows but torch cannot state: saved on its own
                views[k] = self._standalone(arr, storages)
        spans.sort()
        group, group_end = [], None
        for lo, hi, k in spans + [(None, None, None)]:
            if group and (lo is None or lo >= group_end):   # no overlap with the group: close it
                self._save_group(group, storages, views)
                group = []
            if lo is not None:
                group_end = hi if not group else max(group_end, hi)
                group.append((lo, hi, k))
        return storages, views

    def _standalone(self, arr, storages):
        storages.append(np.ascontiguousarray(arr).reshape(-1))
        return len(storages) - 1, 0, list(arr.shape), _contiguous_strides(arr.shape)

    def _save_group(self, group, storages, views):
        arrays = [self._arrays[k] for _, _, k in group]
        dtype = arrays[0].dtype
        if any(a.dtype != dtype for a in arrays):
            raise SameDataAsTwoTypesError(SAME_DATA_AS_TWO_TYPES)
        lo, hi = group[0][0], max(h for _, h, _ in group)
        starts = [a.__array_interface__["data"][0] for a in arrays]
        if (hi - lo) % dtype.itemsize or any((s - lo) % dtype.itemsize for s in starts):
            for a, (_, _, k) in zip(arrays, group):   # byte-shifted views of one memory: each its own copy
                views[k] = self._standalone(a, storages)
            return
        first = arrays[0]   # the array whose lowest byte is lo; the element there, as a view (slices, not ints)
        at_lo = first[tuple(slice(0, 1) if s >= 0 else slice(n - 1, n) for s, n in zip(first.strides, first.shape))] \
            if first.ndim else first
        memory = np.lib.stride_tricks.as_strided(at_lo, shape=((hi - lo) // dtype.itemsize,),
                                                 strides=(dtype.itemsize,), writeable=False)
        storages.append(memory)
        s = len(storages) - 1
        for a, start, (_, _, k) in zip(arrays, starts, group):
            views[k] = (s, (start - lo) // dtype.itemsize, list(a.shape), [st // dtype.itemsize for st in a.strides])


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def view_of_storage(storage, offset, shape, strides):
    """The tensor array (shape, element strides) starting `offset` elements into the 1-D
    storage, sharing its memory; ValueError naming the problem where the layout is malformed or
    reaches outside the storage."""
    if not (isinstance(shape, list) and isinstance(strides, list) and all(map(_is_int, shape))
            and all(map(_is_int, strides)) and _is_int(offset)):
        raise ValueError(f"a tensor's layout is malformed (offset {offset!r:.40}, shape {shape!r:.80}, "
                         f"strides {strides!r:.80})")
    if len(shape) != len(strides) or len(shape) > 64 or any(n < 0 for n in shape) or offset < 0:
        raise ValueError(f"a tensor's layout is invalid (offset {offset}, shape {shape}, strides {strides})")
    size = storage.shape[0]
    if math.prod(shape) == 0:
        if offset > size:
            raise ValueError(f"a tensor starts at element {offset} of a storage of {size} elements")
        lowest = highest = offset
    else:
        lowest = offset + sum(s * (n - 1) for s, n in zip(strides, shape) if s < 0)
        highest = offset + sum(s * (n - 1) for s, n in zip(strides, shape) if s > 0)
    if lowest < 0 or (math.prod(shape) and highest >= size):
        raise ValueError(f"a tensor (offset {offset}, shape {shape}, strides {strides}) reaches elements "
                         f"{lowest}..{highest} of a storage of {size} elements")
    item = storage.itemsize
    return np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(shape),
                                           strides=tuple(s * item for s in strides), writeable=True)
