"""torch's check before an in-place write: a tensor in which one memory location holds several
elements (an expand's repeat) cannot be written to. torch asks it of the region written: item
assignment through a basic index writes the view it selects (v[2, 2] = 0 on an expand(5, 5) of a
[5, 1] tensor writes one element and is allowed; v[2] = 0 writes five elements at one location
and raises), an advanced index writes through index_put_, which only warns."""
import warnings

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
    if has_internal_overlap(array.shape, getattr(array, "strides", None) or ()):
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
