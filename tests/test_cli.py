"""The tinygrad-seq command line: subcommands run (in a subprocess), bad input gives one line."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tinygrad_seq", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def one_line_error(r):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert "error" in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "tiny.txt"
    path.write_text("".join(f"def f{i}(x):\n    return x * {i % 5}\n" for i in range(80)), encoding="utf-8")
    return str(path)


def inproc(capsys, *args):
    """Run main(args) in this process -> (exit code, stdout, stderr)."""
    from tinygrad_seq.cli import main
    try:
        code = main(list(args))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_subprocess():
    r = cli("--help")
    assert r.returncode == 0, r.stderr
    assert "usage:" in r.stdout and "charlm" in r.stdout and "gradflow" in r.stdout


@pytest.mark.parametrize("args", [["charlm", "--help"], ["charlm", "train", "--help"],
                                  ["charlm", "sample", "--help"], ["gradflow", "--help"]])
def test_help(capsys, args):
    code, out, _ = inproc(capsys, *args)
    assert code == 0
    assert "usage:" in out


def test_charlm_train_then_sample(capsys, corpus, tmp_path):
    r = cli("charlm", "train", "--text", corpus, "--steps", "5", "--hidden-size", "16", "--embed-dim", "8",
            "--batch-size", "4", "--bptt", "8", "--sample-length", "20", "--eval-every", "0", "--no-plot",
            "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "validation loss" in r.stdout and "unigram baseline" in r.stdout
    ckpt = str(tmp_path / "charlm.npz")
    assert os.path.isfile(ckpt)
    args = ("charlm", "sample", "--checkpoint", ckpt, "--length", "40", "--seed", "7", "--prime", "def ",
            "--temperature", "0.9")
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    code, out, _ = inproc(capsys, *args)      # same seed, another process: the same text
    assert code == 0 and out == r.stdout and out.startswith("def ")


def test_gradflow_tiny(tmp_path):
    r = cli("gradflow", "--steps", "12", "--hidden-size", "8", "--scales", "1", "--no-plot", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "tanh RNN" in r.stdout and "LSTM" in r.stdout and "GRU" in r.stdout


def test_console_script_and_main_entry():
    script = os.path.join(os.path.dirname(sys.executable), "tinygrad-seq")
    if not os.path.exists(script):
        pytest.skip("the console script is not installed in this environment")
    r = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "charlm" in r.stdout


BAD_INPUT = [
    (["charlm", "train", "--steps", "many"], 2),
    (["charlm", "train", "--text", "/no/such/file.txt"], 1),
    (["charlm", "train", "--steps", "0"], 2),
    (["charlm", "train", "--lr", "nan"], 2),
    (["charlm", "train", "--clip", "inf"], 2),
    (["charlm", "train", "--hidden-size", "-3"], 2),
    (["charlm", "train", "--save-every", "-1"], 2),
    (["charlm", "train", "--save-minutes", "nan"], 2),
    (["charlm", "train", "--dropout", "1.5"], 2),
    (["charlm", "train", "--val-fraction", "1"], 2),
    (["charlm", "sample", "--temperature", "nan"], 2),
    (["charlm", "sample", "--length", "-1"], 2),
    (["seq2seq", "--lr", "nan"], 2),
    (["seq2seq", "--batch-size", "-4"], 2),
    (["seq2seq", "--teacher-forcing", "2"], 2),
    (["charlm", "train", "--device", "tpu"], 1),
    (["charlm", "sample", "--checkpoint", "/no/such/model.npz"], 1),
    (["charlm"], 2),
    (["nosuchcommand"], 2),
    (["gradflow", "--cells", "transformer"], 1),
    (["gradflow", "--scales", "big"], 2),
]


@pytest.mark.parametrize("args, code", BAD_INPUT)
def test_bad_input_is_one_line(capsys, args, code):
    got, _, err = inproc(capsys, *args)
    assert got == code, err
    assert "Traceback" not in err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "error" in lines[0], err


def test_bad_input_in_a_subprocess_is_one_line():
    r = cli("charlm", "sample", "--checkpoint", "/no/such/model.npz")
    assert r.returncode == 1
    assert "no such file" in one_line_error(r)


def test_corrupt_checkpoint_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    code, _, err = inproc(capsys, "charlm", "sample", "--checkpoint", str(bad))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "not a valid checkpoint" in err


def _have(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not _have("tinygrad_seq.examples.seq2seq_dates"), reason="seq2seq example not present")
def test_seq2seq_help():
    r = cli("seq2seq", "--help")
    assert r.returncode == 0, r.stderr
    assert "usage" in r.stdout.lower()


@pytest.mark.skipif(not _have("tinygrad_seq.examples.seq2seq_dates"), reason="seq2seq example not present")
def test_seq2seq_tiny_run(tmp_path):
    r = cli("seq2seq", "--steps", "3", "--batch-size", "4", "--hidden", "8", "--embed", "4", "--val-size", "8",
            "--test-size", "8", "--pool", "32", "--eval-every", "2", "--quiet", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.skipif(not _have("tinygrad_seq.compare"), reason="compare module not present")
def test_compare_quick_run(tmp_path):
    r = cli("compare", "--quick", "--repeats", "1", "--no-torch", "--json", str(tmp_path / "c.json"),
            "--png", str(tmp_path / "c.png"), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert os.path.isfile(tmp_path / "c.json")


@pytest.mark.skipif(not _have("tinygrad_seq.compare"), reason="compare module not present")
def test_compare_help():
    r = cli("compare", "--help")
    assert r.returncode == 0, r.stderr
    assert "usage" in r.stdout.lower()


def test_apps_register_by_add_args_and_run_and_the_library_never_imports_the_cli():
    code = ("import sys, importlib; from tinygrad_seq.cli import APPS\n"
            "del sys.modules['tinygrad_seq.cli']\n"
            "for name, (mod, _) in APPS.items():\n"
            "    m = importlib.import_module(mod)\n"
            "    assert callable(m.add_args) and callable(m.run), name\n"
            "import tinygrad_seq.examples.charlm, tinygrad_seq.examples.seq2seq_dates\n"
            "assert 'tinygrad_seq.cli' not in sys.modules\n"
            "print('ok')")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
