"""The gradient-flow study: vanishing and exploding gradients through time (Pascanu et al. 2013)."""
import sys

import numpy as np
import pytest

from tinygrad_seq.examples import gradflow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def default_init():
    return {c: gradflow.grad_norms(c, steps=110, hidden_size=32)[::-1] for c in ("rnn", "lstm", "gru")}


def test_tanh_rnn_vanishes_orders_of_magnitude_faster_than_lstm(default_init):
    rnn, lstm, gru = (default_init[c][100] for c in ("rnn", "lstm", "gru"))
    assert 0 < rnn < 1e-2 * lstm
    assert 0 < rnn < 1e-2 * gru
    # the loss's own step gets the same gradient for every cell: ||v|| stays comparable
    assert 0.1 < default_init["rnn"][0] / default_init["lstm"][0] < 10


def test_norms_decay_with_distance_under_default_init(default_init):
    for norms in default_init.values():
        assert norms[100] < norms[10] < norms[0]


def test_small_weights_vanish_large_weights_explode_for_tanh_rnn():
    small = gradflow.grad_norms("rnn", steps=110, hidden_size=32, scale=0.5)[::-1]
    large = gradflow.grad_norms("rnn", steps=110, hidden_size=32, scale=4.0)[::-1]
    assert small[100] < 1e-30 * small[0]
    assert large[100] > 1e3 * large[0]


def test_forget_bias_lets_the_lstm_gradient_reach_further():
    plain = gradflow.grad_norms("lstm", steps=110, hidden_size=32)[::-1]
    fb = gradflow.grad_norms("lstm-fb1", steps=110, hidden_size=32)[::-1]
    assert fb[100] > 1e3 * plain[100]


def test_study_table_lists_every_cell_and_scale():
    res = gradflow.study(("rnn", "gru"), (0.5, 1.0), steps=12, hidden_size=8)
    table = gradflow.format_table(res, 12)
    assert "tanh RNN" in table and "GRU" in table and "k=10" in table
    assert len([l for l in table.splitlines() if l.startswith(("tanh RNN", "GRU"))]) == 4


def test_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    res = gradflow.study(("rnn", "lstm"), (1.0, 4.0), steps=12, hidden_size=8)
    path = gradflow.plot(res, str(tmp_path / "gf.png"), log=lambda *a: None)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE


def test_plot_skipped_without_matplotlib(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    msgs = []
    res = {("rnn", 1.0): np.ones(5)}
    assert gradflow.plot(res, str(tmp_path / "gf.png"), log=msgs.append) is None
    assert len(msgs) == 1 and "matplotlib" in msgs[0]
    assert not (tmp_path / "gf.png").exists()


def test_every_cell_is_listed_and_the_irnn_holds_its_gradient(default_init):
    assert set(gradflow.CELLS) == {"rnn", "irnn", "lstm", "gru", "lstm-fb1", "peephole", "cifg", "lnlstm", "gru-rb"}
    irnn = gradflow.grad_norms("irnn", steps=110, hidden_size=32)[::-1]
    # W_hh = I: at scale 1 the IRNN keeps orders of magnitude more gradient than the tanh RNN
    assert irnn[100] > 1e6 * default_init["rnn"][100]
    big = gradflow.grad_norms("irnn", steps=30, hidden_size=32, scale=4.0)[::-1]
    assert big[20] > 1e6 * big[0]    # and relu units with W_hh = 4 I explode


@pytest.mark.slow   # the generated kernels' first compile in a process
def test_peephole_lstm_starts_as_the_lstm():
    # zero peepholes, and the same random draws for the LSTM's four parameters
    np.testing.assert_allclose(gradflow.grad_norms("peephole", steps=20, hidden_size=8),
                               gradflow.grad_norms("lstm", steps=20, hidden_size=8), rtol=1e-10)


@pytest.mark.slow   # the generated kernels' first compile in a process
def test_layernorm_lstm_does_not_care_about_the_scale_of_w_hh():
    one = gradflow.grad_norms("lnlstm", steps=20, hidden_size=8)
    four = gradflow.grad_norms("lnlstm", steps=20, hidden_size=8, scale=4.0)
    # LN(4 W h) = LN(W h) but for LayerNorm's eps, which matters while h is near its zero start
    np.testing.assert_allclose(four, one, rtol=0.05)
    tanh = gradflow.grad_norms("rnn", steps=20, hidden_size=8, scale=4.0)
    assert np.max(np.abs(np.log(tanh / gradflow.grad_norms("rnn", steps=20, hidden_size=8)))) > 1.0


@pytest.mark.slow   # the generated kernels' first compile in a process
def test_cifg_and_reset_before_gru_give_finite_decaying_norms():
    for cell in ("cifg", "gru-rb"):
        norms = gradflow.grad_norms(cell, steps=30, hidden_size=8)[::-1]
        assert np.isfinite(norms).all() and norms[25] < norms[0]
    assert not np.allclose(gradflow.grad_norms("gru-rb", steps=10, hidden_size=8),
                           gradflow.grad_norms("gru", steps=10, hidden_size=8))


def test_cells_all_means_every_cell(monkeypatch, capsys):
    seen = {}

    def fake_study(cells, scales, steps, hidden_size, seed):
        seen["cells"] = cells
        return {(c, 1.0): np.ones(steps) for c in cells}
    monkeypatch.setattr(gradflow, "study", fake_study)
    assert gradflow.main(["--cells", "all", "--steps", "3", "--no-plot"]) == 0
    assert seen["cells"] == tuple(gradflow.CELLS)
    assert gradflow.main(["--steps", "3", "--no-plot"]) == 0
    assert seen["cells"] == gradflow.DEFAULT_CELLS and "irnn" in gradflow.DEFAULT_CELLS
    assert gradflow.main(["--cells", "lstm,bogus", "--no-plot"]) == 1
    assert "bogus" in capsys.readouterr().err
