"""Which bag each index of F.embedding_bag goes to, forward and backward, and each bag's size,
as torch 2.13's CPU kernels decide them (numpy only; embedding_bag_op.py sums the rows).

torch has two CPU kernels. The fast one (float32 / float16 weight, mode sum or mean, no
padding_idx) sums bag b over positions [offsets[b], offsets[b+1]) in order and stops at the first
bag whose end is before its start (that bag and the later ones stay 0); with include_last_offset
its last bag ends at offsets[-1]. The other kernels (and every backward) map positions to bags
by torch's offset2bag: a marker at each offset, summed up (position 0's marker taken off), so
decreasing offsets give bags other than the segments, and with include_last_offset the indices
after offsets[-1] join the last bag. Mean divides by the offsets' difference (minus the padding
indices the bag holds), the last bag counted to the input's end; the forward clamps it at 1, the
backward divides by it as it is (negative with decreasing offsets) where it is not 0. The fast
sum's backward maps with every offset, include_last_offset's last included: the indices after it
get no gradient there, while the fast mean's give them the last bag's."""
from collections import namedtuple

import numpy as np

from tinygrad_seq.errors import InvalidArgument

# num_bags: B; forward_bag / backward_bag [n] int64: the bag each position is summed into / takes
# its gradient from (-1: none); sizes [B] int64: torch's bag_size (mean's divisor; a max bag of
# size 0 gets no gradient, an empty one of another size sends it to row 0, torch's max_indices)
Layout = namedtuple("Layout", "num_bags forward_bag backward_bag sizes")

_FAST_LAST_OFFSET = ("Expected i < index_size to be true, but got false.  (Could this error message be improved?  "
                     "If so, please report an enhancement request to PyTorch.)")


def torch_fast_path(weight, mode, padding_idx):
    """Whether torch's CPU embedding_bag takes its fast index-select kernel (float32 / float16
    weight, sum or mean, no padding_idx)."""
    return weight.dtype in (np.float32, np.float16) and mode in ("sum", "mean") and padding_idx is None


def offset2bag(starts, n):
    """[n] int64: torch's bag of each position, from the bags' starts (int64 [B], starts[0] == 0)."""
    later = starts[1:]
    markers = np.bincount(later[(later >= 0) & (later < n)], minlength=n)[:n]
    return np.cumsum(markers, dtype=np.int64)


def _sizes(starts, n):
    """The offsets' differences, the last bag counted to the input's end n."""
    return np.append(np.diff(starts), n - starts[-1]).astype(np.int64)


def bag_layout(offsets, n, include_last_offset, fast, mode, keep):
    """The Layout of n indices split by offsets (int64 [K], checked: offsets[0] == 0, offsets[-1]
    <= n); fast: torch_fast_path; keep [n] bool: the indices other than padding_idx."""
    num_bags = offsets.size - 1 if include_last_offset else offsets.size
    if num_bags <= 0:
        none = np.full(n, -1, np.int64)
        return Layout(0, none, none, np.zeros(0, np.int64))
    starts = offsets[:num_bags]
    if not fast:
        every = offset2bag(starts, n)
        bags = np.where(keep, every, -1)
        sizes = _sizes(starts, n) - np.bincount(every[~keep], minlength=num_bags)[:num_bags]
        return Layout(num_bags, bags, bags, sizes)
    if include_last_offset and offsets[-1] < offsets.max():
        raise InvalidArgument(_FAST_LAST_OFFSET)
    ends = offsets[1:] if include_last_offset else np.append(offsets[1:], n)
    backwards = np.flatnonzero(ends < starts)
    whole = int(backwards[0]) if backwards.size else num_bags   # the bags before the first backwards one
    forward = np.full(n, -1, np.int64)
    if whole:
        forward[:ends[whole - 1]] = np.repeat(np.arange(whole), ends[:whole] - starts[:whole])
    if mode == "sum" and include_last_offset:
        backward = offset2bag(offsets, n)
        backward[backward >= num_bags] = -1
    else:
        backward = offset2bag(starts, n)
    return Layout(num_bags, forward, backward, _sizes(starts, n))
