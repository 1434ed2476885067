"""torch's check before an in-place write: a tensor in which one memory location holds several
elements (an expand's repeat) cannot be written to."""

OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a single "
                   "memory location. Please clone() the tensor before performing the operation.")


def check_no_internal_overlap(array):
    """RuntimeError (torch's message) when `array` (numpy or numba device array) has a stride-0
    dim of more than one element, torch's assert_no_internal_overlap test. A stride-0 dim of
    size 1 repeats nothing (torch allows the write, e.g. x.expand(1, 3).add_(1))."""
    strides = getattr(array, "strides", None) or ()
    if any(st == 0 and n > 1 for st, n in zip(strides, array.shape)) and array.size:   # (an empty one has none)
        raise RuntimeError(OVERLAP_MESSAGE)
