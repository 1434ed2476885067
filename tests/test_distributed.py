"""tinygrad_seq.distributed, nn.parallel.DistributedDataParallel and data.DistributedSampler.

The tests marked `mpi` launch `mpiexec` (the Open MPI wheel's, next to this Python) on 2 or 3
processes, each bounded by a timeout; the worker scripts are in tests/mpi_scripts/. The sampler
and engine-hook tests need no mpiexec.
"""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn
from tinygrad_seq.autograd import queue_callback
from tinygrad_seq.data import DistributedSampler

from mpi_helpers import mpi_env  # noqa: E402

SCRIPTS = Path(__file__).parent / "mpi_scripts"
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def mpirun(n, script, *args, timeout=120):
    """(exit status, stdout + stderr, seconds) of `mpiexec -n N python SCRIPT ARGS`; past
    `timeout` the whole process group (mpiexec and every rank) is killed and the test fails."""
    pytest.importorskip("mpi4py")
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    cmd = [str(MPIEXEC), "--oversubscribe", "-n", str(n), sys.executable, str(SCRIPTS / script), *args]
    start = time.monotonic()
    p = subprocess.Popen(cmd, env=mpi_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail(f"the job was still running after {timeout} s:\n{out[-3000:]}")
    return p.returncode, out, time.monotonic() - start


# ------------------------------------------------------------------ DDP over MPI
@pytest.mark.mpi
@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 3])
def test_ddp_matches_one_process_on_the_whole_batch(n, tmp_path):
    """Collectives (non-contiguous all_reduce included), LSTM and GRU(lengths=) + Linear trained
    5 Adam steps (3 ranks: an uneven split of 7 samples), buckets, unused parameters, no_sync and
    checkpoint resume: see mpi_scripts/ddp_checks.py."""
    rc, out, _ = mpirun(n, "ddp_checks.py", str(tmp_path))
    assert rc == 0, out
    for check in ("collectives", "buckets and unused parameters", "no_sync", "equivalence lstm",
                  "checkpoint", "equivalence gru"):
        assert f"OK {check}" in out, out
    assert "ALL DONE" in out, out


@pytest.mark.mpi
@pytest.mark.cuda
def test_collectives_and_ddp_on_cuda_tensors():
    import importlib.util
    if importlib.util.find_spec("tinygrad_seq.backend_cuda") is None:
        pytest.skip("the cuda backend is not there yet")
    rc, out, _ = mpirun(2, "cuda_checks.py")
    assert rc == 0, out
    assert "OK cuda" in out, out


@pytest.mark.mpi
def test_a_failing_rank_ends_the_job():
    rc, out, elapsed = mpirun(3, "rank_fails.py", "1", timeout=60)
    assert rc != 0, out
    assert elapsed < 30, f"the job took {elapsed:.1f} s to end"
    assert out.count("Traceback (most recent call last)") == 1, out        # printed once
    # the traceback's last line (Open MPI's abort banner, from another process, may cut into it
    # after "ValueError") and the abort line below: once each
    assert out.count("deliberate failure on rank 1 at step 2") == 2, out
    assert ("tinygrad_seq.distributed: rank 1 of 3: uncaught ValueError: deliberate failure on "
            "rank 1 at step 2; aborting the job (MPI_Abort)") in out, out
    assert "finished" not in out, out


# ------------------------------------------------------------------ nothing hangs (failures.py)
def failures(scenario, *args):
    """2 ranks; a scenario that used to hang must now end well inside the subprocess timeout
    (its slowest case: a 3 s collective timeout plus the start of two Python processes)."""
    return mpirun(2, "failures.py", scenario, *args, timeout=90)


def aborted(out, rank, message):
    line = f"tinygrad_seq.distributed: rank {rank} of 2: {message}"
    assert line in out, out
    assert "aborting the job (MPI_Abort)" in out.split(line, 1)[1].splitlines()[0], out
    assert "finished" not in out, out


@pytest.mark.mpi
def test_a_hung_rank_ends_the_job_at_the_timeout():
    rc, out, elapsed = failures("hang")          # rank 1 sleeps 300 s; timeout=3 s
    assert rc != 0
    aborted(out, 0, "timed out after 3.0 s (timeout 0:00:03) waiting in all_reduce #1 "
                    "(float64, 4 elements)")
    assert elapsed < 60


@pytest.mark.mpi
def test_work_wait_honours_its_own_timeout():
    rc, out, elapsed = failures("wait_timeout")  # group timeout 10 min, Work.wait(2 s)
    assert rc != 0
    aborted(out, 0, "timed out after 2.0 s (timeout 0:00:02) waiting in all_reduce #1")
    assert elapsed < 60


@pytest.mark.mpi
def test_sys_exit_on_one_rank_ends_the_job_with_its_status():
    rc, out, elapsed = failures("exit3")         # rank 0 waits in DDP's gradient all-reduce
    assert rc == 3, out
    aborted(out, 1, "exited with status 3")
    assert elapsed < 60


@pytest.mark.mpi
def test_one_more_step_on_one_rank_ends_at_the_timeout_naming_both_sides():
    rc, out, elapsed = failures("extra_step")
    assert rc != 0
    assert ("rank 0 of 2: timed out after 3.0 s (timeout 0:00:03) waiting in all_reduce" in out
            or "rank 1 of 2: timed out after 3.0 s (timeout 0:00:03) waiting in barrier" in out), out
    assert "finished" not in out, out
    assert elapsed < 60


@pytest.mark.mpi
def test_a_skipped_batch_is_a_step_mismatch_on_every_rank_and_averages_nothing():
    rc, out, _ = failures("skip_batch")
    assert rc == 0, out
    msg = ("DistributedDataParallel: the ranks reduce gradients of different steps (rank 0 at "
           "step 3, rank 1 at step 4; a step is a backward that reduces gradients, or a forward "
           "in training mode with grad enabled whose backward never came)")
    for r in range(2):
        assert f"rank {r}: {msg}" in out, out
        assert f"rank {r}: grads are local" in out, out     # failures.py compares them
        assert f"rank {r}: finished" in out, out


@pytest.mark.mpi
def test_a_backward_that_raised_midway_stops_every_rank():
    rc, out, _ = failures("abandoned")
    assert rc == 0, out
    assert ("rank 0: DistributedDataParallel: the backward of step 2 on rank 1 raised after it "
            "had started reducing gradients; no gradient was averaged") in out, out
    assert ("rank 1: DistributedDataParallel: the backward of step 2 on rank 1 raised after it "
            "had started reducing gradients; the other ranks were told") in out, out


@pytest.mark.mpi
def test_collectives_of_different_sizes_or_dtypes_are_one_clear_error():
    rc, out, _ = failures("sizes")
    assert rc == 0, out
    for r in range(2):
        assert (f"rank {r}: all_reduce: the ranks passed tensors of different sizes (from 3 to 4 "
                f"elements; this rank: {3 + r})") in out, out
        assert (f"rank {r}: broadcast: the ranks passed tensors of different dtypes (this rank: "
                f"{'float32' if r else 'float64'})") in out, out
        assert f"rank {r}: finished" in out, out


@pytest.mark.mpi
def test_bool_all_reduce_type_errors_and_a_second_init_as_torch():
    rc, out, _ = mpirun(2, "collective_types.py")
    assert rc == 0, out
    for r in range(2):
        for op, want in (("sum", [True, False, True]), ("max", [True, False, True]),
                         ("product", [True, False, False]), ("min", [True, False, False])):
            assert f"rank {r}: bool {op} {want}" in out, out
        for name in ("all_reduce", "broadcast", "all_gather"):
            assert f"rank {r}: {name} TypeError True" in out, out
        assert f"rank {r}: twice ValueError trying to initialize the default process group twice!" in out, out


@pytest.mark.mpi
def test_a_parameter_frozen_on_one_rank_is_named():
    rc, out, _ = failures("frozen")
    assert rc == 0, out
    msg = ("DistributedDataParallel: the model differs across ranks: parameter '1.bias' (shape "
           "(2,)) is frozen (requires_grad=False) on rank 1 but requires grad on rank 0")
    for r in range(2):
        assert f"rank {r}: {msg}" in out, out


@pytest.mark.mpi
def test_an_input_only_one_rank_can_read_aborts_inside_abort_on_error(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("some text\n")
    rc, out, elapsed = failures("unreadable", str(path))
    assert rc == 1, out
    assert "Traceback (most recent call last)" in out, out
    aborted(out, 1, f"FileNotFoundError: [Errno 2] No such file or directory: '{path}.missing'")
    assert elapsed < 60


@pytest.mark.mpi
def test_a_cli_that_catches_the_error_and_exits_1_still_ends_the_job(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("some text\n")
    rc, out, elapsed = failures("cli_error", str(path))
    assert rc == 1, out
    assert f"prog: error: [Errno 2] No such file or directory: '{path}.missing'" in out, out
    aborted(out, 1, "exited with status 1")
    assert elapsed < 60


@pytest.mark.mpi
def test_mismatched_models_raise_on_every_rank():
    rc, out, _ = mpirun(3, "mismatch.py", timeout=60)
    assert rc == 0, out
    msg = ("the model differs across ranks: parameter '1.weight' has shape (3, 8) on rank 0 "
           "but shape (2, 8) on rank 1")
    for r in range(3):
        assert f"rank {r}: DistributedDataParallel: {msg}" in out, out


def test_ddp_uses_only_the_public_functions_of_distributed():
    import inspect
    import re
    from tinygrad_seq.nn import parallel
    src = inspect.getsource(parallel)
    used = set(re.findall(r"\b_?dist\.(\w+)", src))
    assert used and all(not name.startswith("_") for name in used), used
    import tinygrad_seq.distributed as dist
    assert used <= set(dist.__all__), used - set(dist.__all__)
    assert "mpi4py" not in src and "COMM_WORLD" not in src


# ------------------------------------------------------------------ without a process group
def test_import_without_mpi4py_says_what_to_install():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import tinygrad_seq as ts\n"
            "from tinygrad_seq.nn.parallel import DistributedDataParallel\n"
            "assert ts.distributed.is_available() in (True, False)\n"
            "assert not ts.distributed.is_initialized()\n"
            "try:\n"
            "    ts.distributed.init_process_group('mpi')\n"
            "except ImportError as e:\n"
            "    print('ERR', e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    line = p.stdout.strip()
    assert line.startswith("ERR ") and "\n" not in line, p.stdout
    assert "pip install 'tinygrad-seq[distributed]'" in line


def test_uninitialized_use_raises():
    import tinygrad_seq.distributed as dist
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):   # torch's type
        dist.all_reduce(ts.ones(2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(10)
    with pytest.raises(ValueError, match="backend"):   # "nccl" runs over MPI now, as "gloo"
        dist.init_process_group("no-such-backend")
    with pytest.raises(TypeError, match="timeout must be a datetime.timedelta"):
        dist.init_process_group("mpi", timeout="30m")
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group("mpi", timeout=timedelta(0))
    assert not dist.is_initialized()


def test_abort_on_error_outside_a_job_changes_nothing():
    """In a single process the block's exception propagates unchanged (a CLI keeps its own error
    handling), SystemExit(0) passes, and abort() is a SystemExit with the message printed."""
    import tinygrad_seq.distributed as dist
    with pytest.raises(KeyError, match="x"):
        with dist.abort_on_error():
            raise KeyError("x")

    @dist.abort_on_error()
    def leave(code):
        sys.exit(code)
    with pytest.raises(SystemExit) as e:
        leave(0)
    assert e.value.code == 0


def test_abort_outside_a_job_prints_and_exits(capsys):
    import tinygrad_seq.distributed as dist
    with pytest.raises(SystemExit) as e:
        dist.abort("no data", exit_code=4)
    assert e.value.code == 4
    assert capsys.readouterr().err == "tinygrad_seq.distributed: no data\n"


# ------------------------------------------------------------------ DistributedSampler
@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 10, 16, 23])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        ours = DistributedSampler(n, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), num_replicas=replicas, rank=rank,
                                               shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs), (n, replicas, rank, drop_last)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (8, 4, False), (2, 5, False)])
def test_sampler_shuffle_splits_one_permutation_per_epoch(n, replicas, drop_last):
    def shards(epoch):
        out = []
        for r in range(replicas):
            s = DistributedSampler(list(range(n)), num_replicas=replicas, rank=r, seed=3, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    e0, e1 = shards(0), shards(1)
    assert e0 == shards(0)                          # the same on every rank for one epoch
    assert e0 != e1 or n < 3                        # reshuffled across epochs
    flat = [i for s in e0 for i in s]
    assert all(len(s) == len(e0[0]) for s in e0)
    if drop_last:
        assert len(set(flat)) == len(flat) == (n // replicas) * replicas
    else:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // replicas) * replicas
    torch = pytest.importorskip("torch")
    generator = torch.Generator()
    generator.manual_seed(3)
    perm = torch.randperm(n, generator=generator).tolist()   # torch's order, exactly
    total = len(flat)
    padded = (perm * (total // max(n, 1) + 1))[:total]
    assert e0[1] == padded[1:total:replicas]


@pytest.mark.parametrize("n,replicas,drop_last,epoch", [(10, 3, False, 1), (23, 4, True, 5), (7, 2, False, 0)])
def test_sampler_shuffle_is_torchs(n, replicas, drop_last, epoch):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        ours = DistributedSampler(n, num_replicas=replicas, rank=rank, seed=11, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=11,
                                               drop_last=drop_last)
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs)


def test_torch_randperm_is_torchs():
    torch = pytest.importorskip("torch")
    from tinygrad_seq.data import torch_randperm
    for seed in (0, 7, 2 ** 31 + 5):
        for n in (0, 1, 2, 9, 1000, 70000):
            generator = torch.Generator()
            generator.manual_seed(seed)
            assert torch_randperm(n, seed) == torch.randperm(n, generator=generator).tolist()


def test_sampler_rejects_bad_rank():
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(10, num_replicas=3, rank=3)


# ------------------------------------------------------------------ the engine hooks DDP uses
def test_hooks_fire_once_per_parameter_and_callback_after_all():
    """On an LSTM + Linear (fused kernels, a parameter used at every time step): each parameter's
    post-accumulate hook fires once per backward with its final gradient; a callback queued from
    the first hook runs once, after every hook; a second backward shows the accumulated grad."""
    ts.manual_seed(0)
    lstm, head = nn.LSTM(3, 4).double(), nn.Linear(4, 2).double()
    params = list(lstm.parameters()) + list(head.parameters())
    seen, log = {}, []

    def hook(p):
        seen.setdefault(id(p), []).append(p.grad.numpy().copy())
        if len(log) == 0 or log[-1] == "callback":
            log.append("first hook")
            queue_callback(lambda: log.append("callback"))
        else:
            log.append("hook")

    for p in params:
        p.register_post_accumulate_grad_hook(hook)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    for rep in range(2):
        y, _ = lstm(x)
        (head(y) ** 2).sum().backward()
        assert log.count("callback") == rep + 1 and log[-1] == "callback", log
        assert len(log) == (rep + 1) * (len(params) + 1)
        for p in params:
            assert len(seen[id(p)]) == rep + 1
            np.testing.assert_array_equal(seen[id(p)][-1], p.grad.numpy())
    for p in params:
        np.testing.assert_allclose(seen[id(p)][1], 2 * seen[id(p)][0], rtol=1e-12)


def test_cpu_buffers_go_to_mpi_without_a_copy():
    from tinygrad_seq.distributed.collectives import _Staged
    base = np.arange(12.0).reshape(3, 4)
    t = ts.from_numpy(base)
    assert _Staged(t).buf is t.array                      # contiguous: MPI works on the tensor's memory
    v = ts.from_numpy(base[:, ::2])
    s = _Staged(v)
    assert s.buf is not v.array and s.buf.flags.c_contiguous
    s.buf *= 10                                           # what a reduction would write
    s.finish()
    assert (base[:, ::2] == np.arange(12.0).reshape(3, 4)[:, ::2] * 10).all()
    assert (base[:, 1::2] == np.arange(12.0).reshape(3, 4)[:, 1::2]).all()


@pytest.mark.mpi
def test_batch_isend_irecv_and_collectives_leave_the_version():
    status, out, _ = mpirun(2, "p2p_batch_and_versions.py", timeout=90)
    assert status == 0 and out.count("OK") == 2, out[-3000:]


def test_p2p_op_checks_and_node_local_rank(monkeypatch):
    import tinygrad_seq.distributed as dist
    with pytest.raises(ValueError, match="Invalid ``op``"):
        dist.P2POp(dist.all_reduce, ts.ones(1), 0)
    with pytest.raises(ValueError, match="P2POp"):
        dist.batch_isend_irecv([1])
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not in the environment"):
        dist.get_node_local_rank()
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert dist.get_node_local_rank() == 1
