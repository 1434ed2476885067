"""The index and scatter writes of Tensor (InPlaceOps's methods of these names): index_fill_,
scatter_, scatter_add_, index_add_, index_copy_ and their out-of-place forms, with torch's checks
(scatter_args, shared with scatter_reduce). A 0-d self counts as one element along dim 0 / -1,
as in torch (zero_d_write)."""
import numpy as np

from tinygrad_seq import autograd, device as _device, ops_extra
from tinygrad_seq.add_at import add_rows
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.index_checks import check_index_copy, check_index_copy_ranks, check_index_fill
from tinygrad_seq.indexing import normalize_index
from tinygrad_seq.internal_overlap import check_elementwise_operands, check_no_overlap, check_no_partial_overlap
from tinygrad_seq.user_warning import warn_once
from tinygrad_seq.int_convert import float_scalar
from tinygrad_seq.tensor_matmul import scalar_name


INDEX_DTYPES = (np.int64, np.int32)   # torch's gather / scatter index dtypes (a uint8 one is refused)


def _is_tensor(x):
    return isinstance(x, autograd._Tensor)


def index_fill_(self, dim, index, value):
    if isinstance(value, (complex, np.complexfloating)):   # (ts has no complex dtype: every self refuses one)
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not supported")
    check_no_overlap(self, index)   # torch's: the index shares no memory with self
    if self.ndim == 0:
        return zero_d_write(self, "index_fill_", dim, lambda t, v: t.index_fill(0, index.reshape(-1), v), value)
    check_index_fill(index, value)
    d = wrap_dim(dim, self.ndim)
    i, n = np.asarray(index.numpy()).reshape(-1), self.shape[d]
    bad = i[(i < -n) | (i >= n)]
    if bad.size:
        raise IndexOutOfRange(f"index_fill_: index {int(bad[0])} is out of bounds for dimension {d} with size {n}")
    # each position once: a tensor value's gradient sums each filled element once, as torch's
    unique = autograd._Tensor(np.unique(np.where(i < 0, i + n, i)), device=self.device)
    before = self._ctx
    if _is_tensor(value) and value.dtype != self.dtype:   # torch casts a 0-d value to self's dtype
        value = value.to(dtype=self.dtype)
    elif _is_tensor(value) and value.device == "cpu":   # torch reads the value first: part of self is allowed
        value = value.clone()
    self[(slice(None),) * d + (unique,)] = float_scalar(value, self.dtype)   # a number float16 / float32
    return _named_write(self, before, "IndexFillBackward1" if _is_tensor(value) else "IndexFillBackward0")


def _named_write(self, before, node):
    """self, its node (made by an item assignment: before was its node until then) named torch's
    `node`; not a view's, whose node views the written base (torch's too)."""
    ctx = self._ctx
    if ctx is not before and ctx is not None and self._live_view() is None:
        ctx._torch_name = node
    return self


def zero_d_write(self, name, dim, fn, *args):
    """An index / scatter op on a 0-d self, which torch treats as one element along dim 0:
    self = fn(self as shape (1,), *args) back in shape ()."""
    from tinygrad_seq.shape_copies import zero_d_dim
    zero_d_dim(dim, name)
    return self._write(name, lambda t, *a: fn(t.reshape(1), *a).reshape(()), *args)


def scatter_(self, dim, index, src=None, value=None, reduce=None):
    """torch's scatter_(dim, index, src) / scatter_(dim, index, value), reduce=None, 'add' or
    'multiply' (the last without gradients, as torch's)."""
    node = None if reduce is not None else "ScatterBackward0" if _is_tensor(src) else "ScatterBackward1"
    if reduce is not None and _is_tensor(src):
        _warn_tensor_src_reduce()
    check_scatter_overlap(self, index, src)
    return _scatter_named(self, dim, index, src, value, reduce, node)


def _warn_tensor_src_reduce():
    """torch's deprecation of scatter(src=Tensor, reduce=...), said once per process (TORCH_WARN_ONCE)."""
    warn_once("scatter_tensor_src_reduce", "The reduce argument of torch.scatter with Tensor src is deprecated and "
              "will be removed in a future PyTorch release. Use torch.scatter_reduce instead for more reduction "
              "options.")


def _scatter_named(self, dim, index, src, value, reduce, node):
    """scatter_, its node torch's `node` (index_copy_ is a scatter_ that torch names its own)."""
    if reduce not in (None, "add", "multiply"):   # torch's RuntimeError (ValueError too: InvalidArgument)
        raise InvalidArgument("reduce argument must be either add or multiply.")
    if src is None:
        src = value
    else:
        same_dtype_src(self, src, "scatter")
    if self.ndim == 0 and _is_tensor(index):
        return zero_d_write(self, "scatter_", dim, lambda t, s: t.scatter(
            0, index.reshape(-1), s.reshape(-1) if _is_tensor(s) else s, reduce=reduce), src)
    if not _is_tensor(src):
        src = self._other(src).expand(index.shape)
    d, idx = scatter_args(self, dim, index, src, "scatter_")
    if idx is None:   # an empty index writes nothing
        return self
    if reduce == "multiply":
        if autograd.is_grad_enabled() and (self.requires_grad or src.requires_grad):
            raise RuntimeError("scatter_(reduce='multiply') does not support autograd; use scatter_reduce "
                               "with 'prod' or run it under no_grad")
        from tinygrad_seq.backend_cpu import _along
        out = self.numpy().copy()
        vals = src.numpy()[tuple(slice(0, s) for s in idx.shape)].astype(out.dtype)   # cast first, as torch
        np.multiply.at(out, _along(np.asarray(idx), d), vals)
        return self.copy_(out)
    return _scatter_into(self, "scatter_", d, idx, src, reduce == "add", node)


def check_scatter_overlap(self, index, src):
    """torch's scatter checks: neither index nor a tensor src shares memory with self."""
    check_no_overlap(self, index)
    if _is_tensor(src):
        check_no_overlap(self, src)


def _write_rows(self, name, write, *operands):
    """An in-place op outside the graph written straight into self's host memory by
    write(array) (index_add_ / index_copy_ / scatter_ / index_put_ into a large buffer: the rows
    written, where inplace._write computes the whole result and copies it back: 63 ms for 64
    rows of a 500k-row table, torch's 0.01); None where the graph records the op or self's memory
    is not a host array (the caller then runs _write)."""
    if type(self.array) is not np.ndarray or self._in_graph(*operands):
        return None
    self._refuse_inplace()
    check_elementwise_operands(self, name, operands)
    write(self.array)
    self._record_write()
    self._sync_base()
    return self


def _scatter_into(self, name, d, idx, src, add, node):
    """self's Scatter of src along d at idx, written in place; its node named `node` (None: as it is)."""
    def scatter(t, s):
        out = ops_extra.Scatter.apply(t, s.to(dtype=t.dtype), dim=d, index=idx, add=add)
        return out if node is None else named(out, node)
    if _is_tensor(src) and type(src.array) is np.ndarray:   # outside the graph: the rows only
        B = _device.backend(self.device)
        values = src.array.astype(self.dtype, copy=False)
        done = _write_rows(self, name, lambda a: (B.scatter_add if add else B.scatter)(a, d, idx, values), src)
        if done is not None:
            return done
    return self._write(name, scatter, src)


def scatter_add_(self, dim, index, src):
    check_scatter_overlap(self, index, src)
    return _scatter_add_named(self, dim, index, src, "ScatterAddBackward0")


def _scatter_add_named(self, dim, index, src, node):
    """scatter_add_, its node torch's `node` (index_add_ is a scatter_add_ that torch names its own)."""
    same_dtype_src(self, src, "scatter_add")
    if self.ndim == 0 and _is_tensor(index) and _is_tensor(src):
        return zero_d_write(self, "scatter_add_", dim, lambda t, s: t.scatter_add(0, index.reshape(-1),
                                                                                  s.reshape(-1)), src)
    d, idx = scatter_args(self, dim, index, src, "scatter_add_")
    if idx is None:   # an empty index writes nothing
        return self
    return _scatter_into(self, "scatter_add_", d, idx, src, True, node)


def index_add_(self, dim, index, source, alpha=1):
    """self[..., index[i], ...] += alpha * source[..., i, ...] along dim (repeats add up)."""
    if self.ndim == 0:
        return zero_d_write(self, "index_add_", dim, lambda t, s: t.index_add(
            0, index.reshape(-1), zero_d_source(s, "index_add_"), alpha), source)
    if _is_tensor(source) and source.dtype != self.dtype:   # checked here: scatter_add_'s message names scatter_add
        raise DTypeMismatch(f"index_add_(): self ({scalar_name(self.dtype)}) and source "
                            f"({scalar_name(source.dtype)}) must have the same scalar type")
    check_no_overlap(self, index)
    check_no_overlap(self, source)
    _index_in_range(self, dim, index)
    if self.dtype.kind in "iub" and isinstance(alpha, float):
        alpha = int(alpha)   # torch's: alpha becomes self's integer type (1.5 adds source once)
    along_index(self, dim, index, source, "index_add_", spread=False)   # (checks the shapes)
    d, rows = wrap_dim(dim, self.ndim), np.asarray(index.numpy() if _is_tensor(index) else index).reshape(-1)
    if (_is_tensor(source) and type(source.array) is np.ndarray and source.shape[:d] + source.shape[d + 1:]
            == self.shape[:d] + self.shape[d + 1:] and source.ndim == self.ndim and source.shape[d] == rows.size):
        # outside the graph: whole rows added at the 1-D index (numpy's ufunc.at by rows, 10x its
        # element-by-element form), repeats in index order, as torch's loop (other shapes: its errors below)
        try:
            src = source.array * alpha if alpha != 1 else source.array
        except OverflowError:   # an integer alpha outside self's dtype: torch's error
            raise RuntimeError(f"value cannot be converted to type {source.dtype}_t without overflow") from None
        done = _write_rows(self, "index_add_", lambda a: add_rows(a, d, rows, src), source)
        if done is not None:
            return done
    spread = along_index(self, dim, index, source, "index_add_")
    return _scatter_add_named(self, dim, spread, source * alpha if alpha != 1 else source, "IndexAddBackward0")


def index_copy_(self, dim, index, source):
    """self[..., index[i], ...] = source[..., i, ...] along dim. As torch's, self, index and
    source may each be 0-d or hold one element: a 0-d index is one position, a 0-d source one
    slice of a 1-D self, a 0-d self one element along dim 0."""
    if self.ndim == 0:
        return zero_d_write(self, "index_copy_", dim, lambda t, s: t.index_copy(
            0, index.reshape(-1), zero_d_source(s, "index_copy_", one_element_ok=True)), source)
    if _is_tensor(source) and _is_tensor(index):
        check_index_copy_ranks(self.ndim, index, source)
    if _is_tensor(source) and source.dtype != self.dtype:
        raise DTypeMismatch(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                            f"{scalar_name(self.dtype)} and (source) {scalar_name(source.dtype)}")
    if _is_tensor(source) and source.ndim == 0 and self.ndim == 1 and _is_tensor(index) and index.numel() == 1:
        source = source.reshape(1)
    if _is_tensor(source) and source.ndim == self.ndim:
        check_index_copy(index, source, source.shape[wrap_dim(dim, self.ndim)])
    check_no_overlap(self, index)
    check_no_overlap(self, source)
    if _is_tensor(index) and index.dtype.kind in "iu" and index.numel():   # torch's message, naming index_copy_
        n, i = self.shape[wrap_dim(dim, self.ndim)], np.asarray(index.numpy())
        bad = i[(i < 0) | (i >= n)]
        if bad.size:
            raise IndexOutOfRange(f"index_copy_(): index {int(bad.flat[0])} is out of bounds for dimension "
                                  f"{wrap_dim(dim, self.ndim)} with size {n}")
    return _scatter_named(self, dim, along_index(self, dim, index, source, "index_copy_"), source, None, None,
                          "IndexCopyBackward0")


def _index_in_range(self, dim, index):
    """index_add_'s positions lie in 0..size-1 along dim (torch refuses a negative one too)."""
    if not _is_tensor(index) or index.dtype.kind not in "iu" or index.numel() == 0:
        return   # along_index names a bad index tensor
    n = self.shape[wrap_dim(dim, self.ndim)]
    i = np.asarray(index.numpy())
    bad = i[(i < 0) | (i >= n)]
    if bad.size:
        raise IndexOutOfRange(f"index_add_(): index {int(bad.flat[0])} is out of range for dimension {dim} with "
                              f"size {n} (index out of range in self)")


def index_add(self, dim, index, source, alpha=1):
    return _contiguous_copy(self).index_add_(dim, index, source, alpha)


def zero_d_source(source, name, one_element_ok=False):
    """index_add_ / index_copy_'s source for a 0-d self: 0-d too (torch's rule; index_copy_ takes
    a 1-D source of one element as well), as shape (1,)."""
    if not _is_tensor(source) or not (source.ndim == 0 or (one_element_ok and source.shape == (1,))):
        raise ShapeMismatch(f"{name}: source tensor shape must match self tensor shape, excluding the "
                            f"specified dimension. Got self.shape = [] source.shape = "
                            f"{list(getattr(source, 'shape', ()))}")
    return source.reshape(1)


def along_index(self, dim, index, source, name, spread=True):
    """A 1-D index along dim, broadcast to source's shape (the scatter form of index_*_). A 0-d
    index is one position, as torch's. spread=False: the checks only (None)."""
    if not _is_tensor(index) or index.ndim > 1:
        raise TypeError(f"{name}: index must be a 0-d or 1-D integer tensor")
    if index.dtype not in INDEX_DTYPES:   # torch's RuntimeError (TypeError too: DTypeMismatch)
        raise DTypeMismatch(f"index_copy_(): Expected a long tensor for index, but got {scalar_name(index.dtype)}"
                            if name == "index_copy_" else
                            f"{name}(): Expected dtype int32/int64 for index but got: {scalar_name(index.dtype)}")
    index = index.reshape(1) if index.ndim == 0 else index
    d = wrap_dim(dim, self.ndim)
    if source.ndim != self.ndim or source.shape[d] != index.shape[0]:
        raise ShapeMismatch(f"{name}: source of shape {source.shape} does not match index of length "
                              f"{index.shape[0]} along dimension {d} of {self.shape}")
    if not spread:
        return None
    return index.reshape((1,) * d + (-1,) + (1,) * (self.ndim - d - 1)).expand(source.shape).contiguous()


def _contiguous_copy(self):
    """The out-of-place scatters' and index_add's start: a contiguous copy of self, as torch's
    (a transposed self's layout was kept: a dropout after it drew another mask)."""
    from tinygrad_seq.torch_names import contiguous_format
    return self.clone(memory_format=contiguous_format)


def scatter(self, dim, index, src=None, value=None, reduce=None):
    return _contiguous_copy(self).scatter_(dim, index, src, value, reduce)


def scatter_add(self, dim, index, src):
    return _contiguous_copy(self).scatter_add_(dim, index, src)


def index_fill(self, dim, index, value):
    return self.clone().index_fill_(dim, index, value)


def scatter_args(self, dim, index, src, name):
    """(dim wrapped, index's array) after torch's checks of a scatter along dim; the array is None
    for an empty index, of any rank and shape: torch then writes nothing and checks no more."""
    d = wrap_dim(dim, self.ndim)
    if _is_tensor(index) and index.numel() == 0:
        return d, None
    if not _is_tensor(index) or index.dtype not in INDEX_DTYPES:   # torch's message for every scatter
        raise DTypeMismatch("scatter(): Expected dtype int32/int64 for index")
    if index.ndim != self.ndim or src.ndim != self.ndim:
        raise ShapeMismatch(f"{name}: index {index.shape}, src {src.shape} and self {self.shape} "
                            f"must have the same number of dimensions")
    for i in range(self.ndim):
        if index.shape[i] > src.shape[i] or (i != d and index.shape[i] > self.shape[i]):
            raise ShapeMismatch(f"{name}: index shape {index.shape} exceeds src {src.shape} or self "
                                f"{self.shape} at dimension {i}")
    i = index.numpy()
    n = self.shape[d] if self.ndim else 1
    bad = i[(i < 0) | (i >= n)]
    if bad.size:
        raise IndexOutOfRange(f"{name}: index {int(bad.flat[0])} is out of bounds for dimension {d} with size {n}")
    return d, index.array


def same_dtype_src(self, src, name):
    """torch's scatter / scatter_add refuse a src tensor of another dtype than self's."""
    if _is_tensor(src) and src.dtype != self.dtype:
        raise DTypeMismatch(f"{name}(): Expected self.dtype to be equal to src.dtype "
                            f"(got {self.dtype} and {src.dtype})")


def index_put_(self, indices, values, accumulate=False):
    """self[indices] = values; accumulate: += with repeated positions adding up (differentiable
    in self and values: a repeated position's values each get their upstream gradient), as torch's.
    indices: a tuple or list of tensors; a uint8 one is a mask, as in item assignment."""
    indices = index_tensors(indices)
    check_index_put_overlap(self, indices, values, accumulate)
    if not accumulate:
        before = self._ctx
        self[indices] = values
        return _named_write(self, before, "IndexPutBackward0")
    if _is_tensor(values) and values.dtype != self.dtype:   # torch's: no conversion, accumulating or not
        raise DTypeMismatch(f"Index put requires the source and destination dtypes match, got "
                            f"{scalar_name(self.dtype)} for the destination and {scalar_name(values.dtype)} "
                            f"for the source.")
    # host copies of the indices, normalised as item assignment does (a uint8 mask as bool, torch's
    # bounds errors); the positions are found on the host whatever self's device
    host = tuple(autograd._Tensor._wrap(np.asarray(i.numpy())) for i in indices)
    index, _ = normalize_index(host, _HostShape(self.shape))
    vals = (values if _is_tensor(values) else self._other(values)).to(dtype=self.dtype)
    if type(vals.array) is np.ndarray and type(self.array) is np.ndarray and not self._in_graph(vals):
        # outside the graph: added at the indexed elements only (a memory bank's few rows, not all of it)
        shape = np.broadcast_to(np.zeros((), np.int8), self.shape)[index].shape
        try:
            add = np.broadcast_to(vals.array, shape)
        except ValueError:
            raise ShapeMismatch(f"index_put_: values of shape {tuple(vals.shape)} do not broadcast to the indexed "
                                f"shape {shape}") from None
        rows = index[0] if type(index) is tuple and len(index) == 1 else None
        if type(rows) is np.ndarray and rows.ndim == 1 and rows.dtype.kind in "iu":   # whole rows: add_at.py
            return _write_rows(self, "index_put_", lambda a: add_rows(a, 0, rows, add), vals)
        return _write_rows(self, "index_put_", lambda a: np.add.at(a, index, add), vals)
    positions = np.arange(self.numel()).reshape(self.shape)[index]   # the flat position of each element written
    try:
        vals = vals.expand(positions.shape)
    except RuntimeError:
        raise ShapeMismatch(f"index_put_: values of shape {tuple(vals.shape)} do not broadcast to the indexed "
                            f"shape {positions.shape}") from None
    flat = autograd._Tensor(positions.reshape(-1), device=self.device)
    total = autograd._Tensor(np.zeros(self.numel(), self.dtype), dtype=self.dtype, device=self.device)
    added = total.index_add(0, flat, vals.reshape(-1)).reshape(self.shape)
    return self._write("add_", lambda t, a: named(t.add(a), "IndexPutBackward0"), added)


def check_index_put_overlap(self, indices, values, accumulate):
    """torch's index_put_ checks: one bool / uint8 mask and a value of one element (not
    accumulating) is torch's masked_fill_, whose mask may be self itself but not part of it;
    otherwise neither the value nor an index shares memory with self."""
    if not accumulate and len(indices) == 1 and indices[0].dtype in (np.bool_, np.uint8) and \
            (not _is_tensor(values) or values.numel() == 1):
        check_no_partial_overlap(self, indices[0])
        return
    if _is_tensor(values):
        check_no_overlap(self, values)
    for index in indices:
        check_no_overlap(self, index)


class _HostShape:
    """What normalize_index reads of the tensor indexed (its shape, and a host device so that
    index tensors are read as numpy arrays): index_put_ indexes a host array of positions."""
    __slots__ = ("shape", "ndim")
    device = "cpu"

    def __init__(self, shape):
        self.shape, self.ndim = tuple(shape), len(shape)


def index_tensors(indices):
    """index_put_'s indices as a tuple: torch takes a tuple or a list, of tensors only."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put_(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for k, index in enumerate(indices):
        if not _is_tensor(index):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(index).__name__}")
    return tuple(indices)


def index_put(self, indices, values, accumulate=False):
    return index_put_(self.clone(), indices, values, accumulate)
