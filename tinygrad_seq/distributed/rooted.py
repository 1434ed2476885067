"""Collectives with a root rank: reduce (the result on dst only), gather (every rank's tensor
into dst's list) and scatter (src's list, one tensor to each rank), as torch.distributed's.

dst / src are global ranks, as in torch; group_dst / group_src name the root by its rank within
`group`. A blocking call first checks that every rank entered the same collective with the same
size and dtype (collectives.agree), then runs MPI's blocking collective; async_op=True returns a
Work over MPI's non-blocking one.
"""
from __future__ import annotations

import numpy as np

from tinygrad_seq.distributed.collectives import (ReduceOp, _Staged, agree, check_list,
                                                  check_tensor, divide, host, recv_buffer,
                                                  reduction, store)
from tinygrad_seq.distributed.mpi_state import State, check_group
from tinygrad_seq.distributed.work import Work


def _no_list_here(tensors, where, name, role):
    if tensors:   # torch's ValueError
        raise ValueError(f"{where}: Argument ``{name}`` must NOT be specified on non-{role} ranks.")


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` over the group's ranks into rank dst's `tensor` (in place there; the
    other ranks' tensors are left as they were)."""
    check_tensor(tensor)
    g = check_group(group)
    if g is None:
        return None   # this rank is not in the group
    root = g.root(dst, group_dst, "reduce", "dst")
    kind, mpi_op, as_bytes = reduction(tensor, op, "reduce")
    mine = g.rank == root
    staged = _Staged(tensor, writes=mine)
    buf = staged.buf.view(np.uint8) if as_bytes else staged.buf
    send, recv = (State.MPI.IN_PLACE, buf) if mine else (buf, None)

    def finish():
        if mine and kind == "avg":
            divide(staged.buf, g.size)
        staged.finish()

    comm, what = g.comms["reduce"], g.describe("reduce", tensor, f"to rank {root}")
    if async_op:
        return Work([comm.Ireduce(send, recv, op=mpi_op, root=root)], what, g.timeout_s, finish,
                    [tensor])
    agree(g, comm, "reduce", tensor, what)
    comm.Reduce(send, recv, op=mpi_op, root=root)
    finish()


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """gather_list[r] <- group rank r's `tensor`, on rank dst (gather_list: one tensor of
    tensor's shape and dtype per rank there; None on the other ranks)."""
    check_tensor(tensor)
    g = check_group(group)
    if g is None:
        return None
    root = g.root(dst, group_dst, "gather", "dst")
    mine = g.rank == root
    if mine:
        check_list(gather_list, g.size, tensor, "gather", "gather_list")
    else:
        _no_list_here(gather_list, "gather", "gather_list", "destination")
    send = _Staged(tensor, writes=False)
    recv = recv_buffer(send, (g.size,) + tensor.shape, tensor.dtype) if mine else None

    def finish():
        if mine:
            for i, t in enumerate(gather_list):
                store(t, recv[i])

    comm, what = g.comms["gather"], g.describe("gather", tensor, f"to rank {root}")
    if async_op:
        return Work([comm.Igather(send.buf, recv, root=root)], what, g.timeout_s, finish,
                    list(gather_list or []))
    agree(g, comm, "gather", tensor, what)
    comm.Gather(send.buf, recv, root=root)
    finish()


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """`tensor` <- rank src's scatter_list[r] on group rank r (scatter_list: one tensor of
    tensor's shape and dtype per rank on src; None on the other ranks)."""
    check_tensor(tensor)
    g = check_group(group)
    if g is None:
        return None
    root = g.root(src, group_src, "scatter")
    if g.rank == root:
        check_list(scatter_list, g.size, tensor, "scatter", "scatter_list")
        send = np.ascontiguousarray(np.stack([host(t) for t in scatter_list]))
    else:
        _no_list_here(scatter_list, "scatter", "scatter_list", "source")
        send = None
    staged = _Staged(tensor)
    comm, what = g.comms["scatter"], g.describe("scatter", tensor, f"from rank {root}")
    if async_op:
        return Work([comm.Iscatter(send, staged.buf, root=root)], what, g.timeout_s,
                    staged.finish, [tensor])
    agree(g, comm, "scatter", tensor, what)
    comm.Scatter(send, staged.buf, root=root)
    staged.finish()
