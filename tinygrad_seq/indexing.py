"""Index normalisation of Tensor.__getitem__ / __setitem__: PyTorch's index forms into the
tuple the array backends take, with PyTorch's bounds errors."""
import numbers
from collections.abc import Sequence

import numpy as np

from tinygrad_seq import autograd
from tinygrad_seq.index_layout import torch_index_strides
from tinygrad_seq.memory_formats import copy_with_strides
from tinygrad_seq.user_warning import warn_at_caller


# the dtypes of an index tensor torch takes (long, int, byte as a mask, bool)
_INDEX_DTYPES = frozenset(np.dtype(d) for d in (np.int64, np.int32, np.uint8, np.bool_))

_ZERO_DIM = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ "
             "to convert a 0-dim tensor to a number")


def _check_mask(mask, shape, dim):
    """torch's IndexError for a bool mask whose shape differs from the dims it covers (an empty
    mask too, which numpy reads as selecting nothing)."""
    for k, size in enumerate(mask.shape):
        if dim + k < len(shape) and shape[dim + k] != size:
            raise IndexError(f"The shape of the mask {list(mask.shape)} at index {k} does not match the shape of "
                             f"the indexed tensor {list(shape)} at index {dim + k}")


def normalize_index(idx, t):
    """Index tuple of slices/ints/None/Ellipsis/host-or-device int or bool arrays; bounds checked."""
    if type(idx) is int:   # fast path: t[i]
        shape = t.array.shape
        if not shape:
            raise IndexError(_ZERO_DIM)
        n = shape[0]
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of bounds for dimension 0 with size {n}")
        return (idx,), False
    if type(idx) is list and _sequence_as_tuple(idx):
        warn_at_caller("Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
                       "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq].")
        idx = tuple(idx)
    items = idx if isinstance(idx, tuple) else (idx,)
    out, advanced = [], False
    dim = 0
    # dims the non-Ellipsis items consume (a bool mask, or a uint8 tensor (a mask too, below),
    # consumes one per mask dim; a Python bool, like None, adds a dim and consumes none)
    n_real = sum(getattr(i, "ndim", 1) if getattr(i, "dtype", None) == np.bool_ or (
        isinstance(i, autograd._Tensor) and i.dtype == np.uint8) else 1
                 for i in items if i is not None and i is not Ellipsis and not isinstance(i, bool))
    if n_real > t.ndim and t.ndim:   # torch's message (a 0-d tensor keeps its own, below)
        raise IndexError(f"too many indices for tensor of dimension {t.ndim}")
    for it in items:
        if type(it) is range:   # an item that is a range indexes as the list of its values
            it = list(it)
        if isinstance(it, autograd._Tensor):   # Tensor (tensor.py sets it; importing it is a cycle)
            it = it.array if t.device != "cpu" else it.numpy()
            if it.dtype not in _INDEX_DTYPES:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if it.dtype == np.uint8:   # a uint8 tensor is a mask, as torch's (deprecated there)
                warn_at_caller("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                               "torch.bool instead.")
                it = it.astype(np.bool_)
            if it.ndim == 0 and it.dtype.kind in "iu":
                it = int(it)   # a 0-d integer tensor indexes as an integer does, as torch's
        if isinstance(it, (list, np.ndarray)) or (hasattr(it, "shape") and not isinstance(it, (numbers.Number, slice))):
            arr = np.asarray(it) if isinstance(it, list) else it
            if isinstance(it, list) and arr.size == 0:
                arr = arr.astype(np.int64)   # t[[]]: no rows, as torch (numpy reads [] as float)
            advanced = True
            if isinstance(arr, np.ndarray) and arr.dtype.kind in "iu" and dim < t.ndim and arr.size:
                n = t.shape[dim]
                bad = arr[(arr >= n) | (arr < -n)]
                if bad.size:
                    raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {n}")
            elif isinstance(arr, np.ndarray) and arr.dtype == np.bool_:
                _check_mask(arr, t.shape, dim)
            out.append(arr)
            dim += arr.ndim if isinstance(arr, np.ndarray) and arr.dtype == np.bool_ else 1
        elif isinstance(it, (numbers.Integral, np.integer)) and not isinstance(it, bool):
            if t.ndim == 0:
                raise IndexError(_ZERO_DIM)
            n = t.shape[dim] if dim < t.ndim else 0
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size {n}")
            out.append(int(it))
            dim += 1
        elif it is Ellipsis:
            out.append(it)
            dim += t.ndim - n_real
        else:
            out.append(it)
            if it is not None and not isinstance(it, bool):
                dim += 1
    if advanced and t.ndim == n_real and any(it is Ellipsis for it in out):
        # an Ellipsis standing for no dim parts no index arrays in torch (t[1:, idx, ..., mask]
        # keeps idx and mask adjacent); numpy would move their dims to the front
        out = [it for it in out if it is not Ellipsis]
    return tuple(out), advanced


def drop_leading_ones(value):
    """value (a Tensor written by item assignment) without its leading size-1 dims, as torch's
    copy_ into an indexed region takes it (a[2] = b[[1]], f[1] = ts.tensor([2.5]))."""
    shape = value.shape
    if not shape or shape[0] != 1:
        return value
    return value.reshape(shape[next((i for i, n in enumerate(shape) if n != 1), len(shape)):])


def _sequence_as_tuple(seq):
    """torch's treatSequenceAsTuple: a list index of fewer than 32 items holding a tensor, a
    sequence (list, tuple, range, array, str), a slice, None or Ellipsis indexes as the tuple of
    its items (x[[rows, cols]] is x[rows, cols], x[[range(3), range(3)]] the diagonal)."""
    if len(seq) >= 32:
        return False
    return any(isinstance(i, (autograd._Tensor, np.ndarray, Sequence, slice)) or i is None or i is Ellipsis
               for i in seq)


def ints_first(items, advanced):
    """(ints, rest) when a normalised index mixes integers with index arrays, else None. PyTorch
    applies the integers first (a select each) and the arrays to what is left; numpy counts an
    integer as one more array, which moves the arrays' dims to the front when a slice parts them:
    t[0, :, [1, 2]] of a [2, 3, 4] tensor is [3, 2] in torch and [2, 3] in numpy. t[ints][rest]
    is torch's result: ints (slices for every other dim; None left out) is a basic index, rest
    is the index without its integers."""
    if not advanced or not any(type(i) is int for i in items):
        return None
    ints, rest = [], []
    for it in items:
        if type(it) is int:
            ints.append(it)
        elif it is None or isinstance(it, bool):   # adds a dim: applied with the arrays
            rest.append(it)
        elif it is Ellipsis or isinstance(it, slice):
            ints.append(it if it is Ellipsis else slice(None))
            rest.append(it)
        else:   # an index array: a bool mask spans its ndim dims
            ints.extend([slice(None)] * (it.ndim if getattr(it, "dtype", None) == np.bool_ else 1))
            rest.append(it)
    return tuple(ints), tuple(rest)


def refuse_byte_mask_fill(idx, value):
    """t[mask] = value with one uint8 mask among the index's tensors and a one-element value:
    torch runs that as masked_fill_, which takes bool masks only (its RuntimeError, before the
    deprecation warning a read through the same mask gives). With another index tensor beside
    the mask, or a value of several elements, torch's index_put_ takes the uint8 mask."""
    items = idx if isinstance(idx, tuple) else (idx,)
    arrays = [i for i in items if isinstance(i, (autograd._Tensor, np.ndarray, list))]
    if len(arrays) != 1 or getattr(arrays[0], "dtype", None) != np.uint8 or arrays[0].ndim == 0:
        return   # (a 0-d uint8 index is an index tensor in torch's slicing, not a mask)
    n = value.numel() if isinstance(value, autograd._Tensor) else np.size(value)
    if n == 1:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")


def index_laid_as_torch(a, idx):
    """Host array a[idx] with advanced indices (normalize_index's), laid out as torch's index: contiguous for an input whose
    strides run in row-major order (numpy puts an indexed axis first in memory: h[:, order] of an
    LSTM state, then a dropout, drew torch's mask onto other elements). One integer array after
    full slices (index_select, h[:, order]) is numpy's take, which writes that layout directly."""
    k = len(idx) - 1
    while k > 0 and type(idx[k]) is slice and idx[k] == slice(None):
        k -= 1
    if type(idx[k]) is np.ndarray and idx[k].dtype.kind in "iu" and all(
            type(i) is slice and i == slice(None) for i in idx[:k]):
        out = np.take(a, idx[k], axis=k)
    else:
        out = a[idx]
    if row_major(a):
        return out if out.flags.c_contiguous else np.ascontiguousarray(out)
    return relaid_as_torch_index(a, idx, out)


def relaid_as_torch_index(a, idx, out):
    """out = a[idx] laid out by torch's rule for an advanced index (index_layout.py): a copy where
    its order differs, else out itself (device arrays, and inputs whose strides run row-major)."""
    if type(a) is not np.ndarray or type(out) is not np.ndarray or row_major(a):
        return out
    strides = torch_index_strides(a, idx)
    if strides is None or out.ndim < 2 or all(n == 1 or s == t * out.itemsize
                                              for n, s, t in zip(out.shape, out.strides, strides)):
        return out
    return copy_with_strides(out, strides)


def index_arrays(idx):
    """The index arrays in a normalised index (the index tensors' own memory, as torch's index
    nodes save them): a node keeping them raises at backward once one was written in place, where
    it would scatter the gradient to the new positions (writes.keep_for_write_check's tuple)."""
    return tuple(i for i in (idx if type(idx) is tuple else (idx,)) if hasattr(i, "shape") and hasattr(i, "dtype"))


def row_major(a):
    """Whether a's dims of more than one element have strictly decreasing positive strides."""
    strides = [s for s, n in zip(a.strides, a.shape) if n > 1]
    return all(s > 0 for s in strides) and all(x > y for x, y in zip(strides, strides[1:]))
