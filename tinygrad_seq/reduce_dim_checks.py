"""torch's argument errors of the reductions over one dim (tensor_reduce): a tuple / list or bool
as dim is a TypeError, prod's dim=None too (ALL_DIMS is its default), bool inputs and dtypes
torch has no kernel for."""
import numpy as np

from tinygrad_seq import dtypes


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
