"""torch.meshgrid: the grids of 1-D (or 0-d) tensors, as expanded views."""
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.user_warning import warn_once


def meshgrid(*tensors, indexing=None):
    """Grids from 1-D (or 0-d) tensors of one dtype; indexing 'ij' (matrix, torch's default, said
    once a process when not given) or 'xy' (Cartesian); checks raise InvalidArgument, as torch's."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise InvalidArgument("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.ndim > 1:
            raise InvalidArgument(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of "
                                  f"shape {list(t.shape)}")
        if t.dtype != tensors[0].dtype:
            raise InvalidArgument("meshgrid expects all tensors to have the same dtype")
    if indexing is None:
        warn_once("meshgrid", "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                  "argument.")
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise InvalidArgument(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for k, t in enumerate(tensors):
        view = [1] * n
        axis = (1 - k if k < 2 else k) if indexing == "xy" and n >= 2 else k
        view[axis] = t.numel()
        out.append(t.reshape(tuple(view)).expand(*shape))
    return tuple(out)
