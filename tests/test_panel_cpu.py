"""The step product on packed weight panels (kernels/panel_cpu.py): the register tile and the
dot-product loop and BLAS routes beside it (activations_cpu.step_product) against numpy, the
packing, and the LSTM, GRU and RNN kernels on panels against the numpy reference of
test_kernels_cpu.py (a spy checks that the panels were packed, or that they were not where they
do not apply)."""
import numba
import numpy as np
import pytest

from tinygrad_seq.kernels import activations_cpu, panel_cpu, steps_cpu

from test_kernels_cpu import NAMES_BWD, NAMES_FWD, assert_all_close, make_case, run_both


class PackSpy:
    """Counts the packings of the step products' weights into panels (kernels/panel_cpu.py)."""

    def __init__(self, monkeypatch):
        self.calls = []
        for name in ("pack_rows", "pack_columns"):
            original = getattr(panel_cpu, name)

            def spy(*args, _name=name, _original=original):
                self.calls.append(_name)
                return _original(*args)
            monkeypatch.setattr(panel_cpu, name, spy)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_panel_step_products_against_numpy_reference(cell, reverse, dtype, monkeypatch):
    # H=32: forward (G*H columns) and backward (H columns) step products both run on panels,
    # padded sequences, both directions, batch 5 (a 4-row tile and a 1-row tile)
    spy = PackSpy(monkeypatch)
    arrays, lengths = make_case(cell, seq_len=6, batch=5, n_in=6, hidden=32, seed=21, dtype=dtype)
    (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, reverse)
    assert sorted(set(spy.calls)) == ["pack_columns", "pack_rows"]
    assert_all_close(fwd, rfwd, dtype, NAMES_FWD)
    assert_all_close(bwd, rbwd, dtype, NAMES_BWD)


def test_panels_only_where_they_fit(monkeypatch):
    # a one-step call and widths that are not a multiple of the panel's run without panels
    spy = PackSpy(monkeypatch)
    for seq_len, hidden in ((1, 32), (6, 7)):
        arrays, lengths = make_case("lstm", seq_len=seq_len, batch=3, n_in=4, hidden=hidden, seed=2,
                                    dtype=np.float32)
        (fwd, bwd), (rfwd, rbwd) = run_both("lstm", arrays, lengths, False)
        assert_all_close(bwd, rbwd, np.float32, NAMES_BWD)
    assert spy.calls == []
    plan = dict(blas_rows=1 << 30)
    assert steps_cpu.uses_panels(2, 5, 64, plan, np.float32) and not steps_cpu.uses_panels(2, 5, 48, plan, np.float32)
    assert steps_cpu.uses_panels(2, 5, 48, plan, np.float64) and not steps_cpu.uses_panels(1, 5, 64, plan, np.float32)
    assert not steps_cpu.uses_panels(9, 5, 64, dict(blas_rows=0), np.float32)   # the BLAS route
    assert not steps_cpu.uses_panels(9, 40, 64, dict(blas_rows=32), np.float32)  # rows above it: BLAS
    assert steps_cpu.forward_panels(np.ones((64, 7), np.float32), 1, 5, plan, np.float32) is None


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 40])
def test_step_product_matches_numpy(rows):
    # out = a @ b^T: the 4x2-blocked loop with its row remainders (2 x 4 blocks for two or three
    # rows, one row for a last one) and column remainders, the BLAS route, and the register tile
    # on packed panels (4-, 2- and 1-row tiles; N a multiple of the panel width)
    # (all helpers without a Python entry point: called through a jitted shim)
    rng = np.random.default_rng(rows)
    for k_dim, n_cols in ((7, 9), (130, 257), (1, 4), (130, 64), (3, 32)):
        for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
            a = rng.standard_normal((rows, k_dim)).astype(dtype)
            b = rng.standard_normal((n_cols, k_dim)).astype(dtype)
            ref = a.astype(np.float64) @ b.T.astype(np.float64)
            panels = None
            routes = [-1, 0, 1 << 30]  # -1: matmul_nt_into itself
            if panel_cpu.fits_panels(n_cols, dtype):
                panels = panel_cpu.pack_rows(b, dtype)
                np.testing.assert_array_equal(panels, panel_cpu.pack_columns(b.T.copy(), dtype))
                routes.append(-2)  # the tile on the panels, through step_product
            for blas_rows in routes:
                out = np.full((rows, n_cols), np.nan, dtype)
                if blas_rows == -2:
                    _step_product_shim(a, b, panels, out, 0)   # panels given: the tile, whatever blas_rows
                else:
                    _step_product_shim(a, b, None, out, blas_rows)
                np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_panel_tile_strided_rows_and_tile_rows():
    # rows of a and out inside wider arrays (the tile reads the row stride; nothing outside the
    # product's columns is written), and the ISA's choice of tile rows
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        width = panel_cpu.panel_width(dtype)
        wide = rng.standard_normal((6, 100)).astype(dtype)
        a = wide[:, 10:74]
        b = rng.standard_normal((2 * width, 64)).astype(dtype)
        out_wide = np.zeros((6, 2 * width + 8), dtype)
        out = out_wide[:, 4:4 + 2 * width]
        _panel_product_shim(a, panel_cpu.pack_rows(b, dtype), out)
        np.testing.assert_allclose(out, a @ b.T, rtol=1e-5, atol=1e-5)
        assert not out_wide[:, :4].any() and not out_wide[:, -4:].any()
    assert panel_cpu.TILE_ROWS in (2, 4)


@pytest.mark.parametrize("loop_bytes", [0, 1 << 40])   # the compiled loops, numpy's copy
def test_packing_matches_numpy_views(loop_bytes, monkeypatch):
    # panels of rows row0.. of w (B = w.T) and of columns col0.. of b, against numpy's views
    from tinygrad_seq.kernels import tuning

    monkeypatch.setattr(tuning, "PACK_LOOP_BYTES", loop_bytes)
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        width = panel_cpu.panel_width(dtype)
        w = rng.standard_normal((4 * width, 7)).astype(dtype)
        want = w[width:3 * width].reshape(2, width, 7).transpose(0, 2, 1)
        np.testing.assert_array_equal(panel_cpu.pack_rows(w, dtype, width, 2 * width), want)
        b = rng.standard_normal((5, 3 * width)).astype(dtype)
        want = b[:, width:3 * width].reshape(5, 2, width).transpose(1, 0, 2)
        np.testing.assert_array_equal(panel_cpu.pack_columns(b, dtype, width, 2 * width), want)
        assert panel_cpu.pack_columns(b, dtype).shape == (3, 5, width)


@numba.njit(cache=False)
def _panel_product_shim(a, panels, out):
    panel_cpu.panel_product(a, panels, out)


@numba.njit(cache=False)
def _step_product_shim(a, b, panels, out, blas_rows):
    if blas_rows == -1:
        activations_cpu.matmul_nt_into(a, b, out)
    else:
        activations_cpu.step_product(a, b, panels, out, blas_rows)


@pytest.mark.parametrize("loop_bytes", [0, 1 << 40])   # the compiled loops, numpy's copy
def test_packing_split_over_threads_matches_one_thread(loop_bytes, monkeypatch):
    # blas_cpu.packed_rows / packed_columns: two chunks each pack their share of the panels (5
    # panels: uneven shares), into a new array or the one given
    from tinygrad_seq.kernels import blas_cpu, tuning

    monkeypatch.setattr(tuning, "PACK_LOOP_BYTES", loop_bytes)
    monkeypatch.setattr(tuning, "PACK_SPLIT_BYTES", 0)
    chunks = []
    original = blas_cpu.run_chunks
    monkeypatch.setattr(blas_cpu, "run_chunks", lambda task, n: chunks.append(n) or original(task, n))
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        width = panel_cpu.panel_width(dtype)
        w = rng.standard_normal((5 * width, 7)).astype(dtype)
        np.testing.assert_array_equal(blas_cpu.packed_rows(w, dtype, 2), panel_cpu.pack_rows(w, dtype))
        b = rng.standard_normal((6, 5 * width)).astype(dtype)
        np.testing.assert_array_equal(blas_cpu.packed_columns(b, dtype, 2), panel_cpu.pack_columns(b, dtype))
        out = np.full((5, 6, width), np.nan, dtype)
        assert blas_cpu.packed_columns(b, dtype, 2, out) is out
        np.testing.assert_array_equal(out, panel_cpu.pack_columns(b, dtype))
    assert chunks == [2] * 6
    monkeypatch.setattr(tuning, "PACK_SPLIT_BYTES", 1 << 40)   # below the size: the calling thread alone
    blas_cpu.packed_rows(w, np.float64, 2)
    assert chunks == [2] * 6


@pytest.mark.parametrize("split", ["batch", "units"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_kernels_pack_their_panels_on_two_threads(cell, split, monkeypatch, request):
    # every weight packed by both threads (PACK_SPLIT_BYTES 0): the batch split's panels in two
    # shares, the LSTM units split's by each chunk for its own units; against the numpy reference
    from threads_helpers import rerun_with_two_threads
    from tinygrad_seq.kernels import tuning

    if cell != "lstm" and split == "units":
        pytest.skip("the hidden-units split is the LSTM's")
    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "UNITS_SPLIT_BYTES", 0)
    monkeypatch.setattr(tuning, "PACK_SPLIT_BYTES", 0)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", split)
    spy = PackSpy(monkeypatch)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        for dtype in (np.float64, np.float32):
            spy.calls.clear()
            hidden = 2 * panel_cpu.panel_width(dtype)   # two panels of units: one a chunk in the units split
            arrays, lengths = make_case(cell, seq_len=5, batch=3, n_in=6, hidden=hidden, seed=8, dtype=dtype)
            (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, True)
            assert_all_close(fwd, rfwd, dtype, NAMES_FWD)
            assert_all_close(bwd, rbwd, dtype, NAMES_BWD)
            per_chunk = 4 if split == "units" else 1    # the units split packs each gate's units
            assert spy.calls.count("pack_rows") == 2 * per_chunk and spy.calls.count("pack_columns") == 2
    finally:
        numba.set_num_threads(before)
