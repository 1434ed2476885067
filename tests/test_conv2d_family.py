"""F.conv2d, conv_transpose1d/2d, the 2-D pools, F.interpolate and their modules (Conv2d,
ConvTranspose1d/2d, pools, Upsample, BatchNorm2d) against torch 2.13: values and every gradient
in float64, float32 kept, shapes, reprs, state-dict keys, error types; gradcheck in float64."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn
from torch_compare import compare_with_torch   # tests/torch_compare.py

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 4, 7, 9))


_compare = compare_with_torch


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(padding=(2, 1)), dict(padding="same", dilation=(2, 1)),
                                dict(padding="same"), dict(padding="valid"), dict(groups=2),
                                dict(dilation=2, stride=(1, 3)),
                                dict(groups=4, stride=(3, 2), padding=1)])
def test_conv2d_matches_torch(kw):
    c_in = 4 // kw.get("groups", 1)
    w, b = RNG.standard_normal((4, c_in, 3, 2)), RNG.standard_normal(4)
    _compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw), [X, w, b])
    _compare(lambda x, w: F.conv2d(x, w, **kw), lambda x, w: TF.conv2d(x, w, **kw), [X[0], w])   # unbatched


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(stride=2, output_padding=1), dict(padding=(1, 2)),
                                dict(groups=2, stride=(2, 3), output_padding=(1, 2)), dict(dilation=(2, 3), padding=1),
                                dict(stride=2, dilation=3, output_padding=2)])
def test_conv_transpose2d_matches_torch(kw):
    w, b = RNG.standard_normal((4, 3, 3, 2)), RNG.standard_normal(3 * kw.get("groups", 1))
    _compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw),
             [X, w, b])
    _compare(lambda x, w: F.conv_transpose2d(x, w, **kw), lambda x, w: TF.conv_transpose2d(x, w, **kw), [X[1], w])


@pytest.mark.parametrize("kw", [dict(), dict(stride=3, padding=1, output_padding=2), dict(groups=2, dilation=2)])
def test_conv_transpose1d_matches_torch(kw):
    w, b = RNG.standard_normal((4, 2, 3)), RNG.standard_normal(2 * kw.get("groups", 1))
    x = X[:, :, 0]
    _compare(lambda x, w, b: F.conv_transpose1d(x, w, b, **kw), lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw),
             [x, w, b])
    _compare(lambda x, w: F.conv_transpose1d(x, w, **kw), lambda x, w: TF.conv_transpose1d(x, w, **kw), [x[0], w])


@pytest.mark.parametrize("name, args, kw", [
    ("max_pool2d", (2,), {}), ("max_pool2d", (3, 2, 1), {}),
    ("max_pool2d", ((3, 2), (2, 1), (1, 0)), {"ceil_mode": True}),
    ("max_pool2d", (3, 1, 1), {"dilation": 2}), ("max_pool2d", (2,), {"return_indices": True}),
    ("avg_pool2d", (2,), {}), ("avg_pool2d", (3, 2, 1), {}), ("avg_pool2d", (3, 2, 1), {"count_include_pad": False}),
    ("avg_pool2d", (3, 2, 1), {"ceil_mode": True}), ("avg_pool2d", ((2, 3), 2, (1, 1)), {"ceil_mode": True,
                                                                                         "count_include_pad": False}),
    ("avg_pool2d", (2,), {"divisor_override": 3}),
    ("adaptive_max_pool2d", ((3, 4),), {}), ("adaptive_max_pool2d", (1,), {}),
    ("adaptive_max_pool2d", ((5, None),), {}), ("adaptive_avg_pool2d", ((3, 4),), {}),
    ("adaptive_avg_pool2d", (1,), {}), ("adaptive_avg_pool2d", ((None, 2),), {})])
def test_pools_match_torch(name, args, kw):
    _compare(lambda x: getattr(F, name)(x, *args, **kw), lambda x: getattr(TF, name)(x, *args, **kw), [X])
    _compare(lambda x: getattr(F, name)(x, *args, **kw), lambda x: getattr(TF, name)(x, *args, **kw), [X[0]])


@pytest.mark.parametrize("name, args", [("max_pool2d", (3, 2, 1)), ("adaptive_max_pool2d", ((3, 4),))])
def test_max_pool_indices_and_ties(name, args):
    x = np.round(X * 2) / 2   # ties inside windows: the first maximum, as torch's
    x[0, 0, :3, :3] = -np.inf
    ours = getattr(F, name)(ts.tensor(x), *args, return_indices=True)
    theirs = getattr(TF, name)(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    assert ours[1].dtype == np.int64


def test_float32_int64_and_dtypes():
    x32, w32 = ts.tensor(X.astype(np.float32)), ts.tensor(RNG.standard_normal((3, 4, 3, 3)).astype(np.float32))
    for f in (lambda: F.conv2d(x32, w32), lambda: F.conv_transpose2d(x32, w32.permute(1, 0, 2, 3)),
              lambda: F.max_pool2d(x32, 2), lambda: F.avg_pool2d(x32, 2), lambda: F.adaptive_avg_pool2d(x32, 3),
              lambda: F.interpolate(x32, scale_factor=2, mode="bilinear"), lambda: F.interpolate(x32, size=(3, 5))):
        assert f().dtype == np.float32
    xi = (X * 10).astype(np.int64)
    np.testing.assert_array_equal(F.avg_pool2d(ts.tensor(xi), 3, 2, 1).numpy(),
                                  TF.avg_pool2d(torch.tensor(xi), 3, 2, 1).numpy())
    np.testing.assert_array_equal(F.max_pool2d(ts.tensor(xi), 2).numpy(), TF.max_pool2d(torch.tensor(xi), 2).numpy())
    got = F.interpolate(x32, scale_factor=1.7, mode="bilinear").numpy()
    want = TF.interpolate(torch.tensor(X.astype(np.float32)), scale_factor=1.7, mode="bilinear").numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(5, 13)), dict(scale_factor=(1.7, 0.6)),
                                dict(scale_factor=1.5, recompute_scale_factor=True),
                                dict(size=(3, 4), mode="nearest-exact"),
                                dict(scale_factor=2.3, mode="nearest-exact"), dict(scale_factor=2, mode="bilinear"),
                                dict(size=(11, 4), mode="bilinear", align_corners=True),
                                dict(scale_factor=(0.7, 1.6), mode="bilinear"), dict(size=(1, 1), mode="bilinear",
                                                                                   align_corners=True),
                                dict(size=(3, 4), mode="area"), dict(scale_factor=(1.1, 2.138)),
                                dict(scale_factor=(1.05, 1.5), mode="bilinear")])
def test_interpolate_4d_matches_torch(kw):
    _compare(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [X])


@pytest.mark.parametrize("kw", [dict(scale_factor=3), dict(size=4), dict(size=13, mode="linear"),
                                dict(scale_factor=0.6, mode="linear", align_corners=True),
                                dict(scale_factor=1.3, mode="nearest-exact"), dict(size=4, mode="area"),
                                dict(scale_factor=1.05, mode="linear"), dict(scale_factor=2.3)])
def test_interpolate_3d_matches_torch(kw):
    _compare(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [X[:, :, 0]])


def test_gradcheck_float64():
    x = ts.tensor(RNG.standard_normal((1, 2, 5, 4)), requires_grad=True)
    w = ts.tensor(RNG.standard_normal((2, 2, 2, 3)), requires_grad=True)
    b = ts.tensor(RNG.standard_normal(2), requires_grad=True)
    assert ts.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1), (x, w, b))
    assert ts.autograd.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, output_padding=1), (x, w, b))
    assert ts.autograd.gradcheck(lambda x: F.avg_pool2d(x, 2, 1, 1, count_include_pad=False), (x,))
    assert ts.autograd.gradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), (x,))


@pytest.mark.parametrize("args, kw", [((4, 6, 3), dict(padding=1)), ((4, 6, (3, 2)), dict(stride=2, bias=False)),
                                      ((4, 6, 3), dict(padding="same", dilation=2, groups=2)),
                                      ((4, 6, 3), dict(padding=(2, 1), padding_mode="reflect")),
                                      ((4, 6, 3), dict(padding=1, padding_mode="replicate")),
                                      ((4, 6, 3), dict(padding="same", padding_mode="circular"))])
def test_conv2d_module_matches_torch(args, kw):
    theirs = torch.nn.Conv2d(*args, **kw).double()
    ours = nn.Conv2d(*args, **kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, [X])


@pytest.mark.parametrize("cls, args, kw, x", [
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2, dilation=2), X),
    ("ConvTranspose2d", (4, 2, (3, 2)), dict(padding=1, bias=False), X),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, output_padding=1), X[:, :, 0])])
def test_conv_transpose_modules_match_torch(cls, args, kw, x):
    theirs, ours = getattr(torch.nn, cls)(*args, **kw).double(), getattr(nn, cls)(*args, **kw).double()
    shapes = [[tuple(v.shape) for v in m.state_dict().values()] for m in (ours, theirs)]
    assert shapes[0] == shapes[1]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, [x])


def test_conv_transpose_output_size():
    theirs, ours = torch.nn.ConvTranspose2d(4, 2, 3, stride=2).double(), nn.ConvTranspose2d(4, 2, 3, stride=2).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    _compare(lambda x: ours(x, output_size=[16, 19]), lambda x: theirs(x, output_size=[16, 19]), [X])
    with pytest.raises(ValueError, match="valid sizes range"):
        ours(ts.tensor(X), output_size=[14, 18])


def test_conv_init_is_kaiming_uniform():
    ts.manual_seed(0)
    m = nn.Conv2d(8, 16, 3, groups=2)
    bound = 1 / np.sqrt(4 * 9)   # kaiming_uniform(a=sqrt(5)) and the bias share 1/sqrt(fan_in)
    for p in (m.weight, m.bias):
        assert np.abs(p.detach().numpy()).max() <= bound and np.abs(p.detach().numpy()).max() > 0.8 * bound
    ts.manual_seed(0)
    assert np.array_equal(nn.Conv2d(8, 16, 3, groups=2).weight.detach().numpy(), m.weight.detach().numpy())
    assert nn.ConvTranspose2d(8, 4, 3).weight.shape == (8, 4, 3, 3)


def test_pool_and_upsample_modules_match_torch():
    pairs = [("MaxPool2d", (3,), {}), ("MaxPool2d", ((3, 2), (2, 1), 1), dict(ceil_mode=True, return_indices=True)),
             ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False)), ("AvgPool2d", (2,), dict(divisor_override=3)),
             ("AdaptiveAvgPool2d", ((3, None),), {}), ("AdaptiveMaxPool2d", (2,), dict(return_indices=True)),
             ("Upsample", (), dict(scale_factor=2)), ("Upsample", ((3, 4),), dict(mode="bilinear", align_corners=True)),
             ("UpsamplingNearest2d", (), dict(size=5)), ("UpsamplingBilinear2d", (), dict(scale_factor=2))]
    for name, args, kw in pairs:
        ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(ours) == repr(theirs)
        _compare(ours, theirs, [X])


def test_batchnorm2d_matches_torch():
    for kw in (dict(), dict(momentum=None), dict(affine=False), dict(track_running_stats=False)):
        theirs, ours = torch.nn.BatchNorm2d(4, **kw).double(), nn.BatchNorm2d(4, **kw).double()
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
        for _ in range(2):
            _compare(ours, theirs, [X])
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-12)
        ours.eval(), theirs.eval()
        _compare(ours, theirs, [X])
    from tinygrad_seq.nn.modules.batchnorm import _BatchNorm
    assert isinstance(nn.BatchNorm2d(3), _BatchNorm) and isinstance(nn.BatchNorm1d(3), _BatchNorm)
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(4)(ts.tensor(X[0]))


def test_crnn_program_runs():
    """A CRNN: conv / batchnorm / pool feature extractor, a BiLSTM over width and CTC."""
    class CRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)))
            self.rnn = nn.LSTM(8 * 4, 16, bidirectional=True)
            self.fc = nn.Linear(32, 5)

        def forward(self, x):
            f = self.cnn(x)                                   # [N, 8, 4, W/2]
            f = f.permute(3, 0, 1, 2).flatten(2)              # [T, N, 32]
            return self.fc(self.rnn(f)[0]).log_softmax(-1)    # [T, N, 5]

    model = CRNN()
    logp = model(ts.randn(2, 1, 16, 20))
    loss = F.ctc_loss(logp, ts.tensor([[1, 2, 3], [2, 2, 4]]), [10, 10], [3, 3])
    loss.backward()
    assert logp.shape == (10, 2, 5) and all(p.grad is not None for p in model.parameters())
    from tinygrad_seq.nn.modules.conv import _ConvNd
    from tinygrad_seq.nn.modules.pooling import MaxPool2d
    assert isinstance(model.cnn[0], _ConvNd) and isinstance(nn.Conv1d(1, 1, 1), _ConvNd) and MaxPool2d is nn.MaxPool2d


@pytest.mark.parametrize("call", [
    lambda f, x: f.conv2d(x, x.new_zeros((6, 3, 3, 3))), lambda f, x: f.conv2d(x, x.new_zeros((5, 2, 3, 3)), groups=2),
    lambda f, x: f.conv2d(x, x.new_zeros((6, 4, 3, 3)), padding="same", stride=2),
    lambda f, x: f.conv2d(x, x.new_zeros((6, 4, 3, 3)), padding="foo"),
    lambda f, x: f.conv2d(x, x.new_zeros((6, 4, 3, 3)), stride=(1, 2, 3)),
    lambda f, x: f.conv2d(x, x.new_zeros((6, 4, 3, 3)), stride=0),
    lambda f, x: f.conv2d(x[:, :, :2], x.new_zeros((6, 4, 3, 3))),
    lambda f, x: f.conv2d(x[0, 0], x.new_zeros((6, 4, 3, 3))),
    lambda f, x: f.conv2d(x, x.new_zeros((6, 4, 3, 3)), x.new_zeros(5)),
    lambda f, x: f.conv2d(x, x.new_zeros((6, 4, 3, 3)).float()),
    lambda f, x: f.conv_transpose2d(x, x.new_zeros((4, 3, 3, 3)), output_padding=1),
    lambda f, x: f.conv_transpose2d(x, x.new_zeros((3, 3, 3, 3))),
    lambda f, x: f.max_pool2d(x, 3, padding=2), lambda f, x: f.max_pool2d(x, 20), lambda f, x: f.max_pool2d(x, 0, 1),
    lambda f, x: f.max_pool2d(x, (2, 2, 2)), lambda f, x: f.avg_pool2d(x, 2, divisor_override=0),
    lambda f, x: f.adaptive_max_pool2d(x, (2, 3, 4))])
def test_errors_are_runtime_errors_like_torch(call):
    with pytest.raises(RuntimeError):
        call(TF, torch.tensor(X))
    with pytest.raises(RuntimeError):
        call(F, ts.tensor(X))


@pytest.mark.parametrize("exc, call", [
    (ValueError, lambda f, x: f.interpolate(x, size=3, scale_factor=2)), (ValueError, lambda f, x: f.interpolate(x)),
    (ValueError, lambda f, x: f.interpolate(x, scale_factor=2, align_corners=True)),
    (ValueError, lambda f, x: f.interpolate(x, size=(3, 4, 5))),
    (ValueError, lambda f, x: f.interpolate(x, size=3, recompute_scale_factor=True)),
    (TypeError, lambda f, x: f.interpolate(x, size=(3.0, 4))),
    (NotImplementedError, lambda f, x: f.interpolate(x, size=3, mode="linear")),
    (NotImplementedError, lambda f, x: f.interpolate(x[0], size=3, mode="bilinear")),
    (NotImplementedError, lambda f, x: f.interpolate(x, size=3, mode="foo")),
    (NotImplementedError, lambda f, x: f.interpolate(x.long(), size=3)),
    (NotImplementedError, lambda f, x: f.adaptive_avg_pool2d(x.long(), 2)),
    (RuntimeError, lambda f, x: f.interpolate(x, size=0)),
    (TypeError, lambda f, x: f.conv_transpose2d(x, x.new_zeros((4, 3, 3, 3)), padding="same"))])
def test_interpolate_and_other_errors_like_torch(exc, call):
    with pytest.raises(exc):
        call(TF, torch.tensor(X))
    with pytest.raises(exc):
        call(F, ts.tensor(X))


def test_unsupported_interpolation_says_so():
    with pytest.raises(NotImplementedError, match="not supported"):
        F.interpolate(ts.tensor((X * 10).astype(np.uint8)), size=3, mode="bicubic")
    with pytest.raises(NotImplementedError, match="not supported"):
        F.interpolate(ts.tensor(X), scale_factor=0.5, mode="bilinear", antialias=True)
    for args, kw in (((4, 6, 3), dict(groups=4)), ((4, 6, 3), dict(padding_mode="foo")), ((4, 6, 3), dict(groups=0)),
                     ((4, 6, 3), dict(padding="same", stride=2))):
        with pytest.raises(ValueError):
            nn.Conv2d(*args, **kw)
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
