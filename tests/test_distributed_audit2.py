"""tinygrad_seq.distributed / DDP against torch 2.13 (gloo), second audit: 0-d tensors in the
collectives, a forward without backward on some ranks under DDP, point-to-point send / recv /
isend / irecv, DDP of a module without trainable parameters, all_gather_object's list length,
and torchrun's variables (RANK, LOCAL_RANK, ...) visible before init_process_group.

The multi-process tests launch `mpiexec -n 2` (the Open MPI wheel's, next to this Python) on a
small script written into tmp_path; each rank reports one JSON result on a line "RESULT rank
json". The expected values are torch 2.13's for the same programs under gloo, 2 processes.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mpi_helpers import mpi_env  # noqa: E402

MPIEXEC = Path(sys.executable).parent / "mpiexec"
_HEAD = """
import json, os, sys
def out(obj):
    print("RESULT", os.environ.get("OMPI_COMM_WORLD_RANK", "0"), json.dumps(obj), flush=True)
"""


def run(code, tmp_path, n=2, timeout=120, **extra_env):
    """Run `code` under `mpiexec -n n` (n=0: plain python, one process) with extra_env added to
    the environment; the job must exit 0. Returns ({rank: result}, the job's output)."""
    pytest.importorskip("mpi4py")
    script = tmp_path / "prog.py"
    script.write_text(_HEAD + textwrap.dedent(code))
    if n:
        if not MPIEXEC.exists():
            pytest.skip(f"no mpiexec next to {sys.executable}")
        cmd = [str(MPIEXEC), "--oversubscribe", "-n", str(n)]
        for name in extra_env:
            cmd += ["-x", name]
        cmd += [sys.executable, str(script)]
    else:
        cmd = [sys.executable, str(script)]
    # stdout block-buffered (flushed by out() and at exit): a print's pieces leave in one write,
    # so the ranks' lines cannot interleave mid-line (PYTHONUNBUFFERED writes each piece)
    p = subprocess.Popen(cmd, env=mpi_env(PYTHONUNBUFFERED="", **extra_env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True, cwd=tmp_path)
    try:
        text, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        text, _ = p.communicate()
        pytest.fail(f"the job was still running after {timeout} s:\n{text[-3000:]}")
    assert p.returncode == 0, text[-4000:]
    res = {}
    for line in text.splitlines():
        if line.startswith("RESULT "):
            _, rank, js = line.split(" ", 2)
            res[int(rank)] = json.loads(js)
    assert sorted(res) == list(range(max(n, 1))), text[-3000:]
    return res, text


# 1 ------------------------------------------------------------------ 0-d tensors stay 0-d
@pytest.mark.mpi
def test_reductions_of_0d_tensors_keep_them_0d(tmp_path):
    """torch: all_reduce / broadcast / reduce of a 0-d tensor (x.mean(), a loss, a count of
    correct predictions) keep shape () (tensor(2.)); a 0-d view writes through to its base."""
    res, _ = run("""
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist
        dist.init_process_group("gloo")
        r = dist.get_rank()
        w = torch.ones(3, requires_grad=True)
        got = {}
        m = (torch.arange(4.0) + r).mean(); dist.all_reduce(m, op=dist.ReduceOp.AVG)
        got["mean"] = [list(m.shape), repr(m)]
        c = (torch.tensor([1, 2]) == torch.tensor([1, 2 + r])).sum(); dist.all_reduce(c)
        got["correct"] = [list(c.shape), repr(c)]
        loss = (w * (2 + r)).sum(); dist.all_reduce(loss)
        got["loss"] = [list(loss.shape), loss.item()]
        s = torch.arange(4.0).sum() + r; dist.broadcast(s, src=0)
        got["bcast"] = [list(s.shape), s.item()]
        red = (torch.arange(4.0) + r).sum(); dist.reduce(red, dst=0)
        got["reduce"] = [list(red.shape), red.item()]
        mx = (torch.arange(3.0) * (r + 1)).max(); dist.all_reduce(mx, op=dist.ReduceOp.MAX, async_op=True).wait()
        got["async_max"] = [list(mx.shape), mx.item()]
        a = torch.arange(3.0) + r; v = a[1]; dist.all_reduce(v)
        got["view"] = [list(v.shape), a.tolist()]
        out(got)
        dist.destroy_process_group()
    """, tmp_path)
    for r in (0, 1):
        assert res[r]["mean"] == [[], "tensor(2.)"]
        assert res[r]["correct"] == [[], "tensor(3)"]
        assert res[r]["loss"] == [[], 15.0]
        assert res[r]["bcast"] == [[], 6.0]
        assert res[r]["async_max"] == [[], 4.0]
        assert res[r]["view"] == [[], [float(r), 3.0, 2.0 + r]]
    assert res[0]["reduce"] == [[], 16.0] and res[1]["reduce"] == [[], 10.0]


# 2 ------------------------------------------------------------------ gathering 0-d tensors
@pytest.mark.mpi
def test_all_gather_and_gather_of_0d_tensors(tmp_path):
    """torch: all_gather / gather (and their async forms) of each rank's mean loss work; a 0-d
    result's array is a numpy scalar, which used to pick a CUDA receive buffer."""
    res, _ = run("""
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist
        dist.init_process_group("gloo")
        r, n = dist.get_rank(), dist.get_world_size()
        x = torch.arange(4.0) + r
        outs = [torch.zeros(()) for _ in range(n)]
        dist.all_gather(outs, x.mean())
        gl = [torch.zeros(()) for _ in range(n)] if r == 0 else None
        dist.gather(x.sum(), gl, dst=0)
        aouts = [torch.zeros(()) for _ in range(n)]
        dist.all_gather(aouts, x.max(), async_op=True).wait()
        agl = [torch.zeros(()) for _ in range(n)] if r == 1 else None
        dist.gather(x.min(), agl, dst=1, async_op=True).wait()
        out({"ag": [[list(o.shape), o.item()] for o in outs],
             "gather": None if gl is None else [g.item() for g in gl],
             "async_ag": [o.item() for o in aouts],
             "async_gather": None if agl is None else [g.item() for g in agl]})
        dist.destroy_process_group()
    """, tmp_path)
    for r in (0, 1):
        assert res[r]["ag"] == [[[], 1.5], [[], 2.5]]
        assert res[r]["async_ag"] == [3.0, 4.0]
    assert res[0]["gather"] == [6.0, 10.0] and res[1]["gather"] is None
    assert res[0]["async_gather"] is None and res[1]["async_gather"] == [0.0, 1.0]


@pytest.mark.mpi
def test_0d_cuda_tensors_in_the_collectives_and_recv(tmp_path):
    """The same on "cuda" tensors, under Numba's CUDA simulator (host staging)."""
    res, _ = run("""
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist
        dist.init_process_group("gloo")
        r, n = dist.get_rank(), dist.get_world_size()
        x = (torch.arange(4.0) + r).to("cuda")
        m = x.mean(); dist.all_reduce(m, op=dist.ReduceOp.AVG)
        outs = [torch.zeros((), device="cuda") for _ in range(n)]
        dist.all_gather(outs, x.sum())
        gl = [torch.zeros((), device="cuda") for _ in range(n)] if r == 0 else None
        dist.gather(x.max(), gl, dst=0)
        t = torch.zeros((), device="cuda")
        if r == 0:
            dist.send(x.sum(), 1)
        else:
            dist.recv(t, 0)
        out([[list(m.shape), m.item()], [[list(o.shape), o.item()] for o in outs],
             gl and [g.item() for g in gl], [list(t.shape), t.item()], m.device])
        dist.destroy_process_group()
    """, tmp_path, NUMBA_ENABLE_CUDASIM="1")
    for r in (0, 1):
        assert res[r][:2] == [[[], 2.0], [[[], 6.0], [[], 10.0]]]
        assert res[r][4] == "cuda"
    assert res[0][2] == [3.0, 4.0] and res[1][2] is None
    assert res[0][3] == [[], 0.0] and res[1][3] == [[], 6.0]


# 3 ------------------------------------------------------------------ DDP: forward, no backward
@pytest.mark.mpi
def test_ddp_forward_without_backward_on_one_rank_leaves_training_alone(tmp_path):
    """torch: a validation forward through the DDP model on rank 0 only, with grad enabled and
    no backward (eval mode, no no_grad), leaves training unaffected; so does a train-mode forward
    without backward on every rank. A rank that skips a batch after its forward is still caught
    (tests/test_distributed.py, skip_batch)."""
    res, _ = run("""
        import numpy as np
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist, tinygrad_seq.nn as nn
        from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        m = nn.Linear(3, 1)
        m.load_state_dict({"weight": torch.tensor([[0.1, -0.2, 0.3]]), "bias": torch.tensor([0.05])})
        ddp = DDP(m)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
        x = torch.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) + rank)
        for step in range(2):
            opt.zero_grad()
            ddp(x).pow(2).mean().backward()
            opt.step()
            if rank == 0:
                ddp.eval()
                val = ddp(x).sum().item()     # grad enabled, no backward: fine in torch
                ddp.train()
        w = m.weight.detach().numpy().ravel().tolist()
        ddp(x).sum().item()                   # every rank: a train forward without backward
        opt.zero_grad()
        ddp(x).pow(2).mean().backward()
        out({"w": w, "b": m.bias.item(), "grad": m.weight.grad.numpy().ravel().tolist()})
        dist.destroy_process_group()
    """, tmp_path)
    exp_w = [2.5350003242492676, 3.0950002670288086, 4.455000400543213]   # torch 2.13, gloo
    for r in (0, 1):
        assert res[r]["w"] == pytest.approx(exp_w, rel=1e-5)
        assert res[r]["b"] == pytest.approx(0.9100000262260437, rel=1e-5)
    assert res[0]["grad"] == res[1]["grad"]   # the third step averaged the same step's gradients


# 4 ------------------------------------------------------------------ point-to-point
@pytest.mark.mpi
def test_point_to_point_as_torchs_tutorial(tmp_path):
    """The blocking and non-blocking examples of "Writing Distributed Applications with
    PyTorch" print what torch's print (checked line by line, as sets: the ranks interleave);
    recv(src=None) returns the sender, tags pick the message, torch's errors for a send to
    oneself, no dst or a non-tensor; irecv into a non-contiguous view and a 0-d tensor."""
    res, text = run("""
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        tensor = torch.zeros(1)
        if rank == 0:
            tensor += 1
            dist.send(tensor=tensor, dst=1)
        else:
            dist.recv(tensor=tensor, src=0)
        print('Rank ', rank, ' has data ', tensor[0])
        tensor = torch.zeros(1)
        req = None
        if rank == 0:
            tensor += 1
            req = dist.isend(tensor=tensor, dst=1)
            print('Rank 0 started sending')
        else:
            req = dist.irecv(tensor=tensor, src=0)
            print('Rank 1 started receiving')
        req.wait()
        print('Rank ', rank, ' has data ', tensor[0])
        got = {"done": req.is_completed()}
        t = torch.tensor([float(rank)] * 2)
        if rank == 1:
            ws = [dist.isend(t, 0, tag=7), dist.isend(t + 10, 0, tag=3)]
            [w.wait() for w in ws]
            base = torch.arange(6.0).reshape(2, 3)
            dist.send(base.t().contiguous(), 0)             # [[0, 3], [1, 4], [2, 5]]
            dist.send(torch.tensor(True), 0, tag=1)
            dist.send(torch.tensor(7, dtype=torch.int64), 0, tag=2)
        else:
            a, b = torch.zeros(2), torch.zeros(2)
            got["any"] = [dist.recv(b, tag=3), dist.recv(a, src=None, tag=7), a.tolist(), b.tolist()]
            base = torch.zeros(2, 3)
            dist.irecv(base.t(), src=1).wait()              # a view: written into its base
            flag, seven = torch.tensor(False), torch.zeros((), dtype=torch.int64)
            dist.recv(flag, 1, tag=1); dist.recv(seven, 1, tag=2)
            got["view"] = base.tolist()
            got["0d"] = [repr(flag), repr(seven)]
        for name, call in (("self", lambda: dist.send(t, rank)), ("none", lambda: dist.send(t, None)),
                           ("list", lambda: dist.send([1.0], 1 - rank))):
            try:
                call(); got[name] = "ok"
            except Exception as e:
                got[name] = [type(e).__name__, str(e)]
        out(got)
        dist.destroy_process_group()
    """, tmp_path)
    lines = sorted(ln for ln in text.splitlines() if ln.startswith("Rank"))
    assert lines == ["Rank  0  has data  tensor(1.)", "Rank  0  has data  tensor(1.)",   # torch 2.13
                     "Rank  1  has data  tensor(1.)", "Rank  1  has data  tensor(1.)",
                     "Rank 0 started sending", "Rank 1 started receiving"], text[-3000:]
    assert res[0]["any"] == [1, 1, [1.0, 1.0], [11.0, 11.0]]
    assert res[0]["view"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert res[0]["0d"] == ["tensor(True)", "tensor(7)"]
    for r in (0, 1):
        assert res[r]["done"] is True
        assert res[r]["self"] == ["ValueError", "Invalid destination rank: destination rank should "
                                  "not be the same as the rank of the current process."]
        assert res[r]["none"] == ["ValueError", "Must specify global_rank or group_rank"]
        assert res[r]["list"][0] == "TypeError"


@pytest.mark.mpi
def test_point_to_point_to_oneself_groups_and_a_message_too_long(tmp_path):
    """isend / irecv to one's own rank (torch documents it), group= with group_dst / group_src,
    recv's return value, and a message longer than the receiving tensor: a RuntimeError on the
    receiver (gloo ends the process there); a shorter one fills the front, as gloo's."""
    res, _ = run("""
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        got = {}
        w1 = dist.isend(torch.tensor([5, 6]), dst=rank)
        mine = torch.zeros(2, dtype=torch.int64)
        w2 = dist.irecv(mine, src=rank)
        w2.wait(); w1.wait()
        got["self"] = [mine.tolist(), w1.is_completed(), w2.is_completed()]
        g = dist.new_group([0, 1])
        t = torch.zeros(3)
        if rank == 0:
            dist.send(torch.ones(3), group=g, group_dst=1)
            dist.send(torch.ones(4), dst=1)
            dist.send(torch.ones(2), dst=1)
        else:
            got["group"] = [dist.recv(t, group=g, group_src=0), t.tolist()]
            try:
                dist.recv(torch.zeros(3), 0); got["long"] = "ok"
            except RuntimeError as e:
                got["long"] = "RuntimeError" if "larger than the receiving tensor" in str(e) else str(e)
            short = torch.full((3,), 9.0)
            dist.recv(short, 0)
            got["short"] = short.tolist()
        out(got)
        dist.destroy_process_group()
    """, tmp_path)
    for r in (0, 1):
        assert res[r]["self"] == [[5, 6], True, True]
    assert res[1]["group"] == [0, [1.0, 1.0, 1.0]]
    assert res[1]["long"] == "RuntimeError"
    assert res[1]["short"] == [1.0, 1.0, 9.0]


# 5 ------------------------------------------------------------------ DDP of nothing to train
@pytest.mark.mpi
def test_ddp_refuses_a_module_without_trainable_parameters(tmp_path):
    res, _ = run("""
        import tinygrad_seq as torch, tinygrad_seq.distributed as dist, tinygrad_seq.nn as nn
        from tinygrad_seq.nn.parallel import DistributedDataParallel as DDP
        dist.init_process_group("gloo")
        got = []
        for make in (lambda: nn.ReLU(), lambda: nn.Linear(2, 2).requires_grad_(False)):
            try:
                DDP(make()); got.append("ok")
            except RuntimeError as e:
                got.append(str(e))
        got.append(type(DDP(nn.Linear(2, 2))).__name__)
        out(got)
    """, tmp_path, n=0)
    msg = ("DistributedDataParallel is not needed when a module doesn't have any parameter that "
           "requires a gradient.")
    assert res[0] == [msg, msg, "DistributedDataParallel"]


# 6 ------------------------------------------------------------------ all_gather_object
@pytest.mark.mpi
def test_all_gather_object_fills_the_first_world_size_slots(tmp_path):
    """torch: a list longer than the world keeps its tail; a shorter one raises IndexError
    after the slots it has are filled."""
    res, _ = run("""
        import tinygrad_seq.distributed as dist
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        l3 = ["x"] * 3
        dist.all_gather_object(l3, {"r": rank})
        l1 = ["x"]
        try:
            dist.all_gather_object(l1, rank); e = "none"
        except IndexError:
            e = "IndexError"
        out([l3, l1, e])
        dist.destroy_process_group()
    """, tmp_path)
    for r in (0, 1):
        assert res[r] == [[{"r": 0}, {"r": 1}, "x"], [0], "IndexError"]


# 7 ------------------------------------------------------------------ torchrun's variables
@pytest.mark.mpi
def test_launch_variables_are_there_before_init_process_group(tmp_path):
    """pytorch/examples distributed/ddp reads LOCAL_RANK, RANK, WORLD_SIZE, MASTER_ADDR and
    MASTER_PORT before init_process_group; importing tinygrad_seq.distributed sets them from
    mpiexec's variables without starting MPI, and leaves one already set as it is."""
    res, _ = run("""
        os.environ["MASTER_PORT"] = "12355"
        import tinygrad_seq.distributed as dist
        started = "mpi4py.MPI" in sys.modules and sys.modules["mpi4py.MPI"].Is_initialized()
        env = [int(os.environ[k]) for k in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")]
        env += [os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"], started]
        dist.init_process_group("gloo")
        out(env + [dist.get_rank()])
        dist.destroy_process_group()
    """, tmp_path)
    for r in (0, 1):
        assert res[r] == [r, r, 2, 2, "127.0.0.1", "12355", False, r]


def test_without_a_launcher_nothing_is_set():
    code = ("import os, tinygrad_seq.distributed\n"
            "print([k for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', "
            "'MASTER_ADDR', 'MASTER_PORT') if k in os.environ])")
    env = {k: v for k, v in mpi_env().items()
           if not k.startswith(("OMPI_", "PMI", "PMIX", "MPI_LOCAL", "MV2_", "MASTER_"))}
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


@pytest.mark.parametrize("launcher, expected", [
    ({"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
      "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}, ("3", "4", "1", "2")),                  # Open MPI
    # one machine: the local rank is the rank (Open MPI numbered rank 1 of 3 local rank 2)
    ({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "3", "OMPI_COMM_WORLD_LOCAL_RANK": "2",
      "OMPI_COMM_WORLD_LOCAL_SIZE": "3"}, ("1", "3", "1", "3")),
    ({"PMI_RANK": "1", "PMI_SIZE": "2", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"},
     ("1", "2", "1", "2")),                                                       # MPICH's Hydra
    ({"PMI_RANK": "5", "PMI_SIZE": "8"}, ("5", "8", None, None)),                # PMI only (srun)
    ({"MV2_COMM_WORLD_RANK": "0", "MV2_COMM_WORLD_SIZE": "2"}, ("0", "2", None, None)),
    ({}, (None, None, None, None)),                                              # no launcher
    ({"OMPI_COMM_WORLD_RANK": "x", "OMPI_COMM_WORLD_SIZE": "2"}, (None, None, None, None)),
])
def test_export_launcher_env_maps_each_launcher(launcher, expected):
    from tinygrad_seq.distributed.launch_env import export_launcher_env
    env = dict(launcher)
    added = export_launcher_env(env)
    got = tuple(env.get(k) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"))
    assert got == expected
    launched = expected[0] is not None
    assert (env.get("MASTER_ADDR"), env.get("MASTER_PORT")) == (
        ("127.0.0.1", "29500") if launched else (None, None))
    assert set(added) == set(env) - set(launcher)


def test_export_launcher_env_never_overwrites():
    from tinygrad_seq.distributed.launch_env import export_launcher_env
    env = {"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2", "RANK": "7",
           "MASTER_ADDR": "node1"}
    export_launcher_env(env)
    assert (env["RANK"], env["WORLD_SIZE"], env["MASTER_ADDR"]) == ("7", "2", "node1")


def test_init_process_group_replaces_only_what_the_import_set():
    """The launcher's numbers set at import give way to MPI's at init_process_group (here a
    one-process MPI job under MPICH-style variables of a 2-rank job); a variable the user set
    stays as it is."""
    pytest.importorskip("mpi4py")
    code = ("import os, tinygrad_seq.distributed as dist\n"
            "names = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE')\n"
            "print([os.environ.get(k) for k in names])\n"
            "dist.init_process_group('gloo')\n"
            "print([os.environ.get(k) for k in names])\n")
    env = {k: v for k, v in mpi_env().items()
           if not k.startswith(("OMPI_", "PMI", "PMIX", "MPI_LOCAL", "MV2_", "MASTER_"))}
    env.update(PMI_RANK="1", PMI_SIZE="2", MPI_LOCALRANKID="1", MPI_LOCALNRANKS="1",
               LOCAL_WORLD_SIZE="5")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.split("\n")[:2] == ["['1', '2', '1', '5']", "['0', '1', '0', '5']"], p.stdout
