"""torch's memory formats on host arrays: which strides a clone gets (contiguous_format:
row-major; preserve_format: the source's strides when it is non-overlapping and dense, else
torch's infer_dense_strides, which keeps the order of the source's strides; channels_last: NHWC)
and is_contiguous(memory_format=) (torch's compute_channels_last_contiguous_2d / _3d)."""
import numpy as np

# dims from the fastest-varying to the slowest, per channels-last format
_CHANNELS_LAST_ORDER = {"channels_last": (4, (1, 3, 2, 0)), "channels_last_3d": (5, (1, 4, 3, 2, 0))}


def _format_name(memory_format):
    return getattr(memory_format, "name", None) if memory_format is not None else None


def element_strides(arr):
    return tuple(s // arr.itemsize for s in arr.strides)


def is_contiguous_as(arr, memory_format):
    """t.is_contiguous(memory_format=...) of host array arr."""
    name = _format_name(memory_format)
    if name not in _CHANNELS_LAST_ORDER:
        flags = getattr(arr, "flags", None)
        return True if flags is None else bool(flags["C_CONTIGUOUS"])
    rank, order = _CHANNELS_LAST_ORDER[name]
    if arr.ndim != rank or not hasattr(arr, "strides"):
        return False
    strides, expected = element_strides(arr), 1
    for d in order:
        if arr.shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= arr.shape[d]
    return True


def laid_as_torch_cat(out, arrays):
    """torch.cat / stack's result layout for numpy's result `out` of host `arrays`: contiguous, or
    channels-last where every input is a channels-last 4-D array (numpy's result then has torch's
    strides). numpy keeps its inputs' order: a cat of transposes came out column-major, and a
    dropout after it drew torch's mask onto other elements."""
    if out.flags.c_contiguous or all(_channels_last_like(a) for a in arrays) or all(
            _channels_last_like(a, _CHANNELS_LAST_3D) for a in arrays):
        return out
    return np.ascontiguousarray(out)


def _channels_last_like(arr, memory_format=None):
    """torch's suggest_memory_format is channels-last (2-D, or 3-D): arr is laid out so and is
    not contiguous (a contiguous 1-channel tensor counts as contiguous)."""
    memory_format = memory_format or _CHANNELS_LAST_2D
    rank = _CHANNELS_LAST_ORDER[memory_format.name][0]
    return arr.ndim == rank and not arr.flags.c_contiguous and is_contiguous_as(arr, memory_format)


def channels_last_dense(arr):
    """Whether host array arr is a dense channels-last (2-D or 3-D) tensor that is not row-major:
    this library lays arrays out so only where torch's are (clone / contiguous / to with a
    memory_format, and the ops keeping their input's suggested format), so view() applies
    torch's stride rule to it (a view that would need a copy raises, as torch's)."""
    return arr.ndim in (4, 5) and _channels_last_like(arr, _CHANNELS_LAST_2D if arr.ndim == 4 else _CHANNELS_LAST_3D)


class _CHANNELS_LAST_2D:
    name = "channels_last"


class _CHANNELS_LAST_3D:
    name = "channels_last_3d"


def non_overlapping_and_dense(shape, strides):
    """torch's isnon_overlapping_and_dense: the dims of more than one element, ordered by
    stride, step through memory without gaps or repeats."""
    dims = sorted((i for i in range(len(shape)) if shape[i] != 1), key=lambda i: strides[i])
    expected = 1
    for i in dims:
        if strides[i] != expected:
            return False
        expected *= shape[i]
    return True


def infer_dense_strides(shape, strides):
    """torch's infer_dense_strides: dense strides in the order of the given ones (a stable
    insertion sort by stride, equal strides putting the smaller size first; a stride-0 dim
    compares as unordered, so an expanded dim keeps its place)."""
    return _strides_in_order(shape, dims_fastest_first(shape, [strides]))


def dims_fastest_first(shape, operand_strides):
    """torch's dimension order for operands of `shape` with these strides (0 where an operand
    is broadcast), from the fastest-varying dim to the slowest (TensorIteratorBase's perm_ and
    infer_dense_strides): an insertion sort that stops at an ordered pair; a pair is ordered by
    the first operand whose strides for it are both non-zero and differ, equal strides putting
    the smaller size first, and a pair no operand orders keeps its place."""
    def should_swap(d0, d1):   # 1: d0 goes after d1, -1: before, 0: unordered
        for st in operand_strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1:
                return 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(len(shape) - 1, -1, -1))
    for i in range(1, len(shape)):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    return perm


def _strides_in_order(shape, order):
    """Dense element strides laying the dims out innermost first in `order` (a permutation)."""
    out, step = [0] * len(shape), 1
    for d in order:
        out[d] = step
        step *= max(shape[d], 1)
    return tuple(out)


def _channels_last_strides(shape, name):
    rank, order = _CHANNELS_LAST_ORDER[name]
    if len(shape) != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {name} format")
    return _strides_in_order(shape, order)


def clone_strides(arr, memory_format):
    """The element strides torch gives a clone of arr (None: row-major)."""
    name = _format_name(memory_format)
    if name in _CHANNELS_LAST_ORDER:
        return _channels_last_strides(arr.shape, name)
    if name == "contiguous_format" or arr.flags.c_contiguous:
        return None
    strides = element_strides(arr)
    if non_overlapping_and_dense(arr.shape, strides):
        return strides
    return infer_dense_strides(arr.shape, strides)


def copy_with_strides(arr, strides):
    """A copy of arr in new memory laid out with `strides` (elements; None: row-major)."""
    if strides is None:
        return np.array(arr, order="C", copy=True)
    size = int(np.prod(arr.shape))
    out = np.lib.stride_tricks.as_strided(np.empty(size, arr.dtype), arr.shape,
                                          tuple(s * arr.itemsize for s in strides))
    np.copyto(out, arr)
    return out


def clone_array(arr, memory_format):
    """arr copied as torch's clone(memory_format=) lays it out (host arrays; others: their
    backend's row-major copy is made by the caller)."""
    strides = clone_strides(arr, memory_format)
    if strides is not None and strides == element_strides(arr):   # dense already: numpy keeps its order
        out = np.copy(arr, order="K")
        if element_strides(out) == strides:   # (numpy may stride a size-1 dim otherwise)
            return out
    return copy_with_strides(arr, strides)


def laid_as_source(arr, source):
    """Host array arr (a fresh row-major result of source's shape) laid out as torch's
    empty_like(source) lays it out (preserve_format): sort's values and indices keep a permuted
    input's order, so a random fill after them draws in torch's order."""
    if type(arr) is not np.ndarray or type(source) is not np.ndarray or source.flags.c_contiguous:
        return arr
    strides = clone_strides(source, None)
    return arr if strides is None else copy_with_strides(arr, strides)


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def lay_out(out, input, memory_format):
    """The host arrays of out's tensors laid out as `memory_format` (None: row-major), copied
    only where they are not (a result sharing input's memory is left alone)."""
    arr = getattr(input, "array", None)
    for t in _outputs(out):
        res = getattr(t, "array", None)
        if type(res) is not np.ndarray or t is input or (arr is not None and np.may_share_memory(res, arr)):
            continue
        if memory_format is None:
            if not res.flags.c_contiguous:
                t.array = np.ascontiguousarray(res)
        elif res.ndim == _CHANNELS_LAST_ORDER[memory_format.name][0] and not is_contiguous_as(res, memory_format):
            t.array = clone_array(res, memory_format)
    return out


def suggested_format(arr):
    """torch's suggest_memory_format of a host array: channels_last(_3d) or None (row-major)."""
    if type(arr) is not np.ndarray or arr.ndim not in (4, 5) or arr.flags.c_contiguous:
        return None
    if not strides_like_channels_last(arr.shape, element_strides(arr)):
        return None
    return _CHANNELS_LAST_2D if arr.ndim == 4 else _CHANNELS_LAST_3D


def keeps_channels_last(fn):
    """Decorator for a function of a 4-D / 5-D `input` (conv, pooling, pad, interpolate,
    group_norm, batch_norm, the shuffles): torch allocates the result in the input's suggested
    memory format, so a channels-last input gives channels-last results (indices too) and any
    other a row-major one, and the draws after them (dropout) fill in that order; numpy's results
    come out row-major, or in the order of a gather's axes (an average pool's sum over its
    window's axes left channels outermost-but-fastest)."""
    import functools

    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        return lay_out(fn(input, *args, **kwargs), input, suggested_format(getattr(input, "array", None)))
    return wrapper


def keeps_channels_last_1d(fn):
    """keeps_channels_last for torch's 1-D pools (laid_as_pool1d)."""
    import functools

    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        return laid_as_pool1d(fn(input, *args, **kwargs), input)
    return wrapper


def laid_as_pool1d(out, input):
    """out (a tensor or a tuple) laid out as torch's 1-D pools lay theirs, which run the 2-D ones
    on input.unsqueeze(-2): a batched [N, C, L] input whose unsqueezed strides read as
    channels-last (a [N, L, C] tensor transposed) gives results with C fastest ([N, C, L']
    strides (C L', 1, C)), any other row-major ones."""
    arr = getattr(input, "array", None)
    if type(arr) is not np.ndarray or arr.ndim != 3 or arr.flags.c_contiguous:
        return lay_out(out, input, None)
    s = element_strides(arr)
    if not strides_like_channels_last((arr.shape[0], arr.shape[1], 1, arr.shape[2]),
                                      (s[0], s[1], arr.shape[2] * s[2], s[2])):
        return lay_out(out, input, None)
    for t in _outputs(out):
        res = getattr(t, "array", None)
        if type(res) is np.ndarray and res.ndim == 3 and not np.may_share_memory(res, arr):
            t.array = np.ascontiguousarray(res.transpose(0, 2, 1)).transpose(0, 2, 1)
    return out


def row_major_result(fn):
    """Decorator: fn's tensor results row-major whatever the input's layout (torch's grid_sample,
    instance_norm and circular pad allocate them contiguous)."""
    import functools

    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        return lay_out(fn(input, *args, **kwargs), input, None)
    return wrapper


def strides_like_channels_last(shape, strides):
    """torch's is_channels_last_strides_2d / _3d (suggest_memory_format): the strides run in
    channels-last order (C fastest, then W, H, (D), N), contiguous or not (a slice of a
    channels-last tensor counts); ambiguous cases (N111, a stride-0 C) are row-major, as torch's."""
    if len(shape) not in (4, 5) or strides[1] == 0:
        return False
    smallest = 0
    for d in ((1, 3, 2, 0) if len(shape) == 4 else (1, 4, 3, 2, 0)):
        if shape[d] == 0 or strides[d] < smallest or (d == 0 and smallest == strides[1]):
            return False
        smallest = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True
