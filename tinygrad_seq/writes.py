"""The record of in-place writes that autograd's backward checks: every write ticks `clock`; a
node (autograd.Function) keeps the clock of its creation, and at backward a node created
before some write asks saved_was_written whether an array it saved overlaps a written one."""
import sys
import threading
import weakref

import numpy as np
try:
    from numpy.lib.array_utils import byte_bounds   # numpy >= 2
except ImportError:
    byte_bounds = np.byte_bounds


# In-place bookkeeping: every in-place write (a Tensor's _version going up) ticks clock and
# records what was written. A node remembers the clock at its creation; at backward, a node
# created before some write checks whether an array it saved overlaps a written one (views
# included), so only modifying what backward needs raises, as in PyTorch.
# A numpy array's write is kept as its byte range under the object that owns its memory (the end
# of its .base chain): a write through a temporary view (b[1].mul_(2)) is caught after the view
# is gone (a weak reference to the view itself died with it, and the check missed the write),
# and a node looks only at the writes into memory its saved arrays share, not at every write
# since (that scan made a graph of thousands of in-place writes quadratic at backward: 4000
# relu_() steps 31 s, torch 0.07 s). Device arrays keep the weak reference and the full scan.
# The clock and the tables are shared by all threads (an array written by one thread may be
# saved by another's graph) and guarded by _lock; reading clock unlocked is safe (one int).
clock = 0
_written_host: dict = {}     # id(owner) -> (reference to the owner, {(low, high) byte range: clock})
_written_device: dict = {}   # id(array) -> (clock, weakref to the array)
_prune_at = 4096
_lock = threading.Lock()
# An op's 0-d result is a numpy scalar (immutable), which a node may save; the first write to its
# tensor gives the tensor a 0-d array of its own (Tensor._shared_array), so writes land there and
# the saved scalar never changes. torch's backward still raises for such a write (the tensor's
# version moved): the scalar's array is kept here, and a node that saved the scalar asks whether
# the array was written. id(scalar) -> (the scalar, its array), both held (an array dropped after
# its write must still count); an entry goes once nothing but this table holds the scalar.
_scalar_arrays: dict = {}
_scalar_prune_at = 1024


def _owner(arr):
    """The object owning a numpy array's memory (views of one buffer share it)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr.base if arr.base is not None else arr


def _reference(obj):
    try:
        return weakref.ref(obj)
    except TypeError:   # bytes and other buffers without weak references: kept alive
        return (lambda o: (lambda: o))(obj)


# the byte range of a write to the whole of an owner's memory: every array in it overlaps. Taking
# an array's address from Python costs ~3 us (byte_bounds reads __array_interface__), more than the
# rest of an in-place add_; a write to a tensor whose array owns its memory (most) needs none
WHOLE = (-1, float("inf"))


def note_inplace(arr):
    """Record an in-place write to array `arr` (Tensor._version's setter calls this)."""
    global clock, _prune_at
    host = isinstance(arr, np.ndarray)
    if host:
        owner = _owner(arr)
        bounds = WHOLE if owner is arr else byte_bounds(arr)
    with _lock:
        clock += 1
        if len(_written_host) + len(_written_device) > _prune_at:   # drop the dead; amortized
            for k in [k for k, (r, _) in _written_host.items() if r() is None]:
                del _written_host[k]
            for k in [k for k, (_, r) in _written_device.items() if r() is None]:
                del _written_device[k]
            _prune_at = max(4096, 2 * (len(_written_host) + len(_written_device)))
        if not host:
            _written_device[id(arr)] = (clock, _reference(arr))
            return
        entry = _written_host.get(id(owner))
        if entry is None or entry[0]() is not owner:   # new, or the id of a dead owner reused
            entry = _written_host[id(owner)] = (_reference(owner), {})
        entry[1][bounds] = clock


def tick():
    """Advance the clock without a write: an in-place op recorded by autograd ticks once more after
    its tensor took the new node (inplace._retarget), so nodes created by the op itself (clock c)
    and nodes created after it (clock > c) are told apart; a view used by the op reads its base
    as it was before the op (autograd._stale_view)."""
    global clock
    with _lock:
        clock += 1


def note_scalar_array(scalar, arr):
    """Numpy scalar `scalar`, a tensor's array, was replaced by 0-d array `arr` holding its value:
    a write to arr is a write to what a node saved as scalar (see _scalar_arrays)."""
    global _scalar_prune_at
    with _lock:
        if len(_scalar_arrays) > _scalar_prune_at:   # drop the scalars no one else holds; amortized
            # references to a dead one: the table's tuple, the loop's name, getrefcount's argument
            for k in [k for k, (sc, _) in _scalar_arrays.items() if sys.getrefcount(sc) <= 3]:
                del _scalar_arrays[k]
            _scalar_prune_at = max(1024, 2 * len(_scalar_arrays))
        _scalar_arrays[id(scalar)] = (scalar, arr)


def _host_written(a, since):
    """True when numpy array a overlaps memory written in place after clock `since`."""
    owner = _owner(a)
    with _lock:
        entry = _written_host.get(id(owner))
        ranges = list(entry[1].items()) if entry is not None and entry[0]() is owner else ()
    newer = [r for r, c in ranges if c > since]
    if not newer:   # (the common case: nothing written since; no address taken, ~3 us)
        return False
    if WHOLE in newer:   # a write to the whole of the owner's memory overlaps every array in it
        return True
    low, high = byte_bounds(a)
    return any(lo < high and low < hi for lo, hi in newer)


def _aliases(b, x, y):
    if x is y:
        return True
    share = getattr(b, "may_share_memory", None)
    return bool(share(x, y)) if share is not None else False


def keep_for_write_check(t, *tensors):
    """t's node raises torch's in-place error in its backward when one of `tensors` was written
    since, as torch's node, which saves them, does (take's and masked_select's self), though its
    own backward reads only their shapes. t returned."""
    ctx = t._ctx
    if ctx is not None:
        ctx.write_checked = tuple(x.array for x in tensors)
    return t


def saved_was_written(ctx):
    """True when an array ctx saved (or keeps as an attribute) was written in place after ctx
    was created."""
    saved = [getattr(a, "array", a) for a in (ctx.saved_tensors or ()) if hasattr(a, "shape")]
    if ctx.array_io:   # an op's arrays kept as attributes; torch's Functions check saved ones only
        saved += [a for a in ctx.__dict__.values() if hasattr(a, "shape") and hasattr(a, "dtype")]
        saved += ctx.__dict__.get("write_checked", ())   # keep_for_write_check
    since = ctx._clock
    for a in saved:
        if isinstance(a, np.ndarray):
            if _host_written(a, since):
                return True
        elif isinstance(a, np.generic):   # an op's 0-d result: written once its tensor took an array
            entry = _scalar_arrays.get(id(a))
            if entry is not None and entry[0] is a and _host_written(entry[1], since):
                return True
        else:
            with _lock:
                entries = list(_written_device.values())
            for c, ref in entries:
                w = ref()
                if c > since and w is not None and _aliases(ctx.b, a, w):
                    return True
    return False
