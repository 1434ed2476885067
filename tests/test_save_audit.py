"""ts.save / ts.load against torch 2.13 (found by an audit): small integer dtypes kept, a
state_dict() value and an nn.Parameter load back as such, torch's save/load keywords accepted."""
import io

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def ts_rt(obj, **load_kw):
    b = io.BytesIO(); ts.save(obj, b); b.seek(0); return ts.load(b, **load_kw)


def torch_rt(obj, **load_kw):
    b = io.BytesIO(); torch.save(obj, b); b.seek(0); return torch.load(b, **load_kw)


@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32"])
def test_1_integer_tensor_dtype_survives_round_trip(dt):
    a = np.arange(6, dtype=dt).reshape(2, 3)
    t_out = torch_rt({"x": torch.tensor(a)})["x"]
    s_out = ts_rt({"x": ts.tensor(a)})["x"]
    assert str(t_out.dtype) == f"torch.{dt}"
    assert str(s_out.dtype).split(".")[-1] == dt      # ours: int64


def test_2_loaded_state_dict_values_answer_size_dim():
    # live state_dict values answer .size(0) (StateArray); after ts.save/ts.load they are plain ndarrays
    m = ts.nn.Embedding(10, 4)
    tm = torch.nn.Embedding(10, 4)
    assert torch_rt(tm.state_dict())["weight"].size(0) == 10
    assert m.state_dict()["weight"].size(0) == 10
    ck = ts_rt(m.state_dict())
    assert ck["weight"].size(0) == 10                 # ours: TypeError 'int' object is not callable


def test_2b_loaded_state_dict_values_clone_cpu():
    m = ts.nn.Linear(3, 2)
    ck = ts_rt(m.state_dict())
    best = {k: v.cpu().clone() for k, v in ck.items()}   # ours: AttributeError ndarray has no cpu
    assert set(best) == {"weight", "bias"}


def test_3_load_accepts_mmap_keyword(tmp_path):
    p = str(tmp_path / "a.pt")
    torch.save({"w": torch.ones(2)}, p)
    assert torch.load(p, mmap=True)["w"].sum().item() == 2
    ts.save({"w": ts.ones(2)}, p)
    assert ts.load(p, mmap=True)["w"].sum().item() == 2   # ours: TypeError unexpected argument mmap


def test_3b_load_accepts_mmap_none_and_pickle_module_none():
    b = io.BytesIO(); ts.save({"w": ts.ones(2)}, b); b.seek(0)
    assert ts.load(b, None, None, mmap=None)["w"].shape == (2,)  # torch: load(f, map_location, pickle_module, *, weights_only, mmap)


@pytest.mark.parametrize("kw", [dict(_use_new_zipfile_serialization=True), dict(pickle_protocol=2)])
def test_4_save_accepts_torch_keywords(kw):
    torch.save({"a": torch.ones(1)}, io.BytesIO(), **kw)
    ts.save({"a": ts.ones(1)}, io.BytesIO(), **kw)    # ours: TypeError unexpected keyword argument


def test_5_parameter_loads_as_parameter():
    t_out = torch_rt({"p": torch.nn.Parameter(torch.randn(3))}, weights_only=True)["p"]
    s_out = ts_rt({"p": ts.nn.Parameter(ts.randn(3))})["p"]
    assert isinstance(t_out, torch.nn.Parameter)
    assert isinstance(s_out, ts.nn.Parameter)         # ours: plain Tensor
