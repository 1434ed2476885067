"""A generated cell's backward loop, and the hand-written LSTM's backward time loop, compiled in a
second process while the forward compiles (kernels/background_compile.py): the signature the
forward predicts is the one the backward runs (rows and units splits, with and without panels,
float32 and float64); a real child fills Numba's cache and the backward loads from it; a failed
or disabled child changes nothing."""
import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.kernels import background_compile, cell_cpu, tuning


class StartSpy:
    """Records background_compile.start's calls instead of starting a process (as if nothing
    were compiled or cached yet)."""

    def __init__(self, monkeypatch):
        self.calls, self.ran = [], []
        monkeypatch.setattr(background_compile, "_is_cached", lambda dispatcher, sig: False)
        monkeypatch.setattr(background_compile, "_aside_checked", set())
        monkeypatch.setattr(background_compile, "enabled", lambda: True)
        monkeypatch.setattr(background_compile, "warm", lambda: True)   # a worker to hand the GRU's to
        monkeypatch.setattr(background_compile, "start",
                            lambda module, fn, sig, extra=(), spawn=True: self.calls.append((module, fn, sig)))


def _train_step(layer, x, monkeypatch=None, spy=None):
    """Forward and backward; with spy, the backward's calls of the loop the forward asked to
    compile aside are recorded with the Numba types of their arguments (spy.ran)."""
    y, _ = layer(ts.tensor(x, requires_grad=True))
    if spy is not None and spy.calls:
        module, fn, _ = spy.calls[-1]
        monkeypatch.setattr(module, fn, _Recorded(getattr(module, fn), spy.ran))
    y.sum().backward()
    return y


class _Recorded:
    """A loop's dispatcher that records the Numba types of each call's arguments (the rest of
    its attributes, which compile_notice reads, are the dispatcher's)."""

    def __init__(self, loop, ran):
        self._loop, self._ran = loop, ran

    def __call__(self, *args):
        self._ran.append(tuple(self._loop.typeof_pyval(a) for a in args))
        return self._loop(*args)

    def __getattr__(self, name):
        return getattr(self._loop, name)


def _rerun_on_two_threads(request):
    from threads_helpers import rerun_with_two_threads

    return rerun_with_two_threads(request)


def _units_split_spy(monkeypatch):
    """A StartSpy with the hidden-units split forced and every call threaded."""
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "units")
    return StartSpy(monkeypatch)


@contextlib.contextmanager
def _two_threads():
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _assert_predicted_signature_ran(spy, name):
    assert spy.calls, "the forward did not ask for the backward loop to compile aside"
    module, fn, sig = spy.calls[-1]
    assert fn == name
    assert spy.ran, f"the backward did not run {fn}"
    assert all(tuple(s) == tuple(sig) for s in spy.ran), f"predicted {sig}, ran {spy.ran}"


@pytest.mark.parametrize("hidden,dtype", [(32, np.float64), (4, np.float64)])
def test_predicted_signature_is_the_backward_rows_loop(hidden, dtype, monkeypatch):
    # H=32: panels (16 float64 wide), as test_cell_variants runs the cell; H=4: none. The
    # loop's dispatcher lists the signatures it compiled or loaded from the cache in this process
    spy = StartSpy(monkeypatch)
    layer = nn.PeepholeLSTM(hidden, hidden, dtype=dtype)
    x = np.random.default_rng(0).standard_normal((3, 2, hidden)).astype(dtype)
    _train_step(layer, x, monkeypatch, spy)
    _assert_predicted_signature_ran(spy, "_backward_rows")


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("steps,hidden,dtype", [(8, 32, np.float64), (8, 64, np.float32), (3, 4, np.float64)])
def test_predicted_signature_is_the_backward_time_loop(cell, steps, hidden, dtype, monkeypatch):
    # 8 steps of H=32 float64 / H=64 float32: on panels; 3 steps of H=4: without. (The GRU hands
    # its loop only to a worker already running, an LSTM's or a cell's: StartSpy says one is.)
    from tinygrad_seq.kernels import gru_cpu, lstm_cpu

    spy = StartSpy(monkeypatch)
    layer = getattr(nn, cell)(hidden, hidden, dtype=dtype)
    x = np.random.default_rng(0).standard_normal((steps, 2, hidden)).astype(dtype)
    _train_step(layer, x, monkeypatch, spy)
    _assert_predicted_signature_ran(spy, "_backward")
    assert spy.calls[-1][0] is (lstm_cpu if cell == "LSTM" else gru_cpu)
    spy.calls.clear()
    with ts.no_grad():
        layer(ts.tensor(x))
    assert spy.calls == []  # no backward follows


def test_the_gru_starts_no_worker_of_its_own(monkeypatch):
    # without a worker alive, the GRU's forward compiles too little to pay for one's start-up
    spy = StartSpy(monkeypatch)
    monkeypatch.setattr(background_compile, "warm", lambda: False)
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    _train_step(nn.GRU(4, 4, dtype=np.float64), x)
    assert spy.calls == []


@pytest.mark.parametrize("n_in,hidden", [(64, 64), (48, 64)])
def test_predicted_weight_gradient_gemms_are_the_ones_the_backward_runs(n_in, hidden, monkeypatch):
    # on the panels route the child also compiles the dW = dG^T V products (an F-ordered dG^T):
    # each predicted signature is one panel_gemm runs in the backward (n_in=48: columns past the
    # last whole panel, an 'A' output view)
    from tinygrad_seq.kernels import blas_cpu, panel_cpu, weight_grads_cpu

    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "panels")
    spy = StartSpy(monkeypatch)
    ran = []
    monkeypatch.setattr(panel_cpu, "panel_gemm", _Recorded(panel_cpu.panel_gemm, ran))
    x = np.random.default_rng(0).standard_normal((8, 16, n_in)).astype(np.float32)
    _train_step(nn.LSTM(n_in, hidden), x)
    assert blas_cpu.gemm_route(np.float32) == "panels"
    predicted = weight_grads_cpu.transposed_gemm_jobs(np.float32, (n_in, hidden))
    assert predicted and all(job[:2] == (panel_cpu, "panel_gemm") for job in predicted)
    for _, _, sig in predicted:
        assert sig in ran, f"predicted {sig}, ran {set(ran)}"


@pytest.mark.parametrize("steps,loop", [(8, "_backward_units"), (1, "_backward")])
def test_predicted_signature_is_the_lstm_units_split_backward_loop(steps, loop, monkeypatch, request):
    # the hidden-units split (forced, W_hh of any size): its backward loop, and for a one-step call
    # (a decoder's step) the batch split's loop, which its backward runs on one range of rows
    from threads_helpers import rerun_with_two_threads

    if rerun_with_two_threads(request):
        return
    import numba

    from tinygrad_seq.kernels import lstm_cpu

    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "ONE_STEP_UNITS_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "UNITS_SPLIT_BYTES", 0)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "units")
    spy = StartSpy(monkeypatch)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        x = np.random.default_rng(0).standard_normal((steps, 2, 64)).astype(np.float32)
        _train_step(nn.LSTM(64, 64), x, monkeypatch, spy)
        _assert_predicted_signature_ran(spy, loop)
        assert spy.calls[-1][0] is lstm_cpu
    finally:
        numba.set_num_threads(before)


def test_no_child_when_the_forward_compiles_nothing(monkeypatch):
    # the forward is cached (an inference-only run before), the backward not: a child's start-up
    # would not overlap any compile here, so the backward compiles in this process
    spy = StartSpy(monkeypatch)
    monkeypatch.setattr(background_compile, "_is_cached", lambda dispatcher, what: not isinstance(what, tuple))
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    _train_step(nn.LSTM(4, 4, dtype=np.float64), x)
    _train_step(nn.PeepholeLSTM(4, 4, dtype=np.float64), x)
    assert spy.calls == []


def test_predicted_signature_is_the_backward_units_loop(monkeypatch, request):
    if _rerun_on_two_threads(request):
        return
    spy = _units_split_spy(monkeypatch)
    hidden = 64  # 32 float32 units a thread: on panels
    x = np.random.default_rng(0).standard_normal((3, 2, hidden)).astype(np.float32)
    with _two_threads():
        _train_step(nn.PeepholeLSTM(hidden, hidden), x, monkeypatch, spy)
    _assert_predicted_signature_ran(spy, "_backward_units")


def test_no_backward_no_compile_aside(monkeypatch):
    spy = StartSpy(monkeypatch)
    layer = nn.PeepholeLSTM(4, 4, dtype=np.float64)
    x = ts.tensor(np.ones((3, 2, 4)))
    with ts.no_grad():
        layer(x)
    for p in layer.parameters():
        p.requires_grad = False
    layer(x)  # nothing requires grad: no backward will run
    assert spy.calls == []


def test_disabled_or_one_core_starts_nothing(monkeypatch):
    def no_process(*args, **kwargs):
        raise AssertionError("a child process was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE", "0")
    background_compile.start(cell_cpu, "_backward_rows", ())
    monkeypatch.delenv("TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE")
    monkeypatch.setattr(background_compile, "usable_cores", lambda: 1)
    background_compile.start(cell_cpu, "_backward_rows", ())
    background_compile.wait(cell_cpu, "_backward_rows", ())  # nothing to wait for


_CHILD_RUN = textwrap.dedent("""
    import sys
    import numpy as np
    import tinygrad_seq as ts
    from tinygrad_seq import nn
    from tinygrad_seq.kernels import background_compile

    def mgu_step(cell, x, state):  # the README's minimal gated unit: small code, quick to compile
        xf, xn = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih))
        f = (xf + cell.linear(state.h, cell.gate(cell.weight_hh, 0), cell.gate(cell.bias_hh, 0))).sigmoid()
        n = (xn + cell.linear(f * state.h, cell.gate(cell.weight_hh, 1), cell.gate(cell.bias_hh, 1))).tanh()
        return {"h": (1 - f) * state.h + f * n}

    layer = nn.Recurrent(nn.CellSpec("mgu_bg_test", gates=2, states=("h",), step=mgu_step), 4, 4,
                         dtype=np.float64)
    x = ts.tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    y, _ = layer(x)
    kern = [m for k, m in sys.modules.items() if k.startswith("tinygrad_seq_generated.")][0]
    started = dict(background_compile._children)
    assert all(key[:2] == (kern.__name__, "_backward_rows") for key in started), started
    y.sum().backward()
    loop = kern._backward_rows
    hits = sum(loop.stats.cache_hits.values())
    misses = sum(loop.stats.cache_misses.values())
    print("RESULT", len(started), hits, misses, repr(float(x.grad.numpy().sum())))
""")


def _run_child_script(tmp_path, enabled):
    env = dict(os.environ, TINYGRAD_SEQ_CACHE=str(tmp_path / ("on" if enabled else "off")),
               TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE="1" if enabled else "0")
    script = tmp_path / "run.py"
    script.write_text(_CHILD_RUN)
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][-1]
    started, hits, misses, grad = line.split()[1:]
    notices = [l for l in out.stderr.splitlines() if l.startswith("tinygrad_seq: compiling the fused mgu_bg_test")]
    return int(started), int(hits), int(misses), float(grad), notices


@pytest.mark.skipif(background_compile.usable_cores() < 2, reason="the child compiles on a second core")
def test_child_fills_the_cache_and_the_backward_loads_it(tmp_path):
    # a new cell (empty cell cache) in a fresh process: the forward starts a child for the
    # backward loop, and the backward loads the loop from Numba's cache (a hit, no compile here);
    # the gradients equal those of a run that compiled everything in one process. The user is
    # told of each compile this process waits for: the forward loop, and without a child the
    # backward loop too
    started, hits, misses, grad, notices = _run_child_script(tmp_path, True)
    assert (started, hits, misses) == (1, 1, 0)
    assert [n.split(" loop ")[0] for n in notices] == ["tinygrad_seq: compiling the fused mgu_bg_test CPU forward"]
    started_off, hits_off, misses_off, grad_off, notices_off = _run_child_script(tmp_path, False)
    assert (started_off, hits_off, misses_off) == (0, 0, 1)
    assert len(notices_off) == 2 and "backward loop" in notices_off[1]
    assert grad == grad_off


_LSTM_CHILD_RUN = textwrap.dedent("""
    import numpy as np
    import tinygrad_seq as ts
    from tinygrad_seq import nn
    from tinygrad_seq.kernels import background_compile, lstm_cpu

    layer = nn.LSTM(4, 4, dtype=np.float64)
    x = ts.tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    y, _ = layer(x)
    started = sorted(key[:2] for key in background_compile._children)
    y.sum().backward()
    loop = lstm_cpu._backward
    print("RESULT", started, sum(loop.stats.cache_hits.values()), sum(loop.stats.cache_misses.values()))
""")


@pytest.mark.skipif(background_compile.usable_cores() < 2, reason="the child compiles on a second core")
def test_the_lstm_backward_loop_loads_from_the_childs_cache(tmp_path):
    # an empty Numba cache (a fresh machine): the LSTM's forward starts a child for its backward
    # time loop, which the backward then loads from the cache
    script = tmp_path / "run.py"
    script.write_text(_LSTM_CHILD_RUN)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE="1")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][-1]
    assert line == "RESULT [('tinygrad_seq.kernels.lstm_cpu', '_backward')] 1 0", line
    assert "LSTM CPU backward kernels" not in out.stderr  # nothing left to compile: no notice


def test_a_failing_child_leaves_the_backward_to_compile_here(monkeypatch, tmp_path):
    # the child is given a signature that cannot compile: it fails, wait() returns, and the
    # backward compiles the loop itself with the right results
    monkeypatch.setenv("TINYGRAD_SEQ_CACHE", str(tmp_path))
    monkeypatch.setattr(background_compile, "enabled", lambda: True)
    monkeypatch.setattr(background_compile, "_aside_checked", set())
    start = background_compile.start
    monkeypatch.setattr(cell_cpu.background_compile, "start",
                        lambda module, fn, sig, extra=(), spawn=True: start(module, fn, sig[:3], extra, spawn))
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    fused = nn.PeepholeLSTM(4, 4, dtype=np.float64)
    plain = nn.PeepholeLSTM(4, 4, dtype=np.float64, fused=False)
    plain.load_state_dict(fused.state_dict())
    xs = [ts.tensor(x, requires_grad=True) for _ in range(2)]
    for layer, xt in zip((fused, plain), xs):
        y, _ = layer(xt)
        y.sum().backward()
    np.testing.assert_allclose(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_mpi_ranks_share_the_cores(monkeypatch):
    # two ranks on a node of two cores get one each: no child compiles beside them
    monkeypatch.setattr(background_compile.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delenv("OMPI_COMM_WORLD_LOCAL_SIZE", raising=False)
    assert background_compile.usable_cores() == 2
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    assert background_compile.usable_cores() == 1
    assert not background_compile.enabled()
