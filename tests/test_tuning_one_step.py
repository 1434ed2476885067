"""A one-step call (a decoder's step) is a calibration shape class of its own (kernels/steps_cpu.py
time_loop_plan, one_step=): one thread measured against the split, the ONE_STEP_* thresholds only
the default rule; the kernels' thread count follows the plan."""
import json

import numpy as np
import pytest

from tinygrad_seq.kernels import tuning

from test_tuning import FakeClock, auto  # noqa: F401  (the fixture)
from threads_helpers import rerun_with_two_threads


def test_a_one_step_call_is_a_shape_class_of_its_own(auto, monkeypatch):
    # seq2seq: the encoder's whole sequences (B=32, H=256) chose the batch split; the decoder's
    # one-step calls of the same batch and hidden size must not inherit it (their units split
    # meets no barrier), nor overwrite the encoder's decision
    from tinygrad_seq.kernels import steps_cpu
    monkeypatch.setattr(steps_cpu, "_plans", {})
    big = tuning.CALIBRATE_MIN_MACS

    def run(plan, timer):   # on whole sequences the batch split is faster, on one step the units split
        start = timer()
        faster = "units" if "one_step_threads" in plan else "batch"
        timer.now += 1.0 if plan["split"] == faster else 2.0
        return timer() - start

    clock = FakeClock()
    seq = steps_cpu.time_loop_plan("lstm", 32, 256, np.float32, 2, big, lambda p, t: run(p, clock), True)
    assert seq["split"] == "batch" and "one_step_threads" not in seq
    one = steps_cpu.time_loop_plan("lstm", 32, 256, np.float32, 2, big // 4, lambda p, t: run(p, clock), True,
                                   one_step=(320, 2))
    assert one["split"] == "units" and one["one_step_threads"] == "all"
    table = json.load(open(tuning.wisdom_path()))["decisions"]
    assert sorted(k for k in table if "cell=lstm" in k) == [
        "time_loop|batch=32|cell=lstm|dtype=float32|hidden=256|n_in=320|steps=1|threads=2",
        "time_loop|batch=32|cell=lstm|dtype=float32|hidden=256|threads=2"]


@pytest.mark.parametrize("rule_threads", [1, 2])
def test_a_one_step_call_measures_one_thread_against_the_split(auto, monkeypatch, rule_threads):
    # the ONE_STEP_* thresholds are one machine's measurement (GRU B=16 H=256: split 1.15x slower
    # one day, 1.22x faster another): a one-step class on two threads is calibrated whatever its
    # size, one thread a candidate beside the split, the rule's choice first; each timing runs
    # several calls after an untimed one (back to back, as a decoder's steps run)
    from tinygrad_seq.kernels import steps_cpu
    monkeypatch.setattr(steps_cpu, "_plans", {})
    clock, seen = FakeClock(), []

    def run(plan, timer):
        seen.append(plan["one_step_threads"])
        start = timer()
        timer.now += 1.0 if plan["one_step_threads"] == "one" else 1.5
        return timer() - start

    macs = 1 << 22   # far below CALIBRATE_MIN_MACS: a whole sequence this size is not measured
    plan = steps_cpu.time_loop_plan("gru", 16, 256, np.float32, 2, macs, lambda p, t: run(p, clock),
                                    one_step=(256, rule_threads))
    assert plan["one_step_threads"] == "one" and plan["split"] == "batch"
    assert seen[0] == ("one" if rule_threads == 1 else "all")   # the default (the rule's) is run first
    record = json.load(open(tuning.wisdom_path()))["decisions"][
        "time_loop|batch=16|cell=gru|dtype=float32|hidden=256|n_in=256|steps=1|threads=2"]
    assert record["default"].endswith(f"one_step_threads={'one' if rule_threads == 1 else 'all'}")
    assert len(record["ms"]) == 4 and all(ms == 4000.0 for label, ms in record["ms"].items() if "=one" in label)
    # a variable forces it, as every part of a decision
    monkeypatch.setattr(steps_cpu, "_plans", {})
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ONE_STEP_THREADS", "all")
    forced = steps_cpu.time_loop_plan("gru", 16, 256, np.float32, 2, macs, lambda p, t: run(p, clock),
                                      one_step=(256, rule_threads))
    assert forced["one_step_threads"] == "all"


def test_kernel_threads_follow_a_one_step_plan(request):
    # "one": one thread whatever the size; "all": every thread even below the one-step threshold;
    # no such part (a whole sequence's plan): the thresholds (two threads forced: a fresh process
    # when this one has one)
    import numba
    from tinygrad_seq.kernels import blas_cpu
    if rerun_with_two_threads(request):
        return
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        small, big = tuning.PARALLEL_MIN_MACS, tuning.ONE_STEP_PARALLEL_MIN_MACS
        for macs, plan, expected in ((small, {"one_step_threads": "all"}, 2), (big, {"one_step_threads": "one"}, 1),
                                     (small, {}, 1), (big, {}, 2), (small - 1, {"one_step_threads": "all"}, 1)):
            with blas_cpu.kernel_threads(1, 32, macs, plan=plan) as n_chunks:
                assert n_chunks == expected, (macs, plan)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("swapped", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_project_gate_units_writes_each_chunks_units_of_every_gate(swapped, dtype, monkeypatch):
    # a one-step call's units split: chunk c projects units c*hc..(c+1)*hc-1 of each gate, in one
    # nogil call, directly or as (W x^T)^T as blas_cpu.swaps decides
    from tinygrad_seq.kernels import blas_cpu, steps_cpu
    monkeypatch.setattr(blas_cpu, "swaps", lambda a, b: swapped)
    rng = np.random.default_rng(0)
    batch, n_in, hidden, gates, chunks = 5, 7, 8, 4, 2
    x = rng.standard_normal((1, batch, n_in)).astype(dtype)
    w_ih = rng.standard_normal((gates * hidden, n_in)).astype(dtype)
    act = np.full((1, batch, gates * hidden), np.nan, dtype)
    hc = hidden // chunks
    steps_cpu.project_gate_units(x, w_ih, act, 0, hc, gates)
    want = x[0] @ w_ih.T
    cols = np.concatenate([np.arange(g * hidden, g * hidden + hc) for g in range(gates)])
    np.testing.assert_allclose(act[0][:, cols], want[:, cols], rtol=1e-5)
    assert np.isnan(np.delete(act[0], cols, axis=1)).all()   # the other chunk's units untouched
    steps_cpu.project_gate_units(x, w_ih, act, 1, hc, gates)
    np.testing.assert_allclose(act[0], want, rtol=1e-5)
