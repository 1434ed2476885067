"""Edges of the stop's last additions, each asserting torch 2.13's behaviour (found by a review):
SWALR state dicts, fmod dtypes, embedding_bag padding / empty bags, gaussian_nll var shapes,
scatter_ multiply casts, out= refusals, threshold / hinge / prelu at nan, inf and 0, picklable
return types, Size arithmetic, random_ bounds, einsum sublist ranges."""
import pickle
import numpy as np
import pytest
import torch
import tinygrad_seq as ts
import tinygrad_seq.nn.functional as F
from tinygrad_seq.optim import swa_utils


def test_1_swalr_state_dict_saveable(tmp_path):
    s = swa_utils.SWALR(ts.optim.SGD([ts.tensor(np.zeros(2)).requires_grad_(True)], lr=1.0), 0.1)
    ts.save(s.state_dict(), str(tmp_path / "s.pt"))


def test_2_fmod_int_by_float_is_float32():
    assert ts.fmod(ts.tensor([-3, 4]), 1.5).dtype == np.float32
    assert ts.tensor([-3, 4]).fmod(ts.tensor(np.float32([1.5, 1.5]))).dtype == np.float32


def test_3_embedding_bag_negative_padding_idx():
    w = np.arange(30.).reshape(10, 3)
    i, o = [1, 9, 2], [0]
    r = F.embedding_bag(ts.tensor(i), ts.tensor(w), ts.tensor(o), mode="sum", padding_idx=-1).numpy()
    p = torch.nn.functional.embedding_bag(torch.tensor(i), torch.tensor(w), torch.tensor(o), mode="sum", padding_idx=-1)
    np.testing.assert_allclose(r, p.numpy())                    # torch leaves index 9 (== -1) out


def test_4_gaussian_nll_var_one_mismatched_dim():
    x, t, v = np.ones((3, 4)), np.zeros((3, 4)), np.full((1, 4), 0.5)
    r = F.gaussian_nll_loss(ts.tensor(x), ts.tensor(t), ts.tensor(v)).item()
    assert np.isclose(r, torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(t), torch.tensor(v)).item())


def test_5_scatter_multiply_casts_value():
    x, idx = np.arange(6).reshape(2, 3), np.array([[0, 0, 1], [1, 0, 0]])
    r = ts.tensor(x).scatter_(1, ts.tensor(idx), value=2.5, reduce="multiply").numpy()
    np.testing.assert_array_equal(r, torch.tensor(x).scatter_(1, torch.tensor(idx), 2.5, reduce="multiply").numpy())


def test_6a_out_with_grad_input_raises():
    w = ts.tensor(np.ones(2)).requires_grad_(True)
    with pytest.raises(RuntimeError):
        ts.exp(w, out=ts.tensor(np.zeros(2)))


def test_6b_out_float_into_int_raises():
    with pytest.raises(RuntimeError):
        ts.exp(ts.tensor([1.5, 2.0]), out=ts.tensor([0, 0]))


def test_7_threshold_keeps_nan():
    assert np.isnan(F.threshold(ts.tensor([np.nan, 1.0]), 0.1, 20.0).numpy()[0])


def test_8_hinge_embedding_inf():
    r = F.hinge_embedding_loss(ts.tensor([np.inf, -np.inf]), ts.tensor([-1.0, 1.0]), reduction="none").numpy()
    np.testing.assert_array_equal(r, [0.0, -np.inf])


def test_9_return_types_picklable():
    r = pickle.loads(pickle.dumps(ts.tensor(np.ones((2, 2))).max(0)))   # torch.return_types.max pickles
    assert r.values.shape == (2,)
    m = ts.tensor(np.ones((2, 2)))
    assert type(m.median(0)) is type(m.median(0))


def test_11_size_concat_is_size():
    s = ts.tensor(np.zeros((2, 3))).size()
    assert repr(s + (4,)) == "torch.Size([2, 3, 4])" and repr((4,) + s) == "torch.Size([4, 2, 3])"
    assert repr(s * 2) == "torch.Size([2, 3, 2, 3])"


def test_12_prelu_grad_at_zero():
    x = ts.tensor([0.0]).requires_grad_(True)
    F.prelu(x, ts.tensor([0.25])).sum().backward()
    assert x.grad.numpy()[0] == 0.25


def test_13_random_out_of_dtype_range_raises():
    with pytest.raises(RuntimeError):
        ts.zeros(4, dtype=ts.uint8).random_(-3, 2)
    with pytest.raises(RuntimeError):
        ts.zeros(4).random_(0)


def test_14_einsum_sublist_range():
    with pytest.raises(ValueError):
        ts.einsum(ts.tensor(np.ones((2, 3))), [-1, 0], [0])
