"""Small torch names scripts call in passing (torch_misc.py) and torch.testing.assert_close."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def test_unravel_index_and_typename_as_torchs():
    flat = [5, 7, -1, 0]
    ours = ts.unravel_index(ts.tensor(flat), (3, 4))
    theirs = torch.unravel_index(torch.tensor(flat), (3, 4))
    assert [o.tolist() for o in ours] == [t.tolist() for t in theirs]
    assert all(o.dtype == ts.int64 for o in ours)
    with pytest.raises(RuntimeError):
        ts.unravel_index(ts.tensor([12]), (3, 4))
    for t in (ts.ones(2), ts.ones(2, dtype=ts.int64), ts.ones(2, dtype=ts.float64)):
        assert ts.typename(t) == torch.typename(torch.from_numpy(t.numpy()))
    assert ts.typename(3) == torch.typename(3) == "int"


def test_startup_settings_are_accepted():
    ts.set_num_interop_threads(2)
    assert ts.get_num_interop_threads() == 2
    ts.set_anomaly_enabled(True)
    assert ts.is_anomaly_enabled()
    ts.set_anomaly_enabled(False)
    assert ts.set_flush_denormal(True) is False and not ts.is_autocast_enabled()
    assert ts.version.cuda is None and ts.version.__version__ == ts.__version__
    assert ts.empty_strided((2, 3), (3, 1)).shape == (2, 3)
    buf = np.arange(4, dtype=np.float32).tobytes()
    assert ts.frombuffer(bytearray(buf), dtype=ts.float32).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ts.multiprocessing.get_start_method(allow_none=True) in (None, "fork", "spawn", "forkserver")


def test_assert_close_as_torchs():
    ts.testing.assert_close(ts.ones(3), ts.ones(3) + 1e-6)
    ts.testing.assert_close([ts.ones(2)], [ts.ones(2)])
    ts.testing.assert_close(ts.tensor([float("nan")]), ts.tensor([float("nan")]), equal_nan=True)
    for bad in (ts.ones(3) * 1.001, ts.ones(2), ts.ones(3, dtype=ts.float64)):
        with pytest.raises(AssertionError):
            ts.testing.assert_close(bad, ts.ones(3))
    ts.testing.assert_close(ts.ones(3) * 1.001, ts.ones(3), rtol=1e-2, atol=0.0)
    with pytest.raises(ValueError):
        ts.testing.assert_close(ts.ones(1), ts.ones(1), rtol=1e-3)
