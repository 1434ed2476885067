"""Tensor methods torch 2.13 has that build on ops that exist here: index_reduce(_) (on
scatter_reduce), the deprecated non-in-place resize / resize_as (a reshape keeping the element
count, as torch's autograd Resize), prelu, igamma / igammac and their in-place forms (special's
gammainc / gammaincc), mvlgamma_, polygamma_, histogram, nonzero_static, as_strided_ (a CPU
tensor re-viewed over its own memory) and as_strided_scatter, output_nr and name."""
import warnings

import numpy as np

from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.user_warning import warn_once

_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _index_reduce_args(self, dim, index, source, reduce):
    """torch's checks; -> (dim >= 0, index expanded to source's shape as scatter_reduce takes it)."""
    from tinygrad_seq.tensor import Tensor
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if index.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{torch_type_name(index.dtype)} and size: {list(index.shape)}")
    if index.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{torch_type_name(index.dtype)}")
    nd = max(self.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    dim %= nd
    if source.ndim != self.ndim or any(s != o for d, (s, o) in enumerate(zip(source.shape, self.shape)) if d != dim):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(self.shape)} source.shape = {list(source.shape)}")
    count = source.shape[dim] if source.ndim else 1
    if index.numel() != count:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({count}), for dim: {dim}")
    idx = index.numpy().astype(np.int64).reshape(-1)
    size = self.shape[dim] if self.ndim else 1
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise IndexError("index out of range in self")
    idx = idx % size if size else idx
    shape = [1] * source.ndim
    if source.ndim:
        shape[dim] = count
    return dim, Tensor(np.broadcast_to(idx.reshape(shape), source.shape).copy(), device=self.device)


def index_reduce(self, dim, index, source, reduce, *, include_self=True):
    """self with source's slices along dim reduced (prod, mean, amax, amin) into the slices
    index names; include_self=False leaves self's values out of the slices written to."""
    from tinygrad_seq.scatter_reduce_op import scatter_reduce
    warn_once("index_reduce", "index_reduce() is in beta and the API may change at any time.")   # torch's, once
    dim, idx = _index_reduce_args(self, dim, index, source, reduce)
    return scatter_reduce(self, dim, idx, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return self._write("index_reduce_", lambda t, s: index_reduce(t, dim, index, s, reduce,
                                                                  include_self=include_self), source)


def _resize_sizes(sizes):
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)


def resize(self, *sizes):
    """Deprecated (warns, as torch's): self reshaped to sizes, which must hold as many elements."""
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    sizes = _resize_sizes(sizes)
    n = int(np.prod(sizes, dtype=np.int64))
    if n != self.numel():
        raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({n} elements in total), but the given "
                           f"tensor has a size of {'x'.join(map(str, self.shape))} ({self.numel()} elements). "
                           f"autograd's resize can only change the shape of a given tensor, while preserving the "
                           f"number of elements. ")
    return self.reshape(sizes)


def resize_as(self, tensor):
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return resize(self, tuple(tensor.shape))


def prelu(self, weight):
    from tinygrad_seq.functional_more import prelu as prelu_fn
    return prelu_fn(self, weight)


def igamma(self, other):
    from tinygrad_seq import special
    return special.gammainc(self, other)


def igammac(self, other):
    from tinygrad_seq import special
    return special.gammaincc(self, other)


def igamma_(self, other):
    return self._write("igamma_", igamma, other)


def igammac_(self, other):
    return self._write("igammac_", igammac, other)


def mvlgamma_(self, p):
    return self._write("mvlgamma_", lambda t: t.mvlgamma(p))


def polygamma_(self, n):
    return self._write("polygamma_", lambda t: t.polygamma(n))


def histogram(self, bins=100, *, range=None, weight=None, density=False, out=None):
    from tinygrad_seq.histograms import histogram as histogram_fn
    return histogram_fn(self, bins, range=range, weight=weight, density=density, out=out)


def nonzero_static(self, *, size, fill_value=-1):
    """nonzero() [count, ndim] cut or padded with fill_value rows to exactly `size` rows."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got {size}")
    found = np.argwhere(self.numpy())
    out = np.full((int(size), self.ndim), fill_value, np.int64)
    out[:min(size, len(found))] = found[:size]
    return Tensor(out, device=self.device)


def strided_positions(size, stride, offset):
    """The flat storage positions [*size] of as_strided(size, stride, offset)."""
    idx = np.full(tuple(size), offset, dtype=np.int64)
    for d, (s, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = s
        idx = idx + (np.arange(s) * st).reshape(shape)
    return idx


def as_strided_(self, size, stride, storage_offset=None):
    """self re-viewed in place as as_strided(size, stride, storage_offset) over its memory (a
    contiguous CPU tensor that does not require grad; storage_offset counts from its first
    element, None: 0)."""
    if self.requires_grad:
        raise RuntimeError("as_strided_: a tensor that requires grad cannot be re-viewed in place here; "
                           "use as_strided (differentiable)")
    arr = self.array
    if getattr(self.device, "type", "cpu") != "cpu" or not arr.flags.c_contiguous:
        raise NotImplementedError("as_strided_ is supported on contiguous CPU tensors only here; "
                                  "use as_strided")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    offset = 0 if storage_offset is None else int(storage_offset)
    positions = strided_positions(size, stride, offset)
    if positions.size and (positions.min() < 0 or positions.max() >= arr.size):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} "
                           f"requiring a storage of {int(positions.max()) + 1} elements are out of bounds for "
                           f"storage of size {arr.size}")
    root = arr   # the memory's owner, so storage_offset() still counts from its start
    while isinstance(root.base, np.ndarray):
        root = root.base
    start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0] + offset * arr.itemsize
    self.array = np.ndarray(size, arr.dtype, buffer=root, offset=start, strides=tuple(s * arr.itemsize for s in stride))
    self._ver += 1   # torch's: an in-place op, seen by autograd's saved-tensor checks
    if getattr(self, "_view", None) is not None:
        self._view = None
    return self


def as_strided_scatter(self, src, size, stride, storage_offset=None):
    """A copy of self (read as its contiguous elements) with src written at the positions
    as_strided(size, stride, storage_offset) would read; differentiable in self and src."""
    from tinygrad_seq.tensor import Tensor
    size = tuple(int(s) for s in size)
    if tuple(src.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(size)}")
    positions = strided_positions(size, stride, 0 if storage_offset is None else int(storage_offset))
    n = self.numel()
    if positions.size and (positions.min() < 0 or positions.max() >= n):
        raise RuntimeError(f"as_strided_scatter: sizes {list(size)} and strides {list(stride)} reach outside the "
                           f"{n} elements of self")
    flat = self.contiguous().reshape(-1)
    written = flat.index_put((Tensor(positions.reshape(-1), device=self.device),), src.reshape(-1).to(self.dtype))
    return written.reshape(self.shape)


METHODS = dict(index_reduce=index_reduce, index_reduce_=index_reduce_, resize=resize, resize_as=resize_as,
               prelu=prelu, igamma=igamma, igammac=igammac, igamma_=igamma_, igammac_=igammac_, mvlgamma_=mvlgamma_,
               polygamma_=polygamma_, histogram=histogram, nonzero_static=nonzero_static, as_strided_=as_strided_,
               as_strided_scatter=as_strided_scatter, output_nr=property(lambda self: self._idx),
               name=property(lambda self: None))
