"""The graph nodes a tensor had before in-place ops rebased it (Tensor._hist), which backward
reads for nodes that used the tensor before a write (autograd._parent_state).

Entries are kept in write order with their boundaries (the clock from which the next node holds),
so a lookup is a bisection, not a scan: a decoder writing a buffer row per step for thousands of
steps resolves each earlier use in O(log n). A tensor rebased every step for ever must not keep
every old graph alive, so the oldest entries go when there are many of them AND the snapshots
they hold are large (an in-place op's copy of the tensor before the write; item assignment keeps
none): a node that still needs a dropped entry raises at backward."""
import bisect

KEEP_MIN = 256                # entries always kept
KEEP_MAX = 1 << 16            # entries never exceeded
KEEP_BYTES = 256 << 20        # snapshot bytes kept beyond KEEP_MIN entries
DROPPED = "dropped"           # requires_grad of the entry standing for the dropped ones


class History:
    __slots__ = ("bounds", "entries", "sizes", "nbytes")

    def __init__(self):
        self.bounds, self.entries, self.sizes, self.nbytes = [], [], [], 0

    def __len__(self):
        return len(self.entries)

    def __iter__(self):   # (boundary, ctx, idx, requires_grad) in write order
        return iter([(b,) + e for b, e in zip(self.bounds, self.entries)])

    def add(self, boundary, ctx, idx, requires_grad, nbytes=0):
        """The node (ctx, idx) a tensor had until the write whose node was made at `boundary`;
        nbytes: the memory of the snapshot that node's graph keeps for the write."""
        self.bounds.append(boundary)
        self.entries.append((ctx, idx, requires_grad))
        self.sizes.append(nbytes)
        self.nbytes += nbytes
        n = len(self.entries)
        if n > KEEP_MAX or (n > KEEP_MIN and self.nbytes > KEEP_BYTES):
            drop = n // 2
            last = self.bounds[drop - 1]   # nodes older than this needed a dropped entry
            self.nbytes -= sum(self.sizes[:drop])
            self.bounds[:drop] = [last]
            self.entries[:drop] = [(None, 0, DROPPED)]
            self.sizes[:drop] = [0]

    def at(self, clock):
        """(ctx, idx, requires_grad) a node created at `clock` saw: the first entry whose boundary
        is after it; None when the tensor's current node holds."""
        k = bisect.bisect_right(self.bounds, clock)
        return self.entries[k] if k < len(self.entries) else None
