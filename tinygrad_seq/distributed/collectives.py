"""Tensor collectives (all_reduce, broadcast, all_gather) and what every collective shares:
the staged buffers, the reduce ops, the check that every rank entered the same collective.

async_op=True starts an MPI non-blocking collective (Iallreduce, Ibcast, Iallgather) and returns
its Work, whose wait() is bounded by the timeout (waiting.py). A blocking call first checks, with
a tiny non-blocking all-reduce waited for with the timeout, that every rank has entered the same
collective with the same size and dtype (a mismatch is one clear error on every rank), and then
runs MPI's blocking collective, which can no longer wait for a rank that is not coming. The
blocking ones are much faster than the non-blocking ones where processes share their cores: a
2-rank all-reduce of 1.4 MB took 0.14-0.19 ms blocking and 0.30-0.40 ms non-blocking on an idle
machine, and 0.6-1.1 ms against 20-40 ms on a loaded one (Open MPI runs the non-blocking algorithm
in several rounds, each moving only inside an MPI call while both processes hold a core).
"""
from __future__ import annotations

import numpy as np

from tinygrad_seq.distributed.mpi_state import State, check_group, cuda_aware
from tinygrad_seq.distributed.waiting import wait
from tinygrad_seq.distributed.work import Work
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.inplace import _own_array


# ------------------------------------------------------------------ buffers
class _Staged:
    """A C-contiguous buffer MPI reads and writes for one tensor, and the write-back of the
    result into the tensor's own memory (a no-op when MPI worked on that memory directly)."""

    def __init__(self, tensor, writes=True):
        self.tensor, self.writes = tensor, writes
        if writes and tensor.device == "cpu":
            # a 0-d result of a numpy reduction (x.mean(), a loss) is a read-only numpy scalar:
            # it gets a 0-d array of its own first, as the library's in-place ops give it
            _own_array(tensor)
        arr = tensor.array
        if isinstance(arr, np.generic):   # a numpy scalar only read here: a 0-d array of its value
            arr = np.asarray(arr)
        if tensor.device == "cpu":
            direct = arr.flags.c_contiguous and (arr.flags.writeable or not writes)
            # np.array, not np.ascontiguousarray: that one makes a 0-d array 1-d
            self.buf = arr if direct else np.array(arr, order="C", copy=True)
        elif cuda_aware() and arr.is_c_contiguous():
            from numba import cuda
            cuda.synchronize()  # kernels writing arr must be done before MPI reads it
            self.buf = arr
        else:
            self.buf = arr.copy_to_host()
        self.direct = self.buf is arr
        self.on_device = tensor.device != "cpu" and self.direct   # MPI works on device memory

    def finish(self):
        t = self.tensor
        if self.writes:   # no version bump: torch's collectives write past autograd's counter
            if not self.direct:
                _write_into(t, self.buf)
            if getattr(t, "_view", None) is not None:
                t._sync_base()   # a "cuda" view whose array is a copy of its base's region
        return t


def store(tensor, src):
    """tensor's memory <- array src (a view's base too); as torch's collectives, not counted as
    an in-place write by autograd (no version bump: a node that saved the tensor does not raise)."""
    _write_into(tensor, src)
    tensor._sync_base()


def recv_buffer(staged, shape, dtype):
    """An uninitialized C-contiguous buffer MPI writes into: host memory, or device memory when
    MPI reads the `staged` send buffer from the device (a "cuda" tensor, CUDA-aware MPI). Chosen
    by the tensor's device, not the buffer's type: a 0-d "cpu" tensor's array may be a numpy
    scalar, which is no ndarray."""
    if not staged.on_device:
        return np.empty(shape, dtype)
    from numba import cuda
    return cuda.device_array(shape, dtype)


def host(tensor):
    """tensor's values as a host numpy array (a send buffer built from several tensors)."""
    arr = tensor.array
    return arr if tensor.device == "cpu" else arr.copy_to_host()


def _write_into(tensor, src):
    """Copy array src (host or same device) into tensor's existing memory."""
    dst = tensor.array
    if tensor.device == "cpu":
        if isinstance(dst, np.ndarray) and dst.flags.writeable:
            np.copyto(dst, np.reshape(src, dst.shape))
        else:   # read-only memory (a broadcast view): the tensor takes a copy of its own shape
            tensor.array = np.array(src, dtype=dst.dtype, copy=True).reshape(dst.shape)
    elif dst.is_c_contiguous() and isinstance(src, np.ndarray):
        dst.copy_to_device(np.ascontiguousarray(src).reshape(dst.shape))   # 0-d stays 0-d
    else:
        dst[...] = src


class ReduceOp:
    """torch.distributed.ReduceOp's names; plain strings ('sum', 'avg', 'band', ...) work too.
    BAND / BOR / BXOR: integer tensors (and bool, where they are and / or / xor)."""
    SUM, AVG, PRODUCT, MIN, MAX = "sum", "avg", "product", "min", "max"
    BAND, BOR, BXOR = "band", "bor", "bxor"


_OP_NAMES = {"sum": "SUM", "avg": "SUM", "mean": "SUM", "product": "PROD", "prod": "PROD",
             "min": "MIN", "max": "MAX", "band": "BAND", "bor": "BOR", "bxor": "BXOR"}
_BOOL_KIND = {"sum": "max", "max": "max", "product": "min", "min": "min"}   # or / and on bytes


def _op_name(op):
    name = getattr(op, "name", op)   # also torch.distributed.ReduceOp.SUM and the like
    key = str(name).lower().rsplit(".", 1)[-1]
    if key not in _OP_NAMES:
        raise ValueError(f"unsupported reduce op {op!r}: use one of sum, avg, product, min, max, "
                         f"band, bor, bxor")
    return "avg" if key in ("avg", "mean") else key


def reduction(tensor, op, where):
    """(op's name, the MPI op, whether MPI works on the bytes of a bool tensor) for reducing
    `tensor` with `op`, or torch's RuntimeError for an op the dtype cannot take."""
    kind, dk = _op_name(op), tensor.dtype.kind
    if kind == "avg" and dk != "f":
        raise InvalidArgument(f"{where}: op=avg: result type Float can't be cast to the desired "
                              f"output type {tensor.dtype} (avg needs a floating point tensor)")
    if kind[0] == "b" and dk not in "iub":
        raise InvalidArgument(f"{where}: Cannot use ReduceOp.{kind.upper()} with non-integral "
                              f"dtype {tensor.dtype}")
    if dk == "b":   # MPI has no sum of C bools: max / min (or band / bor / bxor) over their bytes
        return kind, getattr(State.MPI, _OP_NAMES[_BOOL_KIND.get(kind, kind)]), True
    return kind, getattr(State.MPI, _OP_NAMES[kind]), False


def agree(g, comm, kind, tensor, what):
    """Every rank has entered `kind` on `comm` with a tensor of the same size and dtype, checked
    with a 4-number all-reduce waited for with the timeout; else the same ValueError on all."""
    n, code = int(tensor.array.size), np.dtype(tensor.dtype).num
    mine, most = np.array([n, -n, code, -code], np.int64), np.empty(4, np.int64)
    wait([comm.Iallreduce(mine, most, op=State.MPI.MAX)], what, g.timeout_s)
    if most[0] != -most[1]:
        raise ValueError(f"{kind}: the ranks passed tensors of different sizes (from {-most[1]} "
                         f"to {most[0]} elements; this rank: {n})")
    if most[2] != -most[3]:
        raise ValueError(f"{kind}: the ranks passed tensors of different dtypes (this rank: "
                         f"{tensor.dtype})")


def same_everywhere(g, comm, what, numbers):
    """Whether every rank of g passed the same `numbers` (ints) here: one small all-reduce waited
    for with the timeout, so every rank learns the same answer and raises the same error."""
    mine = np.array(list(numbers) + [-x for x in numbers], np.int64)
    most = np.empty_like(mine)
    wait([comm.Iallreduce(mine, most, op=State.MPI.MAX)], what, g.timeout_s)
    k = len(numbers)
    return bool((most[:k] == -most[k:]).all())


# ------------------------------------------------------------------ collectives
def check_tensor(tensor, name="tensor"):
    from tinygrad_seq.tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type tinygrad_seq.Tensor "
                        f"but got {type(tensor)} instead.")


def check_list(tensors, n, like, where, name):
    """`tensors`: n tensors of `like`'s shape and dtype (torch's RuntimeError otherwise)."""
    if tensors is None or len(tensors) != n:
        raise InvalidArgument(f"{where}: {name} must hold {n} tensors (one per rank of the group), "
                              f"got {'None' if tensors is None else len(tensors)}")
    for i, t in enumerate(tensors):
        check_tensor(t, f"{name}[{i}]")
        if t.shape != like.shape or t.dtype != like.dtype:
            raise InvalidArgument(f"{where}: invalid tensor size or dtype at index {i} of {name}: "
                                  f"expected {like.shape} {like.dtype}, got {t.shape} {t.dtype}")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over all ranks, in place on every rank (op: sum, avg, product, min, max,
    band, bor, bxor; on bools sum and max are a logical or, product and min a logical and, as
    torch's)."""
    check_tensor(tensor)
    g = check_group(group)
    if g is None:
        return None   # this rank is not in the group
    MPI = State.MPI
    kind, mpi_op, as_bytes = reduction(tensor, op, "all_reduce")
    staged = _Staged(tensor)
    buf = staged.buf.view(np.uint8) if as_bytes else staged.buf

    def finish():
        if kind == "avg":
            divide(staged.buf, g.size)
        staged.finish()

    comm = g.comms["all_reduce"]
    what = g.describe("all_reduce", tensor)
    if async_op:
        req = comm.Iallreduce(MPI.IN_PLACE, buf, op=mpi_op)
        return Work([req], what, g.timeout_s, finish, [tensor])
    agree(g, comm, "all_reduce", tensor, what)
    comm.Allreduce(MPI.IN_PLACE, buf, op=mpi_op)
    finish()


def divide(buf, n):
    if isinstance(buf, np.ndarray):
        buf /= n
    else:  # a device buffer (CUDA-aware MPI): divide through the host, rare and small
        host = buf.copy_to_host()
        host /= n
        buf.copy_to_device(host)


def broadcast(tensor, src=0, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s tensor into `tensor` on every rank of the group, in place (src: a
    global rank, default 0 as API.md writes it; group_src: a rank within `group`, which replaces
    the default src)."""
    check_tensor(tensor)
    if group_src is not None and src == 0:
        src = None
    g = check_group(group)
    if g is None:
        return None
    root = g.root(src, group_src, "broadcast")
    staged = _Staged(tensor, writes=g.rank != root)
    comm, what = g.comms["broadcast"], g.describe("broadcast", tensor, f"from rank {root}")
    if async_op:
        return Work([comm.Ibcast(staged.buf, root=root)], what, g.timeout_s, staged.finish, [tensor])
    agree(g, comm, "broadcast", tensor, what)
    comm.Bcast(staged.buf, root=root)
    staged.finish()


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] <- rank r's `tensor`, on every rank (tensor_list: world_size tensors of
    tensor's shape and dtype, written in place)."""
    check_tensor(tensor)
    g = check_group(group)
    if g is None:
        return None
    n = g.size
    check_list(tensor_list, n, tensor, "all_gather", "tensor_list")
    send = _Staged(tensor, writes=False)
    recv = recv_buffer(send, (n,) + tensor.shape, tensor.dtype)

    def finish():
        for i, t in enumerate(tensor_list):
            store(t, recv[i])

    comm, what = g.comms["all_gather"], g.describe("all_gather", tensor)
    if async_op:
        return Work([comm.Iallgather(send.buf, recv)], what, g.timeout_s, finish, tensor_list)
    agree(g, comm, "all_gather", tensor, what)
    comm.Allgather(send.buf, recv)
    finish()
