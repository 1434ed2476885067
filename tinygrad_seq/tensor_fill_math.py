"""Tensor methods of torch's that compose from the ones here (so autograd differentiates them):
kron, cross, cov / corrcoef, masked_scatter, take / put_, the *_scatter family, as_strided,
renorm, rot90, diag_embed; the rarer elementwise ones (lgamma, digamma, i0, sinc, copysign,
logaddexp2 through ops_host.py; gcd, lcm, heaviside: tensor_only_binary.py); the random fills. Order statistics (quantile, nanmedian, mode, histc,
unique_consecutive): tensor_order_stats.py. Attached to Tensor by tensor_fill_in.attach."""
import math

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.dim_alias import takes_axis
from tinygrad_seq.broadcast_errors import broadcast_shape
from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch
from tinygrad_seq.functional_checks import require_float, torch_type_name
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.index_checks import check_long_index, put_count_error
from tinygrad_seq.internal_overlap import check_no_overlap
from tinygrad_seq.tensor_matmul import (beta_plus, deprecated_method_args, ignored_input, no_bool,
                                         same_scalar_type, scalar_name)
from tinygrad_seq.tensor_methods_gaps import strided_positions
from tinygrad_seq.tensor_more import _host_binary, _host_unary, ldexp, nextafter
from tinygrad_seq.writes import keep_for_write_check
from tinygrad_seq.tensor_only_binary import gcd, heaviside, lcm


def _on_host(fn, out_dtype=None):
    """An op without a gradient (torch defines none): numpy on the host values."""
    def method(self, *args):
        host = [a.numpy() if hasattr(a, "numpy") else a for a in args]
        out = np.asarray(fn(self.numpy(), *host))
        if out_dtype is not None:
            out = out.astype(out_dtype)
        # np.array keeps a 0-d result 0-d (np.ascontiguousarray would make it shape (1,))
        return self._wrap(_device.backend(self.device).asarray(np.array(out, order="C")), self.device)
    return method


def _norm_dim(dim, ndim):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                         f"{max(ndim, 1) - 1}], but got {dim})")
    return dim % max(ndim, 1)


# ---------------------------------------------------------------- elementwise
def deg2rad(self):
    return named(self._floating() * (math.pi / 180.0), "Deg2RadBackward0")


def rad2deg(self):
    return named(self._floating() * (180.0 / math.pi), "Rad2DegBackward0")


def float_power(self, exponent):
    base = self.to(dtype=np.float64)
    if hasattr(exponent, "to"):
        exponent = exponent.to(dtype=np.float64)
    return base ** exponent


def float_power_(self, exponent):
    if self.dtype != np.float64:
        raise DTypeMismatch(f"the base given to float_power_ has dtype {self.dtype} but the operation's "
                            f"result requires dtype float64")
    return self._write("float_power_", lambda t, e: float_power(t, e), exponent)


def angle(self):
    """0 for x >= 0 (+inf too), pi for x < 0 (-inf too), nan for nan; zero gradient (real
    tensors, as torch's)."""
    x = self._floating()
    return (x < 0).to(dtype=x.dtype) * math.pi + x.masked_fill(x.isinf(), 0.0) * 0   # * 0: nan stays nan


def hardshrink(self, lambd=0.5):
    """x where |x| > lambd, else +0.0 (F.hardshrink's: +-inf stay 0 for lambd = inf, no inf * 0)."""
    require_float(self, "hardshrink_cpu")
    return named(self.masked_fill((self >= -lambd) & (self <= lambd), 0.0), "HardshrinkBackward0")


def addmv(self, mat, vec, *deprecated, beta=1, alpha=1):
    mat, vec, beta, alpha = deprecated_method_args("addmv", mat, vec, deprecated, beta, alpha)
    if not self.dtype == mat.dtype == vec.dtype:   # torch's: no promotion (the input included)
        raise DTypeMismatch(f"addmv input tensors must have the same dtype, but got {scalar_name(self.dtype)}, "
                            f"{scalar_name(mat.dtype)}, and {scalar_name(vec.dtype)}")
    return named(beta_plus(self, beta, mat @ vec, alpha), "AddmvBackward0")


def addr(self, vec1, vec2, *deprecated, beta=1, alpha=1):
    """beta * self + alpha * outer(vec1, vec2); for bools (beta and self) or (alpha and outer), as
    torch's; an integer result refuses a float alpha / beta, a non-bool one a bool alpha / beta,
    as torch's. beta == 0 ignores self's values but keeps it in the graph (a zero gradient)."""
    vec1, vec2, beta, alpha = deprecated_method_args("addr", vec1, vec2, deprecated, beta, alpha)
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    outer = vec1.unsqueeze(1) * vec2.unsqueeze(0)
    kind = np.result_type(self.dtype, outer.dtype).kind
    for name, s in (("beta", beta), ("alpha", alpha)):
        if kind != "b" and isinstance(s, (bool, np.bool_)):
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
        if kind in "iub" and isinstance(s, (float, np.floating)):
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")
    if kind == "b":
        return named((outer & bool(alpha)) | (self & bool(beta)), "AddrBackward0")
    scaled = outer * alpha + ignored_input(self) if beta == 0 else self * beta + outer * alpha
    return named(scaled, "AddrBackward0")


def dist(self, other, p=2):
    return named((self - other).norm(p), "DistBackward0")


def vdot(self, other):
    if self.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
    if self.shape != other.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got "
                           f"{self.shape[0]} and {other.shape[0]} elements respectively")
    if self.dtype != other.dtype:   # torch's dot kernel: no promotion, no bool
        raise DTypeMismatch(f"dot : expected both vectors to have same dtype, but found {scalar_name(self.dtype)} "
                            f"and {scalar_name(other.dtype)}")
    no_bool("dot", self.dtype)
    return named((self * other).sum(dtype=self.dtype), "VdotBackward0")   # int32 stays int32, as torch's


# ---------------------------------------------------------------- products and matrices
def kron(self, other):
    """Kronecker product: out[i*m + k, ...] = a[i, ...] * b[k, ...] over every dimension."""
    nd = max(self.ndim, other.ndim)
    sa = (1,) * (nd - self.ndim) + tuple(self.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = self.reshape(tuple([d for s in sa for d in (s, 1)]))
    b = other.reshape(tuple([d for s in sb for d in (1, s)]))
    return named((a * b).reshape(tuple([x * y for x, y in zip(sa, sb)])), "UnsafeViewBackward0")


@takes_axis
def cross(self, other, dim=None):
    """Cross product of 3-vectors along dim (None: the first dimension of size 3, as torch's)."""
    a, b = self, other
    same_scalar_type(a, b)   # torch's cross kernel: one dtype, no bool
    no_bool("cross", a.dtype)
    if a.shape != b.shape:
        shape = broadcast_shape(a.shape, b.shape)   # torch's RuntimeError when they do not broadcast
        a, b = a.expand(*shape), b.expand(*shape)
    if dim is None:
        sizes = [i for i, s in enumerate(a.shape) if s == 3]
        if not sizes:
            raise RuntimeError(f"no dimension of size 3 in input (shape {tuple(a.shape)})")
        dim = sizes[0]
    dim = _norm_dim(dim, a.ndim)
    # each input's own size there (the vector dim does not broadcast, as torch's)
    sa, sb = ((1,) * (a.ndim - t.ndim) + tuple(t.shape) for t in (self, other))
    if sa[dim] != 3 or sb[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa[dim]} and {sb[dim]}")
    x = [a.narrow(dim, i, 1) for i in range(3)]
    y = [b.narrow(dim, i, 1) for i in range(3)]
    from tinygrad_seq.functions import cat
    return named(cat([x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]], dim),
                 "LinalgCrossBackward0")


def matrix_power(self, n):
    if self.ndim < 2 or self.shape[-1] != self.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{self.shape[-2] if self.ndim > 1 else self.shape} by {self.shape[-1]} matrices")
    if n < 0:
        from tinygrad_seq.linalg import inv
        return inv(self).matrix_power(-n)
    from tinygrad_seq.creation import eye
    out = eye(self.shape[-1], dtype=self.dtype).to(self.device).expand(*self.shape)
    if n == 0:
        return out.clone()
    out, base = None, self
    while n:
        if n & 1:
            out = base if out is None else out @ base
        n >>= 1
        if n:
            base = base @ base
    return out


def cov(self, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) over the columns (observations), torch's formula."""
    if self.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input "
                           f"with {self.ndim} dimensions")
    _check_cov_weights(fweights, "fweights", "iu", "integral")
    _check_cov_weights(aweights, "aweights", "f", "floating point")
    x = self._floating()
    if aweights is not None and aweights.dtype.kind == "f" and aweights.dtype != x.dtype:
        x = x.to(dtype=np.promote_types(x.dtype, aweights.dtype))   # torch's: the result type of both
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n_obs = x.shape[1]
    w = None
    for given in (fweights, aweights):
        if given is not None:
            if given.ndim > 1 or given.shape[0] != n_obs:
                raise RuntimeError(f"cov(): expected weights to have one element per observation, "
                                   f"got shape {tuple(given.shape)} for {n_obs} observations")
            w = given if w is None else w * given
    if w is None:
        avg = x.mean(1)
        norm = n_obs - correction
    else:
        w = w.to(dtype=x.dtype)
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights.to(dtype=x.dtype)).sum() / w_sum
    if not hasattr(norm, "clamp"):
        norm = max(norm, 0)
    else:
        norm = norm.clamp(min=0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = (xw @ xm.T) / norm
    return c.reshape(()) if c.shape == (1, 1) else c   # one variable: 0-d, as torch squeezes


def _check_cov_weights(weights, name, kinds, kind_name):
    """torch's: fweights integral, aweights floating point, neither negative."""
    if weights is None:
        return
    if weights.dtype.kind not in kinds:
        raise RuntimeError(f"cov(): expected {name} to have {kind_name} dtype but got {name} with "
                           f"{scalar_name(weights.dtype)} dtype")
    if weights.numel() and bool((weights < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def corrcoef(self):
    c = cov(self)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1)


def diagflat(self, offset=0):
    return self.flatten().diag(offset)


def diag_embed(self, offset=0, dim1=-2, dim2=-1):
    """The last dimension as the diagonal (offset) of new square matrices at dims dim1, dim2."""
    from tinygrad_seq.creation import zeros
    n = self.shape[-1]
    m = n + abs(offset)
    out = zeros(*self.shape[:-1], m, m, dtype=self.dtype, device=self.device)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    out[..., rows, cols] = self
    nd = out.ndim
    d1, d2 = _norm_dim(dim1, nd), _norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (nd - 2, nd - 1):
        out = out.movedim((nd - 2, nd - 1), (d1, d2)).contiguous()   # torch's result is row-major
    return out


def rot90(self, k=1, dims=(0, 1)):
    return named(_rotated(self, k, dims), "Rot90Backward0")


def _rotated(self, k, dims):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if self.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
    d0, d1 = _norm_dim(dims[0], self.ndim), _norm_dim(dims[1], self.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return self.flip(d1).transpose(d0, d1)
    if k == 2:
        return self.flip(d0).flip(d1)
    if k == 3:
        return self.flip(d0).transpose(d0, d1)
    return self.clone()


@takes_axis
def renorm(self, p, dim, maxnorm):
    """Each slice along dim whose p-norm exceeds maxnorm scaled down to maxnorm (torch's 1e-7)."""
    if not p > 0:   # torch's order of checks; nan fails both
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if self.ndim < 2:   # torch's: a slice is at least a vector
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {self.ndim} dimensions")
    dim = _norm_dim(dim, self.ndim)
    if self.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {torch_type_name(self.dtype)}")
    others = tuple(i for i in range(self.ndim) if i != dim)
    from tinygrad_seq.linalg_norms import vector_norm   # its gradient at a zero norm is 0 (torch's)
    # torch's: scaled past maxnorm, else as it is with the incoming gradient (a norm of zeros there: no nan)
    scaled = vector_norm(self.detach(), p, dim=others, keepdim=True) > maxnorm
    norms = vector_norm(self.masked_fill(~scaled, 0.0), p, dim=others, keepdim=True)
    factor = (maxnorm / (norms + 1e-7)).where(scaled, 1.0)
    return named((self * factor).contiguous(), "RenormBackward0")   # row-major, as torch's, whatever self's layout


# ---------------------------------------------------------------- indexing
def take(self, index):   # self.flatten()[index], shaped as index
    check_long_index(index, "take")
    return keep_for_write_check(named(self.reshape(-1)[index], "TakeBackward0"), self)


def put_(self, index, source, accumulate=False):
    if getattr(source, "dtype", self.dtype) != self.dtype:   # torch's: no conversion
        raise DTypeMismatch(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                            f"{scalar_name(self.dtype)} and source.dtype = {scalar_name(source.dtype)}")
    check_long_index(index, "put_")
    flat_index = index.reshape(-1)
    src = source.reshape(-1)
    n = self.numel()
    bad = np.asarray(flat_index.numpy())
    if bad.size and (bad.max() >= n or bad.min() < -n):
        raise IndexError(f"put_: index out of range for a tensor of {n} elements")
    if src.shape[0] != flat_index.shape[0]:
        raise put_count_error(src.shape[0], flat_index.shape[0])
    check_no_overlap(self, index)   # torch's: neither index nor source may share self's memory
    check_no_overlap(self, source)
    if accumulate:   # repeated positions add up; index_add is differentiable
        wrapped = flat_index % max(n, 1)
        return self._write("put_", lambda t, s: t.reshape(-1).index_add(0, wrapped, s.to(dtype=t.dtype)).reshape(
            t.shape), src)   # (a 0-d self: shape ())
    return self._write("put_", lambda t, s: t.reshape(-1).index_put((flat_index,), s).reshape(t.shape), src)


def put(self, index, source, accumulate=False):
    return self.clone().put_(index, source, accumulate)


def masked_scatter(self, mask, source):
    """self, broadcast with mask as torch's (self [5] with mask [2, 5] gives [2, 5]), with the
    positions where mask is True taken, in order, from source's elements. Gradients: to self where
    mask is False (summed back over the broadcast dims), to source's first mask.sum() elements."""
    m = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {m.dtype}")
    shape = broadcast_shape(m.shape, self.shape)   # torch's order (mask first) and message
    x = self if shape == self.shape else self.expand(*shape)
    where = np.flatnonzero(np.broadcast_to(m, shape))
    if where.size > source.numel():
        raise RuntimeError(f"masked_scatter: expected source to have at least {where.size} elements "
                           f"(the number of ones in mask), got {source.numel()}")
    if source.dtype != self.dtype:
        raise DTypeMismatch(f"masked_scatter_: expected self and source to have same dtypes but got "
                            f"{self.dtype} and {source.dtype}")
    from tinygrad_seq.creation import tensor
    pos = tensor(where, device=self.device)
    vals = source.reshape(-1)[:where.size]
    return named(x.reshape(-1).index_put((pos,), vals).reshape(shape), "MaskedScatterBackward0")


def masked_scatter_(self, mask, source):
    mask_shape = tuple(np.shape(mask.numpy() if hasattr(mask, "numpy") else mask))
    if broadcast_shape(mask_shape, self.shape) != self.shape:   # in place: self cannot grow
        raise ShapeMismatch(f"masked_scatter_: mask of shape {mask_shape} does not broadcast to self's shape "
                            f"{tuple(self.shape)}")
    return self._write("masked_scatter_", lambda t, s: masked_scatter(t, mask, s), source)


def _scatter_at(self, src, index):
    out = self.clone()
    out[index] = src
    return out


@takes_axis
def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
    idx = [slice(None)] * self.ndim
    idx[_norm_dim(dim, self.ndim)] = slice(start, end, step)
    return _scatter_at(self, src, tuple(idx))


@takes_axis
def select_scatter(self, src, dim, index):
    idx = [slice(None)] * self.ndim
    idx[_norm_dim(dim, self.ndim)] = index
    return _scatter_at(self, src, tuple(idx))


def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
    d1, d2 = _norm_dim(dim1, self.ndim), _norm_dim(dim2, self.ndim)
    n = self.diagonal(offset, d1, d2).shape[-1]
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    moved = self.movedim((d1, d2), (0, 1))
    out = _scatter_at(moved, src.movedim(-1, 0), (rows, cols))
    return out.movedim((0, 1), (d1, d2))


def _viewed_root(self):
    """The tensor whose C-contiguous memory self views (following _view); None when self is no
    such view."""
    root = self
    while getattr(root, "_view", None) is not None:
        root = root._view[0]
    arr, mem = self.array, root.array
    if root is self or type(arr) is not np.ndarray or type(mem) is not np.ndarray or not mem.flags.c_contiguous \
            or not np.may_share_memory(arr, mem):
        return None
    return root


def as_strided(self, size, stride, storage_offset=None):
    """The elements at storage_offset + sum(i_k * stride_k) of the contiguous tensor's elements
    (differentiable: an index into the flat tensor). An explicit storage_offset on a view counts
    from the start of the memory it views, as torch's; None reads from self's first element."""
    size, stride = tuple(size), tuple(stride)
    root = None if storage_offset is None else _viewed_root(self)
    storage = self if root is None else root   # torch's storage: the viewed tensor's elements
    storage_offset = 0 if storage_offset is None else int(storage_offset)
    n = storage.numel()
    idx = strided_positions(size, stride, storage_offset)
    if idx.size and (idx.max() >= n or idx.min() < 0):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                           f"{storage_offset} requiring a storage of {int(idx.max()) + 1} elements are out "
                           f"of bounds for storage of size {n}")
    from tinygrad_seq.creation import tensor
    return named(storage.contiguous().reshape(-1)[tensor(idx, device=self.device)], "AsStridedBackward0")


METHODS = dict(
    deg2rad=deg2rad, rad2deg=rad2deg, float_power=float_power, float_power_=float_power_, ldexp=ldexp, angle=angle,
    heaviside=heaviside, hardshrink=hardshrink, addmv=addmv, addr=addr, dist=dist, vdot=vdot,
    kron=kron, cross=cross, matrix_power=matrix_power, cov=cov, corrcoef=corrcoef, diagflat=diagflat,
    diag_embed=diag_embed, rot90=rot90, renorm=renorm, take=take, put_=put_, put=put,
    masked_scatter=masked_scatter, masked_scatter_=masked_scatter_, slice_scatter=slice_scatter,
    select_scatter=select_scatter, diagonal_scatter=diagonal_scatter, as_strided=as_strided,
    lgamma=_host_unary("lgamma"), digamma=_host_unary("digamma"), i0=_host_unary("i0"),
    sinc=_host_unary("sinc"), copysign=_host_binary("copysign"), logaddexp2=_host_binary("logaddexp2"),
    signbit=_on_host(np.signbit), isposinf=lambda self: self == math.inf,
    isneginf=lambda self: self == -math.inf, isreal=_on_host(lambda x: np.ones(x.shape, dtype=bool)),
    gcd=gcd, lcm=lcm, nextafter=nextafter,
)
