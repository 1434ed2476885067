"""torch's result type over several operands (TensorIterator's ResultTypeState) and the cast of
the tensor operands to it. The ops that combine three inputs (clamp with tensor bounds, addcmul,
addcdiv) compute in that dtype; promoting pair by pair wrapped a 0-d int8 bound into a uint8
one's dtype (-5 read as 251) and multiplied an int8 by a uint8 tensor before the int64 self."""
import numbers

import numpy as np

from tinygrad_seq import dtypes

_BOOL = np.dtype(np.bool_)


def _category(dt):
    return 0 if dt == _BOOL else 2 if dt.kind in "fc" else 1


def _promote(a, b):
    """torch's promoteTypes: the higher category's dtype, within one category the wider (None:
    not present)."""
    if a is None or b is None:
        return b if a is None else a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    """torch's combine_categories: a lower priority class (0-d tensors, then numbers) changes the
    result only by lifting it into a higher category (bool to int, int to float)."""
    if higher is None:
        return lower
    if higher.kind in "fc":
        return higher
    if higher == _BOOL or (lower is not None and lower.kind in "fc"):
        return _promote(higher, lower)
    return higher


def result_type(*operands):
    """The dtype torch computes op(*operands) in: dimensioned tensors first, then 0-d tensors,
    then Python numbers (a float number counts as the default dtype, an int as int64)."""
    dim = zero = wrapped = None
    for x in operands:
        dt = getattr(x, "dtype", None)
        if dt is not None and hasattr(x, "ndim"):
            if x.ndim:
                dim = _promote(dim, np.dtype(dt))
            else:
                zero = _promote(zero, np.dtype(dt))
        elif isinstance(x, (bool, np.bool_)):
            wrapped = _promote(wrapped, _BOOL)
        elif isinstance(x, numbers.Integral):
            wrapped = _promote(wrapped, np.dtype(np.int64))
        elif isinstance(x, numbers.Real):
            wrapped = _promote(wrapped, np.dtype(dtypes.get_default_dtype()))
    return _combine(dim, _combine(zero, wrapped))


def cast_operands(dt, *operands):
    """The tensor operands cast to dt (differentiable where both are floating), the others as given."""
    return tuple(x.to(dtype=dt) if hasattr(x, "ndim") and hasattr(x, "dtype") and x.dtype != dt else x
                 for x in operands)
