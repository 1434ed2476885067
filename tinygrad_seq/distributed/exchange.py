"""Collectives where every rank sends a different part to each: all_gather_into_tensor,
reduce_scatter, reduce_scatter_tensor, all_to_all and all_to_all_single, as torch.distributed's.

The all-to-alls move bytes (MPI_BYTE, Alltoallv) through host memory, so any dtype and uneven
sizes work alike; before a blocking one the ranks exchange their sizes and every rank checks that
what it receives is what the others send (one clear error on every rank instead of a truncated
message).
"""
from __future__ import annotations

import numpy as np

from tinygrad_seq.distributed.collectives import (ReduceOp, _Staged, agree, check_list,
                                                  check_tensor, divide, host, reduction,
                                                  same_everywhere, store)
from tinygrad_seq.distributed.mpi_state import State, check_group
from tinygrad_seq.distributed.waiting import wait
from tinygrad_seq.distributed.work import Work
from tinygrad_seq.errors import InvalidArgument


def _same_dtype(a, b, where):
    if a.dtype != b.dtype:
        raise InvalidArgument(f"{where}: the output tensor has dtype {a.dtype}, the input {b.dtype}")


def _times(big, small, n, where, big_name, small_name):
    if int(big.array.size) != n * int(small.array.size):
        raise InvalidArgument(f"{where}: {big_name} must have world_size ({n}) times the elements "
                              f"of {small_name}: got {tuple(big.shape)} and {tuple(small.shape)}")


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor <- every rank's input_tensor, in rank order (output: world_size times the
    elements of input, concatenated along dim 0 or stacked)."""
    check_tensor(output_tensor, "output_tensor")
    check_tensor(input_tensor, "input_tensor")
    g = check_group(group)
    if g is None:
        return None
    _same_dtype(output_tensor, input_tensor, "all_gather_into_tensor")
    _times(output_tensor, input_tensor, g.size, "all_gather_into_tensor", "output_tensor", "input_tensor")
    send, recv = _Staged(input_tensor, writes=False), _Staged(output_tensor)
    comm, what = g.comms["all_gather"], g.describe("all_gather_into_tensor", input_tensor)
    if async_op:
        return Work([comm.Iallgather(send.buf, recv.buf)], what, g.timeout_s, recv.finish,
                    [output_tensor])
    agree(g, comm, "all_gather_into_tensor", input_tensor, what)
    comm.Allgather(send.buf, recv.buf)
    recv.finish()


def _reduce_scatter(g, output, send, op, where, async_op):
    """output <- the reduction over ranks of block `rank` of each rank's `send` (host array)."""
    kind, mpi_op, as_bytes = reduction(output, op, where)
    recv = _Staged(output)
    rbuf = recv.buf.view(np.uint8) if as_bytes else recv.buf
    if as_bytes:
        send = send.view(np.uint8)

    def finish():
        if kind == "avg":
            divide(recv.buf, g.size)
        recv.finish()

    comm, what = g.comms["reduce_scatter"], g.describe(where, output)
    if async_op:
        return Work([comm.Ireduce_scatter_block(send, rbuf, op=mpi_op)], what, g.timeout_s, finish,
                    [output])
    agree(g, comm, where, output, what)
    comm.Reduce_scatter_block(send, rbuf, op=mpi_op)
    finish()


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output on group rank r <- the reduction over ranks of their input_list[r]."""
    check_tensor(output, "output")
    g = check_group(group)
    if g is None:
        return None
    check_list(input_list, g.size, output, "reduce_scatter", "input_list")
    send = np.ascontiguousarray(np.stack([host(t) for t in input_list]))
    return _reduce_scatter(g, output, send, op, "reduce_scatter", async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """output on group rank r <- the reduction over ranks of block r of their `input` (input:
    world_size times output's elements, concatenated along dim 0 or stacked)."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    g = check_group(group)
    if g is None:
        return None
    _same_dtype(output, input, "reduce_scatter_tensor")
    _times(input, output, g.size, "reduce_scatter_tensor", "input", "output")
    send = np.ascontiguousarray(host(input))
    return _reduce_scatter(g, output, send, op, "reduce_scatter_tensor", async_op)


# ------------------------------------------------------------------ all-to-all
def _displs(counts):
    return [0] + list(np.cumsum(counts[:-1], dtype=np.int64).tolist()) if counts else []


def _alltoallv(g, where, dtype, send, scounts, rcounts, finish, outputs, async_op):
    """Rank r's send[block j] -> rank j's receive block r, in bytes; finish(recv) writes out."""
    MPI = State.MPI
    item = np.dtype(dtype).itemsize
    sc, rc = [c * item for c in scounts], [c * item for c in rcounts]
    recv = np.empty(sum(rc), np.uint8)
    sendb = np.ascontiguousarray(send).reshape(-1).view(np.uint8)
    comm, what = g.comms["all_to_all"], g.describe(where)
    args = ([sendb, (sc, _displs(sc)), MPI.BYTE], [recv, (rc, _displs(rc)), MPI.BYTE])
    if async_op:
        return Work([comm.Ialltoallv(*args)], what, g.timeout_s, lambda: finish(recv), outputs)
    theirs = np.empty(g.size, np.int64)   # what each rank sends to this one
    wait([comm.Ialltoall(np.array(scounts, np.int64), theirs)], what, g.timeout_s)
    fits = bool((theirs == np.array(rcounts, np.int64)).all())
    if not same_everywhere(g, comm, what, [np.dtype(dtype).num, int(fits)]) or not fits:
        raise InvalidArgument(f"{where}: the ranks' sizes or dtypes do not match: this rank "
                              f"({dtype}) expects {list(rcounts)} elements from the ranks, they "
                              f"send {theirs.tolist()}")
    comm.Alltoallv(*args)
    finish(recv)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """output_tensor_list[j] <- group rank j's input_tensor_list[r] on rank r (sizes may differ
    between pairs of ranks; one dtype throughout)."""
    g = check_group(group)
    if g is None:
        return None
    for name, ts in (("input_tensor_list", input_tensor_list), ("output_tensor_list", output_tensor_list)):
        if len(ts) != g.size:
            raise InvalidArgument(f"all_to_all: {name} must hold {g.size} tensors, got {len(ts)}")
        for i, t in enumerate(ts):
            check_tensor(t, f"{name}[{i}]")
            _same_dtype(t, input_tensor_list[0], "all_to_all")
    dtype = input_tensor_list[0].dtype
    send = np.concatenate([host(t).reshape(-1) for t in input_tensor_list])
    rcounts = [int(t.array.size) for t in output_tensor_list]

    def finish(recv):
        values, o = recv.view(dtype), 0
        for t, c in zip(output_tensor_list, rcounts):
            store(t, values[o:o + c].reshape(t.shape))
            o += c

    return _alltoallv(g, "all_to_all", dtype, send, [int(t.array.size) for t in input_tensor_list],
                      rcounts, finish, list(output_tensor_list), async_op)


def _splits(t, sizes, n, name):
    rows = t.shape[0] if t.ndim else 1
    if sizes is None:
        if rows % n:
            raise InvalidArgument(f"all_to_all_single: {name}'s dim 0 ({rows}) must divide by the "
                                  f"world size ({n}) when no split sizes are given")
        sizes = [rows // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or sum(sizes) != rows or min(sizes) < 0:
        raise InvalidArgument(f"all_to_all_single: split sizes {sizes} for {name} must be {n} "
                              f"numbers adding up to its dim 0 ({rows})")
    per_row = int(t.array.size) // rows if rows else 0
    return [s * per_row for s in sizes]


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """output's block j (along dim 0) <- group rank j's block r of `input` on rank r (blocks:
    equal, or the given split sizes)."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    g = check_group(group)
    if g is None:
        return None
    _same_dtype(output, input, "all_to_all_single")
    scounts = _splits(input, input_split_sizes, g.size, "input")
    rcounts = _splits(output, output_split_sizes, g.size, "output")

    def finish(recv):
        store(output, recv.view(output.dtype).reshape(output.shape))

    return _alltoallv(g, "all_to_all_single", input.dtype, host(input), scounts, rcounts, finish,
                      [output], async_op)
