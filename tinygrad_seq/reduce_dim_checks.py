"""torch's argument errors of the reductions over one dim (tensor_reduce): a tuple / list or bool
as dim is a TypeError, prod's dim=None too (ALL_DIMS is its default), bool inputs and dtypes
torch has no kernel for."""
import numpy as np

from tinygrad_seq import dtypes, ops
from tinygrad_seq.errors import IndexOutOfRange, InvalidArgument


def one_dim(dim, name):
    """torch's TypeError for a reduction over one dim given a tuple / list (or a bool) as dim."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


class _AllDims:
    """prod's default dim (every dim): torch's prod takes no dim=None."""

    def __repr__(self):
        return "<every dim>"


ALL_DIMS = _AllDims()


def check_arg_input(self, dim, name):
    """argmax / argmin's errors: torch's for a bool input and a tuple dim."""
    if self.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is not None:
        one_dim(dim, name)


def check_scan(dim, dtype, name):
    """cumsum / cumprod's errors: a tuple dim (TypeError) and dtype=bool (torch has no bool kernel)."""
    one_dim(dim, name)
    if dtype is not None and dtypes.as_dtype(dtype) == np.bool_:
        raise NotImplementedError(f'"{name}_out_cpu" not implemented for \'Bool\'')


def check_nonempty_reduction(self, dim, name):
    """torch's errors for max / min / amax / amin of a tensor with no elements (reductions with no
    identity): RuntimeError without a dim, IndexError naming a reduced dim of size 0. Callers
    test `0 in self.array.shape` first, so a tensor with elements pays nothing more."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        raise InvalidArgument(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                              f"Specify the reduction dim with the 'dim' argument.")
    for d in (dim if isinstance(dim, (tuple, list)) else (dim,)):
        if self.shape[ops._norm_axes(d, self.ndim)[0]] == 0:
            raise IndexOutOfRange(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def check_arg_reduction(self, dim, name):
    """argmax / argmin of a tensor with no elements: IndexError, with a dim or without, as torch's."""
    if 0 in self.array.shape:
        if dim is None:
            raise IndexOutOfRange(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        check_nonempty_reduction(self, dim, name)
