"""Keywords torch 2.13 programs use (found by running 13 tutorial-style programs on both):
BatchNorm1d(bias=False), F.mse_loss / l1_loss / huber_loss(weight=), Hardtanh(min_value=,
max_value=); each compared with torch."""
import numpy as np
import torch
import tinygrad_seq as ts


def test_batchnorm1d_bias_false():
    # torch 2.13: BatchNorm1d(..., *, bias=True); bias=False keeps weight, drops bias
    tb = torch.nn.BatchNorm1d(4, bias=False)
    ob = ts.nn.BatchNorm1d(4, bias=False)
    assert list(ob.state_dict().keys()) == list(tb.state_dict().keys())
    x = np.random.RandomState(0).randn(5, 4, 3).astype(np.float32)
    np.testing.assert_allclose(ob(ts.tensor(x)).detach().numpy(), tb(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_batchnorm1d_repr_has_bias():
    assert repr(ts.nn.BatchNorm1d(4)) == repr(torch.nn.BatchNorm1d(4))


def test_mse_l1_huber_loss_weight():
    a = np.array([1., 2., 3.], dtype=np.float32); b = np.array([0., 0., 1.], dtype=np.float32)
    w = np.array([1., 2., 0.5], dtype=np.float32)
    for name in ["mse_loss", "l1_loss", "huber_loss"]:
        for red in ["mean", "sum", "none"]:
            t = getattr(torch.nn.functional, name)(torch.tensor(a), torch.tensor(b), weight=torch.tensor(w), reduction=red)
            o = getattr(ts.nn.functional, name)(ts.tensor(a), ts.tensor(b), weight=ts.tensor(w), reduction=red)
            np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6)


def test_hardtanh_deprecated_min_value_kwargs():
    t = torch.nn.Hardtanh(min_value=-2.0, max_value=2.0)(torch.tensor([-3.0, 3.0]))
    o = ts.nn.Hardtanh(min_value=-2.0, max_value=2.0)(ts.tensor([-3.0, 3.0]))
    np.testing.assert_allclose(o.numpy(), t.numpy())
