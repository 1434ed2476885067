"""The studies: the adding problem's data and run (examples/study_adding.py), Greff et al.'s variants
as user-defined cells (examples/study_variants.py) and the `tinygrad-seq study` command."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import Tensor, cli, nn
from tinygrad_seq.examples import adding_data, study_adding, study_variants

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ the adding problem's data
@pytest.mark.parametrize("T", [2, 3, 10, 101])
def test_adding_batch_invariants(T):
    rng = np.random.default_rng(T)
    x, y = adding_data.adding_batch(T, 64, rng)
    assert x.shape == (T, 64, 2) and y.shape == (64, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, marker = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(marker)) <= {0.0, 1.0}
    assert (marker.sum(0) == 2).all()
    half = T // 2
    assert (marker[:half].sum(0) == 1).all() and (marker[half:].sum(0) == 1).all()
    np.testing.assert_allclose(y[:, 0], (values * marker).sum(0), rtol=1e-6)


def test_adding_batch_is_reproducible_and_baseline_is_one_sixth():
    a = adding_data.adding_batch(50, 8, np.random.default_rng(3))
    b = adding_data.adding_batch(50, 8, np.random.default_rng(3))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    _, y = adding_data.adding_batch(20, 40_000, np.random.default_rng(0), dtype=np.float64)
    assert abs(np.mean((y - 1.0) ** 2) - adding_data.BASELINE_MSE) < 0.005
    assert abs(adding_data.BASELINE_MSE - 0.167) < 1e-3


@pytest.mark.parametrize("steps, batch", [(1, 4), (0, 4), (10, 0), (2.5, 4)])
def test_adding_batch_rejects_bad_sizes(steps, batch):
    with pytest.raises(ValueError, match="adding problem"):
        adding_data.adding_batch(steps, batch, np.random.default_rng(0))


# ------------------------------------------------------------------ the adding study
def test_irnn_is_identity_initialised_relu_rnn():
    m = study_adding.AddingModel("irnn", 6)
    assert m.rnn.nonlinearity == "relu"
    np.testing.assert_array_equal(m.rnn.weight_hh_l0.numpy(), np.eye(6))
    assert not m.rnn.bias_ih_l0.numpy().any() and not m.rnn.bias_hh_l0.numpy().any()


@pytest.mark.parametrize("key", list(study_adding.MODELS))
def test_adding_model_maps_sequences_to_one_number(key):
    ts.manual_seed(0)
    x, _ = adding_data.adding_batch(5, 3, np.random.default_rng(0))
    model = study_adding.AddingModel(key, 4)
    model.rnn.fused = False   # the composition; the kernels have their own tests
    out = model(Tensor(x))
    assert out.shape == (3, 1) and np.isfinite(out.numpy()).all()


def test_train_one_records_a_test_curve():
    r = study_adding.train_one("lstm", 6, 4, hidden_size=4, batch_size=4, eval_every=2, test_size=8,
                               progress=False)
    assert [s for s, _ in r["curve"]] == [0, 2, 4]
    assert r["steps"] == 4 and np.isfinite(r["final"]) and r["best"] <= r["final"]
    irnn = study_adding.train_one("irnn", 6, 1, hidden_size=4, batch_size=4, lr=1e-2, irnn_lr_scale=0.1,
                                  test_size=4, progress=False)
    assert irnn["lr"] == pytest.approx(1e-3)


def test_study_adding_command_prints_the_table_and_writes_files(tmp_path, capsys):
    rc = cli.main(["study", "adding", "--lengths", "4,6", "--steps", "2", "--hidden-size", "3",
                   "--batch-size", "2", "--test-size", "4", "--models", "rnn,irnn,gru", "--quiet",
                   "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    head = next(l for l in lines if l.startswith("model"))
    assert head.split() == ["model", "T=4", "T=6"]
    for label in ("tanh RNN", "IRNN", "GRU"):
        row = next(l for l in lines if l.startswith(label + " "))
        assert len(row[len(label):].split()) == 2 * 3   # final, (best;, steps) per length
    assert "LSTM" not in out.split("baseline")[1].split("* solved")[0]
    md = (tmp_path / "adding.md").read_text()
    assert md.startswith("| model | T=4 | T=6 |") and md.count("\n") == 5
    pytest.importorskip("matplotlib")
    assert (tmp_path / "adding.png").read_bytes()[:8] == PNG_SIGNATURE


def test_study_adding_rejects_unknown_models_and_short_lengths(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["study", "adding", "--models", "lstm,bogus", "--out", str(tmp_path)])
    assert e.value.code == 2 and "bogus" in capsys.readouterr().err
    assert cli.main(["study", "adding", "--lengths", "1", "--out", str(tmp_path)]) == 1
    assert "at least 2" in capsys.readouterr().err


# ------------------------------------------------------------------ Greff et al.'s variants
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def numpy_variant_step(name, x, h, c, w_ih, w_hh, b_ih, b_hh, p):
    """One step of each variant written independently with numpy: (h', c')."""
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    chunks = np.split(z, z.shape[1] // h.shape[1], axis=1)
    if name in ("V", "NIAF", "NOAF"):
        i, f, g, o = chunks
        i, f = _sig(i + p[0] * c), _sig(f + p[1] * c)
        c2 = f * c + i * (g if name == "NIAF" else np.tanh(g))
        o = _sig(o + p[2] * c2)
        return o * (c2 if name == "NOAF" else np.tanh(c2)), c2
    if name == "NIG":
        f, g, o = chunks
        c2 = _sig(f + p[0] * c) * c + np.tanh(g)
        return _sig(o + p[1] * c2) * np.tanh(c2), c2
    if name == "NFG":
        i, g, o = chunks
        c2 = c + _sig(i + p[0] * c) * np.tanh(g)
        return _sig(o + p[1] * c2) * np.tanh(c2), c2
    if name == "NOG":
        i, f, g = chunks
        c2 = _sig(f + p[1] * c) * c + _sig(i + p[0] * c) * np.tanh(g)
        return np.tanh(c2), c2
    if name == "NP":
        i, f, g, o = chunks
        c2 = _sig(f) * c + _sig(i) * np.tanh(g)
        return _sig(o) * np.tanh(c2), c2
    if name == "CIFG":
        i, g, o = chunks
        i = _sig(i + p[0] * c)
        c2 = (1 - i) * c + i * np.tanh(g)
        return _sig(o + p[1] * c2) * np.tanh(c2), c2
    raise KeyError(name)


def _check_variant_step(name, fused):
    I, H, B = 3, 4, 2
    ts.manual_seed(1)
    layer = nn.Recurrent(study_variants.VARIANTS[name][0], I, H, dtype=np.float64, fused=fused)
    rng = np.random.default_rng(2)
    if hasattr(layer, "weight_peephole_l0"):   # nonzero peepholes, so they are exercised
        with ts.no_grad():
            layer.weight_peephole_l0.copy_(Tensor(rng.standard_normal(layer.weight_peephole_l0.shape)))
    x, h0, c0 = rng.standard_normal((1, B, I)), rng.standard_normal((1, B, H)), rng.standard_normal((1, B, H))
    y, (h, c) = layer(Tensor(x), (Tensor(h0), Tensor(c0)))
    p = layer.weight_peephole_l0.numpy() if hasattr(layer, "weight_peephole_l0") else None
    want_h, want_c = numpy_variant_step(name, x[0], h0[0], c0[0], layer.weight_ih_l0.numpy(),
                                        layer.weight_hh_l0.numpy(), layer.bias_ih_l0.numpy(),
                                        layer.bias_hh_l0.numpy(), p)
    np.testing.assert_allclose(h.numpy()[0], want_h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.numpy()[0], want_c, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y.numpy()[0], want_h, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(study_variants.VARIANTS))
def test_variant_cell_matches_numpy_step(name):
    _check_variant_step(name, fused=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(study_variants.VARIANTS))
def test_variant_generated_kernel_matches_numpy_step(name):
    _check_variant_step(name, fused=True)


def test_variants_have_the_papers_gate_counts_and_peepholes():
    gates = {n: spec.gates for n, (spec, _) in study_variants.VARIANTS.items()}
    assert gates == {"V": 4, "NIG": 3, "NFG": 3, "NOG": 3, "NIAF": 4, "NOAF": 4, "NP": 4, "CIFG": 3}
    layer = nn.Recurrent(study_variants.VARIANTS["CIFG"][0], 5, 7)
    assert layer.weight_ih_l0.shape == (21, 5) and layer.weight_peephole_l0.shape == (2, 7)
    assert not layer.weight_peephole_l0.numpy().any()
    assert not hasattr(nn.Recurrent(study_variants.VARIANTS["NP"][0], 5, 7), "weight_peephole_l0")


@pytest.mark.slow
def test_study_variants_command_prints_the_table_and_writes_files(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("def f(x):\n    return x + 1\n" * 200)
    rc = cli.main(["study", "variants", "--text", str(text), "--steps", "2", "--hidden-size", "4",
                   "--batch-size", "2", "--bptt", "4", "--eval-every", "1", "--eval-chars", "40",
                   "--variants", "NFG,NP,CIFG", "--quiet", "--out", str(tmp_path)])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(l for l in lines if l.startswith("variant"))
    assert head.split()[:5] == ["variant", "val", "loss", "vs", "V"]
    rows = {l.split()[0]: l for l in lines if l.split() and l.split()[0] in study_variants.VARIANTS}
    assert list(rows) == ["NFG", "NP", "CIFG"]
    for name, row in rows.items():
        assert np.isfinite(float(row.split()[1]))
    assert "much worse" in rows["NFG"] and "no significant change" in rows["CIFG"]
    md = (tmp_path / "variants.md").read_text().splitlines()
    assert len(md) == 2 + 3
    pytest.importorskip("matplotlib")
    assert (tmp_path / "variants.png").read_bytes()[:8] == PNG_SIGNATURE


def test_variant_lm_trains_one_step_unfused_shapes():
    ts.manual_seed(0)
    model = study_variants.VariantLM(study_variants.VARIANTS["NOG"][0], 11, embed_dim=3, hidden_size=5)
    model.rnn.fused = False
    logits, (h, c) = model(Tensor(np.zeros((4, 2), np.int64)))
    assert logits.shape == (4, 2, 11) and h.shape == (1, 2, 5) and c.shape == (1, 2, 5)
