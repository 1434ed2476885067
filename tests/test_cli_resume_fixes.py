"""Resumed command-line runs (round 29e, an audit of the toolbox against the README): a flag typed
at its default value counts as set, charlm's corpus path resumes from any folder, the stream's
layout comes back, and a corpus without the default prime's characters trains."""
import os

from tinygrad_seq.examples.charlm.checkpoint import read_checkpoint

from test_cli import inproc

CHARLM_SMALL = ["--hidden-size", "16", "--embed-dim", "8", "--batch-size", "4", "--bptt", "8", "--eval-every", "0",
                "--sample-length", "0", "--no-plot", "--quiet"]


def test_resumed_seq2seq_refuses_a_flag_typed_at_its_default(capsys, tmp_path):
    out = str(tmp_path)
    code, _, err = inproc(capsys, "seq2seq", "--task", "reverse", "--steps", "2", "--hidden", "8", "--embed", "8",
                          "--eval-every", "2", "--val-size", "4", "--test-size", "4", "--pool", "50", "--out", out)
    assert code == 0, err
    ckpt = str(tmp_path / "seq2seq_reverse.npz")
    for flags, message in ((["--hidden", "128"], "--hidden 128 differs from 8"),
                           (["--task", "dates"], "--task 'dates' differs from 'reverse'")):
        code, _, err = inproc(capsys, "seq2seq", "--resume", ckpt, *flags, "--steps", "3", "--out", out)
        assert code == 1 and message in err, err


def test_resumed_charlm_finds_its_corpus_from_another_folder(capsys, tmp_path, monkeypatch):
    train_dir, other = tmp_path / "a", tmp_path / "b"
    train_dir.mkdir()
    other.mkdir()
    (train_dir / "book.txt").write_text("".join(f"def f{i}(x):\n    return x * {i % 5}\n" for i in range(80)))
    monkeypatch.chdir(train_dir)
    code, _, err = inproc(capsys, "charlm", "train", "--text", "book.txt", "--steps", "2", *CHARLM_SMALL,
                          "--checkpoint", "a.npz")
    assert code == 0, err
    ckpt = str(train_dir / "a.npz")
    assert read_checkpoint(ckpt)["config"]["text"] == os.path.realpath(train_dir / "book.txt")
    monkeypatch.chdir(other)
    for text in ([], ["--text", str(train_dir / "book.txt")], ["--text", "../a/./book.txt"]):
        code, _, err = inproc(capsys, "charlm", "train", "--resume", ckpt, *text, "--steps", "3", "--eval-every",
                              "0", "--sample-length", "0", "--no-plot", "--quiet", "--checkpoint", "b.npz")
        assert code == 0, err
    # the stream's layout came back with the text (the defaults are 32 and 100)
    config = read_checkpoint(str(other / "b.npz"))["config"]
    assert (config["batch_size"], config["bptt"]) == (4, 8)
    code, _, err = inproc(capsys, "charlm", "train", "--resume", ckpt, "--hidden-size", "256", "--steps", "3",
                          "--no-plot", "--quiet", "--checkpoint", "c.npz")
    assert code == 1 and "--hidden-size 256 differs from 16" in err


def test_charlm_trains_on_a_corpus_without_the_default_primes_characters(capsys, tmp_path):
    dna = tmp_path / "dna.txt"
    dna.write_text("ACGTTGCAACGTAGCT\n" * 300)
    code, out, err = inproc(capsys, "charlm", "train", "--text", str(dna), "--steps", "2", "--hidden-size", "8",
                            "--embed-dim", "8", "--batch-size", "2", "--bptt", "8", "--eval-every", "0",
                            "--sample-length", "20", "--no-plot", "--quiet", "--out", str(tmp_path))
    assert code == 0, err
    assert "sample before training" in out
