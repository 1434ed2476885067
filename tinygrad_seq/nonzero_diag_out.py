"""torch's out= of torch.nonzero and torch.diag (functions.nonzero / functions.diag call these
when out is given): nonzero writes a Long out only, and refuses out with as_tuple=True; diag writes
an out of the result's own dtype, and (as torch's composite diag) takes an input that requires grad,
writing the values only."""
import numpy as np

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_matmul import scalar_name


def nonzero_into(out, input, as_tuple):
    """nonzero(input) written into out (resized to (count, ndim)); out returned."""
    from tinygrad_seq.functions import _into, nonzero
    if as_tuple:
        raise RuntimeError("nonzero does not support the out kwarg when as_tuple is True")
    if not isinstance(out, Tensor):
        raise TypeError(f"nonzero(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.dtype != np.int64:   # torch's message, its missing space included
        raise RuntimeError(f"nonzero: Expected out tensor to have scalar type Long but got scalar type"
                           f"{scalar_name(out.dtype)}")
    return _into(out, nonzero(input), "nonzero")


def diag_into(out, result):
    """diag's result written into out (same dtype, resized); out returned."""
    from tinygrad_seq.grad_mode import no_grad
    from tinygrad_seq.out_param import write_out
    with no_grad():
        return write_out("diag", out, result, same_dtype=True)
