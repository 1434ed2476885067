"""Tensor reductions and sorting (the ReduceOps base class of Tensor): sum/mean/prod/std/var/norm
with dim tuples, max/min with (values, indices) results, argmax/argmin, all/any, cumsum, topk,
sort, argsort; torch's dtypes (integer or bool sums and products int64; an integer mean raises)."""
import inspect

import numpy as np

from tinygrad_seq import (autograd, device as _device, dtypes, int_math, ops, ops_extra, return_types, shape_copies,
                          sort_order)
from tinygrad_seq.dim_alias import dim_from_axis, required_dim
from tinygrad_seq.dim_arg import dim_int, is_one_int
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.errors import IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.moments import warn_no_dof
from tinygrad_seq.memory_formats import laid_as_source
from tinygrad_seq.reduce_dim_checks import (ALL_DIMS, check_arg_input, check_nonempty_reduction, check_scan, one_dim,
                                          check_arg_reduction as _check_arg_reduction)


def return_type(name, fields=None):
    """A builder of torch.return_types.<name> (return_types.py) from its fields one by one:
    return_type("max")(values, indices); fields, when given, must be the class's."""
    cls = getattr(return_types, name)
    if fields is not None and tuple(fields) != cls._fields:
        raise ValueError(f"return_types.{name} has fields {cls._fields}, not {tuple(fields)}")
    return lambda *values: cls._make(values)


MaxResult, MinResult, SortResult = return_type("max"), return_type("min"), return_type("sort")
TopkResult, KthvalueResult = return_type("topk"), return_type("kthvalue")


def _dim_or_axis(dim, axis, name):
    """A reduction's dims from dim= or numpy's axis=; () (or []) means every dim, as torch's."""
    if axis is not None:
        dim = dim_from_axis(dim, axis, name)
    return None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim


def _wrap(arr, device):
    return autograd._Tensor._wrap(arr, device)


def _exact_dtype(out, dtype):
    """An accumulation's result in the dtype= asked for: numpy widens integer sums to int64 (and
    bools to ints), so narrower integer results are cast back (the bits of that width's sum)."""
    dt = dtypes.as_dtype(dtype)
    return out if out.dtype == dt else _wrap(_device.backend(out.device).astype(out.array, dt), out.device)


def _dim1(dim, ndim):
    return ops._norm_axes(dim, ndim)[0] if ndim else 0


class ReduceOps:
    __slots__ = ()

    def _int_to_long(self, dtype):
        if dtype is not None:
            return self.to(dtype=dtype)
        return self if self.dtype.kind == "f" or self.dtype == np.int64 else self._cast_const(np.int64)

    # axis= is numpy's name for dim, which torch's reductions also take; dim=() reduces every
    # dim, as torch's sum and mean do
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        dim = _dim_or_axis(dim, axis, "sum")
        out = ops.Sum.apply(self._int_to_long(dtype), axis=dim, keepdim=keepdim)
        return out if dtype is None else _exact_dtype(out, dtype)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        dim = _dim_or_axis(dim, axis, "mean")
        x = self if dtype is None else self.to(dtype=dtype)
        if x.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be a floating "
                               f"point dtype, got {x.dtype}: call .float() first or pass dtype=")
        axes = ops._norm_axes(dim, x.ndim)
        n = 1
        for a in axes:
            n *= x.shape[a]
        if x.dtype == np.float16:   # accumulated and divided in float32, as torch's (n > 65504 is inf in float16)
            return ops_extra.MeanDivide.apply(x.float().sum(dim, keepdim), count=n).half()
        return named(ops_extra.MeanDivide.apply(x.sum(dim, keepdim), count=n), "MeanBackward0" if dim is None else "MeanBackward1")

    def prod(self, dim=ALL_DIMS, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(None if dim is ALL_DIMS else dim, axis, "prod")
        x = self._int_to_long(dtype)
        dim = None if dim is ALL_DIMS else one_dim(dim, "prod")
        out = ops_extra.Prod.apply(x, dim=None if dim is None else _dim1(dim, x.ndim), keepdim=keepdim)
        return out if dtype is None else _exact_dtype(out, dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None, *, axis=None, keepdims=None):
        return self._variance("var", dim, unbiased, keepdim if keepdims is None else keepdims, correction, axis)

    def _variance(self, op, dim, unbiased, keepdim, correction, axis=None, warn_as=None):
        """var, or for op "std" / "std_mean" its square root (op: the name in torch's warning)."""
        if op.startswith("std"):   # a constant row's std has gradient 0, as torch's (not 0 * inf: Root)
            return named(ops_extra.Root.apply(self._variance("var" + op[3:], dim, unbiased, keepdim, correction,
                                                             axis, warn_as or op), p=2.0), "StdBackward0")
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, op)
        if isinstance(dim, bool):   # torch's older form var(unbiased)
            dim, unbiased = None, dim
        if unbiased is not None and not isinstance(unbiased, bool):
            raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r} (pass dim= by keyword)")
        if correction is None:
            correction = 0 if unbiased is False else 1
        if self.dtype.kind != "f":
            raise RuntimeError(f"var/std need a floating point tensor, got {self.dtype}")
        if self.dtype == np.float16:   # in float32, as torch's (a count above 65504 is inf in float16)
            return self.float()._variance(op, dim, None, keepdim, correction, None, warn_as).half()
        mu = self.mean(dim, keepdim=True)
        n = self.numel() // max(mu.numel(), 1)
        if n - correction <= 0:   # torch's warning (the result is nan or inf, as torch's)
            warn_no_dof(warn_as or op)
        if n - correction <= 0 and dim is not None:
            # torch's gradient along dims: 2 / (n - correction) * (x - mean), the divisor as it is
            # (negative, or 0: inf), without the mean's (inf - inf) part (over all dims: nan, as here)
            from tinygrad_seq.ops_extra import ZeroCarryingGrad
            squares = ((self - mu.detach()) ** 2).sum(dim, keepdim)
            value = ((self - mu) ** 2).sum(dim, keepdim).detach() / max(n - correction, 0)
            return named(value + ZeroCarryingGrad.apply(squares / (n - correction)), "VarBackward0")
        return named(((self - mu) ** 2).sum(dim, keepdim) / max(n - correction, 0), "VarBackward0")

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None, *, axis=None, keepdims=None):
        return self._variance("std", dim, unbiased, keepdim if keepdims is None else keepdims, correction, axis)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None, *, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if dtype is not None:
            return self.to(dtype=dtype).norm(p, dim, keepdim)
        if self.dtype.kind != "f":   # torch's linalg.vector_norm refuses integers and bools
            raise RuntimeError(f"norm: expected a floating point tensor as input, got {self.dtype}: call .float() first")
        if p == "nuc":   # the sum of singular values of the matrices over dim (the last two)
            from tinygrad_seq import linalg
            if isinstance(dim, (int, np.integer)):   # torch's norm passes one int on as a 1-tuple
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
            return linalg.matrix_norm(self, "nuc", dim=(-2, -1) if dim is None else dim, keepdim=keepdim)
        return named(self._vector_norm(p, dim, keepdim), "LinalgVectorNormBackward0")   # torch's node

    def _vector_norm(self, p, dim, keepdim):
        x = self
        dim = None if isinstance(dim, (tuple, list)) and not dim and not keepdim else dim   # (): every dim
        # a zero row's 2- or p-norm has gradient 0, as torch's (not 0 * inf: ops_extra.Root)
        if p in ("fro", 2, 2.0) and x.dtype != np.float16:
            return ops_extra.Root.apply((x * x).sum(dim, keepdim), p=2.0)
        if p in (1, 1.0):
            return x.abs().sum(dim, keepdim)
        if p == float("inf"):
            return x.abs().amax(dim, keepdim)
        if p == float("-inf"):
            return x.abs().amin(dim, keepdim)
        if p is None:   # torch's default of the functional form: the 2-norm
            return x._vector_norm(2, dim, keepdim)
        if isinstance(p, (int, float)) or (isinstance(p, str) and p == "fro"):
            # other orders (0: the count of non-zeros, with no gradient) and float16's 2-norm (vector_norm
            # computes it in float32, as torch: x * x overflows float16 from 256 on)
            from tinygrad_seq.linalg_norms import vector_norm
            return vector_norm(x, 2 if p == "fro" else p, dim, keepdim)
        raise InvalidArgument(f"norm: p must be 'fro', 'nuc', None or a number, got {p!r}")   # torch's RuntimeError

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):
        """max() -> the largest value; max(dim) -> (values, indices); max(other) elementwise."""
        if other is not None:   # torch's max(other=)
            return self.maximum(other)
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "max")
        if isinstance(dim, ReduceOps):
            return self.maximum(dim)
        if dim is not None:
            one_dim(dim, "max")
        if 0 in self.array.shape:
            check_nonempty_reduction(self, dim, "max")
        if dim is None:   # (keepdim: as sum's and mean's, every dim kept at 1; torch's max refuses dim=None)
            return self.amax(None, True) if keepdim else ops.Max.apply(self, evenly=True)
        d = _dim1(dim, self.ndim)
        B = _device.backend(self.device)
        idx = B.argmax(self.array, axis=d)
        values = ops.MaxAlong.apply(self, dim=d, keepdim=keepdim, index=idx)
        if keepdim:
            idx = B.reshape(idx, self.shape[:d] + (1,) + self.shape[d + 1:])
        return MaxResult(values, _wrap(idx, self.device))

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):
        if other is not None:
            return self.minimum(other)
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "min")
        if isinstance(dim, ReduceOps):
            return self.minimum(dim)
        if dim is not None:
            one_dim(dim, "min")
        if 0 in self.array.shape:
            check_nonempty_reduction(self, dim, "min")
        if self.dtype.kind != "f":   # integers and bools: numpy's min (-x wraps for uint8 and the minimum)
            return int_math.exact_min(self, dim, keepdim)
        if dim is None:   # (torch's node keeps its result: a write to it after raises, writes.keep_for_write_check)
            return self.amin(None, True) if keepdim else _keeps_result(named(-((-self).max()), "MinBackward1"))
        v, i = (-self).max(dim, keepdim)
        return MinResult(named(-v, "MinBackward0"), i)   # (torch's MinBackward0 keeps the indices only)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "amax")
        dim = _dim_or_axis(dim, None, "amax")   # () or []: every dim, as torch's
        if 0 in self.array.shape:
            check_nonempty_reduction(self, dim, "amax")
        return named(ops.Max.apply(self, axis=dim, keepdim=keepdim), "AmaxBackward0")

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "amin")
        dim = _dim_or_axis(dim, None, "amin")   # () or []: every dim, as torch's
        if 0 in self.array.shape:
            check_nonempty_reduction(self, dim, "amin")
        if self.dtype.kind != "f":
            return int_math.exact_amin(self, dim, keepdim)
        return _keeps_result(named(-((-self).amax(dim, keepdim)), "AminBackward0"))

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """log(sum(exp(x))) along dim: one host node (ops_extra.LogSumExp), else exp(x - max) composed."""
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None or dim is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "logsumexp")
        if isinstance(dim, (tuple, list)) and not dim:   # torch's logsumexp has no every-dim reading of ()
            raise RuntimeError("logsumexp(): dim=() or [] is not supported: name the dims to reduce")
        if self.dtype.kind != "f":   # ints and bools: the default float dtype, as torch's
            return self._floating().logsumexp(dim, keepdim)
        if self.numel() == 0:   # an empty sum of exps: log 0 = -inf (gradient: none to give)
            return named(self.sum(dim, keepdim) * 0 - float("inf"), "LogsumexpBackward0")
        dims = [wrap_dim(dim_int(d), self.ndim) for d in ((dim,) if is_one_int(dim) else dim)]
        if type(self.array) is np.ndarray and len(set(dims)) == len(dims):   # a 0-d tensor: over no axis
            return named(ops_extra.LogSumExp.apply(self, dims=tuple(dims) if self.ndim else (), keepdim=bool(keepdim)),
                         "LogsumexpBackward0")
        m = self.detach().amax(dim, keepdim=True).nan_to_num(0.0, 0.0, 0.0)   # an inf max shifts by 0
        with np.errstate(divide="ignore"):   # log(0) of a row of -inf is -inf, silently as torch's
            out = (self - m).exp().sum(dim, keepdim=True).log() + m
        return named(out if keepdim else out.squeeze(tuple(dims)), "LogsumexpBackward0")

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "argmax")
        check_arg_input(self, dim, "argmax")
        _check_arg_reduction(self, dim, "argmax")
        B = _device.backend(self.device)
        if dim is None:   # keepdim: every dim kept as size 1, as torch's
            idx = B.argmax(B.reshape(self.array, (-1,)))
            return _wrap(B.reshape(idx, (1,) * self.ndim) if keepdim else idx, self.device)
        d = _dim1(dim, self.ndim)
        idx = B.argmax(self.array, axis=d)
        if keepdim:
            idx = B.reshape(idx, self.shape[:d] + (1,) + self.shape[d + 1:])
        return _wrap(idx, self.device)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "argmin")
        check_arg_input(self, dim, "argmin")
        _check_arg_reduction(self, dim, "argmin")
        if self.dtype.kind != "f":
            return int_math.exact_argmin(self, dim, keepdim)
        return (-self.detach()).argmax(dim, keepdim)

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "all")
        return self._bool_reduce(dim, keepdim, "all")

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "any")
        return self._bool_reduce(dim, keepdim, "any")

    def _bool_reduce(self, dim, keepdim, name):
        B = _device.backend(self.device)
        nz = B.astype(B.ne(self.array, 0), np.int64)
        count = B.sum(nz, axis=ops._norm_axes(dim, self.ndim), keepdims=keepdim)
        if name == "any":
            out = B.gt(count, 0)
        else:
            n = self.numel() // max(int(np.prod(count.shape)) if count.shape else 1, 1)
            out = B.eq(count, n)
        # torch's all/any keep uint8 (its legacy mask type); every other dtype gives bool
        return _wrap(out if self.dtype != np.uint8 else B.astype(out, np.uint8), self.device)

    def count_nonzero(self, dim=None, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "count_nonzero")
        return self.ne(0).sum(dim)

    def cumsum(self, dim=None, dtype=None, *, axis=None):
        if axis is not None or dim is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "cumsum")
        check_scan(dim, dtype, "cumsum")
        x = self._int_to_long(dtype)
        if x.dtype == np.float16:   # accumulated in float32, as torch's (float16 stops counting at 2048)
            return x.float().cumsum(dim).half()
        out = ops_extra.CumSum.apply(x, dim=_dim1(dim, x.ndim))
        return out if dtype is None else _exact_dtype(out, dtype)

    def cumprod(self, dim=None, dtype=None, *, axis=None):
        if axis is not None or dim is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "cumprod")
        check_scan(dim, dtype, "cumprod")
        x = self._int_to_long(dtype)
        if x.dtype == np.float16 or x.dtype == np.float32:   # accumulated in float32 / float64, as torch's
            wide = x.float() if x.dtype == np.float16 else x.double()
            return named(wide.cumprod(dim).to(dtype=x.dtype), "CumprodBackward0")
        d = _dim1(dim, x.ndim)
        n = x.shape[d]
        if n == 0:   # nothing to multiply: the empty tensor, as torch's
            return x.clone()
        parts = [x.narrow(d, 0, 1)]
        for i in range(1, n):
            parts.append(parts[-1] * x.narrow(d, i, 1))
        from tinygrad_seq.functions import cat
        return named(cat(parts, d), "CumprodBackward0") if parts and n else x

    def argsort(self, dim=-1, descending=False, stable=False, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "argsort", -1)
        B = _device.backend(self.device)
        d = _dim1(dim, self.ndim)
        if self.device == "cpu":   # torch's CPU tie order (std::sort unless stable), laid out as self
            return _wrap(laid_as_source(sort_order.sort_order(self.array, d, descending, stable), self.array), self.device)
        if not descending:
            return _wrap(B.argsort(self.array, d), self.device)
        return _wrap(B.asarray(sort_order.stable_order(B.to_host(self.array), d, True)), self.device)

    def sort(self, *dim_descending, stable=None, **dim_descending_axis):
        """torch's two overloads: sort(dim=-1, descending=False), or sort(*, stable, dim=-1, descending=False)
        (with stable=, dim and descending are keyword-only: x.sort(1, stable=True) is its TypeError)."""
        if len(dim_descending) > 2 or (dim_descending and stable is not None):
            raise TypeError(f"sort() received an invalid combination of arguments - got {dim_descending} positionally"
                            f"{' with stable=' if stable is not None else ''}, but expected one of: (*, bool stable, "
                            f"int dim = -1, bool descending = False) or (int dim = -1, bool descending = False)")
        return self._sorted(*dim_descending, stable=bool(stable), **dim_descending_axis)

    def _sorted(self, dim=-1, descending=False, stable=False, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "sort", -1)
        idx = self.argsort(dim, descending, stable)
        node = "SortBackward1" if stable else "SortBackward0"   # torch's sort.stable overload is the second
        values = shape_copies.gather(self, _dim1(dim, self.ndim), idx)
        values.array = laid_as_source(values.array, self.array)   # the values too, as torch's empty_like
        return SortResult(named(values, node), idx)

    def topk(self, k, dim=-1, largest=True, sorted=True, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "topk", -1)
        one_dim(dim, "topk")
        if self.dtype == np.bool_:
            raise RuntimeError("topk does not support bool dtypes on CPU")
        if self.ndim == 0:   # as a [1] tensor, 0-d results (torch's)
            _dim1(dim, 1)
            if k not in (0, 1):
                raise ShapeMismatch(f"topk: k={k} is out of range for a 0-d tensor (k must be 0 or 1)")
            # k=0 too gives the value and index 0 (torch's 0-d result holds one element either way)
            v, i = self.reshape(1).topk(1, 0, largest, sorted)
            return TopkResult(v.reshape(()), i.reshape(()))
        d = _dim1(dim, self.ndim)
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise ShapeMismatch(f"topk: k={k} is out of range for dimension {d} of size {n}")
        if self.device == "cpu":   # torch's order among ties, and its unsorted order
            idx = _wrap(sort_order.topk_order(self.array, d, k, largest, sorted), self.device)
        else:
            idx = self.argsort(d, descending=largest).narrow(d, 0, k).contiguous()   # .view()-able, as torch's
        # (the indices are in range by construction: the node without gather's checks)
        return TopkResult(named(ops_extra.Gather.apply(self, dim=d, index=idx.array), "TopkBackward0"), idx)

    def kthvalue(self, k, dim=-1, keepdim=False, *, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims   # numpy's spelling, which torch takes too
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "kthvalue", -1)
        one_dim(dim, "kthvalue")
        if self.ndim == 0:   # as a [1] tensor, 0-d results (torch's)
            _dim1(dim, 1)
            x = self.to(dtype=np.uint8) if self.dtype == np.bool_ else self   # torch takes a 0-d bool
            v, i = x.reshape(1).kthvalue(k, 0)
            return KthvalueResult(v.reshape(()).to(dtype=self.dtype), i.reshape(()))
        d = _dim1(dim, self.ndim)
        n = self.shape[d]
        if not 1 <= k <= n:
            raise IndexOutOfRange(f"kthvalue(): selected number k out of range for dimension {d} "
                                  f"(k={k}, size {n})")
        if self.dtype == np.bool_:
            raise NotImplementedError('"kthvalue_cpu" not implemented for \'Bool\'')
        if self.device == "cpu":   # the index torch's quickselect picks among ties
            idx = _wrap(np.ascontiguousarray(np.expand_dims(sort_order.kthvalue_order(self.array, d, k), d)), self.device)
        else:
            idx = self.argsort(d, stable=True).narrow(d, k - 1, 1)
        v = shape_copies.gather(self, d, idx)
        if not keepdim:
            v, idx = v.squeeze(d), idx.squeeze(d)
        return KthvalueResult(named(v, "KthvalueBackward0"), idx)


def _on_zero_d(method):
    """torch lets dim 0 or -1 (or a tuple of them) name the one implicit dim of a 0-d tensor: the
    reduction runs on the value as a [1] tensor and gives 0-d results (keepdim too)."""
    default = inspect.signature(method).parameters["dim"].default
    default = None if default is inspect.Parameter.empty else default

    def call(self, *args, **kwargs):
        if self.ndim:
            return method(self, *args, **kwargs)
        dim = args[0] if args else kwargs.pop("dim", kwargs.pop("axis", default))   # numpy's axis= too
        args = args[1:]
        if dim is None or dim is ALL_DIMS or isinstance(dim, ReduceOps):
            return method(self, dim, *args, **kwargs)
        if method.__name__ in _ONE_DIM:
            one_dim(dim, method.__name__)
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        for d in dims:
            if not isinstance(d, (int, np.integer)) or d not in (0, -1):
                raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {d})")
        out = method(self.reshape(1), 0, *args, **kwargs)
        # torch's results are new tensors, not views (detach_() and in-place ops work on them):
        # Reshape.apply, not .reshape, which would mark a view of the [1] result no one else holds
        if isinstance(out, tuple):
            return type(out)(*[ops.Reshape.apply(t, shape=()) for t in out])
        return ops.Reshape.apply(out, shape=())
    call.__name__ = call.__qualname__ = method.__name__
    call.__doc__ = method.__doc__
    return call


_ONE_DIM = frozenset(("prod", "max", "min", "argmax", "argmin", "cumsum", "cumprod"))
for _name in ("sum", "mean", "prod", "var", "std", "max", "min", "amax", "amin", "logsumexp", "argmax",
              "argmin", "all", "any", "cumsum", "cumprod", "argsort", "_sorted"):
    setattr(ReduceOps, _name, _on_zero_d(getattr(ReduceOps, _name)))


def _keeps_result(t):
    """t (min / amin composed as -max(-x)) checked as torch's node that saves its result."""
    from tinygrad_seq.writes import keep_for_write_check
    return keep_for_write_check(t, t)
