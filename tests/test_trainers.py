"""Trainers that keep their work (char-LM and seq2seq): checkpoints every N steps, Ctrl-C saves and
exits 130, --resume continues, a non-finite loss stops keeping the last good checkpoint, the
output path is checked before training, corrupt checkpoint metadata and a prime outside the
vocabulary give clear errors."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.examples import charlm
from tinygrad_seq.examples.charlm import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = lambda *a: None  # noqa: E731


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text("".join(f"def f{i}(x):\n    return x + {i % 7}\n" for i in range(120)), encoding="utf-8")
    return str(path)


def tiny(corpus, tmp_path, **kw):
    cfg = dict(text=corpus, embed_dim=8, hidden_size=16, batch_size=4, bptt=8, lr=1e-2, steps=6,
               time_budget=0, eval_every=0, sample_length=0, plot=False, quiet=True, out=str(tmp_path),
               val_fraction=0.1, save_every=2, save_minutes=0)
    cfg.update(kw)
    return Config(**cfg)


def cli(*args, **kw):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tinygrad_seq", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env, **kw)


# ------------------------------------------------------------------ char-LM
def test_charlm_saves_every_n_steps_and_the_checkpoint_resumes(corpus, tmp_path, monkeypatch):
    from tinygrad_seq.examples.charlm import runner as run_mod
    steps_saved = []
    real = run_mod.save_checkpoint

    def spy(path, model, vocab, cfg, optimizer=None, progress=None, history=None):
        steps_saved.append(progress["step"])
        return real(path, model, vocab, cfg, optimizer, progress, history)
    monkeypatch.setattr(run_mod, "save_checkpoint", spy)
    res = charlm.train(tiny(corpus, tmp_path), log=QUIET)
    assert res["stopped"] == "done" and steps_saved == [2, 4, 6, 6]   # every 2 steps, and at the end
    ck = charlm.read_checkpoint(res["checkpoint"])
    assert ck["progress"]["step"] == 6 and ck["optimizer"]["state"][0]["step"] == 6
    assert len(ck["history"]["loss"]) == 6
    # resume to 10 steps: weights, Adam's state and the step counter continue
    res2 = charlm.train(tiny(corpus, tmp_path, steps=10, resume=res["checkpoint"]), log=QUIET)
    assert res2["steps"] == 10
    ck2 = charlm.read_checkpoint(res2["checkpoint"])
    assert ck2["optimizer"]["state"][0]["step"] == 10 and len(ck2["history"]["loss"]) == 10
    assert ck2["history"]["loss"][:6] == ck["history"]["loss"]


def test_charlm_resume_restores_model_optimizer_and_stream_position(corpus, tmp_path):
    """A resumed run's first step starts from the saved weights and optimizer state, on the chunk
    after the last one trained: with the LSTM state reset in both, 3 + 3 steps equal 6 steps when
    every epoch is one chunk long."""
    # 16 columns of ~200 characters, one chunk each: one chunk per epoch; a constant learning rate
    kw = dict(bptt=256, batch_size=16, save_every=0, min_lr_ratio=1.0)
    straight = charlm.train(tiny(corpus, tmp_path / "a", steps=6, **kw), log=QUIET)
    first = charlm.train(tiny(corpus, tmp_path / "b", steps=3, **kw), log=QUIET)
    resumed = charlm.train(tiny(corpus, tmp_path / "c", steps=6, resume=first["checkpoint"], **kw), log=QUIET)
    a, _, _ = charlm.load_checkpoint(straight["checkpoint"])
    b, _, _ = charlm.load_checkpoint(resumed["checkpoint"])
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=k)


def test_charlm_stops_on_nonfinite_loss_keeping_last_good_checkpoint(corpus, tmp_path, monkeypatch):
    from tinygrad_seq.examples.charlm import model as model_mod
    real, calls = model_mod.lm_loss, []

    def poisoned(model, x, y, state):
        loss, state = real(model, x, y, state)
        calls.append(1)
        return (loss * float("nan") if len(calls) == 6 else loss), state   # 1 warm-up + step 5
    monkeypatch.setattr(model_mod, "lm_loss", poisoned)
    with pytest.raises(charlm.TrainingDiverged, match=r"diverged at step 5.*last good checkpoint .* \(step 4\)"):
        charlm.train(tiny(corpus, tmp_path, steps=8), log=QUIET)
    ck = charlm.read_checkpoint(str(tmp_path / "charlm.npz"))
    assert ck["progress"]["step"] == 4
    assert all(np.isfinite(v).all() for v in ck["model"].values())


def test_charlm_output_path_is_checked_before_training(corpus, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    t = time.monotonic()
    r = cli("charlm", "train", "--text", corpus, "--steps", "100000", "--time-budget", "0",
            "--checkpoint", str(blocker / "c.npz"), "--quiet")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert str(blocker) in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "corpus:" not in r.stdout   # nothing was built or trained
    assert time.monotonic() - t < 120


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a subprocess")
def test_charlm_ctrl_c_saves_and_exits_130_then_resumes(corpus, tmp_path):
    ckpt = tmp_path / "c.npz"
    args = ["charlm", "train", "--text", corpus, "--hidden-size", "16", "--embed-dim", "8", "--batch-size", "4",
            "--bptt", "8", "--sample-length", "0", "--eval-every", "0", "--no-plot", "--quiet",
            "--time-budget", "0", "--save-every", "3", "--checkpoint", str(ckpt), "--out", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_seq", *args, "--steps", "1000000"], cwd=ROOT,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not ckpt.exists():   # it has saved once: training is under way
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted at step" in out and "--resume" in out
    ck = charlm.read_checkpoint(str(ckpt))
    step = ck["progress"]["step"]
    assert step >= 3 and ck["optimizer"]["state"][0]["step"] == step
    r = cli(*args, "--steps", str(step + 2), "--resume", str(ckpt))
    assert r.returncode == 0, r.stderr
    assert f"resuming from {ckpt} at step {step}" in r.stdout
    assert charlm.read_checkpoint(str(ckpt))["progress"]["step"] == step + 2


def test_charlm_sample_with_corrupt_metadata_names_file_and_problem(corpus, tmp_path, capsys):
    from tinygrad_seq.cli import main
    res = charlm.train(tiny(corpus, tmp_path, steps=1), log=QUIET)
    ck = ts.load(res["checkpoint"])
    for change, message in [(("config", "hidden_size", "abc"), "setting 'hidden_size' is 'abc'"),
                            (("config", "embed_dim", None), "setting 'embed_dim' is None"),
                            (("vocab", None, np.array([[1.5]])), "the vocabulary should be"),
                            (("config", None, [1, 2]), "its settings are a list"),
                            (("model", None, {"x": np.ones(2)}), "the weights do not fit")]:
        bad = {k: (dict(v) if isinstance(v, dict) else v) for k, v in ck.items()}
        key, sub, value = change
        if sub is None:
            bad[key] = value
        else:
            bad[key][sub] = value
        path = tmp_path / "bad.npz"
        ts.save(bad, path)
        assert main(["charlm", "sample", "--checkpoint", str(path), "--length", "3"]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(path) in err and message in err, err


def test_first_layout_charlm_checkpoint_still_samples(corpus, tmp_path):
    import json
    res = charlm.train(tiny(corpus, tmp_path, steps=1), log=QUIET)
    ck = ts.load(res["checkpoint"])
    state = dict(ck["model"])
    state["meta.vocab"] = ck["vocab"]
    state["meta.config"] = np.frombuffer(json.dumps(ck["config"]).encode(), np.uint8)
    np.savez(tmp_path / "old.npz", **state)
    model, vocab, _ = charlm.load_checkpoint(str(tmp_path / "old.npz"))
    assert charlm.sample(model, vocab, 5, "def ", seed=1).startswith("def ")
    state["meta.config"] = np.frombuffer(b"{not json", np.uint8)
    np.savez(tmp_path / "old.npz", **state)
    with pytest.raises(ValueError, match=r"old.npz: corrupt char-LM checkpoint: its settings .* not valid JSON"):
        charlm.load_checkpoint(str(tmp_path / "old.npz"))


def test_default_prime_on_a_non_latin_corpus_points_to_prime(tmp_path):
    greek = tmp_path / "greek.txt"
    greek.write_text("\ufeff\u03b1\u03b2\u03b3\u03b4 \u03b5\u03b6\u03b7\u03b8\n" * 40, encoding="utf-8")
    # the default prime ("def ") left: the corpus's first printable character (a BOM is not)
    res = charlm.train(tiny(str(greek), tmp_path, steps=1, sample_length=5), log=QUIET)
    assert res["sample"].startswith("\u03b1")
    vocab = charlm.Vocab.build("\u4e00\u4e01\u4e02 " * 100 + "".join(chr(0x4e00 + i) for i in range(200)), 20)
    model = charlm.CharLM(len(vocab), 4, 8)
    with pytest.raises(ValueError, match="none of its characters is in the vocabulary.*--prime"):
        charlm.sample(model, vocab, 3, "def ")   # with an unknown-character entry too
    res = charlm.train(tiny(str(greek), tmp_path, steps=1, sample_length=5, prime="\u03b1"), log=QUIET)
    assert res["sample"].startswith("\u03b1")


def test_library_callers_get_the_same_checks(corpus, tmp_path):
    for bad, match in [(dict(lr=float("nan")), "--lr"), (dict(temperature=float("inf")), "--temperature"),
                       (dict(hidden_size=-1), "--hidden-size"), (dict(save_minutes=-1.0), "--save-minutes")]:
        with pytest.raises(ValueError, match=match):
            charlm.train(tiny(corpus, tmp_path, **bad), log=QUIET)


# ------------------------------------------------------------------ seq2seq
S2S = ["--batch-size", "8", "--hidden", "8", "--embed", "4", "--pool", "64", "--val-size", "8",
       "--test-size", "8", "--quiet", "--save-minutes", "0"]


def test_seq2seq_saves_resumes_and_stops_on_nonfinite_loss(tmp_path, capsys, monkeypatch):
    from tinygrad_seq.examples import seq2seq_dates as E
    from tinygrad_seq.nn.seq2seq import Seq2Seq
    out = str(tmp_path)
    assert E.main([*S2S, "--steps", "3", "--out", out, "--save-every", "2"]) == 0
    path = os.path.join(out, "seq2seq_dates.npz")
    ck = ts.load(path)
    assert ck["progress"]["step"] == 3 and ck["optimizer"]["state"][0]["step"] == 3
    assert E.main([*S2S, "--steps", "5", "--out", out, "--resume", path]) == 0
    ck = ts.load(path)
    assert ck["progress"]["step"] == 5 and ck["optimizer"]["state"][0]["step"] == 5 and ck["metrics"]["steps"] == 5
    capsys.readouterr()
    real, calls = Seq2Seq.loss, []

    def poisoned(self, logits, tgt):
        calls.append(1)
        loss = real(self, logits, tgt)
        return loss * float("nan") if len(calls) == 3 else loss
    monkeypatch.setattr(Seq2Seq, "loss", poisoned)
    before = ts.load(path)
    assert E.main([*S2S, "--steps", "9", "--out", out, "--resume", path, "--save-every", "1"]) == 1
    err = capsys.readouterr().err
    assert "diverged at step 8" in err and "the last good checkpoint is the one of step 7" in err
    ck = ts.load(path)
    assert ck["progress"]["step"] == 7 and before["progress"]["step"] == 5
    assert all(np.isfinite(v).all() for v in ck["model"].values())


def test_seq2seq_output_path_is_checked_before_training(tmp_path, capsys):
    from tinygrad_seq.examples import seq2seq_dates as E
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert E.main([*S2S, "--steps", "100000", "--time-budget", "0", "--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert str(blocker) in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a subprocess")
def test_seq2seq_sigterm_saves_and_exits_143(tmp_path):
    path = tmp_path / "s.npz"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_seq", "seq2seq", *S2S, "--steps", "1000000",
                          "--time-budget", "0", "--target", "0", "--eval-every", "100000", "--save-every", "2",
                          "--checkpoint", str(path), "--out", str(tmp_path)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not path.exists():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)   # what a batch scheduler sends at the time limit
    out, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert "interrupted at step" in out and "Traceback" not in err
    ck = ts.load(path)
    assert ck["progress"]["step"] >= 2 and ck["optimizer"]["state"][0]["step"] == ck["progress"]["step"]
