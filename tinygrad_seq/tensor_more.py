"""Tensor methods sequence code reaches for that compose from the others (addcmul/addcdiv,
movedim, fmod, lerp_, diff, median, cummax, logcumsumexp, addmm/baddbmm, ...) or
run on the host (erf, atan2, ... through ops_host.py; addmm and the other products live in
tensor_matmul.py; index_put_ in index_scatter_writes.py); and the free functions
broadcast_tensors and meshgrid. Attached to Tensor by tensor.py (compositions: autograd
differentiates them)."""
import numpy as np

from tinygrad_seq.broadcast_errors import torch_broadcast_errors
from tinygrad_seq.dim_alias import dim_from_axis, required_dim, takes_axis
from tinygrad_seq.errors import InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.index_scatter_writes import index_put, index_put_
from tinygrad_seq.tensor_matmul import addbmm, addmm, baddbmm, inner, mv, scalar_name


def addcmul(self, tensor1, tensor2, value=1):
    """self + value * tensor1 * tensor2."""
    return self + tensor1 * tensor2 * value


def addcdiv(self, tensor1, tensor2, value=1):
    """self + value * tensor1 / tensor2."""
    return self + tensor1 / tensor2 * value


def addcmul_(self, tensor1, tensor2, value=1):
    return self.add_(tensor1 * tensor2 * value)


def addcdiv_(self, tensor1, tensor2, value=1):
    return self.add_(tensor1 / tensor2 * value)


def movedim(self, source, destination):
    """The dims in source moved to the positions in destination, the others in their order."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ShapeMismatch(f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
                            f"the same number of dims as destination ({dst} dims)")
    n = self.ndim
    if n == 0:   # a 0-d tensor: dims 0 / -1 name nothing to move
        for d in src + dst:
            if d not in (0, -1):
                raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {d})")
        return self.view(())
    for d in src + dst:
        if not -n <= d < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    src, dst = [d % n for d in src], [d % n for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    return self.permute(*[o if o is not None else next(rest) for o in order])


@torch_broadcast_errors
def fmod(self, other):
    """Remainder with the dividend's sign (C's fmod); the value is numpy's exact fmod, the
    gradient that of self - trunc(self / other) * other (1 and -trunc(self / other))."""
    other = self._other(other)
    if (self.dtype.kind == "f" or other.dtype.kind == "f") and not (self.requires_grad or other.requires_grad):
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(self, other) if self.dtype != other.dtype else (self, other)   # torch's result dtype
        with np.errstate(all="ignore"):   # the exact value, its zeros signed as C's fmod signs them
            out = np.fmod(*np.broadcast_arrays(a.numpy(), b.numpy()))
        return self._wrap(np.asarray(out, dtype=a.dtype), self.device).to(self.device)
    if self.dtype.kind == "f" or other.dtype.kind == "f":
        approx = self - (self / other).trunc().detach() * other
        with np.errstate(all="ignore"):
            exact = np.fmod(*np.broadcast_arrays(self.numpy(), other.numpy()))
        return approx + self._wrap((exact - approx.detach().numpy()).astype(approx.dtype), self.device).to(self.device)
    if not np.all(other.array):
        raise RuntimeError("ZeroDivisionError: integer division by zero")   # torch's
    from tinygrad_seq.autograd import _Tensor
    return _Tensor._wrap(np.fmod(*np.broadcast_arrays(self.array, other.array)), self.device)


def _host_unary(name):
    def method(self):
        from tinygrad_seq.ops_host import HostUnary
        return HostUnary.apply(self._floating(), name=name)
    method.__name__ = name
    return method


_NO_INT_KERNEL = frozenset(("hypot", "logaddexp", "logaddexp2"))


def _host_binary(name):
    @torch_broadcast_errors
    def method(self, other):
        from tinygrad_seq.ops_host import HostBinary, BINARY
        other_t = self._other(other)
        if name in ("fmax", "fmin") and self.dtype.kind in "iub" and other_t.dtype.kind in "iub":
            from tinygrad_seq import device as _device
            out = np.array(BINARY[name][0](self.numpy(), other_t.numpy()), order="C")   # ints stay; 0-d stays 0-d
            return self._wrap(_device.backend(self.device).asarray(out), self.device)
        if name in _NO_INT_KERNEL and self.dtype.kind in "iub" and other_t.dtype.kind in "iub":
            dt = np.promote_types(self.dtype, other_t.dtype)   # torch has no integer kernel for these
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{scalar_name(dt)}\'')
        a, b = float_operands(self, other_t)
        return HostBinary.apply(a, b, name=name)
    method.__name__ = name
    return method


def float_operands(self, other):
    """Both operands of a float function in one float dtype, by torch's rule (tensor_math._promote):
    an integer or bool operand takes the float one's dtype (float16 with int64 stays float16), two
    integer ones the default dtype, two floats the wider unless one is 0-d and the other is not
    (float32 with a 0-d float64 stays float32)."""
    a, b = self, self._other(other)
    if a.dtype != b.dtype:
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(a, b)
    return a._floating(), b._floating()


def logit(self, eps=None):
    """log(x / (1 - x)); with eps, x clamped to [eps, 1 - eps] first (gradient 0 outside)."""
    x = self if eps is None or eps < 0 else self._floating().clamp(eps, 1.0 - eps)   # torch: eps < 0 is None
    return _host_unary("logit")(x)


def lerp_(self, end, weight):
    """self += weight * (end - self) in place (an exponential moving average's update)."""
    return self._write("lerp_", lambda t, e: t.lerp(e, weight), end)


def frac(self):
    return named(self - self.trunc(), "FracBackward0")


def diff(self, n=1, dim=-1, prepend=None, append=None, *, axis=None):
    """Differences of neighbours along dim, n times (prepend / append joined first); of a bool
    tensor, whether neighbours differ. n = 0: a copy of self, prepend / append ignored (torch's)."""
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "diff", -1)
    if self.ndim == 0:
        raise InvalidArgument("diff expects input to be at least one-dimensional")
    if n < 0:
        raise InvalidArgument(f"diff: order must be non-negative but got {n}")
    if not -self.ndim <= dim < self.ndim:
        raise IndexError(f"diff: Dimension out of range (expected to be in range of [{-self.ndim}, "
                         f"{self.ndim - 1}], but got {dim})")
    if n == 0:
        return self.clone()
    from tinygrad_seq.functions import cat
    x = self
    d = dim % self.ndim
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], d)
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        later, earlier = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    return x


def trace(self):
    if self.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
    return named(self.diagonal().sum(), "TraceBackward0")


def tensor_split(self, indices_or_sections, dim=0, *, axis=None):
    """Split into n nearly equal parts (the first n % size one longer) or at the given indices."""
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "tensor_split", 0)
    d = dim % self.ndim
    size = self.shape[d]
    if hasattr(indices_or_sections, "ndim") and indices_or_sections.ndim == 0:
        indices_or_sections = int(indices_or_sections.item())   # a 0-d tensor counts sections, as torch's
    elif hasattr(indices_or_sections, "tolist"):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {n}")
        cuts = [k * (size // n) + min(k, size % n) for k in range(1, n)]
    else:
        cuts = [int(i) + size if int(i) < 0 else int(i) for i in indices_or_sections]
    bounds = [0] + [min(max(c, 0), size) for c in cuts] + [size]
    return tuple(self.narrow(d, lo, max(hi - lo, 0)) for lo, hi in zip(bounds[:-1], bounds[1:]))


def aminmax(self, *, dim=None, keepdim=False, axis=None):
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "aminmax")
    from tinygrad_seq.tensor_reduce import return_type
    return return_type("aminmax", ("min", "max"))(self.amin(dim, keepdim), self.amax(dim, keepdim))


def ldexp(self, other):
    x, e = float_operands(self, other)   # float16 with an int exponent stays float16, as torch's
    return x * (2.0 ** e)


@torch_broadcast_errors
def nextafter(self, other):
    """The next float after self toward other, in the pair's float dtype (torch's); gradient as
    torch 2.13's: 1 for self, 0 for other (ops_host.BINARY)."""
    from tinygrad_seq.ops_host import HostBinary
    a, b = float_operands(self, other)
    return HostBinary.apply(a, b, name="nextafter")


def nansum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "nansum")
    x = self if dtype is None else self.to(dtype=dtype)
    return (x.masked_fill(x.isnan(), 0.0) if x.dtype.kind == "f" else x).sum(dim, keepdim)


def nanmean(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "nanmean")
    keep = ~self.isnan()
    return self.masked_fill(~keep, 0.0).sum(dim, keepdim) / keep.sum(dim, keepdim)


def median(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower median (torch's): of every element, or (values, indices) along dim."""
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "median")
    from tinygrad_seq.tensor_reduce import return_type
    MinResult = return_type("median")   # noqa: N806  (torch.return_types.median)
    if dim is None:
        flat = self.reshape(-1)
        if flat.numel() == 0:
            return empty_median(self)
        if flat.dtype.kind == "f" and bool(flat.isnan().any()):   # nan propagates, as torch's
            return flat[int(np.argmax(np.isnan(flat.numpy())))]
        m = flat.detach().sort().values[(flat.numel() - 1) // 2]
        if flat.dtype.kind != "f":
            return m
        # torch shares the gradient evenly among the values equal to m, as amax over them does; amax
        # also keeps m exact (their sum over their count rounds, and made inf * 0 a nan for m = +-inf)
        tied = np.flatnonzero(flat.numpy() == m.item())
        return named(flat[type(self)(tied, device=self.device)].amax(), "MedianBackward0")
    if self.ndim == 0:
        _zero_d_dim(dim)
        return MinResult(self.clone(), type(self)(np.array(0, np.int64), device=self.device))
    d = dim % self.ndim
    order = self.sort(d, stable=True)   # torch orders ties by index (nth_element on (value, index))
    k = (self.shape[d] - 1) // 2
    values, indices = order.values.narrow(d, k, 1), order.indices.narrow(d, k, 1)
    if self.dtype.kind == "f":   # a row holding nan has median nan, at its first nan (torch's)
        nan = np.isnan(self.numpy())
        if nan.any():
            rows = nan.any(d, keepdims=True)
            values = values.masked_fill(type(self)(rows, device=self.device), float("nan"))
            first = np.where(rows, np.expand_dims(np.argmax(nan, d), d), indices.numpy())
            indices = type(self)(first.astype(np.int64), device=self.device)
            values = self.gather(d, indices)   # the nan itself, so its gradient arrives
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return MinResult(named(values, "MedianBackward1"), indices)


def empty_median(self):
    """median() / nanmedian() of an empty tensor, torch's: nan in the tensor's dtype, which an
    integer dtype receives as x86's conversion of nan (int64 / int32: the dtype's minimum; int16,
    int8, uint8: 0; bool: True), as numpy's cast gives it."""
    with np.errstate(invalid="ignore"):
        return type(self)._wrap(np.array(np.nan).astype(self.dtype), "cpu").to(self.device)


def _zero_d_dim(dim):
    if dim not in (0, -1):
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")


def _cumulative(self, dim, better):
    from tinygrad_seq.tensor_reduce import return_type
    MaxResult = return_type("cummax" if better is np.greater else "cummin")   # noqa: N806
    if self.ndim == 0:
        _zero_d_dim(dim)
        return MaxResult(self.clone(), type(self)(np.array(0, np.int64), device=self.device))
    d = dim % self.ndim
    a = np.moveaxis(self.numpy(), d, 0)
    idx = np.zeros(a.shape, np.int64)
    for i in range(1, a.shape[0]):   # the index of the running best: the later one on ties, and a nan
        prev = np.take_along_axis(a, idx[i - 1:i], 0)[0]   # wins from where it appears (torch's)
        take = better(a[i], prev) | (a[i] == prev)
        if a.dtype.kind == "f":
            take |= np.isnan(a[i])
        idx[i] = np.where(take, i, idx[i - 1])
    index = type(self)(np.ascontiguousarray(np.moveaxis(idx, 0, d)), device=self.device)
    node = "CummaxBackward0" if better is np.greater else "CumminBackward0"
    return MaxResult(named(self.gather(d, index), node), index)


def cummax(self, dim=None, *, axis=None):
    if axis is not None or dim is None:   # dim= or numpy's axis=
        dim = required_dim(dim, axis, "cummax")
    return _cumulative(self, dim, np.greater)


def cummin(self, dim=None, *, axis=None):
    if axis is not None or dim is None:   # dim= or numpy's axis=
        dim = required_dim(dim, axis, "cummin")
    return _cumulative(self, dim, np.less)


def logcumsumexp(self, dim=None, *, axis=None):
    """log(cumsum(exp(x))) along dim (ops_host.LogCumSumExp: no underflow of early terms)."""
    if axis is not None or dim is None:   # dim= or numpy's axis=
        dim = required_dim(dim, axis, "logcumsumexp")
    from tinygrad_seq.ops_host import LogCumSumExp
    if self.ndim == 0:
        _zero_d_dim(dim)
        return self.clone()
    if not -self.ndim <= dim < self.ndim:   # torch's IndexError, never dim % ndim
        raise IndexError(f"logcumsumexp: Dimension out of range (expected to be in range of [{-self.ndim}, "
                         f"{self.ndim - 1}], but got {dim})")
    return LogCumSumExp.apply(self._floating(), dim=dim % self.ndim)


@takes_axis
def index_copy(self, dim, index, source):
    return self.clone().index_copy_(dim, index, source)


def fill_diagonal_(self, fill_value, wrap=False):
    """The main diagonal (of a matrix, or of every dim at once) set to fill_value; wrap: a tall
    matrix's diagonal starts again every columns + 1 rows, as torch's."""
    n = min(self.shape)
    if self.ndim == 2 and wrap and self.shape[0] > self.shape[1] + 1:
        rows = np.arange(self.shape[0])
        rows = rows[rows % (self.shape[1] + 1) < self.shape[1]]
        cols = rows % (self.shape[1] + 1)
        index = (self._wrap(rows, "cpu"), self._wrap(cols, "cpu"))
    else:
        index = tuple(self._wrap(np.arange(n), "cpu") for _ in range(self.ndim))
    self[index] = fill_value
    return self


def new(self, *args, **kwargs):
    """torch's legacy Tensor.new: new(*sizes) a (zero-filled) tensor of that shape, new(data) a
    tensor of data, new() an empty one, each of self's dtype and device."""
    if kwargs:
        raise TypeError(f"new() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in data) and \
                type(data).__name__ == "Size":
            return self.new_zeros(tuple(data))
        from tinygrad_seq.creation import tensor
        return tensor(data.numpy() if hasattr(data, "numpy") else data, dtype=self.dtype, device=self.device)
    return self.new_zeros(tuple(int(a) for a in args) if args else (0,))


def _bincount(self, weights=None, minlength=0):
    from tinygrad_seq.functions import bincount
    return bincount(self, weights, minlength)


def _retains_grad(self):
    ctx = self._ctx
    return ctx is not None and ctx._retained is not None and self._idx in ctx._retained


def _isclose(a, b, rtol, atol, equal_nan):
    from tinygrad_seq.functions import isclose
    return isclose(a, b, rtol, atol, equal_nan)


METHODS = dict(addcmul=addcmul, addcdiv=addcdiv, addcmul_=addcmul_, addcdiv_=addcdiv_, index_put_=index_put_,
               index_put=index_put, movedim=movedim, moveaxis=movedim, fmod=fmod, logit=logit, lerp_=lerp_,
               frac=frac, sgn=lambda self: self.sign(), diff=diff, trace=trace, tensor_split=tensor_split,
               aminmax=aminmax, nansum=nansum, nanmean=nanmean, median=median, cummax=cummax, cummin=cummin,
               logcumsumexp=logcumsumexp, addmm=addmm, baddbmm=baddbmm, addbmm=addbmm, mv=mv, inner=inner,
               index_copy=index_copy, fill_diagonal_=fill_diagonal_, bincount=_bincount, new=new,
               fliplr=lambda self: _at_least(self, 2, "fliplr").flip(1), flipud=lambda self: _at_least(self, 1, "flipud").flip(0),
               ravel=lambda self: self.reshape(-1), retains_grad=property(_retains_grad),
               is_signed=lambda self: self.dtype.kind in "if", is_complex=lambda self: False,
               itemsize=property(lambda self: self.dtype.itemsize),
               nbytes=property(lambda self: self.numel() * self.dtype.itemsize),
               bitwise_not=lambda self: ~self, logical_not_=lambda self: self.copy_(self.logical_not()),
               isclose=lambda self, other, rtol=1e-5, atol=1e-8, equal_nan=False: _isclose(self, other, rtol, atol,
                                                                                            equal_nan),
               **{n: _host_unary(n) for n in ("erf", "erfc", "erfinv", "sinh", "cosh", "tan", "asin", "acos",
                                              "atan", "asinh", "acosh", "atanh", "exp2")},
               **{n: _host_binary(n) for n in ("atan2", "hypot", "logaddexp", "xlogy", "fmax", "fmin")},
               arcsin=_host_unary("asin"), arccos=_host_unary("acos"), arctan=_host_unary("atan"),
               arctan2=_host_binary("atan2"))


def _at_least(t, n, name):
    if t.ndim < n:
        raise ShapeMismatch(f"{name}: Input must be >= {n}-d, got a {t.ndim}-d tensor")
    return t


def broadcast_tensors(*tensors):
    try:
        shape = np.broadcast_shapes(*[t.shape for t in tensors])
    except ValueError:
        raise ShapeMismatch(f"broadcast_tensors: shapes {[tuple(t.shape) for t in tensors]} do not "
                            f"broadcast") from None
    return tuple(t.expand(*shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Grids from 1-D tensors; indexing 'ij' (matrix) or 'xy' (Cartesian), as torch's."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for k, t in enumerate(tensors):
        view = [1] * n
        axis = (1 - k if k < 2 else k) if indexing == "xy" and n >= 2 else k
        view[axis] = t.numel()
        out.append(t.reshape(*view).expand(*shape))
    return tuple(out)
