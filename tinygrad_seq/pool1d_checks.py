"""Argument and input-shape checks of the 1-D pools (tinygrad_seq/conv.py), with the errors and
messages torch 2.13's max_pool1d, avg_pool1d and adaptive pools give: a wrong rank, an empty
non-batch dim, a kernel/stride/padding/dilation/output_size of more than one int."""
from tinygrad_seq.errors import InvalidArgument, ShapeMismatch

# max_pool1d without indices checks its int lists itself (torch's max_pool1d in Pooling.cpp)
_MAX_POOL1D_LIST_CHECKS = {
    "kernel_size": "an int, list of ints or tuple of ints",
    "stride": "None, an int, list of ints, or tuple of ints",
    "padding": "an int, list of ints, or tuple of ints",
    "dilation": "an int, list of ints or tuple of ints",
}


def single_int(value, name, op=None):
    """One int from an int or a 1-element list/tuple; more elements are refused with `op`'s torch
    message (op='max_pool1d_impl': max_pool1d's own; another op name: the argument parser's)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) != 1:
        if op == "max_pool1d_impl":
            raise InvalidArgument(f"max_pool1d() {name} must be {_MAX_POOL1D_LIST_CHECKS[name]} of size 1 but "
                                  f"got size {len(values)}")
        where = f"{op}() argument '{name}'" if op else name
        raise InvalidArgument(f"{where} should contain one int (got {len(values)})")
    return int(values[0])


def _require_rank(input, op):
    if input.ndim not in (2, 3):
        raise ShapeMismatch(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                            f"'self' (while checking arguments for {op})")


def check_pool_input(input, op, max_pool1d_impl=False):
    """A 2-D [C, L] or 3-D [N, C, L] input with no empty dim but N, as torch's max_pool1d and
    avg_pool1d require (max_pool1d_impl: the message of max_pool1d without indices; the others
    report the [.., 1, L] input of the 2-d pool they run)."""
    shape = list(input.shape)
    if max_pool1d_impl:
        if input.ndim not in (2, 3) or 0 in shape[-2:]:
            raise ShapeMismatch(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
                                f"for input, but got:{shape}")
        return
    _require_rank(input, op)
    if 0 in shape[-2:]:
        raise ShapeMismatch(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                            f"got:{shape[:-1] + [1, shape[-1]]}")


def check_adaptive_input(input, output_size, op):
    """A 2-D or 3-D input whose non-batch dims torch's adaptive pool needs non-empty (max: every dim
    but N of a 3-D input, the length of a 2-D one; avg: the length only, as adaptive_avg_pool2d
    checks its two spatial dims), and output_size >= 0. Returns output_size as an int."""
    _require_rank(input, op)
    shape = list(input.shape)
    if op == "adaptive_max_pool1d":
        checked, reported = range(1, input.ndim), shape
        size_error = "adaptive_max_pool1d: output_size must be non-negative, but got {}"
    else:
        checked, reported = (input.ndim,), shape[:-1] + [1, shape[-1]]
        size_error = "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {{1, {}}}"
    for dim in checked:
        if reported[dim] == 0:
            raise ShapeMismatch(f"{op if op == 'adaptive_max_pool1d' else 'adaptive_avg_pool2d'}(): Expected input to "
                                f"have non-zero size for non-batch dimensions, but input has sizes {reported} with "
                                f"dimension {dim} being empty")
    size = single_int(output_size, "output_size", op)
    if size < 0:
        raise InvalidArgument(size_error.format(size))
    return size
