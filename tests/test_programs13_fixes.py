"""Findings of programs round 13 (d2l.ai's RNN chapters, yunjey's and Sean Robertson's
tutorials, LSTNet, learning-to-learn, Sketch-RNN): the same code on torch 2.13 and
tinygrad_seq."""
import numpy as np
import pytest
import torch as T

import tinygrad_seq as S


# 2. reversed(tensor) is torch's Tensor.__reversed__ (flip(0)); d2l BiRNNScratch: self.b_rnn(reversed(inputs))
def test_reversed_tensor_is_tensor():
    a = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    rt = reversed(T.tensor(a))
    rs = reversed(S.tensor(a))
    assert isinstance(rt, T.Tensor)
    assert isinstance(rs, S.Tensor), type(rs)
    assert rs.shape == tuple(rt.shape)
    assert np.array_equal(rs.numpy(), rt.numpy())


# 3. a 0-d computed tensor (a reduction's result) does not share memory with its
#    .numpy() / .detach() / .data / .view(1): an in-place op afterwards is not seen.
#    L2L: all_losses_ever.append(loss.data.cpu().numpy()); all_losses = loss; all_losses += loss2
@pytest.mark.parametrize("get", ["numpy", "detach", "data", "view"])
def test_zero_dim_result_shares_memory(get):
    out = []
    for M in (T, S):
        t = M.tensor([1.0, 2.0]).sum()
        h = {"numpy": lambda: t.numpy(), "detach": lambda: t.detach(),
             "data": lambda: t.data, "view": lambda: t.view(1)}[get]()
        t += 10
        out.append(float(np.asarray(h.numpy() if hasattr(h, "numpy") else h).reshape(-1)[0]))
    assert out[0] == 13.0
    assert out[1] == out[0], out


def test_l2l_recorded_losses_alias():
    res = []
    for M in (T, S):
        w = M.tensor([1.0, 2.0], requires_grad=True)
        rec, acc = [], None
        for i in range(3):
            loss = (w * (i + 1)).sum()
            acc = loss if acc is None else acc.__iadd__(loss)
            if i == 0:
                rec.append(loss.data.cpu().numpy())
        res.append(float(rec[0]))
    assert res[1] == res[0], res   # torch: 18.0 (aliased), ts: 3.0


# 4. `loss.data[0]` (old tutorials) on a 0-d tensor: same IndexError type, but the message
#    should say it is a 0-dim tensor / use .item() (ours: "out of bounds for dimension 0 with size 0")
def test_index_zero_dim_message():
    with pytest.raises(IndexError) as et:
        T.tensor(1.5).data[0]
    with pytest.raises(IndexError) as es:
        S.tensor(1.5).data[0]
    assert "0-dim" in str(et.value)
    assert "0-dim" in str(es.value) or "item()" in str(es.value), str(es.value)


# 5. numpy ufuncs on a tensor return a Tensor in torch (__array_wrap__), a numpy value here
def test_numpy_ufunc_returns_tensor():
    rt = np.exp(T.tensor([1.0, 2.0]))
    rs = np.exp(S.tensor([1.0, 2.0]))
    assert isinstance(rt, T.Tensor)
    assert isinstance(rs, S.Tensor), type(rs)
    np.testing.assert_allclose(rs.numpy(), rt.numpy(), rtol=1e-6)
    z, zt = np.exp(S.tensor(1.0)), np.exp(T.tensor(1.0))
    assert isinstance(z, S.Tensor) and z.shape == tuple(zt.shape) == ()
    m = np.greater(S.tensor([1.0, 2.0]), 1.5)
    assert m.dtype == S.uint8 and m.tolist() == np.greater(T.tensor([1.0, 2.0]), 1.5).tolist()
    assert type(np.asarray(S.tensor([1.0]))) is np.ndarray
