"""torch.tensor's dtype inference for a (nested) list: each element's own type counts, as in
torch. Python bools, ints and floats are bool, int64 and the default float dtype; numpy
scalars and arrays and 0-d tensors keep their dtypes ([np.int32(1)] is int32, [1, np.float64(1.5)]
float64, [ts.tensor(1), 2.5] the default float); the dtypes combine by torch's promotion (the
higher category wins, keeping its width). A tensor of more than one element in a list is a
ValueError, as torch's. ts.Tensor(list) keeps API.md's rules (host_data.py)."""
import builtins
import itertools

import numpy as np

from tinygrad_seq import autograd, dtypes

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(a, b):
    if a is None or a == b:
        return b
    ca, cb = _CATEGORY.get(a.kind, 3), _CATEGORY.get(b.kind, 3)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


_PLAIN = frozenset((builtins.float, builtins.int, builtins.bool))
_SEQ = frozenset((list, tuple))


def only_python_numbers(data, depth=0):
    """Whether every leaf of the nested list is a Python float, int or bool, checked a level at a
    time by set(map(type, ...)) over a chain of the levels above (C speed: a large list of
    numbers pays no Python loop). A level mixing lists and leaves (ragged) counts as no. depth:
    the first level to check (1 when the caller found the top level all lists)."""
    while True:
        level = data
        for _ in range(depth):
            level = itertools.chain.from_iterable(level)
        kinds = set(map(type, level))
        if kinds <= _PLAIN:
            return True
        if not kinds <= _SEQ:
            return False
        depth += 1


def list_data(data):
    """(data with tensors replaced by numpy values, the inferred dtype or None when every leaf is
    a Python number: then API.md's rules apply unchanged). Callers test only_python_numbers first."""
    found = [None, False]   # the promoted dtype, whether a typed (non-Python) leaf was seen

    def walk(x):
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        if isinstance(x, autograd._Tensor):
            if x.numel() != 1:
                raise ValueError("only one element tensors can be converted to Python scalars")
            x = x.numpy().reshape(())   # a one-element tensor is a scalar of its dtype
        if isinstance(x, (np.ndarray, np.generic)):
            found[0], found[1] = _promote(found[0], x.dtype), True
            return x
        if isinstance(x, builtins.bool):
            dt = dtypes.bool
        elif isinstance(x, builtins.int):
            dt = dtypes.int64
        elif isinstance(x, builtins.float):
            dt = dtypes.get_default_dtype()
        else:
            return x   # anything else: np.asarray decides (and refuses what it cannot take)
        found[0] = _promote(found[0], dt)
        return x

    converted = walk(data)
    return converted, (found[0] if found[1] else None)
