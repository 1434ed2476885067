"""Found by running real programs against torch 2.13 (round 8): legacy constructors and
ts.Tensor given a Size make a tensor of that shape (DeepSpeech2's MaskConv:
`torch.BoolTensor(x.size()).fill_(0)`), poisson_nll_loss(full=True) at a zero target is silent."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["BoolTensor", "FloatTensor", "LongTensor", "ByteTensor", "Tensor"])
def test_a_size_is_a_shape(name):
    for L in (ts, torch):
        x = L.zeros(2, 3, 4)
        t = getattr(L, name)(x.size())
        assert tuple(t.shape) == (2, 3, 4)
        assert tuple(getattr(L, name)((2, 3)).shape) == (2,)   # a tuple stays data, as torch's


def test_poisson_nll_full_with_zero_targets_is_silent_and_matches_torch():
    got = []
    for L in (ts, torch):
        inp = L.tensor([0.2, 1.0, 2.0, -0.5], dtype=L.float64, requires_grad=True)
        tgt = L.tensor([0.0, 1.0, 3.0, 7.0], dtype=L.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = L.nn.functional.poisson_nll_loss(inp, tgt, log_input=True, full=True)
        loss.backward()
        got.append((loss.item(), inp.grad.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)
