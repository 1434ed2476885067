"""mpiexec worker for test_distributed_audit.py: torch.distributed's collectives, groups and
object collectives on 2 or 3 ranks. Each rank writes {case: result} as JSON to ARGV[1].rank<r>;
results are in the form the torch reference was recorded in: ["T", dtype, shape, values]."""
import json
import os
import sys

import numpy as np

import tinygrad_seq as torch
import tinygrad_seq.distributed as dist

dist.init_process_group("gloo", init_method="env://")
rank, world = dist.get_rank(), dist.get_world_size()
R = dist.ReduceOp
out = {}


def res(x):
    return ["T", str(np.dtype(x.dtype)), list(x.shape), x.numpy().tolist()]


def case(name):
    def register(fn):
        try:
            out[name] = fn()
        except Exception as e:   # the test checks the type
            out[name] = f"EXC {'RuntimeError' if isinstance(e, RuntimeError) else type(e).__name__}"
        return fn
    return register


BOOLS = [[True, False, False, True], [True, True, False, False], [True, False, True, False]]
for opn in ("BAND", "BOR", "BXOR"):
    for dt in ("int64", "bool", "uint8", "int8"):
        @case(f"all_reduce_{opn}_{dt}")
        def _(opn=opn, dt=dt):
            t = torch.tensor(BOOLS[rank] if dt == "bool" else [rank + 1, 2 * rank + 3, 5],
                             dtype=getattr(torch, dt))
            r = dist.all_reduce(t, op=getattr(R, opn))
            return [res(t), repr(r)]
    case(f"all_reduce_{opn}_float32")(lambda opn=opn: dist.all_reduce(torch.ones(2), op=getattr(R, opn)))
case("all_reduce_AVG_int64")(lambda: dist.all_reduce(torch.ones(2, dtype=torch.int64), op=R.AVG))
case("broadcast_src_out_of_range")(lambda: dist.broadcast(torch.zeros(2), src=world))


@case("broadcast_group_src")
def _():
    t = torch.tensor([float(rank)])
    dist.broadcast(t, group_src=1)
    return res(t)


@case("all_gather_into_tensor")
def _():
    o = torch.zeros(2 * world)
    dist.all_gather_into_tensor(o, torch.tensor([rank, rank + 10.]))
    return res(o)


@case("reduce")
def _():
    t = torch.tensor([rank + 1.0, 2.0])
    dist.reduce(t, dst=0, op=R.SUM)
    return res(t) if rank == 0 else "nonroot"


@case("reduce_max_dst1")
def _():
    t = torch.tensor([rank + 1.0, 2.0])
    dist.reduce(t, 1, op=R.MAX)
    return res(t) if rank == 1 else "nonroot"


@case("gather")
def _():
    t = torch.tensor([float(rank)])
    gl = [torch.zeros(1) for _ in range(world)] if rank == 0 else None
    dist.gather(t, gl, dst=0)
    return [res(x) for x in gl] if rank == 0 else "nonroot"


@case("scatter")
def _():
    o = torch.zeros(2)
    sl = [torch.tensor([i, 10. * i]) for i in range(world)] if rank == 0 else None
    dist.scatter(o, sl, src=0)
    return res(o)


@case("reduce_scatter")
def _():
    o = torch.zeros(1)
    dist.reduce_scatter(o, [torch.tensor([float(rank + i)]) for i in range(world)])
    return res(o)


@case("reduce_scatter_tensor")
def _():
    o = torch.zeros(2)
    dist.reduce_scatter_tensor(o, torch.arange(2. * world) + rank)
    return res(o)


@case("all_to_all")
def _():
    o = [torch.zeros(1) for _ in range(world)]
    dist.all_to_all(o, [torch.tensor([float(10 * rank + i)]) for i in range(world)])
    return [res(x) for x in o]


@case("all_to_all_single")
def _():
    o = torch.zeros(world)
    dist.all_to_all_single(o, torch.arange(world * 1.) + 10 * rank)
    return res(o)


@case("gather_object")
def _():
    lst = [None] * world if rank == 0 else None
    dist.gather_object({"r": rank}, lst, dst=0)
    return lst


@case("scatter_object_list")
def _():
    o = [None]
    dist.scatter_object_list(o, [i * 10 for i in range(world)] if rank == 0 else None, src=0)
    return o


case("get_rank_WORLD")(lambda: dist.get_rank(dist.group.WORLD))
case("get_world_size_WORLD")(lambda: dist.get_world_size(group=dist.group.WORLD))
case("GroupMember_WORLD_is")(lambda: dist.GroupMember.WORLD is dist.group.WORLD)
case("get_global_rank")(lambda: dist.get_global_rank(dist.group.WORLD, 1))
case("get_process_group_ranks")(lambda: dist.get_process_group_ranks(dist.group.WORLD))
case("monitored_barrier")(lambda: repr(dist.monitored_barrier()))


@case("new_group_all")
def _():
    g = dist.new_group(ranks=list(range(world)))
    t = torch.tensor([rank + 1.0])
    dist.all_reduce(t, group=g)
    return [dist.get_rank(g), dist.get_world_size(g), res(t)]


@case("new_group_01")
def _():
    g = dist.new_group(ranks=[0, 1])
    if rank in (0, 1):
        t = torch.tensor([rank + 1.0])
        dist.all_reduce(t, group=g)
        return [dist.get_rank(g), dist.get_world_size(g), res(t)]
    return [dist.get_rank(g)]


@case("work_result")
def _():
    t = torch.tensor([rank + 1.0])
    w = dist.all_reduce(t, async_op=True)
    w.wait()
    return [res(x) for x in w.result()]


@case("barrier_async")
def _():
    w = dist.barrier(async_op=True)
    w.wait()
    return [type(w).__name__, w.is_completed()]


# ------------------------------------------------------------------ beyond the recorded cases
@case("async_rooted")
def _():   # the async forms give what the blocking ones give
    t = torch.tensor([rank + 1.0, 2.0])
    works = [dist.reduce(t, dst=world - 1, async_op=True)]
    o = torch.zeros(2)
    sl = [torch.tensor([i, 10. * i]) for i in range(world)] if rank == 1 else None
    works.append(dist.scatter(o, sl, src=1, async_op=True))
    a = torch.zeros(world)
    works.append(dist.all_to_all_single(a, torch.arange(world * 1.) + 10 * rank, async_op=True))
    for w in works:
        w.wait()
    return [res(t) if rank == world - 1 else "nonroot", res(o), res(a)]


@case("all_to_all_uneven")
def _():   # rank r sends j + 1 copies of 10 r + j to rank j
    inp = [torch.full((j + 1,), float(10 * rank + j)) for j in range(world)]
    o = [torch.zeros(rank + 1) for _ in range(world)]
    dist.all_to_all(o, inp)
    s = torch.zeros(world * (rank + 1))
    dist.all_to_all_single(s, torch.cat(inp), [rank + 1] * world, [j + 1 for j in range(world)])
    return [[x.tolist() for x in o], s.tolist()]


@case("subgroup")
def _():   # the group of the last two ranks: src / dst are global ranks, as torch's
    members = [world - 2, world - 1]
    g = dist.new_group(members)
    if rank not in members:
        return [g is dist.GroupMember.NON_GROUP_MEMBER, dist.get_rank(g),
                repr(dist.all_reduce(torch.ones(1), group=g))]
    b = torch.tensor([float(rank)])
    dist.broadcast(b, src=world - 1, group=g)
    r = torch.tensor([rank + 1.0])
    dist.reduce(r, dst=world - 2, group=g)
    lst = [None, None] if rank == world - 2 else None
    dist.gather_object(rank, lst, dst=world - 2, group=g)
    a = torch.zeros(2)
    dist.all_to_all_single(a, torch.tensor([10. * rank, 10. * rank + 1]), group=g)
    about = [dist.get_rank(g), dist.get_world_size(g), dist.get_process_group_ranks(g),
             dist.get_global_rank(g, 1), dist.get_group_rank(g, world - 1)]
    dist.destroy_process_group(g)
    return about + [b.tolist(), r.tolist() if rank == world - 2 else None, lst, a.tolist()]


@case("environment")
def _():
    return [int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]),
            int(os.environ["LOCAL_WORLD_SIZE"])]


with open(f"{sys.argv[1]}.rank{rank}", "w") as f:
    json.dump(out, f)
dist.destroy_process_group()
