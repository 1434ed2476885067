"""Tensor's median (torch's lower median, of every element or along a dim with indices) and the
running order statistics along a dim: cummax, cummin (values and the index of the running best)
and logcumsumexp. Attached to Tensor through tensor_more.METHODS (compositions of sort / gather:
autograd differentiates them)."""
import numpy as np

from tinygrad_seq import shape_copies
from tinygrad_seq.dim_alias import dim_from_axis, required_dim
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.writes import keep_for_write_check


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
    no_bool_median(self, dim)
    if dim is None:
        if flat.dtype.kind == "f" and bool(flat.isnan().any()):   # nan propagates, as torch's
            return keep_for_write_check(spread_over_ties(flat, float("nan"), "MedianBackward0"), self)
        m = flat.detach().sort().values[(flat.numel() - 1) // 2]
        if flat.dtype.kind != "f":
            return m
        # torch's MedianBackward0 saves self: written in place before the backward, it raises
        return keep_for_write_check(spread_over_ties(flat, m.item(), "MedianBackward0"), self)
    if self.ndim == 0:
        _zero_d_dim(dim)
        return MinResult(self.clone(), type(self)(np.array(0, np.int64), device=self.device))
    d = wrap_dim(dim, self.ndim)
    order = self.sort(dim=d, stable=True)   # torch orders ties by index (nth_element on (value, index))
    k = (self.shape[d] - 1) // 2
    values, indices = order.values.narrow(d, k, 1), order.indices.narrow(d, k, 1)
    if self.dtype.kind == "f":   # a row holding nan has median nan, at its first nan (torch's)
        nan = np.isnan(self.numpy())
        if nan.any():
            rows = nan.any(d, keepdims=True)
            values = values.masked_fill(type(self)(rows, device=self.device), float("nan"))
            first = np.where(rows, np.expand_dims(np.argmax(nan, d), d), indices.numpy())
            indices = type(self)(first.astype(np.int64), device=self.device)
            values = shape_copies.gather(self, d, indices)   # the nan itself, so its gradient arrives
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    # fresh row-major results, as torch's (not views of the sorted copy)
    return MinResult(named(values.contiguous(), "MedianBackward1"), indices.contiguous())


def no_bool_median(self, dim):
    """torch has no bool kernel for a non-empty median / nanmedian (an empty one is True)."""
    if self.dtype == np.bool_:
        raise NotImplementedError(f"\"{'median_cpu' if dim is None else 'median_out'}\" not implemented for 'Bool'")


def spread_over_ties(flat, value, node):
    """value (flat's median, a float; nan: the median of a flat holding nan) as a 0-d tensor whose
    gradient is shared evenly by every element of 1-D flat equal to it (for nan: every nan), as
    torch's evenly_distribute_backward. amax over the ties shares it so and keeps the value exact
    (their sum over their count rounds, and made inf * 0 a nan for +-inf); nans take the mean."""
    host = flat.numpy()
    is_nan = value != value
    tied = flat[type(flat)(np.flatnonzero(np.isnan(host) if is_nan else host == value), device=flat.device)]
    return named(tied.mean() if is_nan else tied.amax(), node)


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
    d = wrap_dim(dim, self.ndim)
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
    if self.dtype.kind in "iub":   # torch has no integer kernel (nor promotes, as it does elsewhere)
        from tinygrad_seq.tensor_matmul import scalar_name
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{scalar_name(self.dtype)}'")
    x = self._floating()
    if x.dtype.itemsize < 8:   # torch accumulates float32 / float16 in double: no drift down long rows
        y = LogCumSumExp.apply(x.double(), dim=dim % self.ndim).to(dtype=x.dtype)
        return keep_for_write_check(named(y, "LogcumsumexpBackward0"), self)   # torch saves self
    return keep_for_write_check(LogCumSumExp.apply(x, dim=dim % self.ndim), self)
