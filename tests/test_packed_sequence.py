"""nn.utils.rnn against torch.nn.utils.rnn: packing, padding, and the recurrent layers on a
PackedSequence (outputs, h_n in the original batch order, gradients through pack and pad)."""
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as TR

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.nn.utils import rnn as R
from module_helpers import load_from_torch


def _pair(x):
    return ts.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _same_packed(o, t):
    np.testing.assert_allclose(o.data.numpy(), t.data.detach().numpy(), atol=1e-13)
    np.testing.assert_array_equal(o.batch_sizes.numpy(), t.batch_sizes.numpy())
    for a, b in ((o.sorted_indices, t.sorted_indices), (o.unsorted_indices, t.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce", [([5, 3, 3, 1], True), ([2, 5, 1, 4], False), ([4], True)])
def test_pack_and_pad_match_torch_with_gradients(batch_first, lengths, enforce):
    B, T = len(lengths), 5
    x = np.random.default_rng(0).standard_normal((B, T, 3) if batch_first else (T, B, 3))
    xo, xt = _pair(x)
    po = R.pack_padded_sequence(xo, lengths, batch_first=batch_first, enforce_sorted=enforce)
    pt = TR.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce)
    assert isinstance(po, R.PackedSequence) and isinstance(po, tuple) and len(po) == 4
    _same_packed(po, pt)
    yo, lo = R.pad_packed_sequence(po, batch_first=batch_first, padding_value=-1.5, total_length=7)
    yt, lt = TR.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-1.5, total_length=7)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(lo.numpy(), lt.numpy())
    assert lo.dtype == np.int64
    v = np.random.default_rng(1).standard_normal(yt.shape)
    (yo * ts.Tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-13)


def test_pack_errors_like_torch():
    x = ts.Tensor(np.zeros((4, 3, 2)))
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [4, 0, 0], enforce_sorted=False)
    with pytest.raises(ValueError, match="batch_size"):
        R.pack_padded_sequence(x, [4, 3])
    with pytest.raises(ValueError, match="total_length"):
        R.pad_packed_sequence(R.pack_padded_sequence(x, [4, 3, 1]), total_length=2)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    r = np.random.default_rng(2)
    seqs = [r.standard_normal((n, 2, 3)) for n in (3, 5, 1)]
    so = [ts.Tensor(s, requires_grad=True) for s in seqs]
    st = [torch.tensor(s, requires_grad=True) for s in seqs]
    yo = R.pad_sequence(so, batch_first=batch_first, padding_value=0.25, padding_side=side)
    yt = TR.pad_sequence(st, batch_first=batch_first, padding_value=0.25, padding_side=side)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy())
    v = r.standard_normal(yt.shape)
    (yo * ts.Tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    for a, b in zip(so, st):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("enforce", [True, False])
def test_pack_sequence_and_unpack_sequence(enforce):
    r = np.random.default_rng(3)
    lens = (4, 2, 1) if enforce else (2, 4, 1)
    seqs = [r.standard_normal((n, 3)) for n in lens]
    po = R.pack_sequence([ts.Tensor(s) for s in seqs], enforce_sorted=enforce)
    pt = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=enforce)
    _same_packed(po, pt)
    for a, s in zip(R.unpack_sequence(po), seqs):
        np.testing.assert_allclose(a.numpy(), s)
    padded = R.pad_sequence([ts.Tensor(s) for s in seqs], batch_first=True)
    for a, s in zip(R.unpad_sequence(padded, ts.Tensor(np.array(lens)), batch_first=True), seqs):
        np.testing.assert_allclose(a.numpy(), s)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("enforce", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_layers_on_packed_sequences(mode, enforce, batch_first, with_hx):
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    tl = getattr(torch.nn, mode)(3, 4, **kw).double()
    ol = load_from_torch(getattr(nn, mode)(3, 4, **kw).double(), tl)
    lens = [5, 4, 4, 2] if enforce else [2, 5, 1, 4]
    r = np.random.default_rng(4)
    x = r.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    xo, xt = _pair(x)
    po = R.pack_padded_sequence(xo, lens, batch_first=batch_first, enforce_sorted=enforce)
    pt = TR.pack_padded_sequence(xt, lens, batch_first=batch_first, enforce_sorted=enforce)
    if with_hx:
        h = r.standard_normal((4, 4, 4))
        hxo, hxt = _pair(h)
        if mode == "LSTM":
            c = r.standard_normal((4, 4, 4))
            cxo, cxt = _pair(c)
            hxo, hxt = (hxo, cxo), (hxt, cxt)
        yo, so = ol(po, hxo)
        yt, st = tl(pt, hxt)
    else:
        yo, so = ol(po)
        yt, st = tl(pt)
    assert isinstance(yo, R.PackedSequence)
    _same_packed(yo, yt)
    so = so if mode == "LSTM" else (so,)
    st = st if mode == "LSTM" else (st,)
    for a, b in zip(so, st):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-13)
    v = r.standard_normal(yt.data.shape)
    loss_o = (yo.data * ts.Tensor(v)).sum() + sum((s * 0.5).sum() for s in so)
    loss_t = (yt.data * torch.tensor(v)).sum() + sum((s * 0.5).sum() for s in st)
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    for (n, p), (_, q) in zip(ol.named_parameters(), tl.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-12, err_msg=n)
    if with_hx:
        hs_o = hxo if mode == "LSTM" else (hxo,)
        hs_t = hxt if mode == "LSTM" else (hxt,)
        for a, b in zip(hs_o, hs_t):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_packed_sequence_to_and_fields():
    p = R.pack_sequence([ts.Tensor(np.ones((2, 3), np.float32)), ts.Tensor(np.ones((1, 3), np.float32))])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert data.shape == (3, 3) and batch_sizes.numpy().tolist() == [2, 1] and sorted_indices is None
    assert p.double().data.dtype == np.float64 and not p.is_cuda
    assert ts.nn.utils.rnn.PackedSequence is R.PackedSequence


@pytest.mark.cuda
def test_packed_lstm_on_cuda():
    torch.manual_seed(0)
    tl = torch.nn.LSTM(3, 4).double()
    ol = load_from_torch(nn.LSTM(3, 4).double(), tl).to("cuda")
    x = np.random.default_rng(5).standard_normal((3, 2, 3))
    xo, xt = _pair(x)
    po = R.pack_padded_sequence(xo.to("cuda"), [2, 3], enforce_sorted=False)
    pt = TR.pack_padded_sequence(xt, [2, 3], enforce_sorted=False)
    (yo, (ho, _)), (yt, (ht, _)) = ol(po), tl(pt)
    assert yo.data.device == "cuda"
    np.testing.assert_allclose(yo.data.numpy(), yt.data.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ho.numpy(), ht.detach().numpy(), atol=1e-12)
    (yo.data.sum() + ho.sum()).backward()
    (yt.data.sum() + ht.sum()).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)
