"""F.conv1d, the 1-D pools and their modules against torch 2.13 (values and every gradient, float64),
over stride, padding (numbers, 'same', 'valid', padding modes), dilation, groups, no batch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 4, 9))


def _compare(fn_ours, fn_torch, arrays):
    res = []
    for lib, fn in ((ts, fn_ours), (torch, fn_torch)):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(*xs)
        (y * lib.tensor(np.linspace(-1, 2, y.numel()).reshape(y.shape))).sum().backward()
        res.append([y.detach().numpy()] + [x.grad.numpy() for x in xs])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(padding=2), dict(padding="same", dilation=2),
                                dict(padding="valid"), dict(groups=2), dict(groups=4, stride=3, padding=1),
                                dict(dilation=3)])
def test_conv1d_matches_torch(kw):
    c_in = 4 // kw.get("groups", 1)
    w, b = RNG.standard_normal((4, c_in, 3)), RNG.standard_normal(4)
    _compare(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw), [X, w, b])
    _compare(lambda x, w: F.conv1d(x, w, **kw), lambda x, w: TF.conv1d(x, w, **kw), [X[0], w])   # unbatched


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_module_matches_torch(mode):
    torch.manual_seed(0)
    theirs = torch.nn.Conv1d(4, 6, 3, padding=1, padding_mode=mode).double()
    ours = nn.Conv1d(4, 6, 3, padding=1, padding_mode=mode).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, [X])


@pytest.mark.parametrize("name, args", [("max_pool1d", (3,)), ("max_pool1d", (3, 2, 1)), ("avg_pool1d", (2,)),
                                        ("avg_pool1d", (3, 1, 1)), ("adaptive_max_pool1d", (4,)),
                                        ("adaptive_avg_pool1d", (5,)), ("adaptive_max_pool1d", (1,))])
def test_pools_match_torch(name, args):
    _compare(lambda x: getattr(F, name)(x, *args), lambda x: getattr(TF, name)(x, *args), [X])


def test_pool_modules_and_errors():
    for ours, theirs in ((nn.MaxPool1d(2), torch.nn.MaxPool1d(2)), (nn.AvgPool1d(3, 2), torch.nn.AvgPool1d(3, 2)),
                         (nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3)),
                         (nn.AdaptiveMaxPool1d(2), torch.nn.AdaptiveMaxPool1d(2))):
        _compare(ours, theirs, [X])
    with pytest.raises(ValueError, match="4 channels"):
        F.conv1d(ts.zeros(1, 3, 5), ts.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="Kernel size can.t be greater"):
        F.conv1d(ts.zeros(1, 4, 2), ts.zeros(2, 4, 3))
