"""Which value and index torch's CPU mode picks in each row, ties and nan included.

torch's mode_kernel_impl std::sorts (value, index) pairs with the comparator `a.first < b.first`
(plain <: nan is neither before nor after anything), then walks the sorted pairs: a run ends
where the next value differs (`!=`, so each nan is a run of its own), and the first longest run
wins, with the index of its last pair. std::sort is not stable, so among equal values the index is
the one its swaps leave last: kernels/sort_steps.py ports those swaps. Its comparator ranks nan
largest, which is plain < on rows without nan; a row holding nan runs the same port on values
wrapped in _PlainLess, whose comparisons make the port's comparator plain <."""
import numpy as np

from tinygrad_seq.kernels import sort_steps


class _PlainLess:
    """A float whose `==` is always true (so sort_steps' nan test `a != a` never fires) and whose
    `<` is the float's: std::sort's plain comparator, nan included."""
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):
        return self.v < other.v

    def __gt__(self, other):
        return self.v > other.v


def mode_rows(rows):
    """torch's mode of each row of host array rows [R, n] (n >= 1) -> the int64 [R] indices of
    the picked elements (their values are rows[r, index])."""
    count, n = rows.shape
    order = np.empty((count, n), np.int64)
    has_nan = np.isnan(rows).any(1) if rows.dtype.kind == "f" else np.zeros(count, bool)
    plain = np.flatnonzero(~has_nan)
    if plain.size:
        sort_steps.sort_rows(rows, plain, False, order)
    for r in np.flatnonzero(has_nan):
        vals, idx = [_PlainLess(v) for v in rows[r].tolist()], list(range(n))
        sort_steps.std_sort(vals, idx, 0, n, False)
        order[r] = idx
    picked = np.empty(count, np.int64)
    for r in range(count):
        ordered = rows[r, order[r]]
        ends = np.ones(n, bool)   # a run ends at the last pair or before a different value
        ends[:-1] = ordered[1:] != ordered[:-1]
        end_at = np.flatnonzero(ends)
        lengths = np.diff(end_at, prepend=-1)
        picked[r] = order[r, end_at[np.argmax(lengths)]]   # argmax: the first longest run
    return picked
