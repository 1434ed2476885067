"""DistributedDataParallel's communication hooks and join(), tinygrad_seq.futures, against
torch 2.13.

The multi-process tests launch `mpiexec` (the Open MPI wheel's, next to this Python) on the
scripts tests/mpi_scripts/ddp_comm_hooks_checks.py and ddp_join_checks.py twice: once on
tinygrad_seq (MPI) and once on torch's gloo DDP, the same program started the same way, and
compare every rank's gradients, parameters, buffers and error messages. The Future tests run
the same calls on torch.futures.Future in this process.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mpi_helpers import mpi_env  # noqa: E402

SCRIPTS = Path(__file__).parent / "mpi_scripts"
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(n, script, library, out, timeout=180):
    """`mpiexec -n N python SCRIPT LIBRARY OUT PORT`; every rank's JSON results, by rank."""
    cmd = [str(MPIEXEC), "--oversubscribe", "-n", str(n), sys.executable, str(SCRIPTS / script),
           library, str(out), str(_free_port())]
    p = subprocess.Popen(cmd, env=mpi_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        text, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        text, _ = p.communicate()
        pytest.fail(f"{library} {script}: the job was still running after {timeout} s:\n{text[-3000:]}")
    assert p.returncode == 0, f"{library} {script}:\n{text[-4000:]}"
    return [json.loads(Path(f"{out}.rank{r}").read_text()) for r in range(n)]


def both(n, script, tmp_path_factory):
    """(tinygrad_seq's results, torch's results) of `script` on n ranks."""
    pytest.importorskip("mpi4py")
    pytest.importorskip("torch")
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    where = tmp_path_factory.mktemp(script.split(".")[0])
    return (_run(n, script, "ts", where / "ts"), _run(n, script, "torch", where / "torch"))


def close(ours, theirs, what, rtol=1e-9, atol=1e-12):
    a, b = np.array(_flat(ours)), np.array(_flat(theirs))
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _flat(x):
    return [v for e in x for v in _flat(e)] if isinstance(x, list) else [float(x)]


@pytest.fixture(scope="module")
def hooks_runs(tmp_path_factory):
    return both(2, "ddp_comm_hooks_checks.py", tmp_path_factory)


# ------------------------------------------------------------------ comm hooks, 2 ranks
@pytest.mark.mpi
def test_comm_hooks_give_torchs_gradients(hooks_runs):
    """3 SGD steps: no hook, allreduce_hook, a user hook doubling the mean in future.then(), a
    hook registered after the first backward (torch allows it), on float64; fp16_compress_hook
    (also through DDPCommHookType) on float32: every step's gradients and the final weights."""
    ours, torch_ = hooks_runs
    for r in range(2):
        for name in ("no_hook", "allreduce_hook", "doubling_hook", "registered_after_backward"):
            close(ours[r][name], torch_[r][name], f"rank {r} {name}")
        for name in ("fp16_compress_hook", "fp16_by_type"):   # float16's precision on the wire
            close(ours[r][name], torch_[r][name], f"rank {r} {name}", rtol=2e-3, atol=1e-4)
        assert ours[r]["doubling_hook_called"] and torch_[r]["doubling_hook_called"]
        unused = [g is None for g in ours[r]["unused_with_hook"]]
        assert unused == [g is None for g in torch_[r]["unused_with_hook"]] == [False, False, True, True]
        close(ours[r]["unused_with_hook"][:2], torch_[r]["unused_with_hook"][:2], "unused_with_hook")
        doubled = np.array(_flat(ours[r]["doubling_hook"][0]))
        np.testing.assert_allclose(doubled, 2 * np.array(_flat(ours[r]["allreduce_hook"][0])), rtol=1e-12)


@pytest.mark.mpi
def test_comm_hook_registration_errors_are_torchs(hooks_runs):
    ours, torch_ = hooks_runs
    for r in range(2):
        for name in ("register_twice", "not_callable", "bucket_annotation"):
            assert ours[r][name] == torch_[r][name], (name, ours[r][name], torch_[r][name])
        assert ours[r]["register_twice"].startswith("RuntimeError: register_comm_hook or ")
        assert ours[r]["return_annotation"].startswith("ValueError: Communication hook: return "
                                                       "annotation should be ")
        assert torch_[r]["return_annotation"].startswith(ours[r]["return_annotation"][:60])
        # torch refuses bf16 without NCCL; here it runs (emulated, see default_hooks.py)
        assert torch_[r]["bf16_registration"].startswith("TypeError: BF16 all reduce")
        assert ours[r]["bf16_registration"] == "no error"


@pytest.mark.mpi
def test_bf16_compress_hook_gives_torchs_bfloat16_sums(hooks_runs):
    """.grad = bf16(bf16(g0) / 2) + bf16(bf16(g1) / 2) in bfloat16 arithmetic (what NCCL's
    bfloat16 all-reduce gives torch's hook on 2 ranks), from each rank's local gradients."""
    import torch
    ours, _ = hooks_runs
    for r in range(2):
        local, got = ours[r]["bf16"]["local"], ours[r]["bf16"]["ddp"]
        for i, g in enumerate(got):
            halves = [torch.tensor(local[k][i], dtype=torch.float32).to(torch.bfloat16) / 2
                      for k in range(2)]
            expected = (halves[0] + halves[1]).float().numpy()
            np.testing.assert_array_equal(np.array(g, np.float32), expected, err_msg=f"rank {r} param {i}")


@pytest.mark.mpi
def test_grad_bucket_is_torchs_interface(hooks_runs):
    """index, is_last, buffer (the gradients only: 24, 7 and 35 elements in 200-byte buckets),
    gradients (views shaped like the parameters), parameters (the model's own); the reduced
    values equal those without a hook."""
    ours, _ = hooks_runs
    for r in range(2):
        assert ours[r]["grad_buckets"] == [[0, False, 24, 24, True, True], [1, False, 7, 7, True, True],
                                           [2, True, 35, 35, True, True]]
        close(ours[r]["small_buckets"][0], ours[r]["no_hook"][0], "small buckets")


@pytest.mark.mpi
def test_hook_errors_and_the_step_check_with_a_hook(hooks_runs):
    """A hook returning no future or a future of the wrong size raises (torch 2.13 crashes with
    a segmentation fault on the first and accepts the second); ranks out of step still raise
    the step check's error with a hook registered."""
    ours, _ = hooks_runs
    for r in range(2):
        assert ours[r]["returns_none"] == (
            "RuntimeError: DDP communication hook's callback must return a tinygrad_seq.futures."
            "Future (torch.futures.Future) object, but got builtins.NoneType (from the hook '<lambda>')")
        assert ours[r]["wrong_size"] == (
            "RuntimeError: DDP communication hook: the future of bucket 0 holds a tensor of 67 "
            "elements (shape (67,)); the bucket has 66 (the gradients of 4 parameters)")
        assert ours[r]["hook_out_of_step"].startswith(
            "RuntimeError: DistributedDataParallel: the ranks reduce gradients of different steps "
            "(rank 0 at step 1, rank 1 at step 2;"), ours[r]["hook_out_of_step"]


# ------------------------------------------------------------------ join, 2 and 3 ranks
@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_join_with_uneven_inputs_matches_torch(n, tmp_path_factory):
    """Ranks with 5, 2 (and 4) batches of a Linear-BatchNorm-Linear model inside ddp.join():
    every step's gradients on every rank, the final parameters and buffers (the last joiner's,
    on every rank) and 2 more even steps after the context, for divide_by_initial_world_size
    True and False and with allreduce_hook on 3 buckets; throw_on_early_termination raises
    torch's errors on every rank after the same steps; enable=False; Join([]) is torch's error."""
    ours, torch_ = both(n, "ddp_join_checks.py", tmp_path_factory)
    for r in range(n):
        for name, value in torch_[r].items():
            if isinstance(value, list):
                close(ours[r][name], value, f"rank {r} {name}")
            else:
                assert ours[r][name] == value, (r, name, ours[r][name], value)
        finals = [ours[k]["divide_True_final"] for k in range(n)]
        assert all(f == finals[0] for f in finals)   # one model on every rank after join
    assert ours[1]["throw"] == "RuntimeError: Rank 1 exhausted all inputs."
    assert ours[0]["throw"] == ("RuntimeError: Detected at least one rank that exhausted inputs. "
                                "Throwing across all ranks.")


# ------------------------------------------------------------------ one process
def test_futures_behave_as_torchs():
    torch = pytest.importorskip("torch")
    import tinygrad_seq as ts

    def story(futures):
        out = []
        f = futures.Future()
        out.append(f.done())
        try:
            f.value()
        except RuntimeError:
            out.append("value before completion: RuntimeError")
        g = f.then(lambda fut: fut.value() + 1)
        f.set_result(3)
        out += [f.done(), f.wait(), f.value(), g.wait()]
        try:
            f.set_result(4)
        except RuntimeError as e:
            out.append(str(e))
        h = futures.Future()
        h2 = h.then(lambda fut: fut.value() * 2)
        h.set_exception(ValueError("boom"))
        for fut in (h, h2):
            try:
                fut.wait()
            except Exception as e:   # noqa: BLE001
                out.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")
        try:
            futures.Future().set_exception(3)
        except AssertionError as e:
            out.append(str(e))
        out.append([x.value() for x in futures.collect_all([f, g]).wait()])
        out.append(futures.wait_all([f, g]))
        late = futures.Future()
        threading.Thread(target=lambda: (time.sleep(0.05), late.set_result(7))).start()
        out.append(late.wait())
        calls = []
        f.add_done_callback(lambda fut: calls.append(fut.value()))
        out.append(calls)
        return out

    assert story(ts.futures) == story(torch.futures)


def test_round_to_bfloat16_is_torchs_conversion():
    torch = pytest.importorskip("torch")
    from tinygrad_seq.distributed.algorithms.ddp_comm_hooks.default_hooks import round_to_bfloat16
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=1000) * 10.0 ** rng.integers(-30, 30, 1000),
                        [0.0, -0.0, np.inf, -np.inf, 3.4e38, -3.4e38, 1e-40, 1.00390625,
                         1.01171875, 1.0 + 2 ** -9, 1.0 + 3 * 2 ** -9]]).astype(np.float32)
    expected = torch.from_numpy(x).to(torch.bfloat16).float().numpy()
    np.testing.assert_array_equal(round_to_bfloat16(x), expected)
    assert np.isnan(round_to_bfloat16(np.array([np.nan], np.float32)))[0]


def test_join_refuses_what_torch_refuses():
    pytest.importorskip("mpi4py")
    from tinygrad_seq.distributed.algorithms.join import Join, Joinable, JoinHook
    with pytest.raises(ValueError, match="requires at least one joinable"):
        Join([])
    with pytest.raises(TypeError, match="is not a Joinable"):
        Join([object()])
    with pytest.raises(AssertionError, match="calls the ``Joinable`` constructor"):
        Join.notify_join_context(object())
    with pytest.raises(TypeError, match="abstract"):
        Joinable()
    assert JoinHook().main_hook() is None and JoinHook().post_hook(True) is None
