"""Worker for test_distributed.py: batch_isend_irecv's ring exchange, and collectives that leave
autograd's version counter alone (torch's: a tensor saved for backward may be all-reduced)."""
import tinygrad_seq as ts
import tinygrad_seq.distributed as dist

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
sent, got = ts.tensor([float(rank)] * 2), ts.zeros(2)
ops = [dist.P2POp(dist.isend, sent, (rank + 1) % world), dist.P2POp(dist.irecv, got, (rank - 1) % world)]
for work in dist.batch_isend_irecv(ops):
    work.wait()
assert got.tolist() == [float((rank - 1) % world)] * 2, got
t = ts.ones(2)
before = t._version
dist.all_reduce(t)
dist.broadcast(t, 0)
assert t._version == before, (before, t._version)
x = ts.ones(3, requires_grad=True)
y = x * 2
z = (y * y).sum()   # saved y
dist.all_reduce(y)  # y = 2 * world: backward reads the reduced values, as torch's
z.backward()
assert x.grad.tolist() == [8.0 * world] * 3, x.grad
assert dist.get_node_local_rank() == rank   # one machine: LOCAL_RANK from the launcher's
print("OK", rank, flush=True)
dist.destroy_process_group()
