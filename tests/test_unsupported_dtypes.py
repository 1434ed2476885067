"""torch's dtypes without arrays here (bfloat16, complex): the names exist so programs that only
name them run; a tensor of one is refused with a TypeError that says so."""
import pickle

import pytest

import tinygrad_seq as ts


@pytest.mark.parametrize("name", ["bfloat16", "complex32", "chalf", "complex64", "cfloat", "complex128", "cdouble"])
def test_named_but_refused(name):
    dtype = getattr(ts, name)
    assert repr(dtype).startswith("torch.")
    assert dtype != ts.float32 and ts.zeros(2).dtype != dtype
    assert pickle.loads(pickle.dumps(dtype)) is dtype
    with pytest.raises(TypeError, match="not supported"):
        ts.zeros(2, dtype=dtype)
    with pytest.raises(TypeError, match="not supported"):
        ts.ones(2).to(dtype)


def test_autocast_naming_bfloat16_runs_when_disabled():
    with ts.autocast(device_type="cpu", dtype=ts.bfloat16, enabled=False):
        y = ts.ones(2) * 2
    assert y.dtype == ts.float32
    assert ts.bfloat16 in (ts.float16, ts.bfloat16) and ts.bfloat16.is_floating_point
    assert ts.complex64.is_complex and not ts.complex64.is_floating_point


def test_finfo_of_bfloat16_is_torchs():
    torch = pytest.importorskip("torch")
    ours, theirs = ts.finfo(ts.bfloat16), torch.finfo(torch.bfloat16)
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ts.cuda.is_bf16_supported() is False
