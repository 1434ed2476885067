"""Fixes from PyTorch program rounds 30a-c (memory-augmented and structured models, generative
models, forecasting and speech), each against torch 2.13."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _cell(L):
    L.manual_seed(0)
    cell = L.nn.LSTMCell(3, 2)
    cell.load_state_dict({k: L.tensor(np.linspace(-0.3, 0.4, v.numel()).reshape(tuple(v.shape)).astype(np.float32))
                          for k, v in cell.state_dict().items()})
    return cell


@pytest.mark.parametrize("c_dtype", ["float64", "float16"])
def test_lstm_cell_promotes_a_cell_state_of_another_float_dtype_as_torch(c_dtype):
    # a Phased LSTM's time gate from float64 timestamps makes c float64; torch promotes h and c
    out = {}
    for L in (ts, torch):
        x = L.tensor(np.linspace(-1, 1, 6).reshape(2, 3).astype(np.float32), requires_grad=True)
        c = L.tensor(np.array([[0.5, -0.5], [1.0, 2.0]]), dtype=getattr(L, c_dtype), requires_grad=True)
        h1, c1 = _cell(L)(x, (L.zeros(2, 2), c))
        (h1.sum() + c1.sum()).backward()
        out[L.__name__] = [str(h1.dtype).replace("torch.", ""), str(c1.dtype).replace("torch.", ""),
                           h1.detach().numpy(), c1.detach().numpy(), x.grad.numpy(), c.grad.numpy()]
    ours, theirs = out["tinygrad_seq"], out["torch"]
    assert ours[:2] == theirs[:2]
    for a, b in zip(ours[2:], theirs[2:]):
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-6, atol=1e-3 if
                                   c_dtype == "float16" else 1e-7)


def test_lstm_cell_still_refuses_a_hidden_state_of_another_dtype():
    with pytest.raises(RuntimeError, match="h_0"):
        _cell(ts)(ts.zeros(1, 3), (ts.zeros(1, 2, dtype=ts.float64), ts.zeros(1, 2)))
    with pytest.raises(RuntimeError):
        _cell(torch)(torch.zeros(1, 3), (torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, 2)))


@pytest.mark.parametrize("mode", ["round", "ceil"])
def test_div_with_an_unknown_rounding_mode_raises_torchs_runtime_error(mode):
    for L in (ts, torch):
        with pytest.raises(RuntimeError, match="div expected rounding_mode to be one of None, 'trunc', or 'floor'"):
            L.div(L.ones(2), 2, rounding_mode=mode)
        with pytest.raises(RuntimeError, match="rounding_mode"):
            L.ones(2).div_(2, rounding_mode=mode)


def test_scatter_with_a_tensor_src_and_reduce_warns_once_as_torch():
    from tinygrad_seq import user_warning
    user_warning._said_once.discard("scatter_tensor_src_reduce")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        y = ts.ones(2, 5).scatter_(1, ts.tensor([[0, 0], [1, 2]]), ts.full((2, 2), 2.0), reduce="multiply")
        ts.ones(2, 5).scatter(1, ts.tensor([[0, 0], [1, 2]]), ts.full((2, 2), 2.0), reduce="add")
        ts.ones(2, 5).scatter_(1, ts.tensor([[0, 0], [1, 2]]), 2.0, reduce="add")   # a number: no warning
    assert y.tolist() == [[4.0, 1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 2.0, 1.0, 1.0]]
    messages = [str(w.message) for w in seen if "scatter" in str(w.message)]
    assert [w.filename for w in seen if "scatter" in str(w.message)] == [__file__]
    assert messages == ["The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                        "future PyTorch release. Use torch.scatter_reduce instead for more reduction options."]


@pytest.mark.parametrize("make", [lambda L, t: L.zeros(3).new(t), lambda L, t: L.FloatTensor(t)])
def test_legacy_constructors_alias_a_tensor_of_their_dtype_and_refuse_another(make):
    for L in (ts, torch):
        src = L.tensor([1.0, 2.0], requires_grad=True)
        alias = make(L, src)
        assert alias.requires_grad and alias.grad_fn.name() == "AliasBackward0"
        with L.no_grad():
            alias[0] = 9.0
        assert src.tolist() == [9.0, 2.0]
        with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=float, device=cpu.*\(got "
                                            r"TensorOptions\(dtype=long int"):
            make(L, L.tensor([7, 5, 6]))
    for L in (ts, torch):
        with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=long int.*got TensorOptions\(dtype=float"):
            L.LongTensor(L.tensor([1.5]))
        assert L.zeros(1).new([1, 2]).tolist() == [1.0, 2.0] and L.LongTensor([3]).tolist() == [3]


def test_poisson_and_binomial_of_a_0d_tensor_keep_its_shape():
    assert ts.poisson(ts.tensor(3.0)).shape == () and ts.binomial(ts.tensor(5.0), ts.tensor(0.5)).shape == ()
    assert tuple(ts.distributions.Poisson(2.0).sample().shape) == tuple(torch.distributions.Poisson(2.0).sample().shape)


def test_lstm_cell_promotes_an_integer_cell_state_as_torch():
    for L in (ts, torch):
        h1, c1 = _cell(L)(L.ones(1, 3), (L.zeros(1, 2), L.tensor([[1, 2]])))
        assert str(h1.dtype).replace("torch.", "") == str(c1.dtype).replace("torch.", "") == "float32"


def test_legacy_constructors_refuse_a_tensor_with_device_or_as_data_keyword():
    for L in (ts, torch):
        with pytest.raises(RuntimeError, match=r"Legacy tensor new of the form tensor.new\(tensor, device=device\)"):
            L.ones(2).new(L.zeros(3), device="cpu")
        with pytest.raises(RuntimeError, match="Legacy tensor constructor of the form"):
            L.FloatTensor(L.zeros(3), device="cpu")
        with pytest.raises(TypeError, match=r"new\(\): data must be a sequence \(got Tensor\)"):
            L.ones(2).new(data=L.zeros(3))
        assert L.FloatTensor([1.0], device="cpu").tolist() == [1.0]


def test_multinomial_of_an_expanded_input_draws_as_torch():
    draws = []
    for L in (ts, torch):
        L.manual_seed(101)
        probs = L.tensor([0.1, 0.5, 0.4]).expand(5, 3)
        draws.append(L.multinomial(probs, 1, True).flatten().tolist())
        L.manual_seed(101)
        draws.append(L.distributions.Categorical(logits=L.tensor([0.1, 0.5, -0.2])).expand((5,)).sample().tolist())
    assert draws[0] == draws[2] and draws[1] == draws[3]
