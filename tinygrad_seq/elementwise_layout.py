"""The memory layout of a binary elementwise op's result, as torch's TensorIterator chooses it.

numpy gives a result of operands whose layouts disagree C order; torch orders the result's
dimensions by the first operand's strides, consulting the next operand only where the first is
broadcast (stride 0) or ambiguous (TensorIteratorBase::reorder_dimensions). The values are the
same either way; the layout shows in `stride()`, `is_contiguous()`, `view` (which refuses a
non-viewable layout) and in every op that fills memory in order: dropout's and bernoulli_'s
masks (x.t() * y then F.dropout drew a different mask than torch's from the same seed).
"""
import weakref

import numpy as np

from tinygrad_seq.memory_formats import dims_fastest_first

# id -> result whose layout is torch's and not C-contiguous: view() applies torch's rule to it
# (tensor_shape.py), so h.view(-1) of such a result raises as torch's instead of copying
_torch_laid = weakref.WeakValueDictionary()


def laid_as_torch(arr):
    """Whether arr is a non-C-contiguous result `elementwise` laid out as torch's."""
    return _torch_laid.get(id(arr)) is arr


def _broadcast_strides(a, shape):
    """a's strides in the result's `shape` (0 where a is broadcast), numpy's for an array."""
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        return (0,) * len(shape)
    lead = len(shape) - a.ndim
    return (0,) * lead + tuple(0 if n == 1 and size != 1 else s
                               for n, s, size in zip(a.shape, a.strides, shape[lead:]))


def _row_major(a):
    """Whether a's dimensions lie in row-major order (strides not increasing): a slice of a
    C-contiguous array, whose elementwise result is C-contiguous in numpy and in torch alike."""
    if a.ndim < 2:
        return True
    s = a.strides
    return s[0] >= s[1] if a.ndim == 2 else tuple(sorted(s, reverse=True)) == s


def elementwise(op, a, b, dtype=None):
    """op(a, b) (a backend's binary ufunc) laid out as torch's result. Both operands C-contiguous
    (the common case: four attribute reads, about 0.2 us a call), one a number, both of one
    layout, or both in row-major order: numpy's own layout is torch's. Otherwise the result is
    computed into an array laid out as torch's. A result with a dimension of size 1 keeps numpy's
    layout: torch orders such dimensions by strides numpy does not keep (an expand's, a new
    array's), so the order could not be told; view() then copies where torch's might not. Device
    arrays (not numpy's) go to op as they are. dtype: the result's (comparisons: bool), else
    numpy's result type of a and b."""
    if type(a) is not np.ndarray and type(b) is not np.ndarray:
        return op(a, b)
    if a.flags.c_contiguous and b.flags.c_contiguous:
        return op(a, b)
    if (a.ndim == 0 or b.ndim == 0 or (a.strides == b.strides and a.shape == b.shape)
            or (_row_major(a) and _row_major(b))):
        out = op(a, b)
        if out.ndim > 1 and 1 not in out.shape and not out.flags.c_contiguous:
            _torch_laid[id(out)] = out
        return out
    shape = np.broadcast_shapes(a.shape, b.shape)
    if len(shape) < 2 or 1 in shape or 0 in shape:
        return op(a, b)
    perm = dims_fastest_first(shape, [_broadcast_strides(a, shape), _broadcast_strides(b, shape)])
    slow_to_fast = perm[::-1]
    out = np.empty([shape[d] for d in slow_to_fast], dtype or np.result_type(a, b)).transpose(np.argsort(slow_to_fast))
    out = op(a, b, out=out)
    if not out.flags.c_contiguous:
        _torch_laid[id(out)] = out
    return out


def relaid_as_elementwise(out, *operands):
    """out, the host result of a composed elementwise function of arrays `operands` (in torch's
    order: where's condition first), with numpy's layout (a temporary's, often row-major), laid
    out as torch's result of such an op is (the order elementwise() writes in); out itself where
    that is its layout already."""
    if type(out) is not np.ndarray or out.ndim < 2 or any(type(x) is not np.ndarray for x in operands):
        return out
    if all(x.flags.c_contiguous for x in operands):
        return out if out.flags.c_contiguous else np.ascontiguousarray(out)
    shape = out.shape
    if 1 in shape or 0 in shape or np.broadcast_shapes(*(x.shape for x in operands)) != shape:
        return out
    perm = dims_fastest_first(shape, [_broadcast_strides(x, shape) for x in operands])
    slow_to_fast = perm[::-1]
    laid = np.empty([shape[d] for d in slow_to_fast], out.dtype).transpose(np.argsort(slow_to_fast))
    if laid.strides == out.strides:
        return out
    np.copyto(laid, out)
    if not laid.flags.c_contiguous:
        _torch_laid[id(laid)] = laid
    return laid
