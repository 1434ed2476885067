"""The whole-sequence GEMMs' route (kernels/blas_cpu.py: gemm_route, panels_fit, panel_gemm;
kernels/panel_cpu.py: panel_gemm; kernels/weight_grads_cpu.py on it): the blocked panel product
against numpy for every layout the kernels and the engine pass (a transposed left operand, a C- or
F-ordered right one, columns past the last whole panel, blocks along K that add, the padded copy
of a power-of-two stride), where it applies, the machine decision that picks it (forced, off,
measured and written, not remembered inside another calibration, the other calibrations measured
on it), and the recurrent kernels, the weight gradients and the engine's products on it against
numpy."""
import json

import numpy as np
import pytest

from tinygrad_seq.kernels import blas_cpu, calibration, gemm_cpu, panel_cpu, tuning, weight_grads_cpu

from test_kernels_cpu import NAMES_BWD, NAMES_FWD, assert_all_close, make_case, run_both


def _operands(rng, m, k, n, a_order, b_order, dtype):
    a = rng.standard_normal((k, m)).astype(dtype).T if a_order == "T" else rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype).T if b_order == "F" else rng.standard_normal((k, n)).astype(dtype)
    return a, b


@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("a_order", ["C", "T"])
@pytest.mark.parametrize("b_order", ["C", "F"])
def test_panel_gemm_matches_numpy(dtype, tol, a_order, b_order, monkeypatch):
    # small blocks, so that every product crosses blocks along M and K (the K blocks after the
    # first add into out); row counts with 8-, 4-, 2- and 1-row tiles (12 rows: an 8 and a 4; 67:
    # a block of 44 and 23 = 2 x 8 + 4 + 2 + 1); N with and without columns past the last whole
    # panel; M = 256 transposed: columns 1 KiB apart (float32), the padded copy
    monkeypatch.setattr(tuning, "PANEL_GEMM_K_BLOCK", 48)
    monkeypatch.setattr(tuning, "PANEL_GEMM_M_BLOCK", 44)   # 5 x 8 rows + a 4-row tile per block
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_ROWS", 1)
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_MACS", 1)
    rng = np.random.default_rng(5)
    width = panel_cpu.panel_width(dtype)
    for m, k, n in ((67, 100, 2 * width), (97, 130, 3 * width + 5), (256, 61, width), (65, 1, width + 1),
                    (12, 49, width)):
        a, b = _operands(rng, m, k, n, a_order, b_order, dtype)
        out = np.full((m, n), np.nan, dtype)
        assert blas_cpu.panels_fit(a, b, out)
        blas_cpu.panel_gemm(a, b, out)   # (gemm_into takes K = 1 to the broadcast multiply)
        ref = a.astype(np.float64) @ b.astype(np.float64)
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("route", ["blas", "panels"])
def test_an_inner_dimension_of_one_is_a_broadcast_multiply(dtype, route, monkeypatch):
    # a one-row step's weight gradient dG^T x: [M, 1] @ [1, N], dG^T a transposed view; numpy's
    # matmul would run it through its generic loop (3-4x slower than the multiply); bit-equal
    # to the product (one multiply an element), on either route, and no matmul runs
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_ROWS", 1)
    rng = np.random.default_rng(8)
    d_gates = rng.standard_normal((1, 96)).astype(dtype)
    x = rng.standard_normal((1, 40)).astype(dtype)
    calls = []
    original = np.matmul
    monkeypatch.setattr(np, "matmul", lambda *a, **k: (calls.append(a[0].shape), original(*a, **k))[1])
    monkeypatch.setattr(blas_cpu, "panel_gemm", lambda a, b, out: calls.append(a.shape))
    out = np.full((96, 40), np.nan, dtype)
    blas_cpu.gemm_into(d_gates.T, x, out, route)
    assert calls == []
    np.testing.assert_array_equal(out, d_gates.T * x)
    monkeypatch.undo()
    np.testing.assert_array_equal(out, np.matmul(d_gates.T, x))


def test_power_of_two_stride_is_read_through_packed_blocks():
    # dG^T at 4H = 256 float32: columns 1 KiB apart put every k of a tile in one L1 set, so the
    # panel GEMM copies each block into a padded buffer first; other strides, and row-major
    # operands, are read in place. Both ways give the product, over blocks cut at odd edges.
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 256)).astype(np.float32).T
    assert blas_cpu.aliased(a)
    assert not blas_cpu.aliased(rng.standard_normal((300, 250)).astype(np.float32).T)
    assert not blas_cpu.aliased(rng.standard_normal((256, 300)).astype(np.float32))
    b = rng.standard_normal((300, 96)).astype(np.float32)
    panels = panel_cpu.pack_columns(b, np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    for a_rows in (a.T, np.empty((0, 0), np.float32)):
        out = np.full((256, 96), np.nan, np.float32)
        panel_cpu.panel_gemm(a, panels, out, 64, 40, a_rows)
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    out = np.full((256, 96), np.nan, np.float32)
    blas_cpu.gemm_into(a, b, out, "panels")
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_panels_only_where_they_pay():
    # too few rows or multiply-adds, fewer columns than a panel, a right operand that is neither
    # C- nor F-ordered, rows of out not contiguous, mixed dtypes: numpy's matmul instead
    rng = np.random.default_rng(2)
    width = panel_cpu.panel_width(np.float32)
    a, b = _operands(rng, 256, 64, 128, "C", "C", np.float32)
    out = np.empty((256, 128), np.float32)
    assert blas_cpu.panels_fit(a, b, out)
    assert not blas_cpu.panels_fit(a[:tuning.PANEL_GEMM_MIN_ROWS - 1], b, out[:tuning.PANEL_GEMM_MIN_ROWS - 1])
    assert not blas_cpu.panels_fit(a[:, :2], b[:2], out)                     # 64K multiply-adds
    assert not blas_cpu.panels_fit(a, b[:, :width - 1], out[:, :width - 1])
    assert not blas_cpu.panels_fit(a, b[:, ::2], out[:, :64])
    assert not blas_cpu.panels_fit(a, b, np.empty((128, 256), np.float32).T)
    assert not blas_cpu.panels_fit(a.astype(np.float64), b, out)
    assert not blas_cpu.panels_fit(a, b[:60], out)                           # shapes that do not agree
    assert not blas_cpu.panels_fit(a, b, np.empty((300, 128), np.float32))
    assert not blas_cpu.panels_fit(a[:, :0], b[:0], out)                     # K = 0
    # and gemm_into then gives numpy's answer on the "panels" route all the same
    small = np.empty((256, width - 1), np.float32)
    blas_cpu.gemm_into(a, b[:, :width - 1], small, "panels")
    np.testing.assert_allclose(small, a @ b[:, :width - 1], rtol=1e-5, atol=1e-4)


@pytest.fixture
def auto(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "auto")
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_DIR", str(tmp_path))
    monkeypatch.setattr(tuning, "_decisions", {})
    monkeypatch.setattr(tuning, "CALIBRATE_REPEATS", 2)
    monkeypatch.setattr(blas_cpu, "_routes", {})
    return tmp_path


def test_route_is_blas_when_off_and_forced_by_the_environment(monkeypatch):
    monkeypatch.setattr(blas_cpu, "_routes", {})
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "off")
    assert blas_cpu.gemm_route(np.float32) == "blas"
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "panels")
    assert blas_cpu.gemm_route(np.float32) == "panels"
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "gpu")
    with pytest.raises(ValueError, match="TINYGRAD_SEQ_TUNE_GEMM='gpu': expected one of blas, panels"):
        blas_cpu.gemm_route(np.float32)


def test_route_is_measured_once_and_written(auto, monkeypatch):
    # a real (small) measurement of both routes; which wins is this machine's business
    route = blas_cpu.gemm_route(np.float32)
    assert route in ("blas", "panels")
    table = json.load(open(tuning.wisdom_path()))["decisions"]
    record = table[[k for k in table if k.startswith("gemm|dtype=float32|openblas_coretype=")][0]]
    assert set(record["ms"]) == {"gemm=blas", "gemm=panels"} and record["choice"] == {"gemm": route}
    calls = []
    monkeypatch.setattr(tuning, "calibrate", lambda *a, **k: calls.append(a))
    assert blas_cpu.gemm_route(np.float32) == route and calls == []


def test_no_route_is_remembered_inside_another_calibration(auto, monkeypatch):
    monkeypatch.setattr(calibration._calibrating, "active", True, raising=False)
    assert blas_cpu.gemm_route(np.float64) == "blas"
    assert blas_cpu._routes == {}


def test_other_calibrations_measure_on_the_machines_route(auto, monkeypatch):
    # the weight-gradient split and the time loop are calibrated after the route is decided, so
    # their candidates run their GEMMs on it (here a fake measurement makes the panels faster)
    from tinygrad_seq.kernels import lstm_cpu, steps_cpu

    def fake_measure(dtype):
        return lambda candidate, timer: 1.0 if candidate["gemm"] == "panels" else 2.0

    monkeypatch.setattr(blas_cpu, "_route_measure", fake_measure)
    monkeypatch.setattr(steps_cpu, "_plans", {})
    monkeypatch.setattr(tuning, "CALIBRATE_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_MACS", 1)
    routes = []
    original = blas_cpu.gemm_into

    def spy(a, b, out, route="blas"):
        routes.append(route)
        original(a, b, out, route)

    for module in (blas_cpu, weight_grads_cpu):   # each calls gemm_into by its own name
        monkeypatch.setattr(module, "gemm_into", spy)
    weight_grads_cpu.gradient_split(512, 128, 32, 32, 2, np.float32)
    assert routes and set(routes) == {"panels"}
    routes.clear()
    lstm_cpu._plan(8, 16, 32, 32, np.float32)
    assert "panels" in routes and "blas" not in routes


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_on_the_panel_route(cell, dtype, monkeypatch):
    # T=8, B=16: 128 rows a whole-sequence GEMM, I=40 (dx's columns past the panels: 32 + 8 for
    # float32), H=32; input projection, dx and both weight gradients on panels, forward and
    # backward equal to the numpy reference; the spy sees panel_gemm run
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "panels")
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_ROWS", 1)   # the RNN's weight gradients have H = 32 rows
    ran = []
    original = blas_cpu.panel_gemm
    monkeypatch.setattr(blas_cpu, "panel_gemm", lambda a, b, out: (ran.append(a.shape), original(a, b, out)))
    arrays, lengths = make_case(cell, seq_len=8, batch=16, n_in=40, hidden=32, seed=4, dtype=dtype)
    (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, False)
    assert len(ran) >= 4
    assert_all_close(fwd, rfwd, dtype, NAMES_FWD)
    assert_all_close(bwd, rbwd, dtype, NAMES_BWD)


def test_engine_products_on_the_panel_route(monkeypatch):
    # gemm_cpu.matmul: one thread's product, rows split over threads, and the split along K of a
    # transposed left operand (a Linear layer's weight gradient), against numpy
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "panels")
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "ROWS_PER_THREAD", 16)
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "PANEL_GEMM_MIN_ROWS", 1)
    ran = []
    original = blas_cpu.panel_gemm
    monkeypatch.setattr(blas_cpu, "panel_gemm", lambda a, b, out: (ran.append(a.shape), original(a, b, out)))
    rng = np.random.default_rng(8)
    x = rng.standard_normal((300, 96)).astype(np.float32)
    w = rng.standard_normal((72, 96)).astype(np.float32)
    g = rng.standard_normal((300, 72)).astype(np.float32)
    for a, b in ((x, w.T), (g, w), (g.T, x)):
        ran.clear()
        np.testing.assert_allclose(gemm_cpu.matmul(a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
        assert ran, f"{a.shape} @ {b.shape} did not run on panels"


@pytest.mark.parametrize("split", ["product", "rows"])
@pytest.mark.parametrize("same", [True, False])
def test_weight_gradients_on_the_panel_route(split, same, monkeypatch):
    # dx, dW_ih and dW_hh over the rows, each split (forced), one chunk and two, with the gate
    # gradients one array for both weights (the LSTM's; 4H = 256 float32 puts the columns of dG^T
    # 1 KiB apart, so the panel GEMM packs its blocks) or two (the GRU's), against numpy
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "panels")
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_DW_SPLIT", split)
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    rng = np.random.default_rng(11)
    T, B, I, H = 6, 40, 48, 64
    d_in = rng.standard_normal((T, B, 4 * H)).astype(np.float32)
    d_hid = d_in if same else rng.standard_normal((T, B, 4 * H)).astype(np.float32)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    h = rng.standard_normal((T, B, H)).astype(np.float32)
    w = rng.standard_normal((4 * H, I)).astype(np.float32)
    g_in, g_hid = (g.reshape(T * B, 4 * H).astype(np.float64) for g in (d_in, d_hid))
    for n_chunks in (1, 2):
        for need_dx in (True, False):   # False: an input that needs no gradient, dx not computed
            dx, dw_ih, dw_hh = weight_grads_cpu.weight_gradients(d_in, d_hid, x, h, w, n_chunks, need_dx)
            if need_dx:
                np.testing.assert_allclose(dx.reshape(T * B, I), g_in @ w, rtol=1e-4, atol=1e-3)
            else:
                assert dx is None
            np.testing.assert_allclose(dw_ih, g_in.T @ x.reshape(T * B, I), rtol=1e-4, atol=1e-3)
            np.testing.assert_allclose(dw_hh, g_hid.T @ h.reshape(T * B, H), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("gates", [210, 256])
@pytest.mark.parametrize("n_chunks", [1, 2, 3])
def test_input_projection_split_by_columns(gates, n_chunks, monkeypatch):
    # on the panel route a large W_ih splits the projection's columns over the threads (each packs
    # its share of W_ih), the last chunk taking the columns past the last whole panel (210 =
    # 6 x 32 + 18); below PROJECTION_COLUMNS_BYTES the rows are split; both equal numpy's product
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "panels")
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 30, 48)).astype(np.float32)
    w = rng.standard_normal((gates, 48)).astype(np.float32)
    ref = x.reshape(150, 48).astype(np.float64) @ w.T.astype(np.float64)
    shapes = []
    original = blas_cpu.gemm_into
    monkeypatch.setattr(blas_cpu, "gemm_into", lambda a, b, out, route="blas": (shapes.append(out.shape),
                                                                                   original(a, b, out, route)))
    for column_bytes, by_columns in ((0, True), (1 << 40, False)):
        monkeypatch.setattr(tuning, "PROJECTION_COLUMNS_BYTES", column_bytes)
        shapes.clear()
        out = np.full((5, 30, gates), np.nan, np.float32)
        blas_cpu.input_projection(x, w, out, n_chunks)
        np.testing.assert_allclose(out.reshape(150, gates), ref, rtol=1e-4, atol=1e-3)
        assert len(shapes) == n_chunks
        if n_chunks > 1:
            assert all(rows == (150 if by_columns else 50 if n_chunks == 3 else 75) for rows, _ in shapes)


@pytest.mark.parametrize("max_rows, by_columns", [(256, True), (100, False)])
def test_input_projection_of_few_rows_splits_columns_on_numpys_blas(max_rows, by_columns, monkeypatch):
    # on numpy's BLAS route a projection of at most PROJECTION_COLUMNS_ROWS rows (150 here) splits
    # W_ih's columns too (each thread reads its share of the weight), more rows split the rows
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_GEMM", "blas")
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "PROJECTION_COLUMNS_BYTES", 0)
    monkeypatch.setattr(tuning, "PROJECTION_COLUMNS_ROWS", max_rows)
    rng = np.random.default_rng(13)
    x = rng.standard_normal((5, 30, 48)).astype(np.float32)
    w = rng.standard_normal((256, 48)).astype(np.float32)
    shapes = []
    original = blas_cpu.gemm_into
    monkeypatch.setattr(blas_cpu, "gemm_into", lambda a, b, out, route="blas": (shapes.append(out.shape),
                                                                                   original(a, b, out, route)))
    out = np.full((5, 30, 256), np.nan, np.float32)
    blas_cpu.input_projection(x, w, out, 2)
    ref = x.reshape(150, 48).astype(np.float64) @ w.T.astype(np.float64)
    np.testing.assert_allclose(out.reshape(150, 256), ref, rtol=1e-4, atol=1e-3)
    assert shapes == ([(150, 128)] * 2 if by_columns else [(75, 256)] * 2)


@pytest.mark.parametrize("rows", [1, 32, 64, 65])
@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
def test_gemm_into_swaps_few_rows_times_a_transposed_weight(rows, dtype, tol, monkeypatch):
    # a one-step input projection x @ W_ih^T into a given out: (W @ x^T)^T up to SWAP_MAX_ROWS rows
    rng = np.random.default_rng(4)
    a, b = _operands(rng, rows, 96, 160, "C", "F", dtype)
    seen = []
    real = np.matmul
    monkeypatch.setattr(blas_cpu.np, "matmul", lambda x, y, **kw: seen.append((x.shape, y.shape)) or real(x, y, **kw))
    out = np.full((rows, 160), np.nan, dtype)
    blas_cpu.gemm_into(a, b, out, "blas")
    np.testing.assert_allclose(out, a.astype(np.float64) @ b.astype(np.float64), rtol=tol, atol=tol)
    assert (seen[0] == ((160, 96), (96, rows))) == (rows <= tuning.SWAP_MAX_ROWS)
