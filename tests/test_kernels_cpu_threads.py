"""The fused CPU kernels' threads (kernels/blas_cpu.py, spin_cpu.py and the splits in
lstm_cpu.py, gru_cpu.py, rnn_cpu.py): every split over two threads against one thread, the
one-step rules, the BLAS thread pins. Two Numba threads are forced (a fresh process when this
one has fewer; threads_helpers.rerun_with_two_threads) and ChunkSpy checks the split ran."""
import numba
import numpy as np
import pytest

from tinygrad_seq.kernels import gru_cpu, lstm_cpu, rnn_cpu, tuning

from test_kernels_cpu import kernel_forward_backward, make_case
from test_panel_cpu import PackSpy
from threads_helpers import ChunkSpy, rerun_with_two_threads

@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("batch", [2, 5, 40, 300])
@pytest.mark.parametrize("seq_len", [1, 6])
def test_thread_count_gives_same_result(cell, batch, seq_len, monkeypatch, request):
    # the batch split over two threads (one time loop per chunk of rows, GEMMs split by rows) and
    # the whole kernel on one thread agree to rounding, with padded sequences and both
    # directions; batch 40 puts 20 rows in a chunk; these small calls would run on one thread
    # (PARALLEL_MIN_MACS, ONE_STEP_PARALLEL_MIN_MACS, SPLIT_MIN_MACS), so the thresholds are lowered. Two threads are forced
    # (a fresh process when this one has one), and the spy checks that two chunks ran.
    import numba

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "ONE_STEP_PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "ONE_STEP_SPLIT_MIN_MACS", 0)   # the GRU's and RNN's one-step calls
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch, lstm_cpu, gru_cpu, rnn_cpu)
    arrays, _ = make_case(cell, seq_len=seq_len, batch=batch, n_in=40, hidden=24, seed=8)
    lengths = np.random.default_rng(batch).integers(1, seq_len + 1, batch)
    before = numba.get_num_threads()
    for reverse in (False, True):
        args = (arrays["x"], arrays["h0"], arrays["c0"], arrays["w_ih"], arrays["w_hh"], arrays["b_ih"],
                arrays["b_hh"], lengths, reverse, arrays["dy"], arrays["dh_n"], arrays["dc_n"])
        results = []
        try:
            for threads in (1, 2):
                numba.set_num_threads(threads)
                spy.most = 0
                results.append(kernel_forward_backward(cell, *args))
                assert spy.most == threads
        finally:
            numba.set_num_threads(before)
        for got, ref in zip(results[1][0] + results[1][1], results[0][0] + results[0][1]):
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_one_step_calls_stay_on_one_thread_below_their_threshold(request):
    # a decoder's one-step call: both threads would stream the whole weights for half the rows
    import numba

    from tinygrad_seq.kernels import blas_cpu

    if rerun_with_two_threads(request):
        return
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        for name in ("ONE_STEP_PARALLEL_MIN_MACS", "ONE_STEP_UNITS_MIN_MACS", "ONE_STEP_SPLIT_MIN_MACS"):
            threshold = getattr(tuning, name)
            assert blas_cpu.kernel_threads.planned(1, 32, threshold - 1, name) == 1
            assert blas_cpu.kernel_threads.planned(1, 32, threshold, name) == 2
            assert blas_cpu.kernel_threads.planned(2, 32, threshold - 1, name) == 2   # a sequence: its own rule
        small = tuning.ONE_STEP_PARALLEL_MIN_MACS - 1   # the default threshold
        assert blas_cpu.kernel_threads.planned(1, 32, small) == 1
        assert blas_cpu.kernel_threads.planned(1, 32, tuning.ONE_STEP_PARALLEL_MIN_MACS) == 2
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("cell", ["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gru_and_rnn_one_step_split_matches_one_thread(cell, dtype, monkeypatch, request):
    # a decoder's one-step GRU or RNN call over two threads (the forward by rows, the backward's
    # four products two a thread: weight_grads_cpu.one_step_gradients, the GRU's with its
    # hidden-side gradient) against the same call on one thread; rows of length 0 pass their
    # state and dh_n through
    import numba

    from tinygrad_seq.kernels import weight_grads_cpu

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch, gru_cpu, rnn_cpu)
    pairs = []
    module = gru_cpu if cell == "gru" else rnn_cpu
    monkeypatch.setattr(module, "one_step_gradients",
                        lambda *a, **k: pairs.append(a[5]) or weight_grads_cpu.one_step_gradients(*a, **k))
    batch, n_in, hidden = 6, 11, 8
    arrays, _ = make_case(cell, seq_len=1, batch=batch, n_in=n_in, hidden=hidden, seed=5, dtype=dtype)
    lengths = np.array([1, 0, 1, 1, 0, 1])
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    results = []
    try:
        for reverse in (False, True):
            args = (arrays["x"], arrays["h0"], arrays["c0"], arrays["w_ih"], arrays["w_hh"], arrays["b_ih"],
                    arrays["b_hh"], lengths, reverse, arrays["dy"], arrays["dh_n"], arrays["dc_n"])
            for threshold in (1 << 40, 0):   # one thread, then the split
                monkeypatch.setattr(tuning, "ONE_STEP_SPLIT_MIN_MACS", threshold)
                spy.most, pairs[:] = 0, []
                results.append(kernel_forward_backward(cell, *args))
                assert spy.most == (1 if threshold else 2)
                assert pairs == ([] if threshold else [2])
    finally:
        numba.set_num_threads(before)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    for one, split in (results[0:2], results[2:4]):
        for got, ref in zip(split[0] + split[1], one[0] + one[1]):
            np.testing.assert_allclose(got, ref, **tol)
        (y, h_n, *_), (dx, dh0, *_) = split
        np.testing.assert_array_equal(h_n[1], arrays["h0"][1])     # length 0: the state passes through
        np.testing.assert_array_equal(dh0[1], arrays["dh_n"][1])


def test_kernel_threads_runs_blas_on_one_thread_and_restores_it():
    from tinygrad_seq.kernels import blas_cpu

    with blas_cpu.kernel_threads(8, 8, 1 << 30) as n_chunks:
        assert 1 <= n_chunks <= 64
        api = blas_cpu.one_blas_thread().api
        if api is not None:
            assert api[0]() == 1
        # a second kernel started meanwhile (another Python thread) gets one chunk
        with blas_cpu.kernel_threads(8, 8, 1 << 30) as inner:
            assert inner == 1 or n_chunks == 1
    # small calls run on one thread; a big one-step call (a decoder's) may split its rows
    with blas_cpu.kernel_threads(1, 64, 1 << 30) as n_chunks:
        assert 1 <= n_chunks <= 64
    with blas_cpu.kernel_threads(8, 8, 1000) as n_chunks:
        assert n_chunks == 1
    api = blas_cpu.one_blas_thread().api
    if api is not None:
        assert api[0]() >= 1
    assert not blas_cpu._parallel_lock.locked()


def test_cython_blas_preload_keeps_scipy_linalg_whole():
    # a fresh process: importing the kernels loads scipy.linalg.cython_blas without scipy.linalg;
    # a later `import scipy.linalg` still exposes it as an attribute and works
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tinygrad_seq.kernels import lstm_cpu\n"
        "assert 'scipy.linalg' not in sys.modules, 'scipy.linalg imported by the kernels'\n"
        "import numpy as np\n"
        "x = np.ones((2, 1, 3), np.float32); h = np.zeros((1, 2), np.float32)\n"
        "w = np.ones((8, 3), np.float32) * 0.1; u = np.ones((8, 2), np.float32) * 0.1\n"
        "b = np.zeros(8, np.float32)\n"
        "y = lstm_cpu.lstm_forward(x, h, h, w, u, b, b, None, False)[0]\n"
        "import scipy.linalg\n"
        "import scipy.linalg.cython_blas as cb\n"
        "assert scipy.linalg.cython_blas is cb and scipy.linalg.cython_lapack is sys.modules['scipy.linalg.cython_lapack']\n"
        "assert np.allclose(scipy.linalg.solve(np.eye(2), np.ones(2)), 1)\n"
        "print('ok', float(y.sum()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_generated_cell_spares_scipy_linalg_too():
    # a generated cell's module imports numba itself: loading it goes through the kernels' preload
    # first, so numba's first compile (a cached load too) still skips all of scipy.linalg
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tinygrad_seq import cell_library\n"
        "from tinygrad_seq.cellgen import fused_kernel\n"
        "fused_kernel(cell_library.get('peephole_lstm'))\n"
        "import numba\n"
        "numba.njit(lambda v: v + 1)(1)\n"
        "print('scipy.linalg' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("hidden", [8, 32])
@pytest.mark.parametrize("batch", [1, 3, 8])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_units_split_matches_batch_split(batch, reverse, hidden, monkeypatch, request):
    # the LSTM's hidden units split over two threads (a chunk of units a thread, meeting at a
    # spin barrier every step; chosen for large W_hh) and the batch split give the same
    # results, padded sequences included; at H=32 each chunk's 16 units (float64) run on panels
    import numba

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "UNITS_SPLIT_BYTES", 0)
    spy = PackSpy(monkeypatch)
    units_panels = []
    original = lstm_cpu.units_forward_panels
    monkeypatch.setattr(lstm_cpu, "units_forward_panels",
                        lambda *a: units_panels.append(original(*a)) or units_panels[-1])
    arrays, _ = make_case("lstm", seq_len=6, batch=batch, n_in=10, hidden=hidden, seed=1)
    lengths = np.random.default_rng(batch).integers(1, 7, batch)
    args = (arrays["x"], arrays["h0"], arrays["c0"], arrays["w_ih"], arrays["w_hh"], arrays["b_ih"],
            arrays["b_hh"], lengths, reverse, arrays["dy"], arrays["dh_n"], arrays["dc_n"])
    results = []
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        for split in ("units", "batch"):
            monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", split)
            assert lstm_cpu._plan(6, batch, 10, hidden, np.float64)["split"] == split
            results.append(kernel_forward_backward("lstm", *args))
    finally:
        numba.set_num_threads(before)
    assert [p is not None for p in units_panels] == [hidden == 32]   # the units split's forward on panels
    assert ("pack_columns" in spy.calls) == (hidden == 32)            # the batch split's backward
    for got, ref in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_one_step_units_split_matches_one_thread(dtype, reverse, monkeypatch, request):
    # a decoder's one-step call split by gate units over two threads (each projects and updates
    # its units; the backward's four products two a thread) against the same call on one
    # thread; rows of length 0 pass their state and dh_n through
    import numba

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch, lstm_cpu)
    rng = np.random.default_rng(4)
    batch, n_in, hidden = 6, 11, 8
    x, dy = (rng.standard_normal((1, batch, n)).astype(dtype) for n in (n_in, hidden))
    h0, c0, dh_n, dc_n = (rng.standard_normal((batch, hidden)).astype(dtype) for _ in range(4))
    w_ih = (0.4 * rng.standard_normal((4 * hidden, n_in))).astype(dtype)
    w_hh = (0.4 * rng.standard_normal((4 * hidden, hidden))).astype(dtype)
    b_ih, b_hh = (rng.standard_normal(4 * hidden).astype(dtype) for _ in range(2))
    lengths = np.array([1, 0, 1, 1, 0, 1])
    results = []
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        for threshold in (1 << 40, 0):   # one thread, then the units split
            monkeypatch.setattr(tuning, "ONE_STEP_UNITS_MIN_MACS", threshold)
            spy.most = 0
            assert lstm_cpu._plan(1, batch, n_in, hidden, dtype)["split"] == ("batch" if threshold else "units")
            y, h_n, c_n, saved = lstm_cpu.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
            grads = lstm_cpu.lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved)
            assert spy.most == (1 if threshold else 2)
            results.append((y, h_n, c_n) + tuple(grads))
    finally:
        numba.set_num_threads(before)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    for got, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(got, ref, **tol)
    np.testing.assert_array_equal(results[1][1][1], h0[1])   # length 0: the state passes through
    np.testing.assert_array_equal(results[1][4][1], dh_n[1])


def test_units_chunks_picks_the_split():
    assert lstm_cpu.units_chunks(1, 256, 2, 4) == 2      # one row, W_hh 1 MiB: split the units
    assert lstm_cpu.units_chunks(16, 256, 2, 4) == 1     # batch rows for every thread, 8 each
    assert lstm_cpu.units_chunks(12, 256, 2, 4) == 1     # 6 rows a thread: the 8-row tiles' remainder runs as fast
    assert lstm_cpu.units_chunks(100, 256, 2, 4) == 1    # 50 rows a thread: batch 1.08x faster here
    assert lstm_cpu.units_chunks(1, 64, 2, 4) == 1       # small W_hh: a region per step costs more
    assert lstm_cpu.units_chunks(1, 255, 2, 4) == 1      # units do not divide evenly
    assert lstm_cpu.units_chunks(1, 256, 1, 4) == 1      # one thread


@pytest.mark.parametrize("which", ["numpy", "scipy"])
def test_blas_pin_counts_callers_across_threads(which):
    """Two Python threads inside the pin at once, leaving in either order: the library runs on
    one thread while any of them is inside, and the count it had comes back after the last."""
    import threading

    from tinygrad_seq.kernels import blas_cpu

    pin = blas_cpu.numpy_blas_one_thread() if which == "numpy" else blas_cpu.one_blas_thread()
    with pin:
        pass
    if pin.api is None:
        pytest.skip(f"{which} bundles no OpenBLAS")
    get, put = pin.api
    before = get()
    put(2)
    try:
        for first_out in (0, 1):
            entered = [threading.Event(), threading.Event()]
            leave = [threading.Event(), threading.Event()]
            seen = []

            def worker(i):
                with pin:
                    entered[i].set()
                    leave[i].wait(10)
                    seen.append(get())

            threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
            for i, t in enumerate(threads):
                t.start()
                entered[i].wait(10)
            assert get() == 1
            leave[first_out].set()
            threads[first_out].join(10)
            assert get() == 1          # the other thread is still inside
            leave[1 - first_out].set()
            threads[1 - first_out].join(10)
            assert seen == [1, 1]
            assert get() == 2          # restored by the last one out
            assert pin.inside == 0
    finally:
        put(before)
