"""The background compile's worker process (kernels/background_compile.py) as a queue: it stays
for more work and compiles a later model's backward (the GRU after an LSTM), retires when idle,
answers batches in order, is waited for only for the batch being compiled, and lets a
calibration time its candidates once its batches are done."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tinygrad_seq.kernels import background_compile, cell_cpu


_GRU_AFTER_LSTM_RUN = textwrap.dedent("""
    import sys
    import time
    import numpy as np
    import tinygrad_seq as ts
    from tinygrad_seq import nn
    from tinygrad_seq.kernels import background_compile, gru_cpu

    x = ts.tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    y, _ = nn.LSTM(4, 4, dtype=np.float64)(x)
    y.sum().backward()
    first = background_compile._worker.process.pid
    time.sleep(float(sys.argv[1]))
    gru = nn.GRU(4, 4, dtype=np.float64)
    y, _ = gru(x)
    worker = background_compile._worker
    same = background_compile.warm() and worker.process.pid == first
    queued = sorted(key[:2] for key in background_compile._children)
    y.sum().backward()
    loop = gru_cpu._backward
    print("RESULT", same, queued, sum(loop.stats.cache_hits.values()), sum(loop.stats.cache_misses.values()))
    print("GRAD", repr(float(gru.weight_hh_l0.grad.numpy().sum())))
""")


def _gru_after_lstm(tmp_path, name, pause, idle):
    script = tmp_path / "run.py"
    script.write_text(_GRU_AFTER_LSTM_RUN)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / name), TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE="1",
               TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE_IDLE_S=str(idle))
    out = subprocess.run([sys.executable, str(script), str(pause)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    return [l for l in lines if l.startswith("RESULT")][-1], [l for l in lines if l.startswith("GRAD")][-1]


@pytest.mark.skipif(background_compile.usable_cores() < 2, reason="the worker compiles on a second core")
def test_the_lstms_worker_compiles_the_next_grus_backward(tmp_path):
    # empty Numba cache: the worker started by the LSTM's forward stays for more work, and the
    # GRU's forward hands it the GRU's backward loop, which the backward then loads from the cache;
    # a worker idle past BACKGROUND_COMPILE_IDLE_S has exited, and the GRU (which starts none of its
    # own) compiles its backward here; the gradients are the same either way
    result, grad = _gru_after_lstm(tmp_path, "kept", 0, 120)
    assert result == "RESULT True [('tinygrad_seq.kernels.gru_cpu', '_backward')] 1 0", result
    result_idle, grad_idle = _gru_after_lstm(tmp_path, "retired", 3, 0.5)
    assert result_idle == "RESULT False [] 0 1", result_idle
    assert grad == grad_idle


class _FakeWorker:
    """Stands in for background_compile._Worker: batches are queued and start at once (but for
    the first with `hold`: later ones wait behind it), none is ever answered until `wait_for`
    (which records that it was waited for)."""
    hold = False

    def __init__(self):
        self.sent, self.started, self.done, self.waited, self.stopped = 0, 0, 0, [], False
        workers.append(self)

    def alive(self):
        return not self.stopped

    def send(self, jobs):
        self.sent += 1
        self.started = 1 if self.hold else self.sent
        return self.sent

    def wait_for(self, number, timeout):
        self.waited.append(number)
        self.done = max(self.done, number)
        return True

    def stop(self):
        self.stopped = True


workers = []


def _fake_worker_signatures(monkeypatch, worker_class):
    """background_compile with worker_class for its workers and nothing queued; the float32 and
    float64 signatures of a cell's backward loop."""
    monkeypatch.setattr(background_compile, "enabled", lambda: True)
    monkeypatch.setattr(background_compile, "_Worker", worker_class)
    monkeypatch.setattr(background_compile, "_worker", None)
    monkeypatch.setattr(background_compile, "_children", {})
    workers.clear()
    return tuple(cell_cpu._backward_signature(np.dtype(dt), False, True) for dt in (np.float32, np.float64))


def test_the_backward_waits_only_for_its_own_signature(monkeypatch):
    # a batch compiling the float32 loop is not waited for by a backward that runs another
    # signature (it would wait, then compile anyway)
    f32, f64 = _fake_worker_signatures(monkeypatch, _FakeWorker)
    background_compile.start(cell_cpu, "_backward_rows", f32)
    background_compile.start(cell_cpu, "_backward_rows", f32)  # already queued: not sent again
    assert len(workers) == 1 and workers[0].sent == 1
    background_compile.wait(cell_cpu, "_backward_rows", f64)
    assert workers[0].waited == []
    background_compile.wait(cell_cpu, "_backward_rows", f32)
    assert workers[0].waited == [1]
    background_compile.start(cell_cpu, "_backward_rows", f64)  # the same worker takes the next batch
    assert len(workers) == 1 and workers[0].sent == 2
    background_compile.start(cell_cpu, "_backward_units", f64, spawn=False)   # a worker is alive: queued
    assert workers[0].sent == 3
    workers[0].stopped = True
    background_compile.start(cell_cpu, "_backward_units", f32, spawn=False)   # none alive: left to the caller
    assert len(workers) == 1 and workers[0].sent == 3
    background_compile.start(cell_cpu, "_backward_units", f32)   # a new worker
    assert len(workers) == 2 and workers[1].sent == 1


def test_a_batch_queued_behind_others_is_not_waited_for(monkeypatch):
    # the worker is still compiling an earlier batch (a forward's whose backward never ran): the
    # backward compiles its loop here rather than wait for both
    class Held(_FakeWorker):
        hold = True

    f32, f64 = _fake_worker_signatures(monkeypatch, Held)
    background_compile.start(cell_cpu, "_backward_rows", f32)
    background_compile.start(cell_cpu, "_backward_rows", f64)
    background_compile.wait(cell_cpu, "_backward_rows", f64)
    assert workers[0].waited == []
    background_compile.wait(cell_cpu, "_backward_rows", f32)   # the batch being compiled: waited for
    assert workers[0].waited == [1]


def test_a_calibration_times_its_candidates_after_the_children_finish(monkeypatch, tmp_path):
    # a batch compiling on the other core would slow a two-thread candidate: the calibration's
    # timed rounds start once every queued batch has finished (calibration.before_timing), the
    # batches left for their own backward's wait
    from tinygrad_seq.kernels import tuning

    events = []

    class Worker(_FakeWorker):
        def wait_for(self, number, timeout):
            events.append("batch finished")
            return super().wait_for(number, timeout)

    monkeypatch.setattr(background_compile, "enabled", lambda: True)
    monkeypatch.setattr(background_compile, "_Worker", Worker)
    monkeypatch.setattr(background_compile, "_worker", None)
    monkeypatch.setattr(background_compile, "_children", {})
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "auto")
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_DIR", str(tmp_path))
    monkeypatch.setattr(tuning, "_decisions", {})
    sig = cell_cpu._backward_signature(np.dtype(np.float32), False, True)
    background_compile.start(cell_cpu, "_backward_rows", sig)

    def measure(candidate, timer):
        events.append("timed" if events.count("untimed") == 2 else "untimed")
        return 1.0

    tuning.decide("t", dict(b=1), [{"split": "batch"}, {"split": "units"}], measure, True)
    assert events[:4] == ["untimed", "untimed", "batch finished", "timed"]
    assert events.count("batch finished") == 1
    assert background_compile._children  # still there for the backward's own wait
