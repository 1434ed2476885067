"""tinygrad_seq.distributed against torch 2.13 (gloo): backend names, group.WORLD / new_group,
reduce / gather / scatter / reduce_scatter / all_to_all and the object collectives, bitwise
reduce ops, DDP's buffer broadcast, collectives into "cuda" views, errors without a process group.

The multi-process tests launch `mpiexec` (the Open MPI wheel's, next to this Python) on 2 or 3
processes with the scripts tests/mpi_scripts/audit_*.py; the values torch gives for the same
programs (torchrun / gloo) are in tests/mpi_scripts/audit_torch_reference.json.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_seq as ts
import tinygrad_seq.distributed as dist
from tinygrad_seq import nn
from tinygrad_seq.data import DistributedSampler

from mpi_helpers import mpi_env  # noqa: E402

SCRIPTS = Path(__file__).parent / "mpi_scripts"
MPIEXEC = Path(sys.executable).parent / "mpiexec"
TORCH = json.loads((SCRIPTS / "audit_torch_reference.json").read_text())


def mpirun(n, script, *args, timeout=120, **extra_env):
    """Run `mpiexec -n N python SCRIPT ARGS`; the job must exit 0 within `timeout`."""
    pytest.importorskip("mpi4py")
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    cmd = [str(MPIEXEC), "--oversubscribe", "-n", str(n)]
    for name in extra_env:
        cmd += ["-x", name]
    cmd += [sys.executable, str(SCRIPTS / script), *args]
    p = subprocess.Popen(cmd, env=mpi_env(**extra_env), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail(f"the job was still running after {timeout} s:\n{out[-3000:]}")
    assert p.returncode == 0, out[-4000:]
    return out


# ------------------------------------------------------------------ collectives over MPI
@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_give_torchs_values(n, tmp_path):
    mpirun(n, "audit_collectives.py", str(tmp_path / "out"))
    for r in range(n):
        got = json.loads((tmp_path / f"out.rank{r}").read_text())
        for name, expected in TORCH[f"{n}_{r}"].items():
            assert got[name] == expected, (n, r, name, got[name])
        # torch's RuntimeError: AVG of ints, bitwise ops on floats, a root outside the group
        for name in ("all_reduce_AVG_int64", "broadcast_src_out_of_range", "all_reduce_BAND_float32",
                     "all_reduce_BOR_float32", "all_reduce_BXOR_float32"):
            assert got[name] == "EXC RuntimeError", (n, r, name, got[name])
        last = n - 1
        rooted = [["T", "float32", [2], [n * (n + 1) / 2, 2.0 * n]] if r == last else "nonroot",
                  ["T", "float32", [2], [float(r), 10.0 * r]],
                  ["T", "float32", [n], [10.0 * j + r for j in range(n)]]]
        assert got["async_rooted"] == rooted, (n, r)
        assert got["all_to_all_uneven"] == [[[10.0 * j + r] * (r + 1) for j in range(n)],
                                            [10.0 * j + r for j in range(n) for _ in range(r + 1)]]
        assert got["environment"] == [r, n, r, n]
        first = n - 2
        if r < first:    # not in the group: new_group gives NON_GROUP_MEMBER, collectives no-op
            assert got["subgroup"] == [True, -1, "None"]
            continue
        assert got["subgroup"] == [
            r - first, 2, [first, last], last, 1, [float(last)],           # broadcast from last
            [float(first + 1 + last + 1)] if r == first else None,           # reduce to first
            [first, last] if r == first else None,                           # gather_object
            [10.0 * first + (r - first), 10.0 * last + (r - first)]], (n, r)  # all_to_all_single


@pytest.mark.mpi
def test_ddp_buffers_attributes_and_process_group(tmp_path):
    """torch's DDP: rank 0's buffers are broadcast before a forward whenever the previous forward
    ran with grad enabled outside no_sync (also before an eval forward under no_grad), and not
    after a no_sync forward: torch 2.13 gives running_mean [0.28, 0.37], [1.18, 0.37] on ranks
    0 and 1 here. DDP over new_group([1, 2]) averages over those two ranks only."""
    out = tmp_path / "ddp.json"
    mpirun(3, "audit_ddp.py", str(out))
    res = json.loads(out.read_text())
    first = res["eval_after_train"][0]
    assert all(each == first for each in res["eval_after_train"]), res["eval_after_train"]
    for r, mean in enumerate(res["after_no_sync"]):
        assert mean == pytest.approx([0.28 + 0.9 * r, 0.37]), res["after_no_sync"]
    assert res["attrs"] == [True, True, False, False, False, 0, "None", "None"]
    assert res["ddp_subgroup"] == [True, True]
    assert res["buffers_not_broadcast"] == [[0.0], [10.0], [20.0]]   # broadcast_buffers=False
    assert res["ignored_kept_apart"] and res["others_averaged"]


@pytest.mark.mpi
def test_collectives_into_cuda_views_reach_the_base(tmp_path):
    """Under the CUDA simulator: every collective writing into a non-contiguous "cuda" view
    updates the base tensor exactly as on "cpu" (and as torch's gloo does)."""
    out = tmp_path / "views.json"
    mpirun(2, "audit_cuda_views.py", str(out), NUMBA_ENABLE_CUDASIM="1")
    res = json.loads(out.read_text())
    assert res["cuda"] == res["cpu"], res
    assert res["cpu"]["all_reduce"] == [[0.0, 3.0, 6.0], [9.0, 12.0, 15.0]]
    assert res["cpu"]["broadcast"] == [[0.0, 2.0, 2.0], [3.0, 8.0, 5.0]]
    assert res["cpu"]["reduce_scatter_tensor"] == [[0.0, 10.0, 2.0], [3.0, 4.0, 5.0]]


# ------------------------------------------------------------------ one process
def _one_process(code):
    pytest.importorskip("mpi4py")
    p = subprocess.run([sys.executable, "-c", code], env=mpi_env(), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout.strip().splitlines()


def test_init_takes_torchs_backend_names_and_arguments():
    lines = _one_process(
        "import os\n"
        "import tinygrad_seq.distributed as dist\n"
        "for backend in ('gloo', None, 'nccl', 'cpu:gloo,cuda:nccl', dist.Backend.MPI):\n"
        "    dist.init_process_group(backend, init_method='tcp://127.0.0.1:29777', rank=0,\n"
        "                            world_size=1)\n"
        "    print(backend, dist.get_world_size(), dist.group.WORLD is not None,\n"
        "          int(os.environ['LOCAL_RANK']), os.environ['WORLD_SIZE'])\n"
        "    dist.destroy_process_group()\n"
        "print('after', dist.group.WORLD)\n"
        "for kwargs in ({'rank': 1}, {'world_size': 4}):\n"
        "    try:\n"
        "        dist.init_process_group('gloo', **kwargs)\n"
        "    except ValueError as e:\n"
        "        print('refused', 'mpiexec' in str(e), dist.is_initialized())\n")
    assert lines == ["gloo 1 True 0 1", "None 1 True 0 1", "nccl 1 True 0 1",
                     "cpu:gloo,cuda:nccl 1 True 0 1", "mpi 1 True 0 1", "after None",
                     "refused True False", "refused True False"]


def test_names_torch_programs_use():
    assert dist.group.WORLD is None and dist.GroupMember.WORLD is None   # before init
    assert repr(dist.GroupMember.NON_GROUP_MEMBER) == "GroupMember.NON_GROUP_MEMBER"
    assert (dist.ReduceOp.BAND, dist.ReduceOp.BOR, dist.ReduceOp.BXOR) == ("band", "bor", "bxor")
    assert dist.Backend("GLOO") == dist.Backend.GLOO == "gloo"
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.Backend("carrier-pigeon")
    assert dist.is_nccl_available() is False
    assert dist.is_mpi_available() is dist.is_gloo_available() is dist.is_available()
    for name in ("reduce", "gather", "scatter", "all_gather_into_tensor", "reduce_scatter",
                 "reduce_scatter_tensor", "all_to_all", "all_to_all_single", "gather_object",
                 "scatter_object_list", "new_group", "get_global_rank", "get_process_group_ranks",
                 "monitored_barrier"):
        assert callable(getattr(dist, name)), name


def test_without_a_process_group_ddp_and_sampler_raise_torchs_valueerror():
    for make in (lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)),
                 lambda: DistributedSampler(list(range(5))),
                 lambda: dist.reduce(ts.ones(2), dst=0), lambda: dist.new_group([0])):
        with pytest.raises(ValueError, match="not been initialized"):
            make()
        with pytest.raises(RuntimeError, match="init"):   # callers of the older RuntimeError
            make()


def test_cuda_set_device():
    if not ts.cuda.is_available():
        with pytest.raises(RuntimeError, match="invalid device ordinal"):
            ts.cuda.set_device(0)
    else:
        assert ts.cuda.set_device(0) is None and ts.cuda.set_device("cuda:0") is None
        with pytest.raises(RuntimeError, match="invalid device ordinal"):
            ts.cuda.set_device(1000)
    assert ts.cuda.set_device(-1) is None   # torch: a negative index does nothing
    with pytest.raises(ValueError, match="Expected a cuda device"):
        ts.cuda.set_device("cpu")
