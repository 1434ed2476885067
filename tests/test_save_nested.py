"""ts.save / ts.load as torch.save / torch.load: nested structures, file objects, keys numpy's npz
would rename, refused Modules and pickles, the first format, optimizer state, errors that name
the user's path, and processes SIGKILLed in the middle of a large save."""
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn, optim


def same(a, b):
    """Structural equality: types, keys, order, dtypes and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, ts.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def nested():
    return {
        "model": OrderedDict([("w", np.arange(6, dtype=np.float32).reshape(2, 3)), ("b", np.zeros(3))]),
        "tensors": [ts.Tensor(np.ones((2, 2), np.float32)), ts.Tensor(np.arange(3)),
                    ts.Tensor(np.full(2, 0.5), requires_grad=True)],
        "epoch": 7, "lr": 1e-3, "best": float("inf"), "bad": float("nan"), "done": False, "note": None,
        "name": "charlm \u00e9\u4e2d", "shape": (3, 4), "empty": {}, "none_list": [], "ints": {0: "a", 1: "b"},
        "scalar": np.float32(2.5), "strings": np.array(["ab", "c"]), "deep": {"a": {"b": {"c": [1, (2.0, "x")]}}},
    }


def test_nested_roundtrip_path_and_file_object(tmp_path):
    obj = nested()
    ts.save(obj, tmp_path / "c.pt")
    same(obj, ts.load(tmp_path / "c.pt"))
    buf = io.BytesIO()
    ts.save(obj, buf)
    assert os.listdir(tmp_path) == ["c.pt"]       # a file object is written directly, no temp file
    buf.seek(0)
    same(obj, ts.load(buf))
    with open(tmp_path / "f.bin", "wb") as f:     # a real file object, at its position
        f.write(b"header")
        ts.save(obj, f)
    with open(tmp_path / "f.bin", "rb") as f:
        assert f.read(6) == b"header"
        same(obj, ts.load(f))


def test_one_object_saved_twice_loads_as_one():
    t = ts.Tensor(np.ones(3))
    buf = io.BytesIO()
    ts.save({"a": t, "b": t}, buf)
    buf.seek(0)
    out = ts.load(buf)
    assert out["a"] is out["b"]


def test_keys_numpy_would_rename_or_reject_are_kept_apart(tmp_path):
    obj = {"w": np.ones(1), "w.npy": np.full(1, 2.0), "file": np.full(1, 3.0), "allow_pickle": 4,
           "arrays/0": np.full(1, 5.0), "tinygrad_seq.json": "six", "": np.full(1, 7.0), "a/../b": 8}
    ts.save(obj, tmp_path / "k.npz")
    same(obj, ts.load(tmp_path / "k.npz"))


def test_module_and_other_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"whole Linear; save its state_dict\(\)"):
        ts.save(nn.Linear(2, 2), tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"obj\['opt'\] is a whole Adam; save its state_dict\(\)"):
        ts.save({"opt": optim.Adam(nn.Linear(2, 2).parameters())}, tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"obj\['f'\]\[1\] is a set, which cannot be saved without pickle"):
        ts.save({"f": [1, {2}]}, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []   # refused before any file is made
    with pytest.raises(TypeError, match="binary mode"):
        ts.save({}, io.StringIO())


def test_pickles_are_refused(tmp_path):
    import pickle
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"w": [1, 2]}))
    with pytest.raises(ValueError, match="pickle"):
        ts.load(tmp_path / "p.pkl")
    np.savez(tmp_path / "obj.npz", o=np.array([{"a": 1}], dtype=object))    # a pickled object array
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        ts.load(tmp_path / "obj.npz")
    with zipfile.ZipFile(tmp_path / "torch.pt", "w") as z:                    # torch.save's layout
        z.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
    with pytest.raises(ValueError, match="torch.save"):
        ts.load(tmp_path / "torch.pt")


def test_structure_referring_to_a_missing_array_is_an_error(tmp_path):
    with zipfile.ZipFile(tmp_path / "c.npz", "w") as z:
        z.writestr("tinygrad_seq.json", json.dumps({"format": "tinygrad_seq", "version": 1,
                                                    "root": {"dict": [["w", {"array": 3}]]}}))
    with pytest.raises(ValueError, match="array 3"):
        ts.load(tmp_path / "c.npz")


def test_first_format_files_still_load(tmp_path):
    model = nn.Linear(3, 2)
    np.savez(tmp_path / "old.npz", **model.state_dict())    # what the previous ts.save wrote
    loaded = ts.load(tmp_path / "old.npz")
    assert list(loaded) == ["weight", "bias"]
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(fresh.weight.numpy(), model.weight.numpy())


def test_map_location_and_weights_only(tmp_path):
    ts.save({"t": ts.Tensor(np.ones(2))}, tmp_path / "c.npz")
    assert ts.load(tmp_path / "c.npz", map_location="cpu", weights_only=True)["t"].device == "cpu"
    # torch's other forms: a callable (storage, location) -> storage, and a dict of locations;
    # this library writes every tensor from the host, so its saved location is "cpu"
    seen = []
    back = ts.load(tmp_path / "c.npz", map_location=lambda s, loc: seen.append(loc) or s)["t"]
    assert seen == ["cpu"] and back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), np.ones(2))
    assert ts.load(tmp_path / "c.npz", map_location={"cuda:0": "cpu"})["t"].device == "cpu"
    doubled = ts.load(tmp_path / "c.npz", map_location=lambda s, loc: s * 2)["t"]
    np.testing.assert_array_equal(doubled.numpy(), np.full(2, 2.0))
    with pytest.raises(TypeError, match="map_location returned int"):
        ts.load(tmp_path / "c.npz", map_location=lambda s, loc: 3)


def test_model_optimizer_epoch_checkpoint_resumes_exactly(tmp_path):
    """The PyTorch idiom: one file with model state, optimizer state and the epoch."""
    def make():
        ts.manual_seed(3)
        model = nn.LSTM(3, 5)
        return model, optim.Adam(model.parameters(), lr=1e-2)

    x = ts.Tensor(np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32))

    def step(model, opt):
        opt.zero_grad()
        y, _ = model(x)
        (y * y).mean().backward()
        opt.step()

    a, oa = make()
    for _ in range(3):
        step(a, oa)
    ts.save({"model": a.state_dict(), "optimizer": oa.state_dict(), "epoch": 3}, tmp_path / "ck.pt")
    ck = ts.load(tmp_path / "ck.pt")
    b, ob = make()
    b.load_state_dict(ck["model"])
    ob.load_state_dict(ck["optimizer"])
    assert ck["epoch"] == 3
    for _ in range(2):
        step(a, oa)
        step(b, ob)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_errors_name_the_users_path(tmp_path):
    missing = tmp_path / "no" / "such" / "c.npz"
    with pytest.raises(FileNotFoundError, match=f"cannot write {missing}: the folder"):
        ts.save({}, missing)
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        ts.save({}, tmp_path)
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(PermissionError) as e:
                ts.save({}, ro / "c.npz")
            assert str(ro / "c.npz") in str(e.value) and ".tmp" not in str(e.value)
        finally:
            ro.chmod(0o700)


def test_stale_temp_file_is_reused_and_removed(tmp_path):
    path = tmp_path / "c.npz"
    ts.save({"a": np.ones(2)}, path)
    (tmp_path / ".c.npz.tmp").write_bytes(b"left by a killed save" * 1000)
    ts.save({"a": np.zeros(2)}, path)
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]
    np.testing.assert_array_equal(ts.load(path)["a"], np.zeros(2))


SAVER = """
import sys, numpy as np
from tinygrad_seq.serialization import save
big = np.full(50_000_000, float(sys.argv[2]), np.float32)     # 200 MB
print("saving", flush=True)
save({"big": big, "tag": sys.argv[2]}, sys.argv[1])
print("saved", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_save_keeps_old_file_and_no_temp_piles_up(tmp_path):
    path = tmp_path / "big.npz"
    ts.save({"big": np.full(10, 1.0, np.float32), "tag": "old"}, path)
    old = path.read_bytes()
    tmp = tmp_path / ".big.npz.tmp"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ts.__file__)))
    for round_, kill_at in enumerate((5e6, 60e6, 150e6)):
        p = subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(round_ + 2)], env=env,
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "saving"
        deadline = time.monotonic() + 60
        # kill once the temp file holds kill_at bytes: always in the middle of the write
        while not (tmp.exists() and tmp.stat().st_size >= kill_at):
            assert p.poll() is None, "the save finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
        assert p.returncode == -signal.SIGKILL
        assert path.read_bytes() == old                     # the old checkpoint is intact
        assert sorted(os.listdir(tmp_path)) == [".big.npz.tmp", "big.npz"]   # one temp, not one per kill
    assert ts.load(path)["tag"] == "old"
    ts.save({"big": np.zeros(4, np.float32), "tag": "new"}, path)   # the next save reuses the temp
    assert sorted(os.listdir(tmp_path)) == ["big.npz"]
    assert ts.load(path)["tag"] == "new"


def test_saves_to_one_path_from_threads_take_turns(tmp_path):
    import threading
    path = tmp_path / "c.npz"
    errors = []

    def work(tag):
        try:
            for i in range(8):
                ts.save({"tag": tag, "i": i, "w": np.full(20_000, float(i), np.float32)}, path)
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(t,)) for t in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    out = ts.load(path)
    assert out["tag"] in "abc" and out["i"] == 7 and (out["w"] == 7.0).all()
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_save_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "real.npz"
    ts.save({"a": 1}, real)
    (tmp_path / "link.npz").symlink_to(real)
    ts.save({"a": 2}, tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink() and ts.load(real)["a"] == 2
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real.npz"]


def test_permission_error_names_the_users_path_not_the_temp_file(tmp_path, monkeypatch):
    import errno
    from tinygrad_seq import atomicfile
    real_open = os.open

    def denied(name, *a, **k):
        if str(name).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_open(name, *a, **k)
    monkeypatch.setattr(atomicfile.os, "open", denied)
    with pytest.raises(PermissionError) as e:
        ts.save({"a": 1}, tmp_path / "c.npz")
    msg = str(e.value)
    assert msg.startswith(f"save: cannot write {tmp_path / 'c.npz'}: Permission denied (is the folder")
    assert ".tmp" not in msg


@pytest.mark.cuda
def test_cuda_tensors_save_and_load_on_a_chosen_device(tmp_path):
    t = ts.Tensor(np.arange(4.0, dtype=np.float32), device="cuda")
    ts.save({"t": t}, tmp_path / "c.npz")
    assert ts.load(tmp_path / "c.npz")["t"].device == "cpu"
    back = ts.load(tmp_path / "c.npz", map_location="cuda")["t"]
    assert back.device == "cuda"
    np.testing.assert_array_equal(back.numpy(), np.arange(4.0, dtype=np.float32))
