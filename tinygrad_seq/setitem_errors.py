"""torch's errors for an item assignment whose value does not fit the indexed region (the host
backend's setitem raises them in place of numpy's ValueError)."""
import numpy as np

from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.functional_checks import torch_type_name


def setitem_mismatch(a, idx, vshape):
    """torch's error for a[idx] = v where numpy refused it: v does not fit (index_put's text for an
    advanced index, copy_'s expand text for a basic one, its dim counted from the region's last),
    or a value the dtype cannot hold."""
    region = list(np.broadcast_to(np.empty((), a.dtype), a.shape)[idx].shape)
    try:
        fits = list(np.broadcast_shapes(tuple(vshape), tuple(region))) == region
    except ValueError:
        fits = False
    if fits:   # numpy refused the value itself (nan / inf into an integer tensor): torch's text
        return RuntimeError(f"value cannot be converted to type {a.dtype.name}_t without overflow")
    advanced = any(isinstance(i, (np.ndarray, list)) for i in (idx if isinstance(idx, tuple) else (idx,)))
    if not advanced and len(vshape) > len(region):
        return ShapeMismatch(f"expand(torch.{torch_type_name(a.dtype)}Tensor{{{list(vshape)}}}, size={region}): the "
                             f"number of sizes provided ({len(region)}) must be greater or equal to the number of "
                             f"dimensions in the tensor ({len(vshape)})")
    if advanced or len(vshape) > len(region):
        return ShapeMismatch(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to "
                             f"indexing result of shape {region}")
    lead = len(region) - len(vshape)
    k = next(i for i in range(len(region) - 1, lead - 1, -1) if vshape[i - lead] not in (1, region[i]))
    return ShapeMismatch(f"The expanded size of the tensor ({region[k]}) must match the existing size "
                         f"({vshape[k - lead]}) at non-singleton dimension {k}.  Target sizes: {region}.  Tensor "
                         f"sizes: {list(vshape)}")
