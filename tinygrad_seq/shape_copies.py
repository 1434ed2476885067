"""Shape ops that assemble a new tensor from pieces of the input: unfold's windows, gather, flip, roll,
masked_select and take_along_dim (ShapeOps's methods of those names call these; tensor_shape.py
keeps the views). A 0-d input counts as one element along dim 0 / -1, as in torch."""
import numpy as np

from tinygrad_seq import autograd, device as _device, ops, ops_extra
from tinygrad_seq.dim_alias import dim_from_axis, required_dim
from tinygrad_seq.dim_arg import dim_int, is_one_int
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor_matmul import scalar_name
from tinygrad_seq.writes import keep_for_write_check


def zero_d_dim(dim, name):
    """The dim of a 0-d tensor that an op treats as one element: 0 or -1, else torch's IndexError."""
    if dim not in (0, -1):
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    return 0


def _dim1(dim, ndim):
    return ops._norm_axes(dim, ndim)[0] if ndim else 0


def unfold(self, dimension, size, step):
    """The windows of `size` elements `step` apart along `dimension`: that dimension becomes
    the window count and a last dimension of `size` holds each window (torch's; a copy here,
    differentiable). A 0-d tensor gives its one window, shape (size,)."""
    if self.ndim == 0:
        zero_d_dim(dimension, "unfold")
        return self.reshape(1).unfold(0, size, step).reshape(-1)
    d = _dim1(dimension, self.ndim)
    n = self.shape[d]
    if step < 1:   # torch's checks and messages; size 0 gives (n // step + 1) empty windows
        raise ShapeMismatch(f"unfold: step is {step} but must be > 0")
    if size < 0:
        raise ShapeMismatch(f"unfold: size is {size} but must be >= 0")
    if size > n:
        raise ShapeMismatch(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    from tinygrad_seq.functions import stack
    windows = [self.narrow(d, i * step, size) for i in range((n - size) // step + 1)]
    out = stack(windows, d)                              # (..., windows, size, ...)
    order = [i for i in range(out.ndim) if i != d + 1] + [d + 1]
    return named(out.permute(tuple(order)), "UnfoldBackward0")


def flip(self, dims):
    """A copy of self with dims reversed, laid out as self (torch's empty_like: x.t().flip(0) keeps
    the transposed order, so a dropout after it draws torch's mask), a copy even where numpy's
    view is contiguous (size-1 dims, 0-d). A 0-d tensor takes dim 0 or -1, as torch's; a dim named
    twice is an error."""
    flipped = ops._norm_axes(tuple(dims), max(self.ndim, 1))
    idx = tuple(slice(None, None, -1) if d in flipped else slice(None) for d in range(self.ndim))
    out = ops.GetItem.apply(self, idx=idx, advanced=False)
    B = _device.backend(self.device)
    arr = out.array
    dense = type(arr) is np.ndarray and not any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape))
    arr = np.array(arr, order="K") if dense else B.ascontiguous(arr)   # (an expand's: row-major, as torch's)
    arr = B.copy(arr) if B.may_share_memory(arr, self.array) else arr
    out.array = arr if arr.ndim == self.ndim else B.reshape(arr, ())   # ascontiguous made a 0-d one (1,)
    return named(out, "FlipBackward0")


def _ints(value, what):
    """roll's shifts / dims as a tuple of ints (one int-like, or a sequence of them)."""
    if is_one_int(value) or not hasattr(value, "__iter__"):
        return (dim_int(value, what),)
    return tuple(v if type(v) is int else dim_int(v, what) for v in value)


def gather(self, dim=None, index=None, *, axis=None):
    """self's values at index along dim (out[i][j] = self[index[i][j]][j] for dim 0), shape of index;
    torch's checks. An empty index (any rank, shape or dtype) gives an empty result of its shape."""
    if axis is not None or dim is None or index is None:   # dim= or numpy's axis=
        dim = required_dim(dim, axis, "gather", index=index)
    is_tensor = isinstance(index, autograd._Tensor)
    if is_tensor and index.numel() == 0:
        ops._norm_axes(dim, max(self.ndim, 1))   # the dim is still checked
        return named(self.reshape(-1)[:0].reshape(index.shape), "GatherBackward0")
    if not is_tensor or index.dtype not in (np.int64, np.int32):   # torch's (uint8 refused)
        raise DTypeMismatch("gather(): Expected dtype int32/int64 for index")
    if self.ndim == 0 or index.ndim == 0:   # a 0-d input or index: as a [1] one, torch's
        if self.ndim > 1 or index.ndim > 1:
            raise ShapeMismatch(f"gather: index has {index.ndim} dimensions but the input has {self.ndim}")
        _dim1(dim, 1)
        src = self.reshape(1) if self.ndim == 0 else self
        out = src.gather(0, index.reshape(1) if index.ndim == 0 else index).reshape(index.shape)
        return named(out, "GatherBackward0")
    d = _dim1(dim, self.ndim)
    if index.ndim != self.ndim:
        raise ShapeMismatch(f"gather: index has {index.ndim} dimensions but the input has {self.ndim}")
    for i, (s, n) in enumerate(zip(index.shape, self.shape)):
        if i != d and s > n:
            raise ShapeMismatch(f"gather: index shape {index.shape} exceeds input shape {self.shape} at dimension {i}")
    i = index.numpy()
    n = self.shape[d]
    bad = i[(i >= n) | (i < 0)]
    if bad.size:
        raise IndexOutOfRange(f"gather: index {int(bad.flat[0])} is out of bounds for dimension {d} with size {n}")
    return ops_extra.Gather.apply(self, dim=d, index=index.array)


def roll(self, shifts, dims=None):
    """Elements shifted along dims (wrapping round); without dims, over the flattened tensor."""
    shifts = _ints(shifts, "shifts")
    given = () if dims is None else _ints(dims, "dims")
    if not shifts:
        raise InvalidArgument("roll: `shifts` required")
    if len(shifts) != len(given) and not (not given and len(shifts) == 1):
        raise InvalidArgument(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(given)}")
    if dims is None or not given:   # over the flattened tensor (one shift)
        flat = self.flatten()
        out = roll(flat, shifts[0], 0)
        return named((out.clone() if out is flat else out).reshape(self.shape), "RollBackward0")
    if self.ndim == 0:   # torch's: a 0-d tensor has no dim to roll along (without dims it rolls)
        raise IndexError(f"Dimension specified as {given[0]} but tensor has no dimensions")
    from tinygrad_seq.functions import cat
    out = self
    for s, d in zip(shifts, given):
        d = _dim1(d, self.ndim)
        n = self.shape[d] if self.ndim else 1
        s %= max(n, 1)
        if s:
            out = cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    return named(self.clone() if out is self else out, "RollBackward0")   # a new tensor, even for a shift of 0


def masked_select(self, mask):
    """The elements of self where mask (both broadcast) is True, as a 1-D copy."""
    B = _device.backend(self.device)
    m = mask.array if hasattr(mask, "array") else B.asarray(np.asarray(mask))
    if m.dtype != np.bool_:
        raise DTypeMismatch(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    x = self
    if tuple(m.shape) != tuple(self.shape):   # both broadcast to a common shape, as torch's
        try:
            shape = np.broadcast_shapes(tuple(m.shape), tuple(self.shape))
        except ValueError:
            raise ShapeMismatch(f"masked_select: mask of shape {tuple(m.shape)} and input of shape "
                                f"{tuple(self.shape)} do not broadcast") from None
        x = self.expand(*shape) if shape != tuple(self.shape) else self
        m = B.broadcast_to(m, shape)
    if x.ndim == 0:   # a 0-d pair selects from one element: the result is still 1-D
        x, m = x.reshape(1), m.reshape(1)
    out = named(x[autograd._Tensor._wrap(B.ascontiguous(m), self.device)], "MaskedSelectBackward0")
    return keep_for_write_check(out, self)


def take_along_dim(self, indices, dim=None, *, axis=None):
    """gather along dim, input and indices broadcast in the other dims, a negative index counting
    from the end; without dim, over the flattened tensor (torch's)."""
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "take_along_dim")
    if not isinstance(indices, autograd._Tensor):
        raise TypeError(f"take_along_dim(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(indices).__name__}")
    if dim is None:   # torch's gather takes int32 indices here, and only here
        if indices.dtype not in (np.int64, np.int32):
            raise DTypeMismatch("gather(): Expected dtype int32/int64 for index")
        return self.reshape(-1).gather(0, indices.reshape(-1))
    if indices.dtype != np.int64:
        raise DTypeMismatch(f"torch.take_along_dim(): dtype of indices should be Long but got "
                            f"{scalar_name(indices.dtype)}")
    if indices.ndim != self.ndim:
        raise ShapeMismatch(f"torch.take_along_dim(): input and indices should have the same number of "
                            f"dimensions, but got {self.ndim} dimensions for input, and {indices.ndim} "
                            f"dimensions for indices")
    d = _dim1(dim, self.ndim)
    n = self.shape[d] if self.ndim else 1
    i = np.asarray(indices.numpy())
    if i.size and i.dtype.kind in "iu" and (i < 0).any():
        bad = i[(i < -n) | (i >= n)]
        if bad.size:
            raise IndexOutOfRange(f"take_along_dim: index {int(bad.flat[0])} is out of bounds for dimension "
                                  f"{d} with size {n}")
        indices = autograd._Tensor(np.where(i < 0, i + n, i), device=self.device)   # -1 is the last
    if self.ndim == 0:
        return self.gather(0, indices)
    xs, js = list(self.shape), list(indices.shape)
    xs[d] = js[d] = 1
    try:
        shape = list(np.broadcast_shapes(tuple(xs), tuple(js)))
    except ValueError:
        raise ShapeMismatch(f"take_along_dim: input {tuple(self.shape)} and indices {tuple(indices.shape)} "
                            f"do not broadcast outside dim {d}") from None
    x_shape, i_shape = list(shape), list(shape)
    x_shape[d], i_shape[d] = self.shape[d], indices.shape[d]
    x = self if tuple(x_shape) == tuple(self.shape) else self.expand(*x_shape)
    idx = indices if tuple(i_shape) == tuple(indices.shape) else indices.expand(*i_shape)
    return x.gather(d, idx)
