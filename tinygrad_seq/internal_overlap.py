"""torch's check before an in-place write: a tensor in which one memory location holds several
elements (an expand's repeat) cannot be written to. torch asks it of the region written: item
assignment through a basic index writes the view it selects (v[2, 2] = 0 on an expand(5, 5) of a
[5, 1] tensor writes one element and is allowed; v[2] = 0 writes five elements at one location
and raises), an advanced index writes through index_put_, which only warns; masked_fill_ writes
with a warning. Also torch's checks that a source shares no memory with the written tensor
(overlap_status: copy_ refuses a partial overlap, index_add_ / index_copy_ / take(out=) any)."""
import warnings

import numpy as np

OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a single "
                   "memory location. Please clone() the tensor before performing the operation.")

INDEX_PUT_OVERLAP_WARNING = ("Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor "
                             "before performing this operation. This also applies to advanced indexing e.g. "
                             "tensor[indices] = tensor")


def has_internal_overlap(shape, strides):
    """torch's has_internal_overlap == YES: a stride-0 dim of more than one element (a stride-0
    dim of size 1 repeats nothing: x.expand(1, 3).add_(1) is allowed), in a non-empty tensor."""
    return any(st == 0 and n > 1 for st, n in zip(strides, shape)) and 0 not in shape


def check_no_internal_overlap(array):
    """RuntimeError (torch's message) when `array` (numpy or numba device array) has internal
    overlap, torch's assert_no_internal_overlap."""
    strides = getattr(array, "strides", None)
    if strides and 0 in strides and has_internal_overlap(array.shape, strides):
        raise RuntimeError(OVERLAP_MESSAGE)


def basic_region(shape, strides, index):
    """(shape, strides) of array[index], index a normalised basic index (ints, slices, None,
    Python bools, Ellipsis; see indexing.normalize_index), found without indexing the array (a
    numba device array takes no None). A new dim of one element gets stride 0."""
    real = sum(1 for it in index if it is not None and it is not Ellipsis and not isinstance(it, bool))
    sizes, steps, dim = [], [], 0
    for it in index:
        if it is Ellipsis:
            kept = len(shape) - real
            sizes += shape[dim:dim + kept]
            steps += strides[dim:dim + kept]
            dim += kept
        elif isinstance(it, slice):   # a stride-0 dim stays stride 0 whatever the step
            start, stop, step = it.indices(shape[dim])
            sizes.append(len(range(start, stop, step)))
            steps.append(strides[dim] * step)
            dim += 1
        elif isinstance(it, bool):   # a new dim of one element (True) or none (False)
            sizes.append(int(it))
            steps.append(0)
        elif it is None:
            sizes.append(1)
            steps.append(0)
        else:   # an integer selects: its dim goes
            dim += 1
    return tuple(sizes) + tuple(shape[dim:]), tuple(steps) + tuple(strides[dim:])


def check_item_assignment(array, index, advanced):
    """torch's rule for array[index] = value, index normalised (indexing.normalize_index): a basic
    index raises when the region it selects has internal overlap (torch's copy_ into the view), an
    advanced one writes with torch's deprecation warning (index_put_ allows it)."""
    shape, strides = tuple(array.shape), tuple(getattr(array, "strides", None) or ())
    if not has_internal_overlap(shape, strides):   # the common case: nothing repeats, nothing to check
        return
    if advanced:
        warnings.warn(INDEX_PUT_OVERLAP_WARNING, UserWarning, stacklevel=3)
    elif has_internal_overlap(*basic_region(shape, strides, index)):
        raise RuntimeError(OVERLAP_MESSAGE)


def check_item_assignment_reads(array, index, advanced, value, value_as_given=None):
    """torch's refusal of t[index] = value reading memory of the region it writes (host arrays;
    index normalised, its index arrays views of the index tensors; value: the value's host array,
    None for a number). A basic index copies value into the region (copy_: a partial overlap
    raises; a 0-d or broadcast value fills, unchecked). An advanced one runs index_put_ on the
    region its basic items select, which refuses any overlap with the value or an index tensor
    (y[idx] = y[:3], y[y] = 1), unless one bool mask and a one-element value make it
    masked_fill_, which refuses a partial overlap with the mask only (m[1:][m[:-1]] = False)."""
    arrays = [it for it in index if type(it) is np.ndarray] if advanced else []
    reads = arrays + [value] if type(value) is np.ndarray else arrays
    if not reads or type(array) is not np.ndarray:
        return
    owner = _owner(array)
    for read in reads:
        if _owner(read) is owner:
            break
    else:   # the common case: nothing read shares self's memory
        return
    if any(it is False for it in index):   # nothing is written
        return
    region = array[tuple(_region_items(index))]
    if not advanced:   # a broadcast value repeats elements: not dense, so torch looks no further
        try:
            # the value as given where it has the region's shape (its leading 1s not dropped): a
            # broadcast sets a size-1 dim's stride to 0, which made x[:] *= 2 on a [1, 5] tensor
            # (the same view back, torch's "full" overlap) "partial"
            if value_as_given is not None and value_as_given.shape == region.shape:
                value = value_as_given
            if value.shape != region.shape:
                value = np.broadcast_to(value, region.shape)
            refused = value.ndim and overlap_status(region, value) == "partial"
        except ValueError:   # shapes that do not broadcast: the write itself raises torch's error
            return
    elif len(arrays) == 1 and arrays[0].dtype == np.bool_ and (value is None or value.size == 1):
        refused = overlap_status(region, arrays[0]) == "partial"   # masked_fill_
    else:
        refused = any(overlap_status(region, r) in ("partial", "full") for r in reads)
    if refused:
        raise RuntimeError(INPUT_OVERLAP_MESSAGE)


def _region_items(index):
    """The basic items of a normalised index, a whole slice per dim an index array spans: the
    view torch's index_put_ writes into."""
    for it in index:
        if type(it) is np.ndarray:
            yield from [slice(None)] * (it.ndim if it.dtype == np.bool_ else 1)
        elif it is not True:   # (True adds a dim of one: the same memory)
            yield it


MASKED_FILL_OVERLAP_WARNING = ("Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor "
                               "before performing this operation. This also applies to advanced indexing e.g. "
                               "tensor[mask] = scalar")


def writable_alias(array):
    """A writable numpy array over the memory of host array `array` (an expand's read-only
    view): torch writes through an expanded tensor where it allows the write."""
    if array.flags.writeable:
        return array
    from tinygrad_seq.numpy_interop import writable_view
    return writable_view(array)


def masked_fill_expanded(t, mask, value):
    """masked_fill_ on a host tensor with internal overlap, as torch's: its deprecation warning,
    then every masked element's memory location gets value (one location may stand for several
    elements, masked or not: they all read value after)."""
    from tinygrad_seq.inplace import _detached
    filled = _detached(t).masked_fill(mask, value)   # torch's checks on mask and value
    warnings.warn(MASKED_FILL_OVERLAP_WARNING, UserWarning, stacklevel=3)
    t._inplace_check(whole=False)
    where = np.broadcast_to(np.asarray(mask.detach().numpy(), bool), t.shape)
    writable_alias(t.array)[where] = filled.numpy()[where]
    t._sync_base()
    return t


def write_elementwise_expanded(t, fn):
    """An elementwise in-place op torch runs without the overlap check (threshold_), on a host
    tensor t with internal overlap and outside the graph: fn(t) (a Tensor of t's shape, fn's own
    checks first) written through t's memory. The elements sharing a location hold one value, so
    they all get one result, as torch's."""
    from tinygrad_seq.inplace import _detached
    out = fn(_detached(t))
    t._inplace_check(whole=False)
    np.copyto(writable_alias(t.array), np.asarray(out.numpy(), t.array.dtype))
    t._sync_base()
    return t


INPUT_OVERLAP_MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor refer "
                         "to a single memory location. Please clone() the tensor before performing the operation.")


def _dense(array):
    from tinygrad_seq.memory_formats import element_strides, non_overlapping_and_dense
    return non_overlapping_and_dense(array.shape, element_strides(array))


def overlap_status(a, b):
    """torch's get_overlap_status of host arrays a and b: "full" (the same elements in the same
    layout), "partial", "none", or "too_hard" (one of them is not dense: torch does not look
    further). Arrays of different memory owners (torch: storages that are no alias) are "none"
    at once: the common case of every copy_ costs two base walks."""
    if a is b:
        return "full"
    if _owner(a) is not _owner(b) or a.size == 0 or b.size == 0:
        return "none"
    if not _dense(a) or not _dense(b):
        return "too_hard"
    (a_lo, a_hi), (b_lo, b_hi) = _byte_bounds(a), _byte_bounds(b)
    if (a_lo, a_hi) == (b_lo, b_hi):   # the same bytes: a transposed alias overlaps partially (torch)
        return "full" if a.strides == b.strides else "partial"
    return "partial" if a_lo < b_hi and b_lo < a_hi else "none"


def _owner(array):
    """The object owning an array's memory (the root of its chain of bases)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array if array.base is None else array.base


def _byte_bounds(array):
    try:
        from numpy.lib.array_utils import byte_bounds   # numpy 2
    except ImportError:   # numpy 1
        byte_bounds = np.byte_bounds
    return byte_bounds(array)


def _host_arrays(written, source):
    """The host arrays of tensors written and source, or None when either is not a CPU tensor."""
    w, s = getattr(written, "array", None), getattr(source, "array", None)
    if type(w) is np.ndarray and type(s) is np.ndarray:
        return w, s
    return None


def check_no_partial_overlap(written, source):
    """torch's assert_no_partial_overlap (copy_): source may be the written tensor itself, not
    part of it."""
    arrays = _host_arrays(written, source)
    if arrays is not None and overlap_status(*arrays) == "partial":
        raise RuntimeError(INPUT_OVERLAP_MESSAGE)


# in-place ops that are not elementwise: their operand checks are their own (copy_ checks first;
# index / scatter ops assert no overlap; masked_fill_'s value and put_'s source are not checked;
# torch's BLAS forms addmm_ / addmv_ / addr_ / addbmm_ / baddbmm_ check nothing)
OWN_OVERLAP_RULES = ("copy_", "index_", "scatter", "masked_", "put_", "addmm_", "addmv_", "addr_", "addbmm_",
                     "baddbmm_")


def check_elementwise_operands(written, name, operands):
    """torch's TensorIterator refusal, for the elementwise in-place op `name` (InPlaceOps._write),
    of a tensor operand that is part of the written tensor (x[1:].add_(x[:-1]))."""
    if not name.startswith(OWN_OVERLAP_RULES):
        for a in operands:
            check_no_partial_overlap(written, a)


def check_no_overlap(written, source):
    """torch's assert_no_overlap (index_add_, index_copy_, take(out=)): source shares no memory
    with the written tensor."""
    arrays = _host_arrays(written, source)
    if arrays is not None and overlap_status(*arrays) in ("partial", "full"):
        raise RuntimeError(INPUT_OVERLAP_MESSAGE)
