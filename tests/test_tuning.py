"""kernels/tuning.py: environment overrides, the wisdom file (written, read, a corrupt one
replaced), calibration picking the faster of fake alternatives (fake timers, no real timing), and
every plan the calibration can choose giving the same numbers as the others and as numpy."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_seq.kernels import compile_probe, gru_cpu, tuning, weight_grads_cpu

from test_kernels_cpu import assert_all_close, make_case, run_both
from threads_helpers import rerun_with_two_threads

CANDIDATES = [{"split": "batch"}, {"split": "units"}]


class FakeClock:
    """A timer that moves only when a fake kernel 'runs'."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def fake_measure(cost, calls=None):
    """measure(candidate, timer): a run of `candidate` takes cost[split] seconds on the fake clock."""
    def measure(candidate, timer):
        if calls is not None:
            calls.append(candidate["split"])
        start = timer()
        timer.now += cost[candidate["split"]]
        return timer() - start
    return measure


def test_calibration_rounds_alternate_their_order(auto):
    # every other round runs the candidates in reverse: with equal costs and a penalty on whichever
    # runs first in a round (a position effect), the default is kept; rounds in one fixed order
    # would always charge it to the default and pick the other
    calls = []
    clock = FakeClock()

    def measure(candidate, timer):
        calls.append(candidate["split"])
        first_in_round = len(calls) > len(CANDIDATES) and (len(calls) - len(CANDIDATES)) % len(CANDIDATES) == 1
        start = timer()
        timer.now += 1.2 if first_in_round else 1.0
        return timer() - start

    choice = tuning.decide("t", dict(b=9), CANDIDATES, measure, True, clock)
    assert choice == {"split": "batch"}
    assert calls[2:6] == ["batch", "units", "units", "batch"]
    assert tuning.CALIBRATE_REPEATS % 2 == 0


@pytest.fixture
def auto(tmp_path, monkeypatch):
    """Calibration on, the wisdom file in a fresh folder, nothing held in memory."""
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "auto")
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_DIR", str(tmp_path))
    monkeypatch.setattr(tuning, "_decisions", {})
    return tmp_path


def test_calibration_picks_the_faster_alternative(auto):
    calls = []
    clock = FakeClock()
    choice = tuning.decide("t", dict(b=1), CANDIDATES, fake_measure({"batch": 2.0, "units": 1.0}, calls), True, clock)
    assert choice == {"split": "units"}
    assert calls.count("batch") == calls.count("units") == 1 + tuning.CALIBRATE_REPEATS
    # the default (first) stays when the other is faster by less than the margin
    choice = tuning.decide("t", dict(b=2), CANDIDATES, fake_measure({"batch": 1.0, "units": 0.98}), True, clock)
    assert choice == {"split": "batch"}
    # and when the default is the faster one
    choice = tuning.decide("t", dict(b=3), CANDIDATES, fake_measure({"batch": 1.0, "units": 3.0}), True, clock)
    assert choice == {"split": "batch"}


def test_calibration_compares_within_rounds(auto):
    # the host's speed drifts: in one round everything runs twice as fast. Scored by best times,
    # "units" (1.2x the default in every round) would win on its fast round; scored by the ratio
    # to the default within each round it loses
    clock = FakeClock()
    # untimed runs, then rounds of (batch, units) and (units, batch) in turn: units runs fast in
    # the second round
    speed = iter([1, 1] + [1, 1, 0.4, 1, 1, 1, 1, 1, 1, 1, 1, 1])

    def drifting(candidate, timer):
        start = timer()
        timer.now += {"batch": 1.0, "units": 1.2}[candidate["split"]] * next(speed)
        return timer() - start

    assert tuning.decide("t", dict(b=4), CANDIDATES, drifting, True, clock) == {"split": "batch"}


def test_two_close_alternatives_meet_in_a_runoff(auto):
    # both alternatives beat the default by far; "rows" looks faster in the first rounds (the
    # host slowed "units" then), and the runoff of the two alone, where "units" is the faster
    # every time, picks "units"
    three = [{"split": "batch"}, {"split": "rows"}, {"split": "units"}]
    calls = []
    clock = FakeClock()
    first_rounds = len(three) * (1 + tuning.CALIBRATE_REPEATS)

    def measure(candidate, timer):
        calls.append(candidate["split"])
        slowed = len(calls) <= first_rounds and candidate["split"] == "units"
        start = timer()
        timer.now += {"batch": 2.0, "rows": 1.05, "units": 1.0}[candidate["split"]] * (1.2 if slowed else 1.0)
        return timer() - start

    assert tuning.decide("t", dict(b=5), three, measure, True, clock) == {"split": "units"}
    runoff = calls[first_rounds:]
    assert sorted(set(runoff)) == ["rows", "units"] and len(runoff) == 2 * tuning.CALIBRATE_REPEATS
    # no runoff when one alternative is clearly the faster
    calls.clear()
    far = fake_measure({"batch": 2.0, "rows": 1.6, "units": 1.0}, calls)
    assert tuning.decide("t", dict(b=6), three, far, True, clock) == {"split": "units"}
    assert len(calls) == first_rounds


def test_calibration_runs_more_steps_when_a_step_is_short():
    # 64 steps below 2^23 multiply-adds a step (a call's fixed costs would weigh on 8), never
    # more than the sequence has
    assert tuning.calibration_steps(200, 1 << 20) == tuning.CALIBRATE_STEPS_SHORT == 64
    assert tuning.calibration_steps(200, 1 << 24) == tuning.CALIBRATE_STEPS == 8
    assert tuning.calibration_steps(5, 1 << 20) == 5


def test_decision_is_written_and_read_back(auto):
    clock = FakeClock()
    tuning.decide("t", dict(b=1), CANDIDATES, fake_measure({"batch": 2.0, "units": 1.0}), True, clock)
    path = tuning.wisdom_path()
    assert os.path.dirname(path) == str(auto)
    data = json.load(open(path))
    record = data["decisions"]["t|b=1"]
    assert record["choice"] == {"split": "units"} and record["ms"] == {"split=batch": 2000.0, "split=units": 1000.0}
    assert data["machine"]["threads"] >= 1 and data["machine"]["cpu_model"]
    tuning._decisions.clear()  # a new process: the file is read, nothing measured

    def never(candidate, timer):
        raise AssertionError("measured again")

    assert tuning.decide("t", dict(b=1), CANDIDATES, never, True, clock) == {"split": "units"}


def test_corrupt_wisdom_file_is_ignored_with_a_warning_and_rewritten(auto):
    path = tuning.wisdom_path()
    with open(path, "w") as f:
        f.write("{not json")
    with pytest.warns(RuntimeWarning, match="ignoring the unreadable tuning file"):
        choice = tuning.decide("t", dict(b=1), CANDIDATES, fake_measure({"batch": 2.0, "units": 1.0}), True,
                               FakeClock())
    assert choice == {"split": "units"}
    assert json.load(open(path))["decisions"]["t|b=1"]["choice"] == {"split": "units"}
    tuning._decisions.clear()
    with open(path, "w") as f:
        json.dump({"decisions": {"t|b=1": {"choice": "units"}}}, f)  # valid JSON, wrong layout
    with pytest.warns(RuntimeWarning, match="ignoring"):
        tuning.decide("t", dict(b=1), CANDIDATES, fake_measure({"batch": 1.0, "units": 2.0}), True, FakeClock())
    assert json.load(open(path))["decisions"]["t|b=1"]["choice"] == {"split": "batch"}


def test_a_decision_taken_under_a_forced_part_is_not_kept(auto, monkeypatch):
    # TINYGRAD_SEQ_TUNE_STEP_PRODUCT=loop narrows three candidates to two: they are measured,
    # but the winner among them is not written as this machine's decision, and a decision on
    # disk that did not measure every candidate offered now is measured again
    three = [dict(split="batch", step_product="loop"), dict(split="batch", step_product="blas"),
             dict(split="units", step_product="loop")]
    clock = FakeClock()
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_STEP_PRODUCT", "loop")
    choice = tuning.decide("t", dict(b=1), three, fake_measure({"batch": 2.0, "units": 1.0}), True, clock)
    assert choice == dict(split="units", step_product="loop")
    path = tuning.wisdom_path()
    assert not os.path.exists(path) or "t|b=1" not in json.load(open(path)).get("decisions", {})
    monkeypatch.delenv("TINYGRAD_SEQ_TUNE_STEP_PRODUCT")
    calls = []
    choice = tuning.decide("t", dict(b=1), three, fake_measure({"batch": 1.0, "units": 3.0}, calls), True, clock)
    assert choice == dict(split="batch", step_product="loop") and calls   # measured, all three
    record = json.load(open(path))["decisions"]["t|b=1"]
    assert len(record["ms"]) == 3
    # a record from an older file that measured fewer candidates is measured again
    record["ms"] = {"split=units,step_product=loop": 1.0}
    record["choice"] = dict(split="units", step_product="loop")
    json.dump({"decisions": {"t|b=1": record}, "machine": json.load(open(path))["machine"]}, open(path, "w"))
    monkeypatch.setattr(tuning, "_decisions", {})
    calls.clear()
    choice = tuning.decide("t", dict(b=1), three, fake_measure({"batch": 1.0, "units": 3.0}, calls), True, clock)
    assert choice == dict(split="batch", step_product="loop") and calls


def test_environment_override_wins(auto, monkeypatch):
    clock = FakeClock()
    tuning.decide("t", dict(b=1), CANDIDATES, fake_measure({"batch": 2.0, "units": 1.0}), True, clock)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "batch")  # against the decision on disk
    assert tuning.decide("t", dict(b=1), CANDIDATES, fake_measure({"batch": 2.0, "units": 1.0}), True,
                         clock) == {"split": "batch"}
    # a value this call does not offer leaves its candidates; an unknown one is an error
    assert tuning.decide("t", dict(b=1), [{"split": "units"}], None, True, clock) == {"split": "units"}
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "diagonal")
    with pytest.raises(ValueError, match="TINYGRAD_SEQ_TUNE_SPLIT='diagonal': expected one of batch, units"):
        tuning.decide("t", dict(b=1), CANDIDATES, None, True, clock)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_PARALLEL_MIN_MACS", "123")
    # twice: the first read of a name finds its variable's key, the next read it directly
    assert tuning.setting("PARALLEL_MIN_MACS") == tuning.setting("PARALLEL_MIN_MACS") == 123
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_PARALLEL_MIN_MACS", "many")
    for _ in range(2):
        with pytest.raises(ValueError, match="TINYGRAD_SEQ_TUNE_PARALLEL_MIN_MACS='many'"):
            tuning.setting("PARALLEL_MIN_MACS")
    monkeypatch.delenv("TINYGRAD_SEQ_TUNE_PARALLEL_MIN_MACS")
    assert tuning.setting("PARALLEL_MIN_MACS") == tuning.PARALLEL_MIN_MACS
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "sometimes")
    with pytest.raises(ValueError, match="TINYGRAD_SEQ_TUNE='sometimes'"):
        tuning.mode()


def test_modes_off_and_cached_never_measure(auto, monkeypatch):
    def never(candidate, timer):
        raise AssertionError("measured")

    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "off")
    assert tuning.decide("t", dict(b=1), CANDIDATES, never) == {"split": "batch"}
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "cached")
    assert tuning.decide("t", dict(b=1), CANDIDATES, never) == {"split": "batch"}
    assert not os.path.exists(tuning.wisdom_path())
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "auto")
    assert tuning.decide("t", dict(b=1), CANDIDATES, never, worth_measuring=False) == {"split": "batch"}


def test_kernel_calibration_records_every_candidate(auto, monkeypatch):
    # a real (tiny) calibration of the time loop and of the weight gradients: it writes one
    # record per shape class with a time for every candidate; what it picks is not asserted
    monkeypatch.setattr(tuning, "CALIBRATE_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "CALIBRATE_REPEATS", 1)
    monkeypatch.setattr(tuning, "CALIBRATE_COMPILES", 1)   # every candidate, compiled here or not
    plan = gru_cpu._plan(20, 12, 16, 16, np.float32)
    assert plan["split"] == "batch" and plan["step_product"] in ("loop", "blas")
    split = weight_grads_cpu.gradient_split(4096, 48, 16, 16, 2, np.float32)
    assert split in ("product", "rows")
    table = json.load(open(tuning.wisdom_path()))["decisions"]
    gru = [r for k, r in table.items() if k.startswith("time_loop|") and "cell=gru" in k]
    assert len(gru) == 1 and set(gru[0]["ms"]) == {"split=batch,step_product=loop", "split=batch,step_product=blas"}
    grad = [r for k, r in table.items() if k.startswith("weight_gradients|")]
    assert len(grad) == 1 and set(grad[0]["ms"]) == {"dw_split=product", "dw_split=rows"}


def _kernel_in_the_package():
    """A fresh @njit function that counts as a tinygrad_seq kernel (its module's name), not compiled yet."""
    import numba

    def kernel(x):
        return x + 1
    kernel.__module__ = "tinygrad_seq.kernels.probe_test"
    return numba.njit(kernel)


def test_a_first_run_calibration_leaves_out_candidates_that_would_compile(auto, monkeypatch):
    # a candidate other than the default whose kernel is not compiled is not compiled only to be
    # timed (a first LSTM forward + backward at H=256 spent 11 s so): its probe stops at the
    # compile, no compile notice is given, and the record lists it as unmeasured; the record then
    # counts as complete for later processes, until CALIBRATE_COMPILES=1 (the tune command) measures it
    from tinygrad_seq.kernels import compile_notice
    uncompiled = _kernel_in_the_package()
    cost = {"batch": 2.0, "units": 0.5, "rows": 1.0}
    calls = []

    def measure(candidate, timer):
        calls.append(candidate["split"])
        if candidate["split"] == "units":
            compile_notice.announce("the probe's kernel", np.dtype(np.float32), (uncompiled,))
            uncompiled(1.0)
        return fake_measure(cost)(candidate, timer)

    candidates = CANDIDATES + [{"split": "rows"}]
    clock = FakeClock()
    assert tuning.decide("t", dict(b=2), candidates, measure, True, clock, compiled_only=True) == {"split": "rows"}
    assert calls.count("units") == 1 and len(uncompiled.overloads) == 0   # the probe only: nothing compiled
    # the notice neither given nor marked as given: the call that compiles it later says so
    assert ("the probe's kernel", np.dtype(np.float32)) not in compile_notice._checked
    record = json.load(open(tuning.wisdom_path()))["decisions"]["t|b=2"]
    assert set(record["ms"]) == {"split=batch", "split=rows"} and record["unmeasured"] == ["split=units"]
    tuning._decisions.clear()   # a new process reads the record and measures nothing

    def never(candidate, timer):
        raise AssertionError("measured again")

    assert tuning.decide("t", dict(b=2), candidates, never, True, clock, compiled_only=True) == {"split": "rows"}
    monkeypatch.setattr(tuning, "CALIBRATE_COMPILES", 1)
    calls.clear()
    assert tuning.decide("t", dict(b=2), candidates, measure, True, clock, compiled_only=True) == {"split": "units"}
    assert "units" in calls and len(uncompiled.overloads) == 1
    assert ("the probe's kernel", np.dtype(np.float32)) in compile_notice._checked
    record = json.load(open(tuning.wisdom_path()))["decisions"]["t|b=2"]
    assert set(record["ms"]) == {"split=batch", "split=units", "split=rows"} and "unmeasured" not in record


def test_a_probe_leaves_other_packages_and_threads_compiling(auto):
    # only the package's kernels, in the probing thread and the kernels' workers, are refused
    import threading

    import numba

    def other(x):
        return x * 2
    other_kernel = numba.njit(other)   # this test module's: compiles inside the probe
    ours = _kernel_in_the_package()
    outcome = []
    with compile_probe.compile_probe():
        assert other_kernel(2.0) == 4.0
        with pytest.raises(compile_probe.NeedsCompile, match="probe_test.kernel is not compiled"):
            ours(1.0)
        thread = threading.Thread(target=lambda: outcome.append(ours(1.0)), name="user-thread")
        thread.start()
        thread.join()
    assert outcome == [2.0] and not compile_probe.probing()


PLANS = [dict(split=s, step_product=p) for s in ("batch", "units") for p in ("loop", "blas")]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_plan_gives_the_same_numbers(cell, dtype, monkeypatch, request):
    # each choice the calibration can make (time-loop split x step product x weight-gradient
    # split), forced by its environment variable on two threads: equal to each other to rounding
    # and to the plain-numpy reference (padded sequences, both directions)
    import numba

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "UNITS_SPLIT_BYTES", 0)
    arrays, lengths = make_case(cell, seq_len=5, batch=12, n_in=10, hidden=8, seed=3, dtype=dtype)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        for reverse in (False, True):
            results = []
            for plan in PLANS:
                for dw_split in ("product", "rows"):
                    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", plan["split"])
                    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_STEP_PRODUCT", plan["step_product"])
                    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_DW_SPLIT", dw_split)
                    (fwd, bwd), (ref_fwd, ref_bwd) = run_both(cell, arrays, lengths, reverse)
                    assert_all_close(fwd, ref_fwd, dtype, ("y", "h_n", "c_n"))
                    assert_all_close(bwd, ref_bwd, dtype, ("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh"))
                    results.append(fwd + bwd)
            tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
            for other in results[1:]:
                for got, ref in zip(other, results[0]):
                    np.testing.assert_allclose(got, ref, **tol)
    finally:
        numba.set_num_threads(before)


def test_tune_command_prints_its_choices(tmp_path):
    env = dict(os.environ, TINYGRAD_SEQ_TUNE_DIR=str(tmp_path), TINYGRAD_SEQ_TUNE_CALIBRATE_REPEATS="1",
               TINYGRAD_SEQ_TUNE_CALIBRATE_SPLIT_SAMPLE_S="0.0001")
    out = subprocess.run([sys.executable, "-m", "tinygrad_seq.tune", "--cells", "rnn", "--batches", "12",
                          "--hidden", "16", "--steps", "8"], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "time_loop|" in out.stdout and "cell=rnn" in out.stdout and "->" in out.stdout
    import numba
    if numba.config.NUMBA_NUM_THREADS > 1:   # the split families' classes too
        for family in ("rows", "elementwise", "optim", "embedding", "gemm"):
            assert f"family={family}|" in out.stdout
    assert f"wisdom file: {tmp_path}" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "tinygrad_seq.tune", "--cells", "tcn"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "unknown cell(s) tcn" in bad.stderr


def test_getenv_follows_the_environment(monkeypatch):
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SOMETHING", "7")
    assert tuning.getenv("TINYGRAD_SEQ_TUNE_SOMETHING") == os.environ["TINYGRAD_SEQ_TUNE_SOMETHING"] == "7"
    monkeypatch.delenv("TINYGRAD_SEQ_TUNE_SOMETHING")
    assert tuning.getenv("TINYGRAD_SEQ_TUNE_SOMETHING") is None


def test_an_empty_setting_counts_as_unset(monkeypatch):
    # `TINYGRAD_SEQ_TUNE_SPLIT= python train.py` unsets the override, as in a shell; it used to
    # raise "expected one of batch, units"
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "")
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_PANEL_MIN_STEPS", "")
    assert tuning.getenv("TINYGRAD_SEQ_TUNE_SPLIT") is None
    candidates = [{"split": "batch"}, {"split": "units"}]
    assert tuning.forced(candidates) == candidates
    assert tuning.setting("PANEL_MIN_STEPS") == tuning.setting("PANEL_MIN_STEPS") == tuning.PANEL_MIN_STEPS


def _cpu_readings(others_seconds):
    """A fake machine_cpu.cpu_seconds: each later reading finds `others_seconds` more busy time
    of other processes (this process's own time unchanged)."""
    state = {"busy": 100.0}

    def reading():
        state["busy"] += others_seconds
        return state["busy"], 5.0
    return reading


def _real_time_measure(cost):
    # the real clock (the crowding check reads the machine only then): a sleep stands for the kernel
    import time

    def measure(candidate, timer):
        start = timer()
        time.sleep(cost[candidate["split"]])
        return timer() - start
    return measure


def test_a_decision_measured_beside_other_jobs_is_not_kept_on_disk(auto, monkeypatch):
    from tinygrad_seq.kernels import calibration
    monkeypatch.delenv("TINYGRAD_SEQ_TUNE_CALIBRATE_MAX_OTHERS", raising=False)   # conftest's inf
    costs = {"batch": 0.002, "units": 0.001}
    monkeypatch.setattr(calibration, "cpu_seconds", _cpu_readings(10.0))   # another job on every core
    assert tuning.decide("t", dict(b=5), CANDIDATES, _real_time_measure(costs), True) == {"split": "units"}
    record = tuning.decisions()[tuning.class_key("t", dict(b=5))]
    assert record["crowded"] > tuning.CALIBRATE_MAX_OTHERS
    path = tuning.wisdom_path()
    on_disk = json.load(open(path))["decisions"] if os.path.exists(path) else {}
    assert tuning.class_key("t", dict(b=5)) not in on_disk
    # this process reuses it without measuring again; a fresh one (nothing in memory) measures
    calls = []

    def counting(candidate, timer):
        calls.append(candidate["split"])
        return _real_time_measure(costs)(candidate, timer)
    assert tuning.decide("t", dict(b=5), CANDIDATES, counting, True) == {"split": "units"}
    assert calls == []
    monkeypatch.setattr(tuning, "_decisions", {})
    monkeypatch.setattr(calibration, "cpu_seconds", _cpu_readings(0.0))   # quiet now
    assert tuning.decide("t", dict(b=5), CANDIDATES, counting, True) == {"split": "units"}
    assert calls
    assert tuning.class_key("t", dict(b=5)) in json.load(open(path))["decisions"]
    assert "crowded" not in json.load(open(path))["decisions"][tuning.class_key("t", dict(b=5))]


def test_an_alternative_whose_median_time_is_not_faster_keeps_the_default(auto):
    # the host runs the first three rounds at half speed: "units" is 0.9x the default within four
    # of six rounds (median ratio 0.9, below the margin) but its median time is not below the
    # default's (1.65 against 1.5), so the evidence disagrees and the default stays
    d = [2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    c = [1.8, 1.8, 1.8, 0.9, 1.5, 1.5]
    assert tuning.CALIBRATE_REPEATS == len(d)
    calls = []
    clock = FakeClock()

    def measure(candidate, timer):
        calls.append(candidate["split"])
        timed_round = (len(calls) - 1 - len(CANDIDATES)) // len(CANDIDATES)
        cost = 1.0 if timed_round < 0 else (d if candidate["split"] == "batch" else c)[timed_round]
        start = timer()
        timer.now += cost
        return timer() - start

    assert tuning.decide("t", dict(b=7), CANDIDATES, measure, True, clock) == {"split": "batch"}
    assert len(calls) == len(CANDIDATES) * (1 + tuning.CALIBRATE_REPEATS)
    # the same ratios on a steady host (median times agree) switch
    calls.clear()
    d, c = [1.0] * 6, [0.9, 0.9, 0.9, 0.9, 1.5, 1.5]
    assert tuning.decide("t", dict(b=8), CANDIDATES, measure, True, clock) == {"split": "units"}
