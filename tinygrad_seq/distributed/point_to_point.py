"""Point-to-point messages: send, recv, isend, irecv, as torch.distributed's.

    if rank == 0:
        dist.send(tensor, dst=1)          # returns once tensor may be changed again
    else:
        dist.recv(tensor, src=0)          # fills tensor in place; returns the sender's rank
    req = dist.isend(tensor, dst=1)       # or irecv: a Work, then req.wait()

A message is the tensor's bytes (MPI_BYTE, so every dtype travels alike) on the group's own
point-to-point communicator, matched by (sender, receiver, tag) in the order sent, as MPI's and
gloo's are. dst / src are global ranks; group_dst / group_src name a rank within `group`.
recv(src=None) takes a message from any rank. A message longer than the receiving tensor is a
RuntimeError on the receiving rank (gloo ends the process); a shorter one fills the tensor's
first elements and leaves the rest, as gloo's does. The blocking forms wait with the group's
timeout, as every collective does: past it the job is aborted naming the rank and the peer.
send to one's own rank is torch's ValueError; isend / irecv to oneself work, as torch documents
them (gloo itself refuses).
"""
from __future__ import annotations

import warnings

from tinygrad_seq.distributed.collectives import _Staged, check_tensor
from tinygrad_seq.distributed.mpi_state import State, check_group
from tinygrad_seq.distributed.work import Work
from tinygrad_seq.errors import InvalidArgument


class _RecvWork(Work):
    """An irecv's Work: also knows who sent the message (torch's Work._source_rank())."""

    def __init__(self, group, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._group = group

    def _source_rank(self) -> int:
        """The sender's rank within the group (once completed)."""
        self.wait()
        return self._statuses[0].Get_source()

    def is_completed(self) -> bool:
        with _truncation_as_error(self):
            return super().is_completed()

    def wait(self, timeout=None) -> bool:
        with _truncation_as_error(self):
            return super().wait(timeout)


class _truncation_as_error:
    """MPI's error for a message longer than the receiving tensor -> torch's RuntimeError."""

    def __init__(self, work):
        self.work = work

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, State.MPI.Exception):
            return False
        self.work._done = True
        raise InvalidArgument(f"{self.work._what}: the message is larger than the receiving "
                              f"tensor (the ranks passed tensors of different sizes): "
                              f"{exc}") from None


def _not_member(what):
    world = State.group
    warnings.warn(f"Running {what} on global rank {-1 if world is None else world.rank} which does "
                  f"not belong to the given group.", stacklevel=3)


def _peer(g, rank, group_rank, name):
    """The group rank of the peer named by a global `rank` or by `group_rank` (torch's rules)."""
    if group_rank is not None:
        if rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        peer = int(group_rank)
        if not 0 <= peer < g.size:
            raise ValueError(f"Group rank {peer} is not part of group {g!r}")
        return peer
    if rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    if int(rank) not in g.index:
        raise InvalidArgument(f"Invalid {name} rank: {rank} is not a rank of {g!r}")
    return g.index[int(rank)]


def _tag(g, tag):
    comm = g.comms["p2p"]
    top = comm.Get_attr(State.MPI.TAG_UB)
    if isinstance(tag, bool) or not isinstance(tag, int) or not 0 <= tag <= top:
        raise ValueError(f"tag must be an int from 0 to {top} (MPI's tag range), got {tag!r}")
    return comm


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending `tensor` to rank dst; returns a Work (wait() / is_completed()), or None on
    a rank outside `group`. Do not change `tensor` before the Work completes."""
    g = check_group(group)
    check_tensor(tensor)
    if g is None:
        _not_member("isend")
        return None
    peer = _peer(g, dst, group_dst, "destination")
    comm = _tag(g, tag)
    staged = _Staged(tensor, writes=False)
    what = g.describe("send", tensor, f"to rank {g.ranks[peer]}, tag {tag}")
    req = comm.Isend([staged.buf, State.MPI.BYTE], dest=peer, tag=tag)
    # the staged buffer must outlive the request: the finish callback keeps it
    return Work([req], what, g.timeout_s, lambda: staged, [tensor])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into `tensor` from rank src (None: from any rank); returns a Work, or
    None on a rank outside `group`."""
    check_tensor(tensor)
    g = check_group(group)
    if g is None:
        _not_member("irecv")
        return None
    any_rank = src is None and group_src is None
    peer = State.MPI.ANY_SOURCE if any_rank else _peer(g, src, group_src, "source")
    comm = _tag(g, tag)
    staged = _Staged(tensor)
    where = "any rank" if any_rank else f"rank {g.ranks[peer]}"
    what = g.describe("recv", tensor, f"from {where}, tag {tag}")
    req = comm.Irecv([staged.buf, State.MPI.BYTE], source=peer, tag=tag)
    return _RecvWork(g, [req], what, g.timeout_s, staged.finish, [tensor], statuses=[])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank dst and wait until it has been taken (bounded by the timeout)."""
    g = check_group(group)
    if g is not None and _peer(g, dst, group_dst, "destination") == g.rank:
        raise ValueError("Invalid destination rank: destination rank should not be the same as "
                         "the rank of the current process.")
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None) -> int:
    """Receive into `tensor` from rank src (None: any rank), in place; returns the sender's
    global rank (-1 on a rank outside `group`)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    if src is not None:
        return int(src)
    sender = work._source_rank() if group_src is None else int(group_src)
    if sender == work._group.rank:   # torch checks this after the message has come
        raise ValueError("Invalid source rank: source rank should not be the same as the rank of "
                         "the current process.")
    return work._group.ranks[sender]
