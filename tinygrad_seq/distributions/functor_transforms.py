"""torch.distributions.transforms built around other transforms or shapes (re-exported by
transforms.py):

    IndependentTransform(base, n)        base, with n more rightmost dimensions in one event
                                         (log |det| summed over them)
    ReshapeTransform(in_shape, out_shape) the rightmost in_shape reshaped to out_shape (log |det| 0)
    CatTransform(tseq, dim, lengths)     tseq[i] on the i-th block of lengths[i] entries along dim
    StackTransform(tseq, dim)            tseq[i] on the i-th slice along dim

As torch's: arguments, AssertionErrors and ValueErrors with torch's messages, domain / codomain
(independent / cat / stack constraints of the parts'), bijective, shapes, with_cache; like
torch's, none defines __eq__ (a transform equals only itself)."""
from tinygrad_seq.functions import cat, stack
from tinygrad_seq.tensor import Size

from . import constraints
from .transform_base import Transform
from .utils import _sum_rightmost

__all__ = ["CatTransform", "IndependentTransform", "ReshapeTransform", "StackTransform"]


class IndependentTransform(Transform):
    """torch.distributions.transforms.IndependentTransform(base_transform, reinterpreted_batch_ndims,
    cache_size=0): base_transform's values; log |det| summed over reinterpreted_batch_ndims more."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"{self.__class__.__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


class ReshapeTransform(Transform):
    """torch.distributions.transforms.ReshapeTransform(in_shape, out_shape, cache_size=0): the
    rightmost in_shape of x reshaped to out_shape (same number of elements)."""
    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape, self.out_shape = Size(tuple(in_shape)), Size(tuple(out_shape))
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        return x.reshape(tuple(x.shape[:x.dim() - len(self.in_shape)]) + tuple(self.out_shape))

    def _inverse(self, y):
        return y.reshape(tuple(y.shape[:y.dim() - len(self.out_shape)]) + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x, y):
        return x.new_zeros(tuple(x.shape[:x.dim() - len(self.in_shape)]))

    def forward_shape(self, shape):
        return _swap_event(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return _swap_event(shape, self.out_shape, self.in_shape)


def _swap_event(shape, old, new):
    """shape with its rightmost `old` replaced by `new` (ReshapeTransform's shapes)."""
    if len(shape) < len(old):
        raise ValueError("Too few dimensions on input")
    cut = len(shape) - len(old)
    if tuple(shape[cut:]) != tuple(old):
        raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {old}")
    return shape[:cut] + new


def _check_along(value, dim, size, where, label, what):
    """torch's AssertionErrors: dim inside value's dimensions ("for {where}"), value.size(dim) ==
    size ("{label}.size(dim) = ... must equal {what} size")."""
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"dim {dim} out of range for {where} with {value.dim()} dimensions")
    if value.size(dim) != size:
        raise AssertionError(f"{label}.size({dim}) = {value.size(dim)} must equal {what} {size}")


def _check_transforms(tseq, cache_size):
    if not all(isinstance(t, Transform) for t in tseq):
        raise AssertionError("All elements of tseq must be Transform instances")
    return [t.with_cache(cache_size) for t in tseq] if cache_size else tseq


class CatTransform(Transform):
    """torch.distributions.transforms.CatTransform(tseq, dim=0, lengths=None, cache_size=0):
    tseq[i] applied to the i-th block of lengths[i] (default 1) entries along dim."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        tseq = _check_transforms(tseq, cache_size)
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.lengths = list([1] * len(self.transforms) if lengths is None else lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match transforms ({len(self.transforms)})")
        self.dim = dim

    @property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self):
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _blocks(self, value):
        start = 0
        for length in self.lengths:
            yield value.narrow(self.dim, start, length)
            start = start + length

    def _call(self, x):
        _check_along(x, self.dim, self.length, "tensor", "x", "length")
        return cat([t(v) for t, v in zip(self.transforms, self._blocks(x))], dim=self.dim)

    def _inverse(self, y):
        _check_along(y, self.dim, self.length, "tensor", "y", "length")
        return cat([t.inv(v) for t, v in zip(self.transforms, self._blocks(y))], dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        _check_along(x, self.dim, self.length, "x", "x", "length")
        _check_along(y, self.dim, self.length, "y", "y", "length")
        terms = []
        for t, x_i, y_i in zip(self.transforms, self._blocks(x), self._blocks(y)):
            term = t.log_abs_det_jacobian(x_i, y_i)
            if t.event_dim < self.event_dim:
                term = _sum_rightmost(term, self.event_dim - t.event_dim)
            terms.append(term)
        # dim counted from the right, less the event: still a batch dimension -> concatenate the
        # blocks' terms along it; inside the event -> they are one event's, summed
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        return cat(terms, dim=dim) if dim < 0 else sum(terms)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """torch.distributions.transforms.StackTransform(tseq, dim=0, cache_size=0): tseq[i] applied
    to the i-th slice along dim (value.size(dim) == len(tseq))."""

    def __init__(self, tseq, dim=0, cache_size=0):
        tseq = _check_transforms(tseq, cache_size)
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slice(self, z):
        return [z.select(self.dim, i) for i in range(z.size(self.dim))]

    def _call(self, x):
        _check_along(x, self.dim, len(self.transforms), "tensor", "x", "len(transforms)")
        return stack([t(v) for v, t in zip(self._slice(x), self.transforms)], dim=self.dim)

    def _inverse(self, y):
        _check_along(y, self.dim, len(self.transforms), "tensor", "y", "len(transforms)")
        return stack([t.inv(v) for v, t in zip(self._slice(y), self.transforms)], dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        _check_along(x, self.dim, len(self.transforms), "x", "x", "len(transforms)")
        _check_along(y, self.dim, len(self.transforms), "y", "y", "len(transforms)")
        return stack([t.log_abs_det_jacobian(x_i, y_i)
                      for x_i, y_i, t in zip(self._slice(x), self._slice(y), self.transforms)], dim=self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
