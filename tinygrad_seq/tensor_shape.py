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
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch
from tinygrad_seq.indexing import ints_first, normalize_index, relaid_as_torch_index
from tinygrad_seq.repeat_node import Repeat
from tinygrad_seq.view_layout import (VIEW_SIZE_ERROR, element_strides, strides_are_torchs, view_as_dtype,
                                      view_strides, unsqueezed)


def _shape_arg(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def reshape_error(shape, size):
    """torch's RuntimeError (infer_size's checks, in its order) for a reshape / view of `size`
    elements into `shape` that does not fit."""
    infer, known = None, 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                return ShapeMismatch("only one dimension can be inferred")
            infer = i
        elif s < 0:
            return ShapeMismatch(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            known *= s
    if infer is not None and known == 0 and size == 0:
        return ShapeMismatch(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                             f"dimension size -1 can be any value and is ambiguous")
    return ShapeMismatch(f"shape '{list(shape)}' is invalid for input of size {size}")


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



def _by_keyword(method, name, given, kw):
    """A *sizes method's sizes, given positionally or as torch's keyword (repeat(repeats=...),
    tile(dims=...))."""
    if kw:
        extra = [k for k in kw if k != name]
        if extra:
            raise TypeError(f"{method}() got an unexpected keyword argument '{extra[0]}'")
        if given:
            raise TypeError(f"{method}() got multiple values for argument '{name}'")
        return (kw[name],)
    return given

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
        return self._basic_view(idx) if not advanced else ops.GetItem.apply(self, idx=idx, advanced=True)

    def _basic_view(self, idx):
        """self[idx] for an index tuple already normalised and basic (slices, in-range ints, None):
        a view. unbind / split / select / narrow build theirs directly (normalize_index was most
        of a piece's cost: unbind of 16 rows 101 -> 40 us)."""
        out = ops.GetItem.apply(self, idx=idx, advanced=False)
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
        d = _dim1(dim, self.ndim)
        if type(idx) is np.ndarray and idx.ndim == 1 and idx.dtype in (np.int64, np.int32):
            # the normalised index itself (checked above): no normalize_index (22 -> ~10 us a beam step)
            out = ops.GetItem.apply(self, idx=(slice(None),) * d + (idx,), advanced=True)
        else:
            pick = index if isinstance(index, ShapeOps) else idx
            pick = pick.reshape(1) if idx.ndim == 0 else pick   # a 0-d index keeps the dim with size 1, as torch's
            out = self[(slice(None),) * d + (pick,)]
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
        if (shape.count(-1) > 1 or (-1 in shape and (known <= 0 or size % known)) or (-1 not in shape and known != size)
                or min(shape, default=0) < -1):
            raise reshape_error(shape, size)
        return self._reshaped(shape)

    def _reshaped(self, shape):
        """self reshaped to `shape`, a tuple of sizes (no -1) holding self's elements: reshape once
        its checks passed, squeeze / unsqueeze directly (9 -> ~6 us a call)."""
        if self.device == "cpu" and type(self.array) is not np.ndarray:
            self._shared_array()   # an op's numpy scalar: a view of it must share its memory
        out = ops.Reshape.apply(self, shape=shape)
        B = _device.backend(self.device)
        if B.may_share_memory(out.array, self.array):
            out._view = (self, "reshape", out.shape)
            if out._ctx is not None:
                out._ctx.is_view = True   # mark_view's test, done above
        return out

    def view(self, *sizes, size=None, dtype=None):
        """reshape that must share memory, as torch's: a view of a tensor whose layout came from
        a transpose, permute, strided slice or expand raises where no view exists (torch's stride
        rule, view_layout.view_strides), so that writes through the result never silently miss
        the tensor. Results of other ops (whose layout may differ from torch's) reshape as before.
        view(dtype) reinterprets the bytes (no gradient), with torch's checks."""
        if dtype is not None and not sizes and size is None:   # view(dtype=...), torch's keyword
            sizes = (dtype,)
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
            out = self.reshape(*sizes, size=size)   # (reshape's errors are torch's view's too)
        except ShapeMismatch as e:
            raise ShapeMismatch(str(e)) from None
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
        if -1 in sizes:   # inferred from the dim's own size (a zero-size tensor's other dims do not say it)
            sizes = tuple(self.shape[d] // known if s == -1 else s for s in sizes)
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

    swapdims = transpose

    def swapaxes(self, axis0, axis1):   # torch's names (swapdims and transpose take dim0, dim1)
        return self.transpose(axis0, axis1)

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
        out = named(self._reshaped(self.shape[:d] + (1,) + self.shape[d:]), "UnsqueezeBackward0")
        arr = self.array
        if type(arr) is np.ndarray and (1 in arr.shape or not arr.flags.c_contiguous):
            out.array = unsqueezed(arr, d, out.array)   # torch's strides, where numpy's reshape differs
        return out

    def squeeze(self, dim=None, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "squeeze")
        if dim is None:
            return named(self._reshaped(tuple(s for s in self.shape if s != 1)), "SqueezeBackward0")
        one = is_one_int(dim)
        dims = (dim,) if one else tuple(dim)
        if self.ndim == 0:   # dim 0 or -1 only; still a new node, as torch's
            ops._norm_axes(dims, 1)
            return named(self.reshape(()), "SqueezeBackward1" if one else "SqueezeBackward2")
        ds = {_dim1(d, self.ndim) for d in dims}
        return named(self._reshaped(tuple(s for i, s in enumerate(self.shape) if not (i in ds and s == 1))),
                     "SqueezeBackward1" if one else "SqueezeBackward2")

    def expand(self, *sizes, size=None):
        shape = _shape_arg(sizes if size is None else (size,))
        lead, own = len(shape) - self.ndim, self.shape
        if lead < 0:
            raise ShapeMismatch(f"expand({self.type()}{{{list(own)}}}, size={list(shape)}): the number of sizes "
                                f"provided ({len(shape)}) must be greater or equal to the number of dimensions in "
                                f"the tensor ({self.ndim})")
        out = list(shape)
        for i in range(len(shape) - 1, -1, -1):   # torch's order (the last dim first) and texts
            s = shape[i]
            if i < lead:
                if s == -1:
                    raise ShapeMismatch(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                        f"non-existing dimension {i}")
                continue
            n = own[i - lead]
            if s == -1:
                out[i] = n
            elif s != n and n != 1:
                raise ShapeMismatch(f"The expanded size of the tensor ({s}) must match the existing size ({n}) at "
                                    f"non-singleton dimension {i}.  Target sizes: {list(shape)}.  Tensor sizes: "
                                    f"{list(own)}")
        if min(out, default=0) < 0:   # a negative size left where a 1 was (torch's check of numel)
            raise ShapeMismatch("numel: integer multiplication overflow")
        shape = tuple(out)
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

    def repeat(self, *sizes, **kw):
        sizes = _by_keyword("repeat", "repeats", sizes, kw)
        if not sizes:   # torch's TypeError (repeat([]) is the RuntimeError below)
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ShapeMismatch(f"repeat: {len(sizes)} sizes given for a tensor of {self.ndim} dimensions")
        out_shape = [s * d for s, d in zip(sizes, (1,) * (len(sizes) - self.ndim) + self.shape)]
        if min(out_shape, default=0) < 0:   # torch's text: the result's sizes
            raise InvalidArgument(f"Trying to create tensor with negative dimension "
                                  f"{next(s for s in out_shape if s < 0)}: {out_shape}")
        return named(Repeat.apply(self, sizes=tuple(int(s) for s in sizes)), "RepeatBackward0")   # (a new tensor)

    def tile(self, *dims, **kw):
        dims = _shape_arg(_by_keyword("tile", "dims", dims, kw))
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

