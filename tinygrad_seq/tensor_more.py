"""Tensor methods sequence code reaches for that compose from the others (addcmul/addcdiv,
movedim, fmod, lerp_, diff, median, cummax, logcumsumexp, addmm/baddbmm, ...) or
run on the host (erf, atan2, ... through ops_host.py; addmm and the other products live in
tensor_matmul.py; index_put_ in index_scatter_writes.py; median, cummax, cummin and
logcumsumexp in median_cummax.py); and the free functions
broadcast_tensors and meshgrid. Attached to Tensor by tensor.py (compositions: autograd
differentiates them)."""
import numpy as np

from tinygrad_seq.addc_args import check_inplace_operands, no_bool_addcmul, no_integer_addcdiv, value_first
from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.broadcast_errors import torch_broadcast_errors
from tinygrad_seq.dim_alias import dim_from_axis, takes_axis
from tinygrad_seq.dim_arg import dim_int, is_one_int
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.index_scatter_writes import index_put, index_put_
from tinygrad_seq.legacy_new import new
from tinygrad_seq.median_cummax import cummax, cummin, logcumsumexp, median
from tinygrad_seq.reduce_dim_checks import one_dim
from tinygrad_seq.result_types import cast_operands, result_type
from tinygrad_seq.elementwise_layout import relaid_as_elementwise
from tinygrad_seq.half_opmath import HALF, opmath
from tinygrad_seq.tensor_matmul import addbmm, addmm, baddbmm, inner, mv, scalar_name


def addcmul(self, tensor1, tensor2, value=1):
    """self + value * tensor1 * tensor2."""
    tensor1, tensor2, value = value_first("addcmul", tensor1, tensor2, value)
    if self.dtype == HALF and tensor1.dtype == HALF and tensor2.dtype == HALF:   # half_opmath.py
        return opmath(self, lambda u: addcmul(u, tensor1.float(), tensor2.float(), value), "AddcmulBackward0")
    value = _addc_value(self, tensor1, tensor2, value)
    self, tensor1, tensor2 = cast_operands(result_type(self, tensor1, tensor2), self, tensor1, tensor2)
    return named(self + tensor1 * tensor2 * value, "AddcmulBackward0")


def addcdiv(self, tensor1, tensor2, value=1):
    """self + value * tensor1 / tensor2."""
    tensor1, tensor2, value = value_first("addcdiv", tensor1, tensor2, value)
    no_integer_addcdiv(tensor1, tensor2)
    if self.dtype == HALF and tensor1.dtype == HALF and tensor2.dtype == HALF:   # half_opmath.py
        # torch's order: self + (value * tensor1) / tensor2
        return opmath(self, lambda u: u + value * tensor1.float() / tensor2.float(), "AddcdivBackward0")
    self, tensor1, tensor2 = cast_operands(result_type(self, tensor1, tensor2), self, tensor1, tensor2)
    return named(self + tensor1 / tensor2 * value, "AddcdivBackward0")


def addcmul_(self, tensor1, tensor2, value=1):
    tensor1, tensor2, value = value_first("addcmul", tensor1, tensor2, value)
    check_inplace_operands(self, tensor1, tensor2)
    return _named_add_(self, tensor1 * tensor2 * _addc_value(self, tensor1, tensor2, value), "AddcmulBackward0")


def addcdiv_(self, tensor1, tensor2, value=1):
    tensor1, tensor2, value = value_first("addcdiv", tensor1, tensor2, value)
    no_integer_addcdiv(tensor1, tensor2)
    check_inplace_operands(self, tensor1, tensor2)
    return _named_add_(self, tensor1 / tensor2 * value, "AddcdivBackward0")


def _named_add_(self, term, node):
    """self.add_(term), its node torch's `node` (the in-place addcmul_ / addcdiv_ is one node)."""
    return self._write("add_", lambda t, o: named(t.add(o), node), term)


def _addc_value(self, tensor1, tensor2, value):
    """torch casts value to the operands' common dtype: an integer one truncates a float value
    (int64 addcmul with value=0.5 adds nothing; value=2.5 adds twice the product)."""
    no_bool_addcmul(self, tensor1, tensor2)
    if isinstance(value, float) and all(getattr(x, "dtype", np.dtype(np.int64)).kind in "iub"
                                        for x in (self, tensor1, tensor2)):
        if not np.isfinite(value) or abs(value) >= 2.0 ** 63:
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        return int(value)
    return value


def _dim_list(dims):
    """movedim's source / destination as a list of ints (one int-like, or a sequence of them)."""
    if is_one_int(dims) or not hasattr(dims, "__iter__"):
        return [dim_int(dims)]
    return [d if type(d) is int else dim_int(d) for d in dims]


def movedim(self, source, destination):
    """The dims in source moved to the positions in destination, the others in their order."""
    src, dst = _dim_list(source), _dim_list(destination)
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
    for name, given in (("source", src), ("destination", dst)):   # torch's RuntimeError, the dims as given
        if len({d % n for d in given}) != len(given):
            raise InvalidArgument(f"movedim: repeated dim in `{name}` ({given})")
    src, dst = [d % n for d in src], [d % n for d in dst]
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    return self.permute(*[o if o is not None else next(rest) for o in order])


@torch_broadcast_errors
def fmod(self, other):
    """Remainder with the dividend's sign (C's fmod); the value is numpy's exact fmod, the
    gradient that of self - trunc(self / other) * other (1 and -trunc(self / other))."""
    node = "FmodBackward1" if hasattr(other, "_ctx") else "FmodBackward0"   # torch's Tensor / Scalar forms
    other = self._other(other)
    if (self.dtype.kind == "f" or other.dtype.kind == "f") and not (self.requires_grad or other.requires_grad):
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(self, other) if self.dtype != other.dtype else (self, other)   # torch's result dtype
        with np.errstate(all="ignore"):   # the exact value, its zeros signed as C's fmod signs them
            out = relaid_as_elementwise(np.fmod(a.numpy(), b.numpy()), a.numpy(), b.numpy())
        return self._wrap(np.asarray(out, dtype=a.dtype), self.device).to(self.device)
    if self.dtype.kind == "f" or other.dtype.kind == "f":   # the exact value, torch's gradients (remainder_node.py)
        from tinygrad_seq.remainder_node import ExactRemainder
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(self, other) if self.dtype != other.dtype else (self, other)
        value = fmod(a.detach(), b.detach()).array
        return named(ExactRemainder.apply(a, b, value=value, rounding="trunc"), node)
    from tinygrad_seq.tensor_math import _promote   # torch's 0-d rule: uint8 with a 0-d int8 stays uint8
    a, b = _promote(self, other) if self.dtype != other.dtype else (self, other)
    from tinygrad_seq.bool_arith import refuse_bool
    refuse_bool("fmod_cpu", a.dtype)
    if not np.all(b.array):
        raise RuntimeError("ZeroDivisionError: integer division by zero")   # torch's
    from tinygrad_seq.autograd import _Tensor
    return _Tensor._wrap(np.fmod(*np.broadcast_arrays(a.array, b.array)), self.device)


def _host_unary(name):
    def method(self):
        from tinygrad_seq.ops_host import HostUnary
        return HostUnary.apply(self._floating(), name=name)
    method.__name__ = name
    return method


_NO_INT_KERNEL = frozenset(("hypot", "logaddexp", "logaddexp2"))
_TENSOR_OTHER = frozenset(("atan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin"))   # torch has no Scalar form


def _host_binary(name):
    @torch_broadcast_errors
    def method(self, other):
        from tinygrad_seq.ops_host import HostBinary, BINARY
        if name in _TENSOR_OTHER:
            require_tensor_argument(other, name, "other", 1)
        other_t = self._other(other)
        if name in ("fmax", "fmin") and self.dtype.kind in "iub" and other_t.dtype.kind in "iub":
            from tinygrad_seq import device as _device
            from tinygrad_seq.tensor_math import _promote   # torch's 0-d rule, not numpy's
            a, b = _promote(self, other_t) if self.dtype != other_t.dtype else (self, other_t)
            out = np.array(BINARY[name][0](a.numpy(), b.numpy()), order="C")   # ints stay; 0-d stays 0-d
            return self._wrap(_device.backend(self.device).asarray(out), self.device)
        if name in _NO_INT_KERNEL and self.dtype.kind in "iub" and other_t.dtype.kind in "iub":
            dt = np.promote_types(self.dtype, other_t.dtype)   # torch has no integer kernel for these
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{scalar_name(dt)}\'')
        a, b = float_operands(self, other)   # (the number itself: xlogy(uint8, -2) is nan)
        return HostBinary.apply(a, b, name=name)
    method.__name__ = name
    return method


def float_operands(self, other):
    """Both operands of a float function in one float dtype, by torch's rule (tensor_math._promote):
    an integer or bool operand takes the float one's dtype (float16 with int64 stays float16), two
    integer ones the default dtype, two floats the wider unless one is 0-d and the other is not
    (float32 with a 0-d float64 stays float32)."""
    if isinstance(other, (int, np.integer)) and self.dtype.kind in "iub":
        other = float(other)   # computed in float from the number's value (xlogy(uint8, -2) is nan), as torch's
    a, b = self, self._other(other)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return a._floating(), b._floating()   # each from its own values: uint8 with a 0-d -3 takes -3, not 253
    if a.dtype != b.dtype:
        from tinygrad_seq.tensor_math import _promote
        a, b = _promote(a, b)
    return a._floating(), b._floating()


def logit(self, eps=None):
    """log(x / (1 - x)); with eps, x moved into [eps, 1 - eps] first by torch's kernel
    (ops_special.LogitWithEps; gradient 0 where x moved)."""
    if eps is None or eps < 0:   # torch: eps < 0 is None
        return _host_unary("logit")(self)
    from tinygrad_seq.ops_special import LogitWithEps
    return named(LogitWithEps.apply(self._floating(), eps=float(eps)), "LogitBackward0")


def lerp_(self, end, weight):
    """self += weight * (end - self) in place (an exponential moving average's update)."""
    lerp_dtypes(self, end, weight)
    return self._write("lerp_", lambda t, e: t.lerp(e, weight), end)


def lerp_dtypes(self, end, weight):
    """torch's lerp takes end, and a weight tensor that is not 0-d, of self's dtype only (no promotion)."""
    for name, x in (("end", end), ("weight", weight)):
        dtype = getattr(x, "dtype", None)
        if dtype is not None and dtype != self.dtype and (name == "end" or x.ndim):
            raise DTypeMismatch(f"expected dtype {self.dtype} for `{name}` but got dtype {dtype}")


def frac(self):
    if self.dtype.kind != "f":   # torch has no integer or bool kernel
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{scalar_name(self.dtype)}\'')
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
    if self.dtype == np.bool_:   # torch's kernel has no bool trace
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return named(self.diagonal().sum(), "TraceBackward0")


def tensor_split(self, *args, axis=None, **kw):
    """Split into n nearly equal parts (the first n % size one longer) or at the given indices;
    torch's overloads (sections= / indices= / tensor_indices_or_sections=, dim=)."""
    indices_or_sections, dim = _tensor_split_args(args, kw)
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "tensor_split", 0)
    if self.ndim == 0:
        raise InvalidArgument("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, self.ndim)
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
    if dim is not None:
        one_dim(dim, "aminmax")   # a tuple dim: torch's TypeError
    if 0 in self.shape:   # torch's own messages, not amin's
        if dim is None:
            raise InvalidArgument("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                                  "no identity.")
        if self.shape[wrap_dim(dim, self.ndim)] == 0:
            raise IndexOutOfRange(f"aminmax: Expected reduction dim {wrap_dim(dim, self.ndim)} to have non-zero size.")
    from tinygrad_seq.tensor_reduce import return_type
    return return_type("aminmax", ("min", "max"))(self.amin(dim, keepdim), self.amax(dim, keepdim))


def ldexp(self, other):
    require_tensor_argument(other, "ldexp", "other", 1)   # torch has no number form
    if self.dtype.kind == "f" and other.dtype == np.bool_:   # torch's exponent kernel has no bool form then
        raise NotImplementedError('"ldexp_cpu_exp" not implemented for \'Bool\'')
    x, e = float_operands(self, other)   # float16 with an int exponent stays float16, as torch's
    return x * (2.0 ** e)


@torch_broadcast_errors
def nextafter(self, other):
    """The next float after self toward other, in the pair's float dtype (torch's; integer or bool
    pairs have no kernel); gradient as torch 2.13's: 1 for self (0 where self == other), 0 for other
    (ops_host.BINARY)."""
    from tinygrad_seq.ops_host import HostBinary
    require_tensor_argument(other, "nextafter", "other", 1)   # torch has no number form
    if self.dtype.kind in "iub" and other.dtype.kind in "iub":
        dtype = self.dtype if self.dtype == other.dtype else np.promote_types(self.dtype, other.dtype)
        raise NotImplementedError(f'"nextafter_cpu" not implemented for \'{scalar_name(dtype)}\'')
    a, b = float_operands(self, other)
    return HostBinary.apply(a, b, name="nextafter")


def nansum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "nansum")
    x = self if dtype is None else self.to(dtype=dtype)
    out = (x.masked_fill(x.isnan(), 0.0) if x.dtype.kind == "f" else x).sum(dim, keepdim)
    return out if dtype is None else out.to(dtype=dtype)   # sum's int64 cast back to dtype=, as torch's


def nanmean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
    if dtype is not None and self.dtype.kind == "f":   # computed in dtype, as torch's nansum(dtype=)
        self = self.to(dtype=dtype)
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "nanmean")
    if self.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{scalar_name(self.dtype)}")
    keep = ~self.isnan()
    return self.masked_fill(~keep, 0.0).sum(dim, keepdim) / keep.sum(dim, keepdim)


@takes_axis
def index_copy(self, dim, index, source):
    from tinygrad_seq.torch_names import contiguous_format
    return self.clone(memory_format=contiguous_format).index_copy_(dim, index, source)   # torch's: contiguous


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
               ravel=lambda self: self.contiguous().view(-1), retains_grad=property(_retains_grad),
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
    for i, t in enumerate(tensors):
        if not hasattr(t, "expand"):   # broadcast_tensors([a, b]): torch's TypeError
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    try:
        shape = np.broadcast_shapes(*[t.shape for t in tensors])
    except ValueError:
        raise ShapeMismatch(f"broadcast_tensors: shapes {[tuple(t.shape) for t in tensors]} do not "
                            f"broadcast") from None
    return tuple(t.expand(*shape) for t in tensors)


def _tensor_split_args(args, kw):
    """(indices_or_sections, dim) from torch's three overloads, positional or by keyword."""
    names = ("sections", "indices", "tensor_indices_or_sections")
    given = [k for k in kw if k in names]
    unknown = [k for k in kw if k not in names and k != "dim"]
    if unknown or len(given) > 1 or len(args) + len(given) + ("dim" in kw) > 2 or (given and len(args) > 1) \
            or (not args and not given):
        raise TypeError(f"tensor_split() received an invalid combination of arguments - got {len(args)} positional "
                        f"and keywords {sorted(kw)}, but expected one of: (int sections, int dim = 0), "
                        f"(tuple of ints indices, int dim = 0), (Tensor tensor_indices_or_sections, int dim = 0)")
    spec = kw[given[0]] if given else args[0]
    dim = kw["dim"] if "dim" in kw else args[1] if len(args) > 1 else 0
    return spec, dim
