"""Whether a product x @ W^T with few rows runs as (W @ x^T)^T (kernels/blas_cpu.swap_rows) is a
calibrated decision per class of rows: where the swap stops paying is the machine's (on Zen 4 up
to 128 rows, on Zen 3 up to 16-32); tuning.SWAP_MAX_ROWS is only the default rule."""
import json

import numpy as np
import pytest

from tinygrad_seq.kernels import blas_cpu, tuning

from test_tuning import auto  # noqa: F401  (the fixture)


@pytest.fixture
def fake_swap_times(monkeypatch):
    """The swap measured faster up to 16 rows, slower above; the classes measured, in order."""
    monkeypatch.setattr(blas_cpu, "_swap_decisions", {})
    measured = []

    def measure(rows, dtype):
        def run(candidate, timer):
            if rows not in measured:
                measured.append(rows)
            return 1.0 if (candidate["swap"] == "yes") == (rows <= 16) else 2.0
        return run
    monkeypatch.setattr(blas_cpu, "_swap_measure", measure)
    return measured


def test_the_swap_is_decided_per_class_of_rows(auto, fake_swap_times):
    big = 1 << 30
    assert blas_cpu.swap_rows(8, np.float32, big) and blas_cpu.swap_rows(16, np.float32, big)
    assert not blas_cpu.swap_rows(17, np.float32, big)    # class 32: the rule swaps, the machine not
    assert not blas_cpu.swap_rows(100, np.float32, big)   # class 128: neither
    assert fake_swap_times == [8, 16, 32, 128]
    fake_swap_times.clear()
    blas_cpu.swap_rows(30, np.float32, big)               # the same class: remembered, not measured
    assert fake_swap_times == []
    table = json.load(open(tuning.wisdom_path()))["decisions"]
    record = table["swap|dtype=float32|rows=32"]
    assert record["default"] == "swap=yes" and record["choice"] == {"swap": "no"}
    assert table["swap|dtype=float32|rows=128"]["default"] == "swap=no"
    # gemm_into follows it: x [20, 64] @ W^T, W [256, 64] C-ordered, runs as it is
    w = np.ones((256, 64), np.float32)
    assert not blas_cpu.swaps(np.ones((20, 64), np.float32), w.T)
    assert blas_cpu.swaps(np.ones((12, 64), np.float32), w.T)


def test_a_small_call_keeps_the_rule_without_measuring(auto, fake_swap_times):
    small = tuning.CALIBRATE_SWAP_MIN_MACS - 1
    assert blas_cpu.swap_rows(32, np.float32, small)      # the rule's choice up to SWAP_MAX_ROWS
    assert not blas_cpu.swap_rows(65, np.float32, small)
    assert fake_swap_times == []
    assert not blas_cpu.swap_rows(32, np.float32, 1 << 30)   # a large call of the class measures it
    assert fake_swap_times == [32]


def test_the_swap_is_forced_by_its_variable(auto, fake_swap_times, monkeypatch):
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SWAP", "yes")
    assert blas_cpu.swap_rows(100, np.float32, 1 << 30)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SWAP", "no")
    assert not blas_cpu.swap_rows(4, np.float32, 1 << 30)
    assert fake_swap_times == []
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SWAP", "maybe")
    with pytest.raises(ValueError, match="TINYGRAD_SEQ_TUNE_SWAP='maybe': expected one of yes, no"):
        blas_cpu.swap_rows(4, np.float32, 1 << 30)


def test_with_tuning_off_the_rule_decides(monkeypatch, fake_swap_times):
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "off")
    assert [blas_cpu.swap_rows(r, np.float64, 1 << 30) for r in (1, 64, 65, 128)] == [True, True, False, False]
    monkeypatch.setattr(tuning, "SWAP_MAX_ROWS", 0)        # forced off: numpy's own order
    assert not blas_cpu.swaps(np.ones((1, 8)), np.ones((16, 8)).T)
    assert fake_swap_times == []


_HOLDS_THE_LOCK = """
import os, sys
import numpy as np
from tinygrad_seq.kernels import blas_cpu, tuning
seen = []
with tuning._lock:   # as a calibration holds it while it times a kernel whose chunks run products
    blas_cpu.run_chunks(lambda c: seen.append(blas_cpu.swap_rows(100, np.float32, 1 << 30)), 2)
assert seen == [False, False], seen   # the rule's (class 128: no swap), on the worker and the caller
assert not tuning.decisions()   # nothing measured
assert [final for _, final in blas_cpu._swap_decisions.values()] == [False]   # the rule, until a large call decides

print("ok")
"""


def test_a_kernel_chunk_takes_the_rule_while_a_calibration_holds_the_lock(tmp_path):
    # a calibration timing a generated cell's forward held the tuning lock while the input
    # projection's second chunk, on a worker, asked for its swap decision and waited for the lock:
    # the caller waited for the chunk (a deadlock, 2026-12-06). A kernel's chunks never decide: on a
    # worker, nor on the caller beside the others' work.
    import os
    import subprocess
    import sys
    env = dict(os.environ, TINYGRAD_SEQ_TUNE="auto", TINYGRAD_SEQ_TUNE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _HOLDS_THE_LOCK], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_small_calls_and_chunks_read_the_decision_without_measuring(auto, fake_swap_times, monkeypatch):
    calls = []
    real = tuning.decide
    monkeypatch.setattr(tuning, "decide", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    small = tuning.CALIBRATE_SWAP_MIN_MACS - 1
    for _ in range(3):   # the rule, remembered after the first: no decide per small call
        assert blas_cpu.swap_rows(40, np.float32, small)
    assert calls == [] and fake_swap_times == []
    assert not blas_cpu.swap_rows(40, np.float32, 1 << 30)   # a large call measures the class
    assert calls == ["swap"] and fake_swap_times == [64]
    assert not blas_cpu.swap_rows(40, np.float32, small)     # ... and small calls follow it
    # a kernel's chunk in a new state of the tuning (another decision taken since) reads the
    # decision this process loaded from the wisdom file, without the lock
    monkeypatch.setattr(blas_cpu, "_swap_decisions", {})
    from tinygrad_seq.kernels import workers_cpu
    with workers_cpu.running_chunks():
        assert not blas_cpu.swap_rows(40, np.float32, 1 << 30)
    assert calls == ["swap"]
