"""Collectives of picklable Python objects, and checkpoints written by rank 0.

An object travels as its pickle: first the sizes, then the bytes, each a non-blocking MPI
collective on the group's "objects" communicator, waited for with the timeout.
"""
from __future__ import annotations

import pickle

import numpy as np

from tinygrad_seq.distributed.mpi_state import State, check_group, current
from tinygrad_seq.distributed.waiting import wait


def _pickle(obj):
    return np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)


def all_gather_object(object_list, obj, group=None):
    """object_list[r] <- rank r's picklable obj, for r < world size (torch.distributed.
    all_gather_object; a list of fewer slots: torch's IndexError)."""
    g = check_group(group)
    if g is None:
        return None   # this rank is not in the group
    MPI, comm = State.MPI, g.comms["objects"]
    what = g.describe("all_gather_object")
    data = _pickle(obj)
    sizes = np.empty(g.size, np.int64)
    wait([comm.Iallgather(np.array([data.size], np.int64), sizes)], what, g.timeout_s)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    recv = np.empty(int(sizes.sum()), np.uint8)
    wait([comm.Iallgatherv(data, [recv, sizes, offsets, MPI.BYTE])], what, g.timeout_s)
    # as torch's: slots 0..world-1 are written in order, the rest of a longer list is left as
    # it is, and a shorter list raises IndexError after the slots it has
    for i, (o, s) in enumerate(zip(offsets, sizes)):
        object_list[i] = pickle.loads(recv[o:o + s].tobytes())


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """object_list[:] <- rank src's object_list (torch.distributed.broadcast_object_list; src: a
    global rank, default 0)."""
    g = check_group(group)
    if g is None:
        return None
    src = g.root(src, group_src, "broadcast_object_list")
    comm = g.comms["objects"]
    what = g.describe("broadcast_object_list", detail=f"from rank {src}")
    data = _pickle(list(object_list)) if g.rank == src else None
    size = np.array([0 if data is None else data.size], np.int64)
    wait([comm.Ibcast(size, root=src)], what, g.timeout_s)
    if data is None:
        data = np.empty(int(size[0]), np.uint8)
    wait([comm.Ibcast(data, root=src)], what, g.timeout_s)
    if g.rank != src:
        object_list[:] = pickle.loads(data.tobytes())


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """object_gather_list[r] <- group rank r's picklable obj, on rank dst (a list of world_size
    slots there, None elsewhere; torch.distributed.gather_object)."""
    g = check_group(group)
    if g is None:
        return None
    root = g.root(dst, group_dst, "gather_object", "dst")
    mine = g.rank == root
    if mine and (object_gather_list is None or len(object_gather_list) != g.size):
        raise ValueError(f"gather_object: object_gather_list must have {g.size} slots on the "
                         f"destination rank")
    MPI, comm = State.MPI, g.comms["objects"]
    what = g.describe("gather_object", detail=f"to rank {root}")
    data = _pickle(obj)
    sizes = np.empty(g.size, np.int64) if mine else None
    wait([comm.Igather(np.array([data.size], np.int64), sizes, root=root)], what, g.timeout_s)
    if not mine:
        wait([comm.Igatherv(data, None, root=root)], what, g.timeout_s)
        return
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    recv = np.empty(int(sizes.sum()), np.uint8)
    wait([comm.Igatherv(data, [recv, sizes, offsets, MPI.BYTE], root=root)], what, g.timeout_s)
    object_gather_list[:] = [pickle.loads(recv[o:o + s].tobytes()) for o, s in zip(offsets, sizes)]


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """scatter_object_output_list[0] <- rank src's scatter_object_input_list[r] on group rank r
    (torch.distributed.scatter_object_list)."""
    g = check_group(group)
    if g is None:
        return None
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    root = g.root(src, group_src, "scatter_object_list")
    MPI, comm = State.MPI, g.comms["objects"]
    what = g.describe("scatter_object_list", detail=f"from rank {root}")
    size = np.empty(1, np.int64)
    if g.rank == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != g.size:
            raise ValueError(f"scatter_object_list: scatter_object_input_list must hold {g.size} "
                             f"objects on the source rank")
        parts = [_pickle(o) for o in scatter_object_input_list]
        sizes = np.array([p.size for p in parts], np.int64)
        wait([comm.Iscatter(sizes, size, root=root)], what, g.timeout_s)
        send = [np.concatenate(parts), sizes, np.concatenate([[0], np.cumsum(sizes)[:-1]]), MPI.BYTE]
    else:
        wait([comm.Iscatter(None, size, root=root)], what, g.timeout_s)
        send = None
    data = np.empty(int(size[0]), np.uint8)
    wait([comm.Iscatterv(send, data, root=root)], what, g.timeout_s)
    scatter_object_output_list[0] = pickle.loads(data.tobytes())


# ------------------------------------------------------------------ checkpoints
def save_checkpoint(state_dict, path):
    """Rank 0 writes `state_dict` (name -> array, e.g. a model's and an optimizer's state_dict
    merged under prefixes) to `path` with ts.save, atomically; every rank returns only once the
    file is complete, so any rank may read it right after."""
    from tinygrad_seq.serialization import save
    g = current()
    err = None
    if g.rank == 0:
        try:
            save(state_dict, path)
        except Exception as e:  # tell the others instead of leaving them in the barrier
            err = e
    outcome = [None if err is None else f"{type(err).__name__}: {err}"]
    broadcast_object_list(outcome, src=0)
    if err is not None:
        raise err
    if outcome[0] is not None:
        raise RuntimeError(f"save_checkpoint: rank 0 failed to write {path}: {outcome[0]}")


def load_checkpoint(path):
    """Every rank reads the checkpoint at `path` (ts.load): identical model and optimizer state
    everywhere after load_state_dict."""
    from tinygrad_seq.serialization import load
    current()
    return load(path)
