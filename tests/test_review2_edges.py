"""Edges of the attention, pooling, CTC, printing and tensor-function additions, each asserting
torch 2.13's behaviour (found by a review): fully masked attention rows, tied maxima, repr
formats and widths, empty CTC inputs, median ties and nan rows, integer fmax, strided 'same'
padding, atan2 at the origin, pool reprs."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
F = ts.nn.functional


def _mha_pair(E=8, H=2):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(E, H).double().eval()
    m = ts.nn.MultiheadAttention(E, H).double().eval()
    m.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return m, t


# 1. MHA need_weights=False: a fully masked query row -> torch 0 attention (finite), ts nan
def test_mha_fully_masked_row_need_weights_false():
    m, t = _mha_pair()
    x = np.random.RandomState(0).randn(3, 2, 8)
    kpm = np.array([[True] * 3, [False] * 3])
    r = t(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(kpm), need_weights=False)[0]
    o = m(ts.tensor(x), ts.tensor(x), ts.tensor(x), key_padding_mask=ts.tensor(kpm), need_weights=False)[0]
    assert np.isfinite(r.detach().numpy()).all()
    np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), atol=1e-6)


def test_encoder_layer_fully_padded_item_is_finite():
    torch.manual_seed(0)
    t = torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0).double()
    m = ts.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0).double()
    m.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.RandomState(1).randn(3, 2, 4)
    kpm = np.array([[False] * 3, [True] * 3])
    r = t(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    o = m(ts.tensor(x), src_key_padding_mask=ts.tensor(kpm))
    np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), atol=1e-6)


# 2. max_pool1d / adaptive_max_pool1d gradient on ties: torch routes it to one (the first) index
def test_max_pool1d_tie_gradient():
    x = ts.tensor([[[1., 1., 1., 2., 2.]]], requires_grad=True)
    F.max_pool1d(x, 2, 1).sum().backward()
    y = torch.tensor([[[1., 1., 1., 2., 2.]]], requires_grad=True)
    torch.nn.functional.max_pool1d(y, 2, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())   # torch [1,1,0,2,0]


def test_adaptive_max_pool1d_tie_gradient():
    x = ts.tensor([[[0., 0., 0., 0.]]], requires_grad=True)
    F.adaptive_max_pool1d(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[1., 0., 0., 0.]]])


# 3. Tensor repr of a summarized tensor: torch picks the format from the shown elements only
def test_repr_summarized_uses_shown_elements():
    a = np.random.RandomState(0).randn(50, 30).astype(np.float32)
    assert repr(ts.tensor(a)) == repr(torch.tensor(a))


# 4. Tensor repr width: torch sizes columns from the nonzero finite values only
@pytest.mark.parametrize("vals", [[-0.0, 1.0], [1.0, float("nan")], [float("inf"), -float("inf")], [2.0, -float("inf")],
                                  [-0.0, 1.5]])
def test_repr_width_ignores_zero_and_nonfinite(vals):
    assert repr(ts.tensor(np.array(vals, np.float32))) == repr(torch.tensor(vals))


def test_repr_square_subsequent_mask():
    assert repr(ts.nn.Transformer.generate_square_subsequent_mask(3)) == \
        repr(torch.nn.Transformer.generate_square_subsequent_mask(3))


# 5. ctc_loss with an input_length of 0: IndexError; torch 0 (empty target) / inf
def test_ctc_input_length_zero():
    lp = np.log(np.full((5, 2, 4), 0.25))
    r = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor([[1, 2], [1, 1]]), torch.tensor([5, 0]),
                                     torch.tensor([2, 0]), reduction="none")
    o = F.ctc_loss(ts.tensor(lp), ts.tensor([[1, 2], [1, 1]]), ts.tensor([5, 0]), ts.tensor([2, 0]), reduction="none")
    np.testing.assert_allclose(o.numpy(), r.numpy())


# 6. median() gradient on ties: torch spreads it evenly over the elements equal to the median
def test_median_tie_gradient():
    x = ts.tensor([1., 2., 2., 3.], requires_grad=True)
    x.median().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0., 0.5, 0.5, 0.])


# 7. median(dim) of a row holding nan: the gradient reaches the nan's index in torch
def test_median_dim_nan_gradient():
    a = np.array([[1., np.nan, 3., np.nan]])
    x = ts.tensor(a, requires_grad=True)
    x.median(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0., 1., 0., 0.]])


# 8. fmax / fmin of integer tensors keep the integer dtype in torch
def test_fmax_int_dtype():
    o = ts.tensor([1, 2, 3]).fmax(ts.tensor([2, 2, 1]))
    assert o.dtype == ts.int64 and o.tolist() == [2, 2, 3]


# 9. conv1d(padding='same') with stride > 1 is an error in torch (F and nn.Conv1d)
def test_conv1d_same_strided_raises():
    with pytest.raises((RuntimeError, ValueError)):
        F.conv1d(ts.randn(1, 2, 8), ts.randn(2, 2, 3), stride=2, padding="same")
    with pytest.raises(ValueError):
        ts.nn.Conv1d(2, 2, 3, stride=2, padding="same")


# 10. atan2 gradient at (0, 0): torch 0, ts nan
def test_atan2_grad_at_origin():
    a, b = ts.tensor([0.], requires_grad=True), ts.tensor([0.], requires_grad=True)
    a.atan2(b).sum().backward()
    assert a.grad.item() == 0.0 and b.grad.item() == 0.0


# 11. small API gaps against torch
def test_median_empty_is_nan():
    assert np.isnan(ts.tensor(np.zeros(0)).median().item())


def test_tensor_split_0d_tensor_sections():
    parts = ts.arange(10).tensor_split(ts.tensor(3))
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_pool_module_repr():
    assert repr(ts.nn.MaxPool1d(3)) == repr(torch.nn.MaxPool1d(3))


def test_bool_subtraction_numpy_scalars_and_assign_as_torch(tmp_path):
    for T in (ts, torch):
        with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors"):
            T.tensor([True, False]) - T.tensor([True, True])
        with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
            -T.tensor([True])
    obj = {"a": np.float64(1.5), "b": np.int64(3), "c": np.float32(2.5), "d": 1.25}
    ts.save(obj, tmp_path / "s.pt")
    back = ts.load(tmp_path / "s.pt")
    assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in obj.items()} and back == obj
    lin = ts.nn.Linear(2, 3)
    lin.load_state_dict({k: np.ones(v.shape) for k, v in lin.state_dict().items()}, assign=True)
    assert lin.weight.tolist() == [[1.0, 1.0]] * 3
