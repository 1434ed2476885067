"""new_group and torch.distributed's names for groups: group.WORLD, GroupMember, Backend,
get_global_rank, get_group_rank, get_process_group_ranks.

A group made by new_group is a communicator of its own (MPI_Comm_create_group over the member
ranks), with one duplicate per kind of collective as the default group has; every collective's
`group=` runs on it. A rank outside the group gets GroupMember.NON_GROUP_MEMBER, on which the
collectives return at once (torch's behaviour).
"""
from __future__ import annotations

import zlib

from tinygrad_seq.distributed import mpi_state as _state
from tinygrad_seq.distributed.collectives import same_everywhere
from tinygrad_seq.distributed.mpi_state import (NON_GROUP_MEMBER, Group, State, check_group,
                                                current)
from tinygrad_seq.errors import InvalidArgument


class _World(type):
    """WORLD, read when asked: the default group after init_process_group, None before (as
    torch's GroupMember.WORLD)."""

    @property
    def WORLD(cls):
        return State.group


class GroupMember(metaclass=_World):
    """torch.distributed.GroupMember: WORLD and NON_GROUP_MEMBER."""
    NON_GROUP_MEMBER = NON_GROUP_MEMBER


class group(metaclass=_World):
    """torch.distributed.group: group.WORLD is the default process group (None before init)."""


class Backend(str):
    """torch.distributed.Backend: the backend names, checked. Every name runs over MPI here (the
    one transport); a device map "cpu:gloo,cuda:nccl" is accepted too."""
    UNDEFINED, GLOO, NCCL, UCC, MPI, XCCL = "undefined", "gloo", "nccl", "ucc", "mpi", "xccl"
    _NAMES = ("undefined", "gloo", "nccl", "ucc", "mpi", "xccl")

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got {type(name)}")
        value = name.lower()
        parts = [p.split(":", 1)[-1].strip() for p in value.split(",")]
        if not all(p in cls._NAMES for p in parts):
            raise ValueError(f"Invalid backend: '{name}' (tinygrad_seq.distributed knows "
                             f"{', '.join(cls._NAMES)}; each runs over MPI)")
        return str.__new__(cls, value)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A process group of the given global ranks (default: all), in sorted order as torch's.
    Every rank of the default group calls it (unless use_local_synchronization=True: only the
    members do); members get the group, the others GroupMember.NON_GROUP_MEMBER."""
    world = current()
    if backend is not None:
        Backend(backend)
    ranks = list(range(world.size)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(ranks)) != len(ranks) or any(not 0 <= r < world.size for r in ranks):
        raise InvalidArgument(f"new_group: ranks {ranks} must be distinct ranks of the world "
                              f"(0 to {world.size - 1})")
    timeout_s = world.timeout_s if timeout is None else _state.seconds(timeout, "new_group: timeout")
    comm = world.comms["groups"]
    if not use_local_synchronization:
        what = world.describe("new_group", detail=f"ranks {ranks}")
        if not same_everywhere(world, comm, what, [len(ranks), zlib.crc32(repr(ranks).encode())]):
            raise InvalidArgument(f"new_group: the ranks called new_group with different rank "
                                  f"lists (this rank: {ranks})")
    if world.rank not in ranks:
        return NON_GROUP_MEMBER
    members = comm.Get_group().Incl(ranks)
    sub = comm.Create_group(members, tag=zlib.crc32(repr(ranks).encode()) % 32768)
    members.Free()
    g = Group(sub, timeout_s, ranks)
    sub.Free()
    State.subgroups.append(g)
    return g


def get_process_group_ranks(group):
    """The global ranks of `group`'s members, in group-rank order."""
    g = check_group(group)
    if g is None:
        raise InvalidArgument("get_process_group_ranks: this rank is not in the group")
    return list(g.ranks)


def get_global_rank(group, group_rank):
    """The global rank of `group`'s member group_rank."""
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group!r}")
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    """The rank within `group` of global rank global_rank."""
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group!r}")
    return ranks.index(global_rank)
