"""Tensor shape ops, indexing and gathers (the ShapeOps base class of Tensor).

Views are PyTorch's: basic indexing (ints, slices, None, ...), reshape/view, permute/transpose,
squeeze/unsqueeze, narrow, split/chunk/unbind share the input's memory, and remember their
base (`_view` = (base, kind, arg), see view_fns; `_base` gives the base Tensor) so that an
in-place write through a view is recorded on the base as autograd needs (inplace.py). Advanced
indexing, flip and repeat return copies, as in torch."""
import math
import warnings

import numpy as np

from tinygrad_seq import autograd, device as _device, diagonal_view, ops, ops_extra, shape_copies, writes
from tinygrad_seq.dim_alias import dim_from_axis, required_dim
from tinygrad_seq.dim_arg import dim_int, is_one_int
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.indexing import ints_first, normalize_index, relaid_as_torch_index
from tinygrad_seq.view_layout import (VIEW_SIZE_ERROR, element_strides, strides_are_torchs, view_as_dtype,
                                      view_strides, unsqueezed)


def _shape_arg(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _dim1(dim, ndim):
    return ops._norm_axes(dim, ndim)[0] if ndim else 0


def mark_view(out, base):
    """Mark the node of `out`, a view of `base`, as a view's when out's array is base's memory:
    the backward sweep then reads the view from the base as it was when the view was used, so
    an in-place write to the base between taking the view and using it is differentiated through
    (autograd._stale_view), as torch regenerates a view's grad_fn. Returns out."""
    ctx = out._ctx
    if ctx is not None:
        arr = out.array
        if (arr.base is not None if type(arr) is np.ndarray
                else _device.backend(out.device).may_share_memory(arr, base.array)):
            ctx.is_view = True
    return out


def view_fns(kind, arg):
    """(view_fn, put_fn) of a view recorded as _view = (base, kind, arg): view_fn(b) is the view
    of tensor b, put_fn(b, v) is b with that view replaced by v (both differentiable)."""
    if kind == "index":
        return (lambda b: mark_view(ops.GetItem.apply(b, idx=arg, advanced=False), b),
                lambda b, v: ops_extra.IndexPut.apply(b, v, idx=arg))
    if kind == "diagonal":   # functions.diagonal's view (on the CPU)
        return diagonal_view.view_fns_of_diagonal(*arg)
    if kind == "reshape":
        return (lambda b: mark_view(ops.Reshape.apply(b, shape=arg), b),
                lambda b, v: ops.Reshape.apply(v, shape=b.shape))
    inv = tuple(int(i) for i in np.argsort(arg))
    return (lambda b: mark_view(ops.Permute.apply(b, order=arg), b),
            lambda b, v: ops.Permute.apply(v, order=inv))


def _numbered(pieces):
    """The outputs of split / unbind as a tuple, each graph node told its output number (torch's
    error for such an output read after its base was written in place names it)."""
    out = tuple(pieces)
    for k, t in enumerate(out):
        if t._ctx is not None:
            t._ctx._multi_output_nr = k
    return out


class ShapeOps:
    __slots__ = ()

    # ------------------------------------------------------------ indexing
    def _view_getitem(self, idx):
        idx, advanced = normalize_index(idx, self)
        if not advanced and (True in idx or False in idx) and bool in map(type, idx):
            advanced = True   # torch: a Python bool indexes as an index tensor ([0], or [] for False): a copy
                              # (`in` first: cheaper than the type scan, which rules out the ints 1 and 0)
        split = ints_first(idx, advanced)
        if split is not None:   # (a None's stride, which orders the result's dims, is read before the ints)
            out = self._view_getitem(split[0])._view_getitem(split[1])
            out.array = relaid_as_torch_index(self.array, idx, out.array)
            return out
        out = ops.GetItem.apply(self, idx=idx, advanced=advanced)
        if not advanced:
            out._view = (self, "index", idx)
            ctx = out._ctx
            if ctx is not None:   # mark_view, inlined for numpy (a per-step gate split's hot path)
                arr = out.array
                if type(arr) is not np.ndarray:
                    mark_view(out, self)
                elif arr.base is not None:
                    ctx.is_view = True
        return out

    def unfold(self, dimension, size, step):
        return shape_copies.unfold(self, dimension, size, step)

    def nonzero(self, as_tuple=False):
        from tinygrad_seq.functions import nonzero
        return nonzero(self, as_tuple)

    def argwhere(self):
        return self.nonzero()

    def narrow(self, dim=None, start=None, length=None, *, axis=None):
        if axis is not None or dim is None or start is None or length is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "narrow", start=start, length=length)
        if hasattr(start, "ndim") and (start.ndim != 0 or start.dtype.kind not in "iu"):
            raise InvalidArgument(f"narrow: start must be an 0-dim integral Tensor, got shape "
                                  f"{tuple(start.shape)} and dtype {start.dtype}")
        if self.ndim == 0:
            raise InvalidArgument("narrow() cannot be applied to a 0-dim tensor.")
        d = _dim1(dim, self.ndim)
        n = self.shape[d]
        start = int(start) + (n if int(start) < 0 else 0)
        if not (0 <= start <= n and 0 <= length and start + length <= n):
            raise IndexOutOfRange(f"narrow: start {start} and length {length} are out of range for "
                             f"dimension {d} of size {n}")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def select(self, dim=None, index=None, *, axis=None):
        if axis is not None or dim is None or index is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "select", index=index)
        return self[(slice(None),) * _dim1(dim, self.ndim) + (int(index),)]

    def unbind(self, dim=0, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "unbind", 0)
        d = _dim1(dim, self.ndim)
        return _numbered(named(self.select(d, i), "UnbindBackward0") for i in range(self.shape[d]))

    def split(self, split_size_or_sections=None, dim=0, *, split_size=None):
        if split_size is not None:   # torch's keyword name for an int size
            split_size_or_sections = split_size
        d = _dim1(dim, self.ndim)
        n = self.shape[d]
        pre = (slice(None),) * d
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = list(split_size_or_sections)
            if any(k < 0 for k in sizes):
                raise InvalidArgument(f"split_with_sizes expects split_sizes have only non-negative entries, "
                                      f"but got split_sizes={sizes}")
            if sum(sizes) != n:
                raise ShapeMismatch(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                                    f"size at dimension {d}), but got split_sizes={sizes}")
            at = [int(s) for s in np.cumsum([0] + sizes[:-1])]   # where each piece starts
            return _numbered(named(self[pre + (slice(s, s + k),)], "SplitWithSizesBackward0") for s, k in zip(at, sizes))
        size = int(split_size_or_sections)
        if size < 0:
            raise InvalidArgument(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0:   # torch's: one empty piece of an empty dim
            if n:
                raise InvalidArgument(f"split_size can only be 0 if dimension size is 0, but got dimension "
                                      f"size of {n}")
            return (named(self[pre + (slice(0, 0),)], "SplitBackward0"),)
        return _numbered(named(self[pre + (slice(i, i + size),)], "SplitBackward0") for i in range(0, max(n, 1), size))

    def chunk(self, chunks, dim=0, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "chunk", 0)
        if chunks <= 0:   # torch's RuntimeError
            raise InvalidArgument(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        if self.ndim == 0:
            raise InvalidArgument("chunk expects at least a 1-dimensional tensor")
        size = self.shape[_dim1(dim, self.ndim)]
        if size == 0:   # torch's: `chunks` empty pieces
            return self.split([0] * chunks, dim)
        return self.split(-(-size // chunks), dim)

    def index_select(self, dim=None, index=None, *, axis=None):
        if axis is not None or dim is None or index is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "index_select", index=index)
        idx = index.array if isinstance(index, ShapeOps) else np.asarray(index)
        if idx.dtype.kind not in "iu":   # torch's error types: RuntimeError, IndexError
            raise DTypeMismatch(f"index_select(): Expected dtype int32 or int64 for index, got {idx.dtype}")
        if idx.ndim > 1:
            raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {tuple(idx.shape)}")
        if idx.size and (idx.min() < 0 or idx.max() >= (self.shape[_dim1(dim, self.ndim)] if self.ndim else 1)):
            raise IndexError("index out of range in self")   # torch's: a negative index too
        if self.ndim == 0:
            if idx.size != 1:
                raise ShapeMismatch(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
            return self.clone()
        pick = index if isinstance(index, ShapeOps) else idx
        pick = pick.reshape(1) if idx.ndim == 0 else pick   # a 0-d index keeps the dim with size 1, as torch's
        out = self[(slice(None),) * _dim1(dim, self.ndim) + (pick,)]
        return named(out if out.is_contiguous() else out.contiguous(), "IndexSelectBackward0")   # torch's: contiguous

    def masked_select(self, mask):
        return shape_copies.masked_select(self, mask)

    def gather(self, dim=None, index=None, *, sparse_grad=False, axis=None):
        return writes.keep_for_write_check(shape_copies.gather(self, dim, index, axis=axis), self)   # torch's saves self

    def take_along_dim(self, indices, dim=None, *, axis=None):
        return writes.keep_for_write_check(shape_copies.take_along_dim(self, indices, dim, axis=axis), self)

    # ------------------------------------------------------------ views of the whole
    def reshape(self, *sizes, shape=None, size=None):
        # reshape(shape=...) and view(size=...) as torch names them
        if not sizes and shape is None and size is None:   # (library code passes a tuple, even ())
            raise TypeError('reshape() missing 1 required positional arguments: "shape"')
        shape = _shape_arg(sizes if shape is None and size is None else (size if shape is None else shape,))
        size = self.numel()
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
            raise ShapeMismatch(f"reshape: cannot reshape a tensor of shape {self.shape} ({size} elements) into {shape}")
        if self.device == "cpu" and type(self.array) is not np.ndarray:
            self._shared_array()   # an op's numpy scalar: a view of it must share its memory
        out = ops.Reshape.apply(self, shape=shape)
        B = _device.backend(self.device)
        if B.may_share_memory(out.array, self.array):
            out._view = (self, "reshape", out.shape)
            if out._ctx is not None:
                out._ctx.is_view = True   # mark_view's test, done above
        return out

    def view(self, *sizes, size=None):
        """reshape that must share memory, as torch's: a view of a tensor whose layout came from
        a transpose, permute, strided slice or expand raises where no view exists (torch's stride
        rule, view_layout.view_strides), so that writes through the result never silently miss
        the tensor. Results of other ops (whose layout may differ from torch's) reshape as before.
        view(dtype) reinterprets the bytes (no gradient), with torch's checks."""
        if len(sizes) == 1 and isinstance(sizes[0], (np.dtype, type)) and not isinstance(sizes[0], int):
            out = view_as_dtype(self, sizes[0])
            return autograd._Tensor._wrap(_device.backend(self.device).asarray(out), self.device)
        if not sizes and size is None:
            raise TypeError("view() takes a size (a tuple of ints, or ints) or a dtype; got no arguments")
        arr = self.array
        try:
            if type(arr) is np.ndarray and not arr.flags.c_contiguous and strides_are_torchs(self, arr):
                # a view's, an expand's or a *_like's strides are torch's: torch's rule says whether a view exists
                shape = _shape_arg(sizes if size is None else (size,))
                n, known = self.numel(), -math.prod(shape)
                if shape.count(-1) == 1 and known > 0 and n % known == 0:
                    shape = tuple(n // known if s == -1 else s for s in shape)
                if math.prod(shape) == n and view_strides(arr.shape, element_strides(arr), shape) is None:
                    raise ShapeMismatch(VIEW_SIZE_ERROR)   # (a shape of other size: reshape's error)
            out = self.reshape(*sizes, size=size)
        except ShapeMismatch as e:   # name view, not reshape, in the message
            raise ShapeMismatch(str(e).replace("reshape:", "view:", 1)) from None
        if (self.device != "cpu" and getattr(self, "_view", None) is not None and self.numel() > 1
                and out.shape != self.shape and not _device.backend(self.device).may_share_memory(out.array, arr)):
            raise ShapeMismatch(VIEW_SIZE_ERROR)   # a device view: judged by whether the reshape copied
        return out

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:   # torch's: dims 0 / -1 only (nn.Flatten()'s start_dim=1 is an IndexError)
            for d in (start_dim, end_dim):
                if d not in (0, -1):
                    raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {d})")
            return self.reshape(1)
        s, e = _dim1(start_dim, self.ndim), _dim1(end_dim, self.ndim)
        if s >= e:   # one dim "flattened": self itself, as torch's (a 1-D x.flatten() is x)
            if s == e:
                return self
            raise ShapeMismatch("flatten() has invalid args: start_dim cannot come after end_dim")
        n = math.prod(self.shape[s:e + 1])
        return self.reshape(self.shape[:s] + (n,) + self.shape[e + 1:])

    def unflatten(self, dim, sizes):
        """dim split into sizes (one -1 inferred); torch's RuntimeErrors for a 0-d tensor, no
        sizes, or sizes whose product is not dim's size."""
        if self.ndim == 0:
            raise RuntimeError(f"unflatten got an unexpected error:\nDimension specified as {dim} but tensor has "
                               f"no dimensions")
        d, sizes = _dim1(dim, self.ndim), tuple(sizes)
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or (self.shape[d] != known if -1 not in sizes
                                   else known == 0 or self.shape[d] % known):
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                               f"({self.shape[d]}) in the input tensor")
        return self.reshape(self.shape[:d] + sizes + self.shape[d + 1:])

    def permute(self, *order, dims=None):
        order = _shape_arg(order if dims is None else (dims,))
        # torch's checks, in its order: the count, each dim's range (IndexError), duplicates
        wrapped = tuple(wrap_dim(o, self.ndim) for o in order) if len(order) == self.ndim else order
        if len(set(wrapped)) != len(order) or len(order) != self.ndim:
            raise ShapeMismatch(f"permute(): {order} is not a permutation of the {self.ndim} dims of {self.shape} "
                                f"({'duplicate dims are not allowed' if len(order) == self.ndim else 'number of dims'})")
        out = ops.Permute.apply(self, order=wrapped)
        out._view = (self, "permute", wrapped)
        return mark_view(out, self)

    def transpose(self, dim0, dim1):
        if self.ndim == 0:   # torch's: dims 0 / -1 of a scalar, a view of it
            for d in (dim0, dim1):
                if d not in (0, -1):
                    raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {d})")
            return self.reshape(())
        order = list(range(self.ndim))
        d0, d1 = _dim1(dim0, self.ndim), _dim1(dim1, self.ndim)
        order[d0], order[d1] = order[d1], order[d0]
        return named(self.permute(tuple(order)), "TransposeBackward0")   # (permute's node otherwise)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise ShapeMismatch(f"t() expects a tensor with <= 2 dimensions, got shape {self.shape}; use transpose")
        # a 0-D or 1-D tensor: a new view of it, as torch's (its node TBackward0 too)
        return named(self.reshape(self.shape) if self.ndim < 2 else self.transpose(0, 1), "TBackward0")

    T = property(lambda self: self._reversed_dims())

    def _reversed_dims(self):
        if self.ndim > 2:   # torch's deprecation (shown once per place, Python's default filter)
            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                          "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                          "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                          "to reverse the dimensions of a tensor.", UserWarning, stacklevel=3)
        return self.permute(tuple(range(self.ndim))[::-1])
    mT = property(lambda self: self._matrix_transpose())

    def _matrix_transpose(self):
        if self.ndim < 2:
            raise ShapeMismatch(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                                f"{self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    def unsqueeze(self, dim=None, *, axis=None):
        if axis is not None or dim is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "unsqueeze")
        if type(dim) is not int:   # a numpy integer, a 0-d tensor; a bool: torch's TypeError
            dim = dim_int(dim)
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dimension {dim} out of range for a tensor of {self.ndim} dimensions")
        out = named(self.reshape(self.shape[:d] + (1,) + self.shape[d:]), "UnsqueezeBackward0")
        arr = self.array
        if type(arr) is np.ndarray and (1 in arr.shape or not arr.flags.c_contiguous):
            out.array = unsqueezed(arr, d, out.array)   # torch's strides, where numpy's reshape differs
        return out

    def squeeze(self, dim=None, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "squeeze")
        if dim is None:
            return named(self.reshape(tuple(s for s in self.shape if s != 1)), "SqueezeBackward0")
        one = is_one_int(dim)
        dims = (dim,) if one else tuple(dim)
        if self.ndim == 0:   # dim 0 or -1 only; still a new node, as torch's
            ops._norm_axes(dims, 1)
            return named(self.reshape(()), "SqueezeBackward1" if one else "SqueezeBackward2")
        ds = {_dim1(d, self.ndim) for d in dims}
        return named(self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in ds and s == 1))),
                     "SqueezeBackward1" if one else "SqueezeBackward2")

    def expand(self, *sizes, size=None):
        shape = _shape_arg(sizes if size is None else (size,))
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ShapeMismatch(f"expand({list(self.shape)}, size={list(shape)}): the number of sizes provided "
                                f"({len(shape)}) must be greater or equal to the number of dimensions in the tensor "
                                f"({self.ndim})")
        if -1 in shape[:lead]:
            raise ShapeMismatch(f"expand: -1 is not allowed in a leading, non-existing dimension (shape {shape})")
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        try:
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ShapeMismatch(f"expand: shape {self.shape} cannot be expanded to {shape}") from None
        out = mark_view(ops.Expand.apply(self, shape=shape), self)
        if math.prod(shape) == self.numel() and _device.backend(self.device).may_share_memory(out.array, self.array):
            out._view = (self, "reshape", shape)   # no element repeats: writes through it are self's, as torch's
        return out

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, *shape, size=None):
        return self.expand(*shape, size=size)

    def triu(self, diagonal=0):
        """Elements on and above the diagonal-th diagonal of the last two dims; the rest 0."""
        return self._band(np.triu, diagonal)

    def tril(self, diagonal=0):
        return self._band(np.tril, diagonal)

    def _band(self, fn, diagonal):
        if self.ndim < 2:
            raise ShapeMismatch(f"triu/tril need at least 2 dimensions, got shape {self.shape}")
        keep = fn(np.ones(self.shape[-2:], bool), diagonal)
        mask = autograd._Tensor(~keep, device=self.device)
        return named(self.masked_fill(mask, 0), "TrilBackward0" if fn is np.tril else "TriuBackward0")

    # ------------------------------------------------------------ copies
    def flip(self, *dim_args, dims=None):
        if not dim_args and dims is None:   # torch's: flip() names no dims (flip(()) flips none)
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        return shape_copies.flip(self, _shape_arg(dim_args if dims is None else (dims,)))

    def roll(self, shifts, dims=None):
        return shape_copies.roll(self, shifts, dims)

    def repeat(self, *sizes):
        if not sizes:   # torch's TypeError (repeat([]) is the RuntimeError below)
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ShapeMismatch(f"repeat: {len(sizes)} sizes given for a tensor of {self.ndim} dimensions")
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        pairs = tuple(v for d in x.shape for v in (1, d))
        big = tuple(v for s, d in zip(sizes, x.shape) for v in (s, d))
        out = x.reshape(pairs).expand(big).reshape(tuple(s * d for s, d in zip(sizes, x.shape)))
        # a new, writable tensor, never a view of self (expand's reshape is a view at all sizes 1)
        out = out.contiguous()
        out = out.clone() if _device.backend(self.device).may_share_memory(out.array, self.array) else out
        return named(out, "RepeatBackward0")

    def tile(self, *dims):
        dims = _shape_arg(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None, axis=None):
        """Each element (or slice along dim) repeated (repeats required, as torch's method; the
        one-argument torch.repeat_interleave(counts) is functions.repeat_interleave)."""
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "repeat_interleave")
        x = self.flatten() if dim is None else self
        d = 0 if dim is None else _dim1(dim, x.ndim)
        r = repeats.numpy() if isinstance(repeats, ShapeOps) else repeats
        if np.ndim(r) == 1 and len(r) not in (1, x.shape[d]):
            raise ShapeMismatch(f"repeats must have the same size as input along dim, but got repeats.size(0) "
                                f"= {len(r)} and input.size({d}) = {x.shape[d]}")
        if np.ndim(r) > 1:   # torch's RuntimeErrors (InvalidArgument: ValueError too, as numpy's were)
            raise InvalidArgument("repeats must be 0-dim or 1-dim tensor")
        if np.size(r) and np.min(r) < 0:
            raise InvalidArgument("repeats can not be negative" if isinstance(repeats, ShapeOps)
                                  else "Repeats must be non-negative")
        idx = np.repeat(np.arange(x.shape[d]), r)
        out = x.index_select(d, autograd._Tensor(idx, device=self.device))
        return out if isinstance(repeats, ShapeOps) else named(out, "ViewBackward0")   # torch's expand + view

