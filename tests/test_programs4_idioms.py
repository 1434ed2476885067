"""Tutorial and Kaggle idioms (found by running such programs on both): t.type(torch.Tensor),
empty legacy constructors, error types, torch.tensor of numpy integer arrays; each test runs
on torch and on tinygrad_seq."""
import numpy as np
import pytest
import torch as _torch
import tinygrad_seq as _ts

LIBS = [pytest.param(_torch, id="torch"), pytest.param(_ts, id="tinygrad_seq")]


def _dt(d):
    return str(d).replace("torch.", "")


# Finding 1: t.type(torch.Tensor) (Kaggle stock-LSTM: torch.from_numpy(x).type(torch.Tensor))
@pytest.mark.parametrize("torch", LIBS)
def test_type_torch_Tensor_gives_default_float(torch):
    x = torch.from_numpy(np.linspace(0, 1, 6).reshape(2, 3, 1)).type(torch.Tensor)
    assert _dt(x.dtype) == "float32"
    assert _dt(torch.ones(2, dtype=torch.long).type(torch.Tensor).dtype) == "float32"
    out, _ = torch.nn.LSTM(1, 2, batch_first=True)(x)     # ours: DTypeMismatch "got object"
    assert tuple(out.shape) == (2, 3, 2)


# Finding 2: no-argument legacy constructors make an empty 1-D tensor (accumulator idiom)
@pytest.mark.parametrize("torch", LIBS)
def test_legacy_constructor_no_args_is_empty(torch):
    assert tuple(torch.FloatTensor().shape) == (0,)
    assert tuple(torch.LongTensor().shape) == (0,)
    all_preds = torch.FloatTensor()
    for _ in range(2):
        all_preds = torch.cat((all_preds, torch.ones(2, 3)), dim=0)
    assert tuple(all_preds.shape) == (4, 3)


@pytest.mark.parametrize("torch", LIBS)
def test_Tensor_no_args_is_empty(torch):
    t = torch.Tensor()
    assert tuple(t.shape) == (0,) and _dt(t.dtype) == "float32"


# Finding 3: error types: (N, 1) class target, empty sequence, float one_hot raise RuntimeError in torch
@pytest.mark.parametrize("torch", LIBS)
def test_ce_nll_target_n1_raises_runtimeerror(torch):
    with pytest.raises(RuntimeError):
        torch.nn.CrossEntropyLoss()(torch.ones(2, 3), torch.tensor([[0], [1]]))
    with pytest.raises(RuntimeError):
        torch.nn.NLLLoss()(torch.ones(2, 3), torch.tensor([[0], [1]]))


@pytest.mark.parametrize("torch", LIBS)
def test_rnn_empty_sequence_raises_runtimeerror(torch):
    with pytest.raises(RuntimeError):
        torch.nn.GRU(2, 3, batch_first=True)(torch.ones(2, 0, 2))


@pytest.mark.parametrize("torch", LIBS)
def test_one_hot_float_raises_runtimeerror(torch):
    with pytest.raises(RuntimeError):
        torch.nn.functional.one_hot(torch.tensor([0.0, 1.0]))


# Finding 4: torch.tensor(numpy integer array) keeps the array's integer dtype
@pytest.mark.parametrize("torch", LIBS)
def test_tensor_from_numpy_int_dtypes_kept(torch):
    assert _dt(torch.tensor(np.array([1, 2], dtype=np.int32)).dtype) == "int32"
    assert _dt(torch.tensor(np.array([1, 0], dtype=np.uint8)).dtype) == "uint8"
    assert _dt(torch.tensor(np.array([1, 2], dtype=np.int16)).dtype) == "int16"
