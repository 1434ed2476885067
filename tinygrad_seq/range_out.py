"""out= of torch's range factories (arange, range, linspace, logspace): an out holding as many
elements as the result keeps its shape and takes the values in its element order (torch writes
out as it is: arange(6, out=(3, 2) tensor) stays (3, 2)); another count resizes out to the 1-D
result, arange warning first when out had elements, as torch's."""
import warnings

from tinygrad_seq.tensor import Tensor

RANGE_FACTORIES = frozenset(("arange", "range", "linspace", "logspace"))


def shaped_like_out(out, result, name):
    """result (1-D, n elements) as range factory `name` writes it into out."""
    if not isinstance(out, Tensor) or tuple(out.shape) == tuple(result.shape):
        return result
    if out.numel() == result.numel():
        return result.reshape(tuple(out.shape))
    if name == "arange" and out.numel():
        warnings.warn(f"The number of elements in the out tensor of shape {list(out.shape)} is {out.numel()} which "
                      f"does not match the computed number of elements {result.numel()}. Note that this may occur as "
                      f"a result of rounding error. The out tensor will be resized to a tensor of shape "
                      f"({result.numel()},).", UserWarning, stacklevel=4)
    return result
