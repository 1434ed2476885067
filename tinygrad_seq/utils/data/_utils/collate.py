"""torch.utils.data._utils.collate: `default_collate` / `default_convert` (tinygrad_seq.utils.data.
dataloader's) and torch's extensible `collate(batch, collate_fn_map=)` with `default_collate_fn_map`,
the documented recipe for collating a type of one's own: a map from types to functions
fn(batch, *, collate_fn_map) (the element's exact type first, then the first isinstance match),
containers (mappings, namedtuples, sequences) collated field by field through the same map."""
import collections.abc

import numpy as np

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.utils.data.dataloader import (_is_namedtuple, _same_mapping, _same_sequence, default_collate,
                                                default_convert)

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map", "collate_tensor_fn",
           "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn",
           "collate_str_fn"]

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                                  "lists; found {}")


def collate(batch, *, collate_fn_map=None):
    """torch's general collate: the map's function for the first element's type, else containers
    field by field, else torch's TypeError."""
    elem = batch[0]
    if collate_fn_map is not None:
        if type(elem) in collate_fn_map:
            return collate_fn_map[type(elem)](batch, collate_fn_map=collate_fn_map)
        for kind in collate_fn_map:
            if isinstance(elem, kind):
                return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def _leaf(batch, *, collate_fn_map=None):
    return default_collate(batch)


collate_tensor_fn = collate_numpy_array_fn = collate_numpy_scalar_fn = _leaf
collate_float_fn = collate_int_fn = collate_str_fn = _leaf

default_collate_fn_map = {Tensor: collate_tensor_fn, np.ndarray: collate_numpy_array_fn,
                          (np.bool_, np.number, np.object_): collate_numpy_scalar_fn, float: collate_float_fn,
                          int: collate_int_fn, str: collate_str_fn, bytes: collate_str_fn}
