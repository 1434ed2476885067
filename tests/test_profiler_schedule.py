"""torch.profiler's schedule: which steps a scheduled profile records, when on_trace_ready runs,
the "ProfilerStep*" rows, acc_events, the schedule's own answers and errors, and
tensorboard_trace_handler's files; each beside torch 2.13."""
import json
import os
import warnings

import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402


def _cycles(L, steps, acc_events=False, **sched):
    """The (step_num, recorded names) of each cycle handed to on_trace_ready, and the warnings."""
    P, out = L.profiler, []

    def ready(prof):
        out.append((prof.step_num, sorted(e.key for e in prof.key_averages() if not e.key.startswith("aten::")
                                          and not e.key.startswith("[") and "Profiler" not in e.key[:8]
                                          or e.key == "ProfilerStep*")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with P.profile(activities=[P.ProfilerActivity.CPU], schedule=P.schedule(**sched), on_trace_ready=ready,
                       acc_events=acc_events) as prof:
            for i in range(steps):
                with P.record_function(f"step{i}"):
                    pass
                prof.step()
    return out, sorted({str(w.message) for w in caught if "Profiler" in str(w.message)})


@pytest.mark.parametrize("sched,steps", [
    (dict(wait=1, warmup=1, active=2, repeat=2, skip_first=1), 12),
    (dict(wait=0, warmup=1, active=3), 3),
    (dict(wait=2, warmup=1, active=1), 9),
    (dict(wait=1, warmup=1, active=2, skip_first=3, skip_first_wait=1), 10),
])
def test_scheduled_cycles_as_torchs(sched, steps):
    assert _cycles(ts, steps, **sched) == _cycles(torch, steps, **sched)


def test_acc_events_keeps_earlier_cycles():
    sched = dict(wait=1, warmup=1, active=1, repeat=2)
    ours, theirs = _cycles(ts, 8, acc_events=True, **sched), _cycles(torch, 8, acc_events=True, **sched)
    assert ours == theirs and ours[0][0][1] == ["ProfilerStep*", "step2"]


@pytest.mark.parametrize("args", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1, repeat=1),
                                  dict(wait=2, warmup=1, active=3, repeat=2, skip_first=2, skip_first_wait=1)])
def test_schedule_answers(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = ts.profiler.schedule(**args), torch.profiler.schedule(**args)
    assert [ours(s).name for s in range(20)] == [theirs(s).name for s in range(20)]


def test_schedule_errors_and_warning():
    for L in (torch, ts):
        with pytest.raises(AssertionError, match="active=0 \\(need > 0\\)"):
            L.profiler.schedule(wait=1, warmup=1, active=0)
        with pytest.warns(UserWarning, match="won't be using warmup"):
            L.profiler.schedule(wait=1, warmup=0, active=1)
        with pytest.raises(AssertionError, match="Step must be non-negative"):
            L.profiler.schedule(wait=0, warmup=1, active=1)(-1)


def test_tensorboard_trace_handler_writes_one_trace_per_cycle(tmp_path):
    P = ts.profiler
    with P.profile(schedule=P.schedule(wait=0, warmup=1, active=1, repeat=2),
                   on_trace_ready=P.tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w0")) as prof:
        for i in range(5):
            with P.record_function(f"step{i}"):
                pass
            prof.step()
    files = sorted(os.listdir(tmp_path / "tb"))
    assert len(files) == 2 and all(f.startswith("w0.") and f.endswith(".pt.trace.json") for f in files)
    names = {e["name"] for e in json.loads((tmp_path / "tb" / files[0]).read_text())["traceEvents"]}
    assert names == {"step1", "ProfilerStep#1"}   # the trace keeps the step's number, as torch's trace_name
