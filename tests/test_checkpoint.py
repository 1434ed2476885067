"""ts.save / ts.load and Module.load_state_dict: round trips, atomic writes (an exception or an
interrupt mid-save leaves the old file byte-identical and no temporary file), clear errors for
truncated or corrupt files, and strict loading that names the key and both shapes and changes
nothing in the model when it fails."""
import os

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(7, 4)
        self.cell = nn.GRUCell(4, 3)
        self.norm = nn.LayerNorm(3)
        self.out = nn.Linear(3, 2)

    def forward(self, idx):
        return self.out(self.norm(self.cell(self.emb(idx))))


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_roundtrip_module_state_dict(tmp_path):
    ts.manual_seed(1)
    a = Net()
    ts.manual_seed(2)
    b = Net()
    path = tmp_path / "ckpt.npz"
    ts.save(a.state_dict(), path)
    loaded = ts.load(path)
    assert list(loaded) == list(a.state_dict())
    b.load_state_dict(loaded)
    assert_same(snapshot(a), snapshot(b))
    idx = ts.Tensor(np.array([1, 5, 6]))
    np.testing.assert_array_equal(a(idx).numpy(), b(idx).numpy())


def test_roundtrip_dtypes_and_tensor_values(tmp_path):
    sd = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "f64": np.array(1.5),
          "i64": np.array([1, 2], np.int64), "t": ts.Tensor(np.ones((2, 2))), "b": np.array([True, False])}
    path = str(tmp_path / "x.npz")
    ts.save(sd, path)
    out = ts.load(path)
    assert isinstance(out["t"], ts.Tensor)   # saved as a Tensor, loads as a Tensor (as torch.load)
    for k, v in sd.items():
        got = out[k].numpy() if isinstance(v, ts.Tensor) else out[k]
        v = v.numpy() if isinstance(v, ts.Tensor) else v
        assert got.dtype == v.dtype and got.shape == v.shape
        np.testing.assert_array_equal(got, v)
    with pytest.raises(TypeError, match="keys must be strings or ints"):
        ts.save({(1, 2): np.ones(2)}, path)
    with pytest.raises(TypeError, match="not a numeric array"):
        ts.save({"o": np.array([object()])}, path)


def test_save_keeps_exact_path_without_suffix(tmp_path):
    path = tmp_path / "weights.ckpt"
    ts.save({"a": np.ones(3)}, path)
    assert sorted(os.listdir(tmp_path)) == ["weights.ckpt"]
    np.testing.assert_array_equal(ts.load(path)["a"], np.ones(3))


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_exception_mid_save_leaves_old_file(tmp_path, monkeypatch, exc):
    path = tmp_path / "ckpt.npz"
    old = Net()
    ts.save(old.state_dict(), path)
    old_bytes = path.read_bytes()

    real_write = np.lib.format.write_array

    def partial_then_raise(fp, arr, *args, **kwargs):
        fp.write(b"\x93NUMPY partial")       # half an entry...
        raise exc                            # ...then the failure
    monkeypatch.setattr(np.lib.format, "write_array", partial_then_raise)
    ts.manual_seed(7)
    with pytest.raises(type(exc)):
        ts.save(Net().state_dict(), path)
    monkeypatch.setattr(np.lib.format, "write_array", real_write)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert_same(ts.load(path), old.state_dict())


def test_exception_mid_first_save_leaves_nothing(tmp_path, monkeypatch):
    def boom(fp, *a, **k):
        fp.write(b"\x93NUMPYpartial")
        raise OSError("no space left on device")
    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(OSError):
        ts.save({"a": np.ones(2)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("keep", [0, 10, 0.5, -1])
def test_truncated_file_raises_value_error(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    ts.save(Net().state_dict(), path)
    data = path.read_bytes()
    n = keep if isinstance(keep, int) and keep >= 0 else (int(len(data) * keep) if keep > 0 else len(data) - 1)
    path.write_bytes(data[:n])
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        ts.load(path)


def test_corrupt_and_missing_files(tmp_path):
    path = tmp_path / "ckpt.npz"
    ts.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip bits inside the stored array
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        ts.load(path)
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        ts.load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        ts.load(tmp_path / "absent.npz")


def test_missing_key_names_it_and_changes_nothing():
    model = Net()
    before = snapshot(model)
    other = Net().state_dict()
    del other["cell.bias_hh"]
    with pytest.raises(KeyError, match=r'Missing key\(s\) in state_dict: "cell.bias_hh"'):
        model.load_state_dict(other)
    assert_same(snapshot(model), before)


def test_unexpected_key_names_it_and_changes_nothing():
    model = Net()
    before = snapshot(model)
    other = Net().state_dict()
    other["extra.weight"] = np.ones(3, np.float32)
    with pytest.raises(KeyError, match=r'Unexpected key\(s\) in state_dict: "extra.weight"'):
        model.load_state_dict(other)
    assert_same(snapshot(model), before)


def test_wrong_shape_names_key_and_both_shapes_and_changes_nothing():
    model = Net()
    before = snapshot(model)
    other = Net().state_dict()          # every other entry is valid and differs from the model's
    other["out.weight"] = np.zeros((2, 4), np.float32)   # the last module: all others come first
    with pytest.raises(ValueError, match=r"size mismatch for out.weight: .*\[2, 4\].*\[2, 3\]"):
        model.load_state_dict(other)
    assert_same(snapshot(model), before)


def test_non_strict_load_reports_keys():
    model = Net()
    other = Net()
    sd = other.state_dict()
    del sd["norm.bias"]
    sd["junk"] = np.ones(1)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["norm.bias"] and result.unexpected_keys == ["junk"]
    np.testing.assert_array_equal(model.out.weight.numpy(), other.out.weight.numpy())


def test_load_keeps_parameter_identity_and_dtype():
    model = Net().double()
    params = [id(p) for p in model.parameters()]
    sd = {k: v.astype(np.float32) for k, v in Net().state_dict().items()}
    model.load_state_dict(sd)
    assert [id(p) for p in model.parameters()] == params
    assert all(p.dtype == np.float64 for p in model.parameters())
    sd["out.bias"] = sd["out.bias"].tolist()  # array-likes are accepted
    model.load_state_dict(sd)


def test_npy_file_is_a_clear_error(tmp_path):
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(ValueError, match="single array"):
        ts.load(tmp_path / "single.npy")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_file_mode_follows_umask_or_old_file(tmp_path):
    umask = os.umask(0o022)
    try:
        ts.save({"a": np.ones(2)}, tmp_path / "new.npz")
        assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o644  # not mkstemp's 0600
        os.chmod(tmp_path / "new.npz", 0o640)
        ts.save({"a": np.zeros(2)}, tmp_path / "new.npz")
        assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)
