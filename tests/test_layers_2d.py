"""The image / spectrogram front-end layers (functional_2d.py, nn/layers_2d.py) against torch 2.13:
pixel_shuffle / unshuffle, unfold / fold, max_unpool1d/2d, instance_norm, local_response_norm,
lp_pool1d/2d and the padding modules; values and every gradient in float64, float32 kept, shapes,
reprs, state-dict keys, running statistics, error types; gradcheck in float64."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn
from torch_compare import compare_with_torch   # tests/torch_compare.py

RNG = np.random.default_rng(0)


_compare = compare_with_torch


def _float32_kept(fn_ours, fn_torch, array, rtol=1e-5, atol=1e-6):
    a, t = fn_ours(ts.tensor(array.astype(np.float32))), fn_torch(torch.tensor(array.astype(np.float32)))
    assert a.dtype == np.float32 and tuple(a.shape) == tuple(t.shape)
    np.testing.assert_allclose(a.numpy(), t.numpy(), rtol=rtol, atol=atol)


def _same_error(fn_ours, fn_torch):
    """fn_torch raises: fn_ours raises the same type (torch's RuntimeError / ValueError /
    IndexError / TypeError / NotImplementedError); it succeeds: fn_ours gives the same shape."""
    try:
        expected = tuple(fn_torch().shape)
    except Exception as theirs:
        with pytest.raises(type(theirs)):
            fn_ours()
    else:
        assert tuple(fn_ours().shape) == expected


# ---- pixel shuffle ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,r", [((2, 8, 3, 5), 2), ((9, 2, 3), 3), ((2, 3, 4, 2, 2), 2), ((1, 4, 1, 1), 2)])
def test_pixel_shuffle_matches_torch(shape, r):
    x = RNG.standard_normal(shape)
    _compare(lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), [x])
    y = RNG.standard_normal(shape[:-3] + (shape[-3], shape[-2] * r, shape[-1] * r))
    _compare(lambda y: F.pixel_unshuffle(y, r), lambda y: TF.pixel_unshuffle(y, r), [y])
    _float32_kept(lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), x)
    assert np.array_equal(F.pixel_unshuffle(F.pixel_shuffle(ts.tensor(x), r), r).numpy(), x)
    ints = np.arange(np.prod(shape)).reshape(shape)
    np.testing.assert_array_equal(F.pixel_shuffle(ts.tensor(ints), r).numpy(),
                                  TF.pixel_shuffle(torch.tensor(ints), r).numpy())


def test_pixel_shuffle_errors_and_modules():
    x = np.zeros((5, 3, 3))
    for ours, theirs in [(F.pixel_shuffle, TF.pixel_shuffle), (F.pixel_unshuffle, TF.pixel_unshuffle)]:
        for arr, r in [(np.zeros((4, 3)), 2), (x, 2), (x, 0), (x, -1), (np.zeros((4, 4, 3)), 2), (x, 2.0)]:
            _same_error(lambda: ours(ts.tensor(arr), r), lambda: theirs(torch.tensor(arr), r))
    for ours, theirs in [(nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                         (nn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3))]:
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == []
    x = RNG.standard_normal((2, 4, 3, 3))
    np.testing.assert_array_equal(nn.PixelShuffle(2)(ts.tensor(x)).numpy(), torch.nn.PixelShuffle(2)(
        torch.tensor(x)).numpy())


# ---- unfold / fold ------------------------------------------------------------------------------

WINDOWS = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2), dict(kernel_size=3, padding=1),
           dict(kernel_size=(3, 2), dilation=(2, 1), padding=(1, 2), stride=(1, 3)), dict(kernel_size=1, stride=2)]


@pytest.mark.parametrize("kw", WINDOWS)
def test_unfold_fold_match_torch(kw):
    x = RNG.standard_normal((2, 3, 7, 8))
    _compare(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), [x])
    _compare(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), [x[0]])         # unbatched
    blocks = TF.unfold(torch.tensor(x), **kw).numpy()
    _compare(lambda b: F.fold(b, (7, 8), **kw), lambda b: TF.fold(b, (7, 8), **kw), [blocks])
    _compare(lambda b: F.fold(b, (7, 8), **kw), lambda b: TF.fold(b, (7, 8), **kw), [blocks[1]])
    _float32_kept(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), x)
    _float32_kept(lambda b: F.fold(b, [7, 8], **kw), lambda b: TF.fold(b, [7, 8], **kw), blocks)
    ours, theirs = nn.Unfold(**kw), torch.nn.Unfold(**kw)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    ours, theirs = nn.Fold((7, 8), **kw), torch.nn.Fold((7, 8), **kw)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(ts.tensor(blocks)).numpy(), theirs(torch.tensor(blocks)).numpy())


def test_unfold_fold_errors():
    x = np.zeros((2, 3, 4, 5))
    for arr, args, kw in [(x[0, 0], (2,), {}), (np.zeros((2, 3, 4, 5, 6)), (2,), {}), (x, (6,), {}), (x, (0,), {}),
                          (x, (2,), dict(stride=0)), (x, (2,), dict(dilation=0)), (x, (2,), dict(padding=-1)),
                          (x, ((2, 2, 2),), {}), (np.zeros((2, 0, 4, 5)), (2,), {}), (x.astype(np.int64), (2,), {})]:
        _same_error(lambda: F.unfold(ts.tensor(arr), *args, **kw), lambda: TF.unfold(torch.tensor(arr), *args, **kw))
    b = np.zeros((2, 12, 12))
    for arr, args, kw in [(b[:, :, :11], ((4, 5), 2), {}), (b[:, :11], ((4, 5), 2), {}), (b[0, 0], ((4, 5), 2), {}),
                          (b[None], ((4, 5), 2), {}), (b, ((1, 5), 2), {}), (b, ((4, 5, 3), 2), {}),
                          (b.astype(np.int64), ((4, 5), 2), {}), (b, ((4, 5), 2), dict(stride=0)),
                          (b, ((4, 5), 0), {}), (b[:, :, :0], ((1, 1), 2), {})]:
        _same_error(lambda: F.fold(ts.tensor(arr), *args, **kw), lambda: TF.fold(torch.tensor(arr), *args, **kw))
    assert F.unfold(ts.tensor(np.zeros((0, 3, 4, 5))), 2).shape == (0, 12, 12)   # an empty batch, as torch's


# ---- max_unpool ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,size", [(dict(kernel_size=2), None), (dict(kernel_size=2), (6, 9)),
                                     (dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)), (6, 8)),
                                     (dict(kernel_size=3, stride=2, padding=1), (2, 3, 6, 8))])
def test_max_unpool2d_pairs_with_max_pool2d(kw, size):
    x = RNG.standard_normal((2, 3, 6, 8))
    out, index = F.max_pool2d(ts.tensor(x), return_indices=True, **kw)
    t_out, t_index = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(index.numpy(), t_index.numpy())
    _compare(lambda o: F.max_unpool2d(o, index, output_size=size, **kw),
             lambda o: TF.max_unpool2d(o, t_index, output_size=size, **kw), [out.numpy()])
    _compare(lambda o: F.max_unpool2d(o, index[0], output_size=size, **kw),      # unbatched
             lambda o: TF.max_unpool2d(o, t_index[0], output_size=size, **kw), [out.numpy()[0]])
    ours, theirs = nn.MaxUnpool2d(**kw), torch.nn.MaxUnpool2d(**kw)
    assert repr(ours) == repr(theirs) and (ours.kernel_size, ours.stride, ours.padding) == \
        (theirs.kernel_size, theirs.stride, theirs.padding)
    a = ours(out.float(), index, output_size=size)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.numpy(), theirs(t_out.float(), t_index, output_size=size).numpy(), rtol=1e-6)


@pytest.mark.parametrize("kw,size", [(dict(kernel_size=3, stride=2), None), (dict(kernel_size=3, stride=2), [9]),
                                     (dict(kernel_size=2, padding=1), [2, 3, 9])])
def test_max_unpool1d_pairs_with_max_pool1d(kw, size):
    x = RNG.standard_normal((2, 3, 9))
    out, index = F.max_pool1d(ts.tensor(x), return_indices=True, **kw)
    _, t_index = TF.max_pool1d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(index.numpy(), t_index.numpy())
    _compare(lambda o: F.max_unpool1d(o, index, output_size=size, **kw),
             lambda o: TF.max_unpool1d(o, t_index, output_size=size, **kw), [out.numpy()])
    _compare(lambda o: F.max_unpool1d(o, index[1], output_size=size, **kw),
             lambda o: TF.max_unpool1d(o, t_index[1], output_size=size, **kw), [out.numpy()[1]])
    ours, theirs = nn.MaxUnpool1d(**kw), torch.nn.MaxUnpool1d(**kw)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(out, index, size).numpy(), theirs(torch.tensor(out.numpy()), t_index, size).numpy())


def test_max_unpool_errors():
    x = RNG.standard_normal((2, 3, 6, 7))
    out, index = (a.numpy() for a in F.max_pool2d(ts.tensor(x), 2, return_indices=True))
    cases = [(out, index, dict()), (out, index, dict(output_size=(3, 6, 7))), (out, index, dict(output_size=(8, 7))),
             (out, index * 10, dict(output_size=(6, 7))), (out, -index - 1, dict(output_size=(6, 7))),
             (out, index[:1], dict(output_size=(6, 7))), (out, index.astype(np.int32), dict(output_size=(6, 7))),
             (out[0, 0], index[0, 0], dict()), (out.astype(np.int64), index, dict(output_size=(6, 7))),
             (out, index, dict(stride=1, padding=3)), (out[None], index[None], dict(output_size=(6, 7)))]
    for o, i, kw in cases:
        _same_error(lambda: F.max_unpool2d(ts.tensor(o), ts.tensor(i), 2, **kw),
                    lambda: TF.max_unpool2d(torch.tensor(o), torch.tensor(i), 2, **kw))
    o1, i1 = (a.numpy() for a in F.max_pool1d(ts.tensor(x[0]), 3, 2, return_indices=True))
    for kw in [dict(output_size=[12]), dict(output_size=[])]:
        _same_error(lambda: F.max_unpool1d(ts.tensor(o1), ts.tensor(i1), 3, 2, **kw),
                    lambda: TF.max_unpool1d(torch.tensor(o1), torch.tensor(i1), 3, 2, **kw))


# ---- instance norm ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 2, 2)])
def test_instance_norm_matches_torch(shape):
    x, w, b = RNG.standard_normal(shape), RNG.standard_normal(shape[1]), RNG.standard_normal(shape[1])
    _compare(lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
             lambda x, w, b: TF.instance_norm(x, weight=w, bias=b, eps=1e-3), [x, w, b])
    _compare(lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [x])
    rm, rv = RNG.standard_normal(shape[1]), RNG.uniform(0.5, 2, shape[1])
    _compare(lambda x, w: F.instance_norm(x, ts.tensor(rm), ts.tensor(rv), w, use_input_stats=False),
             lambda x, w: TF.instance_norm(x, torch.tensor(rm), torch.tensor(rv), w, use_input_stats=False), [x, w])
    stats = [(lib.tensor(rm.copy()), lib.tensor(rv.copy())) for lib in (ts, torch)]
    F.instance_norm(ts.tensor(x), *stats[0], momentum=0.3)
    TF.instance_norm(torch.tensor(x), *stats[1], momentum=0.3)
    for a, t in zip(*stats):
        np.testing.assert_allclose(a.numpy(), t.numpy(), rtol=1e-12)
    _float32_kept(lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), x, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (2, 3, 6)), ("InstanceNorm2d", (2, 3, 4, 5)),
                                       ("InstanceNorm3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("kw", [dict(), dict(affine=True), dict(affine=True, track_running_stats=True, momentum=0.2),
                                dict(track_running_stats=True, momentum=None, eps=1e-3), dict(affine=True, bias=False)])
def test_instance_norm_modules_match_torch(cls, shape, kw):
    ours, theirs = getattr(nn, cls)(3, dtype=ts.float64, **kw), getattr(torch.nn, cls)(3, dtype=torch.float64, **kw)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    if kw.get("affine"):
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.tensor(RNG.standard_normal(3)))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal(shape)
    for train in (True, True, False):
        ours.train(train), theirs.train(train)
        _compare(ours, theirs, [x])
        _compare(ours, theirs, [x[1]])                                                 # unbatched
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-12)
    if "num_batches_tracked" in theirs.state_dict():   # torch's instance norms never count batches
        assert int(ours.num_batches_tracked.item()) == 0 == int(theirs.num_batches_tracked)


def test_instance_norm_errors_and_warning():
    x = np.zeros((2, 3, 1))
    for args, kw in [((x,), {}), ((x[:, :, 0],), {}), ((x,), dict(use_input_stats=False)),
                     ((np.zeros((2, 3, 4)), np.zeros(4), np.ones(4)), {}), ((np.zeros((2, 3, 4)),), dict(weight=4)),
                     ((np.zeros((2, 3, 4), np.int64),), {}), ((np.zeros((2, 3, 4)), np.zeros(3), None), {})]:
        kw_ours = {k: ts.ones(v, dtype=ts.float64) if k == "weight" else v for k, v in kw.items()}
        kw_torch = {k: torch.ones(v, dtype=torch.float64) if k == "weight" else v for k, v in kw.items()}
        _same_error(lambda: F.instance_norm(*[None if a is None else ts.tensor(a) for a in args], **kw_ours),
                    lambda: TF.instance_norm(*[None if a is None else torch.tensor(a) for a in args], **kw_torch))
    for make, arr in [(lambda lib: lib.nn.InstanceNorm2d(3, affine=True), np.zeros((2, 4, 4, 4))),
                      (lambda lib: lib.nn.InstanceNorm2d(3), np.zeros((4, 4))),
                      (lambda lib: lib.nn.InstanceNorm1d(3), np.zeros((2, 4, 4, 4)))]:
        _same_error(lambda: make(ts)(ts.tensor(arr, dtype=ts.float32)),
                    lambda: make(torch)(torch.tensor(arr, dtype=torch.float32)))
    with pytest.warns(UserWarning, match="does not match num_features"):
        assert nn.InstanceNorm1d(3)(ts.randn(2, 4, 4)).shape == (2, 4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(3)(ts.randn(2, 3, 4))


def test_instance_norm_module_paths():
    from tinygrad_seq.nn.modules.instancenorm import InstanceNorm2d
    from tinygrad_seq.nn.modules.padding import CircularPad2d, ReflectionPad2d
    from tinygrad_seq.nn.modules.pixelshuffle import PixelShuffle
    from tinygrad_seq.nn.modules.fold import Fold, Unfold
    from tinygrad_seq.nn.modules.pooling import LPPool2d, MaxUnpool2d
    assert InstanceNorm2d is nn.InstanceNorm2d and ReflectionPad2d is nn.ReflectionPad2d
    assert (CircularPad2d, PixelShuffle, Fold, Unfold, LPPool2d, MaxUnpool2d) == (
        nn.CircularPad2d, nn.PixelShuffle, nn.Fold, nn.Unfold, nn.LPPool2d, nn.MaxUnpool2d)


# ---- local response norm, lp pools --------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 6, 5), (2, 5, 3, 4), (1, 4, 2, 3, 2)])
@pytest.mark.parametrize("args", [(3,), (2, 1e-2, 0.5, 2.0), (7, 0.3, 0.75, 1.0)])
def test_local_response_norm_matches_torch(shape, args):
    x = RNG.standard_normal(shape)
    _compare(lambda x: F.local_response_norm(x, *args), lambda x: TF.local_response_norm(x, *args), [x])
    _float32_kept(lambda x: F.local_response_norm(x, *args), lambda x: TF.local_response_norm(x, *args), x)
    ours, theirs = nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12)


def test_local_response_norm_errors():
    for arr, size in [(np.zeros((2, 3)), 2), (np.zeros((2, 3, 4)), 0)]:
        _same_error(lambda: F.local_response_norm(ts.tensor(arr), size),
                    lambda: TF.local_response_norm(torch.tensor(arr), size))
    assert F.local_response_norm(ts.zeros(0, 3, 4), 3).shape == (0, 3, 4)


@pytest.mark.parametrize("p", [2, 1.5, 3, float("inf")])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=(2, 3), stride=1)])
def test_lp_pool2d_matches_torch(p, kw):
    x = RNG.uniform(0.2, 2, (2, 3, 6, 7))   # positive, so that fractional powers are defined
    _compare(lambda x: F.lp_pool2d(x, p, **kw), lambda x: TF.lp_pool2d(x, p, **kw), [x])
    _compare(lambda x: F.lp_pool2d(x, p, **kw), lambda x: TF.lp_pool2d(x, p, **kw), [x[0]])
    _float32_kept(lambda x: F.lp_pool2d(x, p, **kw), lambda x: TF.lp_pool2d(x, p, **kw), x)
    ours, theirs = nn.LPPool2d(p, **kw), torch.nn.LPPool2d(p, **kw)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("p", [2, 1.5, float("inf")])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_lp_pool1d_matches_torch(p, kw):
    x = RNG.uniform(0.2, 2, (2, 3, 8))
    _compare(lambda x: F.lp_pool1d(x, p, **kw), lambda x: TF.lp_pool1d(x, p, **kw), [x])
    _compare(lambda x: F.lp_pool1d(x, p, **kw), lambda x: TF.lp_pool1d(x, p, **kw), [x[0]])
    ours, theirs = nn.LPPool1d(p, **kw), torch.nn.LPPool1d(p, **kw)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12)
    _same_error(lambda: F.lp_pool1d(ts.tensor(x), p, 9), lambda: TF.lp_pool1d(torch.tensor(x), p, 9))


# ---- padding modules ----------------------------------------------------------------------------

PADS = [("ReflectionPad2d", (1,), (2, 3, 4, 5)), ("ReflectionPad2d", ((1, 2, 0, 3),), (3, 4, 5)),
        ("ReplicationPad2d", (2,), (2, 3, 4, 5)), ("ReplicationPad2d", ((-1, 2, 3, 0),), (3, 4, 5)),
        ("ZeroPad2d", (1,), (2, 3, 4, 5)), ("ZeroPad2d", ((1, 2, 3, 4),), (3, 4)),
        ("ZeroPad2d", ((-1, 0, 2, 1),), (5, 6)),
        ("ConstantPad2d", (1, 3.5), (2, 3, 4, 5)), ("ConstantPad2d", ((1, 2, 3, 4), 2), (1, 2, 3, 4, 5)),
        ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad1d", ((1, 3),), (3, 4)),
        ("CircularPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)), ("CircularPad2d", (2,), (3, 4, 5)),
        ("ReflectionPad3d", (1,), (2, 2, 3, 4)), ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 3, 4)),
        ("ZeroPad3d", (1,), (2, 2, 3)), ("ConstantPad3d", (1, -2.0), (2, 2, 3, 4)),
        ("CircularPad3d", (1,), (2, 2, 3, 4))]


@pytest.mark.parametrize("cls,args,shape", PADS)
def test_padding_modules_match_torch(cls, args, shape):
    ours, theirs = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
    assert repr(ours) == repr(theirs) and ours.padding == theirs.padding
    assert getattr(ours, "value", None) == getattr(theirs, "value", None) and list(ours.state_dict()) == []
    x = RNG.standard_normal(shape)
    _compare(ours, theirs, [x])
    _float32_kept(ours, theirs, x)


def test_padding_module_errors():
    cases = [("CircularPad1d", 1, (2, 3, 4, 5)), ("CircularPad2d", 1, (2, 3)), ("CircularPad3d", 1, (2, 3, 4)),
             ("ReflectionPad2d", 4, (2, 3, 4)), ("ZeroPad2d", 1, (2,)), ("ReflectionPad2d", 1, (2, 3))]
    for cls, p, shape in cases:
        _same_error(lambda: getattr(nn, cls)(p)(ts.zeros(*shape)),
                    lambda: getattr(torch.nn, cls)(p)(torch.zeros(shape)))
    ints = np.arange(24).reshape(2, 3, 4)
    for cls in ("ReflectionPad2d", "ReplicationPad2d", "CircularPad2d", "ZeroPad2d"):
        a, t = getattr(nn, cls)(1)(ts.tensor(ints)), getattr(torch.nn, cls)(1)(torch.tensor(ints))
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a.numpy(), t.numpy())


# ---- finite differences -------------------------------------------------------------------------

def test_gradcheck_float64():
    x = ts.tensor(RNG.standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (x,))
    blocks = ts.tensor(RNG.standard_normal((1, 8, 4)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda b: F.fold(b, (3, 4), 2, stride=(1, 2)), (blocks,))
    assert ts.autograd.gradcheck(lambda x: F.pixel_unshuffle(F.pixel_shuffle(x[:, :, :4, :4].reshape(1, 8, 2, 2), 2),
                                                                 2), (x,))
    w, b = (ts.tensor(RNG.standard_normal(2), requires_grad=True) for _ in range(2))
    assert ts.autograd.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    assert ts.autograd.gradcheck(lambda x: F.local_response_norm(x, 2, 0.5), (x,))
    xp = ts.tensor(RNG.uniform(0.5, 2, (1, 2, 4, 5)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: F.lp_pool2d(x, 1.5, 2, stride=1), (xp,))
    out, index = F.max_pool2d(x.detach(), 2, return_indices=True)
    out.requires_grad_(True)
    assert ts.autograd.gradcheck(lambda o: F.max_unpool2d(o, index, 2, output_size=(4, 5)), (out,))
