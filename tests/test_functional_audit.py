"""nn.functional against torch 2.13 (the functional audit's findings): safe softmax in
scaled_dot_product_attention, celu's gradient, inplace=True, integer inputs, error types, 1-D
class losses, poisson_nll_loss(full=True), negative pad widths, pairwise_distance(p=0), zero class
weights, and the added hardshrink / softshrink / in-place activations / dropout2d / alpha_dropout
/ pdist. Each compares with real torch."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as F
from tinygrad_seq.nn.activation import Hardshrink, Softshrink
from tinygrad_seq.nn.more_layers import AlphaDropout, Dropout1d, Dropout2d


def _qkv(seed=0):
    r = np.random.default_rng(seed)
    return [r.standard_normal((1, 2, 3, 4)) for _ in range(3)]


def _close(t, s, **kw):
    assert np.allclose(t.detach().numpy(), s.detach().numpy(), equal_nan=True, **kw)


# 1: a query whose keys are all masked gets 0 and zero gradients (torch's safe softmax)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_query_row(kind):
    q, k, v = _qkv()
    if kind == "bool":
        m = np.ones((3, 3), bool)
        m[1] = False
    else:
        m = np.zeros((3, 3))
        m[1] = -np.inf
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    sq, sk, sv = (ts.tensor(a, requires_grad=True) for a in (q, k, v))
    to = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(m))
    so = F.scaled_dot_product_attention(sq, sk, sv, attn_mask=ts.tensor(m))
    _close(to, so, atol=1e-12)
    assert not np.isnan(so.numpy()).any()
    (to * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    (so * ts.tensor(np.arange(4.0))).sum().backward()
    for t, s in ((tq, sq), (tk, sk), (tv, sv)):
        _close(t.grad, s.grad, atol=1e-12)


def test_sdpa_partly_masked_unchanged():
    q, k, v = _qkv(7)
    m = np.tril(np.ones((3, 3), bool))
    to = TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(m))
    so = F.scaled_dot_product_attention(*(ts.tensor(a) for a in (q, k, v)), attn_mask=ts.tensor(m))
    _close(to, so, atol=1e-12)


# 2
@pytest.mark.parametrize("alpha,x", [(1.0, 100.0), (0.5, 50.0), (2.0, 0.0)])
def test_celu_grad_large_positive_and_zero(alpha, x):
    tx = torch.tensor([1.0, x, -1.0], requires_grad=True)
    sx = ts.tensor(np.array([1.0, x, -1.0], np.float32), requires_grad=True)
    TF.celu(tx, alpha=alpha).sum().backward()
    F.celu(sx, alpha=alpha).sum().backward()
    _close(tx.grad, sx.grad)
    _close(TF.celu(tx, alpha=alpha), F.celu(sx, alpha=alpha))


# 3
@pytest.mark.parametrize("name,args", [("selu", ()), ("celu", ()), ("mish", ()), ("hardsigmoid", ()),
                                       ("hardswish", ()), ("threshold", (0.1, 5.0)), ("relu6", ()),
                                       ("elu", ()), ("leaky_relu", ()), ("hardtanh", ())])
def test_inplace_true_writes_into_input(name, args):
    x = np.random.default_rng(2).standard_normal((2, 3)) * 4
    tx, sx = torch.tensor(x), ts.tensor(x)
    ty = getattr(TF, name)(tx, *args, inplace=True)
    sy = getattr(F, name)(sx, *args, inplace=True)
    assert ty is tx and sy is sx
    _close(tx, sx)


@pytest.mark.parametrize("fn", ["dropout1d", "dropout2d"])
def test_channel_dropout_inplace_writes_into_input(fn):
    sx = ts.ones(4, 16, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sy = getattr(F, fn)(sx, p=0.5, inplace=True)
    assert sy is sx and (sx.numpy() != 1).any()


def test_inplace_modules_write_into_input():
    from tinygrad_seq.nn import CELU, SELU, Hardswish, Threshold
    for mod, tmod in ((CELU(inplace=True), torch.nn.CELU(inplace=True)), (SELU(inplace=True), torch.nn.SELU(True)),
                      (Hardswish(inplace=True), torch.nn.Hardswish(True)),
                      (Threshold(0.1, 5.0, inplace=True), torch.nn.Threshold(0.1, 5.0, True))):
        x = np.random.default_rng(3).standard_normal(5)
        tx, sx = torch.tensor(x), ts.tensor(x)
        tmod(tx)
        mod(sx)
        _close(tx, sx)


# 4
@pytest.mark.parametrize("name", ["gelu", "silu", "softplus", "elu", "leaky_relu", "mish", "logsigmoid", "selu",
                                  "hardswish", "hardsigmoid", "celu", "hardshrink", "softshrink"])
def test_activation_int_input_raises_as_torch(name):
    with pytest.raises(NotImplementedError) as te:
        getattr(TF, name)(torch.tensor([1, 2, -1]))
    with pytest.raises(NotImplementedError) as se:
        getattr(F, name)(ts.tensor([1, 2, -1]))
    assert str(se.value) == str(te.value)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_int_input_raises_as_torch(name):
    with pytest.raises(NotImplementedError) as te:
        getattr(TF, name)(torch.tensor([1, 2]), dim=0)
    with pytest.raises(NotImplementedError) as se:
        getattr(F, name)(ts.tensor([1, 2]), dim=0)
    assert str(se.value) == str(te.value)
    _close(getattr(TF, name)(torch.tensor([1, 2]), dim=0, dtype=torch.float64),
           getattr(F, name)(ts.tensor([1, 2]), dim=0, dtype=ts.float64))


@pytest.mark.parametrize("name,args", [("hardtanh", ()), ("relu6", ()), ("hardtanh", (-0.5, 2.5)), ("relu", ())])
def test_hardtanh_relu6_int_keep_dtype(name, args):
    t = getattr(TF, name)(torch.tensor([1, 2, -1, 7]), *args)
    s = getattr(F, name)(ts.tensor([1, 2, -1, 7]), *args)
    assert str(s.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert s.numpy().tolist() == t.numpy().tolist()


def test_hardtanh_bool_raises():
    with pytest.raises(RuntimeError):
        TF.hardtanh(torch.tensor([True]))
    with pytest.raises(RuntimeError):
        F.hardtanh(ts.tensor([True]))


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_loss_int_input_raises_as_torch(fn):
    with pytest.raises(NotImplementedError) as te:
        getattr(TF, fn)(torch.tensor([[1, 2], [3, 4]]), torch.tensor([0, 1]))
    with pytest.raises(NotImplementedError) as se:
        getattr(F, fn)(ts.tensor([[1, 2], [3, 4]]), ts.tensor([0, 1]))
    assert str(se.value) == str(te.value)


# 5
def test_hardswish_grad_at_plus_minus_3():
    x = np.array([-4.0, -3.0, 0.0, 1.0, 3.0, 4.0])
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    TF.hardswish(tx).sum().backward()
    F.hardswish(sx).sum().backward()
    _close(tx.grad, sx.grad)


# 6
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [-1, 0])
def test_softmax_0d(name, dim):
    tx, sx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True), ts.tensor(2.0, dtype=ts.float64,
                                                                                   requires_grad=True)
    t, s = getattr(TF, name)(tx, dim=dim), getattr(F, name)(sx, dim=dim)
    assert tuple(s.shape) == tuple(t.shape) == ()
    _close(t, s)
    t.backward()
    s.backward()
    _close(tx.grad, sx.grad)
    with pytest.raises(IndexError):
        getattr(F, name)(sx, dim=1)


# 7
@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_sdpa_mask_dtype_must_be_bool_or_query_dtype(dtype):
    q, k, v = (a.astype(np.float32) for a in _qkv(3))
    with pytest.raises(RuntimeError):
        TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)),
                                        attn_mask=torch.ones(3, 3, dtype=getattr(torch, dtype)))
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(*(ts.tensor(a) for a in (q, k, v)),
                                       attn_mask=ts.ones(3, 3, dtype=getattr(ts, dtype)))


# 8
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", ["int32", "int16", "int8"])
def test_narrow_int_target_raises(fn, dtype):
    x = np.random.default_rng(4).standard_normal((3, 4))
    with pytest.raises(RuntimeError):
        getattr(TF, fn)(torch.tensor(x), torch.tensor([0, 1, 2], dtype=getattr(torch, dtype)))
    with pytest.raises(RuntimeError, match="Long or Byte"):
        getattr(F, fn)(ts.tensor(x), ts.tensor(np.array([0, 1, 2], dtype)))


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_uint8_target_allowed(fn):
    x = np.random.default_rng(4).standard_normal((3, 4))
    _close(getattr(TF, fn)(torch.tensor(x), torch.tensor([0, 1, 2], dtype=torch.uint8)),
           getattr(F, fn)(ts.tensor(x), ts.tensor(np.array([0, 1, 2], np.uint8))))


@pytest.mark.parametrize("wdt,bdt", [("float64", None), ("float32", "float64"), ("float64", "float64")])
def test_linear_mixed_dtypes_raise(wdt, bdt):
    def call(lib, mod):
        b = None if bdt is None else lib.ones(2, dtype=getattr(lib, bdt))
        return mod.linear(lib.ones(3, 4), lib.ones(2, 4, dtype=getattr(lib, wdt)), b)
    with pytest.raises(RuntimeError):
        call(torch, TF)
    with pytest.raises(RuntimeError):
        call(ts, F)


def test_cross_entropy_soft_target_ignore_index():
    p = np.full((2, 3), 1 / 3)
    x = np.random.default_rng(1).standard_normal((2, 3))
    with pytest.raises(RuntimeError):
        TF.cross_entropy(torch.tensor(x), torch.tensor(p), ignore_index=1)
    with pytest.raises(RuntimeError):
        F.cross_entropy(ts.tensor(x), ts.tensor(p), ignore_index=1)
    _close(TF.cross_entropy(torch.tensor(x), torch.tensor(p), ignore_index=-5),
           F.cross_entropy(ts.tensor(x), ts.tensor(p), ignore_index=-5))


def test_one_hot_empty():
    for shape in [(0,), (0, 3)]:
        with pytest.raises(RuntimeError):
            TF.one_hot(torch.zeros(shape, dtype=torch.int64))
        with pytest.raises(RuntimeError):
            F.one_hot(ts.tensor(np.zeros(shape, np.int64)))
    t = TF.one_hot(torch.zeros(0, dtype=torch.int64), 3)
    s = F.one_hot(ts.tensor(np.zeros(0, np.int64)), 3)
    assert tuple(s.shape) == tuple(t.shape)


@pytest.mark.parametrize("padding_idx", [6, -7, 100])
def test_embedding_padding_idx_out_of_range(padding_idx):
    with pytest.raises(AssertionError):
        TF.embedding(torch.tensor([0]), torch.ones(6, 3), padding_idx=padding_idx)
    with pytest.raises(AssertionError):
        F.embedding(ts.tensor([0]), ts.ones(6, 3), padding_idx=padding_idx)


def test_embedding_negative_padding_idx_in_range():
    w = np.random.default_rng(0).standard_normal((6, 3))
    tw, sw = torch.tensor(w, requires_grad=True), ts.tensor(w, requires_grad=True)
    TF.embedding(torch.tensor([0, 5, 2]), tw, padding_idx=-6).sum().backward()
    F.embedding(ts.tensor([0, 5, 2]), sw, padding_idx=-6).sum().backward()
    _close(tw.grad, sw.grad)


# 9
@pytest.mark.parametrize("case", [
    lambda F_, lib: F_.gelu(lib.ones(2), approximate="foo"),
    lambda F_, lib: F_.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), label_smoothing=1.5),
    lambda F_, lib: F_.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(2)),
    lambda F_, lib: F_.nll_loss(lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(2)),
    lambda F_, lib: F_.cross_entropy(lib.zeros(2, 3), lib.zeros(2, 3), weight=lib.ones(2)),
    lambda F_, lib: F_.smooth_l1_loss(lib.zeros(2), lib.ones(2), beta=-1.0),
    lambda F_, lib: F_.huber_loss(lib.zeros(2), lib.ones(2), delta=-1.0),
    lambda F_, lib: F_.huber_loss(lib.zeros(2), lib.ones(2), delta=0.0),
    lambda F_, lib: F_.binary_cross_entropy(lib.tensor([1.5, 0.5]), lib.tensor([1.0, 0.0])),
    lambda F_, lib: F_.binary_cross_entropy(lib.tensor([float("nan"), 0.5]), lib.tensor([1.0, 0.0])),
    lambda F_, lib: F_.group_norm(lib.zeros(2, 6, 5), 4),
    lambda F_, lib: F_.pad(lib.zeros(2, 3), (1,)),
    lambda F_, lib: F_.pad(lib.zeros(2, 3), (1, 1, 1, 1, 1, 1)),
    lambda F_, lib: F_.pad(lib.zeros(2, 3, 5), (5, 5), mode="reflect"),
    lambda F_, lib: F_.dropout1d(lib.zeros(2, 3, 4, 5)),
    lambda F_, lib: F_.scaled_dot_product_attention(lib.zeros(1, 3, 4), lib.zeros(1, 3, 4), lib.zeros(1, 3, 4),
                                                    attn_mask=lib.ones(3, 3, dtype=lib.bool), is_causal=True),
    lambda F_, lib: F_.softshrink(lib.ones(2), -0.5),
    lambda F_, lib: F_.pdist(lib.ones(2, 3, 4)),
    lambda F_, lib: F_.pdist(lib.ones(3, 4), p=-1.0),
])
def test_error_type_runtimeerror(case):
    with pytest.raises(RuntimeError):
        case(TF, torch)
    with pytest.raises(RuntimeError):
        case(F, ts)


def test_runtime_errors_still_catchable_as_valueerror():
    with pytest.raises(ValueError):   # older callers' except ValueError
        F.smooth_l1_loss(ts.zeros(2), ts.ones(2), beta=-1.0)
    with pytest.raises(ValueError):
        F.pad(ts.zeros(2, 3), (1,))


def test_negative_label_smoothing_is_no_smoothing():
    x = np.random.default_rng(0).standard_normal((3, 4))
    _close(TF.cross_entropy(torch.tensor(x), torch.tensor([0, 1, 2]), label_smoothing=-0.3),
           F.cross_entropy(ts.tensor(x), ts.tensor([0, 1, 2]), label_smoothing=-0.3))


# 10
@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_1d_input_with_one_element_1d_target(fn, reduction):
    x = np.random.default_rng(5).standard_normal(5)
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t = getattr(TF, fn)(tx, torch.tensor([2]), reduction=reduction)
    s = getattr(F, fn)(sx, ts.tensor([2]), reduction=reduction)
    assert tuple(s.shape) == tuple(t.shape)
    _close(t, s)
    # torch's backward refuses this target ("size mismatch"); ours gives the 0-d target's gradient
    getattr(TF, fn)(tx, torch.tensor(2), reduction=reduction).backward()
    s.backward()
    _close(tx.grad, sx.grad)


# 11
def test_poisson_nll_full_grad_wrt_target():
    r = np.random.default_rng(6)
    x, y = r.standard_normal(5), np.array([0.5, 2.0, 3.0, 4.0, 5.0])
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    sx, sy = ts.tensor(x, requires_grad=True), ts.tensor(y, requires_grad=True)
    tl, sl = TF.poisson_nll_loss(tx, ty, full=True), F.poisson_nll_loss(sx, sy, full=True)
    _close(tl, sl)
    tl.backward()
    sl.backward()
    _close(ty.grad, sy.grad)
    _close(tx.grad, sx.grad)


# 12
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(-1, 2), (2, -1), (-1, 4), (-2, -1), (0, -3), (3, -2), (-1, 1, 1, -1)])
def test_pad_negative_widths(mode, widths):
    if mode == "circular" and widths == (-1, 4):
        widths = (-1, 3)
    x = np.arange(30.0).reshape(1, 2, 3, 5)[..., :5] if len(widths) == 4 else np.arange(10.0).reshape(1, 2, 5)
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t, s = TF.pad(tx, widths, mode=mode), F.pad(sx, widths, mode=mode)
    _close(t, s)
    w = np.random.default_rng(0).standard_normal(tuple(t.shape))
    (t * torch.tensor(w)).sum().backward()
    (s * ts.tensor(w)).sum().backward()
    _close(tx.grad, sx.grad)


# 13
def test_pairwise_distance_p0():
    r = np.random.default_rng(8)
    a, b = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    ta, sa = torch.tensor(a, requires_grad=True), ts.tensor(a, requires_grad=True)
    t, s = TF.pairwise_distance(ta, torch.tensor(b), p=0), F.pairwise_distance(sa, ts.tensor(b), p=0)
    _close(t, s)
    assert s.requires_grad and t.requires_grad
    t.sum().backward()
    s.sum().backward()
    assert ta.grad is None and sa.grad is None   # torch's norm(p=0) backward gives no gradient


# 14
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("target", [[0, 1, 2], [0, -100, 2]])
def test_cross_entropy_all_zero_class_weights(smoothing, target):
    r = np.random.default_rng(9)
    x, w = r.standard_normal((3, 4)), np.array([0.0, 0.0, 0.0, 1.0])
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t = TF.cross_entropy(tx, torch.tensor(target), weight=torch.tensor(w), label_smoothing=smoothing)
    s = F.cross_entropy(sx, ts.tensor(target), weight=ts.tensor(w), label_smoothing=smoothing)
    _close(t, s)
    t.backward()
    s.backward()
    _close(tx.grad, sx.grad)


def test_nll_loss_all_zero_class_weights_grad():
    x = np.log(np.random.default_rng(9).dirichlet(np.ones(4), 3))
    w = np.array([0.0, 0.0, 0.0, 1.0])
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t = TF.nll_loss(tx, torch.tensor([0, 1, 2]), weight=torch.tensor(w))
    s = F.nll_loss(sx, ts.tensor([0, 1, 2]), weight=ts.tensor(w))
    _close(t, s)
    t.backward()
    s.backward()
    _close(tx.grad, sx.grad)


def test_cross_entropy_all_ignored_with_smoothing():
    x = np.random.default_rng(2).standard_normal((3, 4))
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t = TF.cross_entropy(tx, torch.tensor([-100] * 3), label_smoothing=0.2)
    s = F.cross_entropy(sx, ts.tensor([-100] * 3), label_smoothing=0.2)
    _close(t, s)
    t.backward()
    s.backward()
    _close(tx.grad, sx.grad)


# added functions
@pytest.mark.parametrize("name,lambd", [("hardshrink", 0.5), ("softshrink", 0.5), ("hardshrink", -0.5),
                                        ("softshrink", 0.0)])
def test_shrink(name, lambd):
    x = np.array([-1.0, -0.5, -0.2, 0.0, 0.5, 0.7, 2.0])
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t, s = getattr(TF, name)(tx, lambd), getattr(F, name)(sx, lambd)
    _close(t, s)
    t.sum().backward()
    s.sum().backward()
    _close(tx.grad, sx.grad)
    mod, tmod = (Hardshrink, torch.nn.Hardshrink) if name == "hardshrink" else (Softshrink, torch.nn.Softshrink)
    _close(tmod(lambd)(tx), mod(lambd)(sx))
    assert repr(mod(lambd)) == repr(tmod(lambd))


@pytest.mark.parametrize("name,args", [("relu_", ()), ("elu_", (0.7,)), ("leaky_relu_", (0.2,)),
                                       ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, 5.0)), ("celu_", (1.5,)),
                                       ("selu_", ())])
def test_inplace_functions(name, args):
    x = np.random.default_rng(3).standard_normal((2, 4))
    tx, sx = torch.tensor(x), ts.tensor(x)
    assert getattr(TF, name)(tx, *args) is tx
    assert getattr(F, name)(sx, *args) is sx
    _close(tx, sx)


@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("shape", [(6, 20, 3, 3), (6, 20, 5)])
def test_dropout2d_zeroes_whole_channels(shape):
    ts.manual_seed(0)
    x = ts.ones(*shape)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        y = F.dropout2d(x, p=0.5).numpy()
    assert bool(got) == (len(shape) == 3)   # torch warns about a 3-D input
    per_channel = y.reshape(shape[0], shape[1], -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0 < (per_channel == 0).all(-1).mean() < 1
    assert F.dropout2d(x, p=0.5, training=False) is x
    assert (F.dropout2d(x, p=1.0).numpy() == 0).all()


def test_dropout2d_other_ranks_warn_as_torch():
    for lib, mod in ((torch, TF), (ts, F)):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            mod.dropout2d(lib.ones(4, 5), p=0.5)
        assert any("deprecated" in str(w.message) for w in got)


def test_alpha_dropout_moments_and_options():
    ts.manual_seed(0)
    x = np.random.default_rng(0).standard_normal(200_000)
    y = F.alpha_dropout(ts.tensor(x), p=0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02   # SELU's fixed point kept
    dropped = np.isclose(y, -1.7580993408473766 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8) * 0.8)
    assert 0.18 < dropped.mean() < 0.22
    sx = ts.tensor(x[:5])
    assert F.alpha_dropout(sx, 0.5) is sx   # training=False by default, as torch's
    _close(TF.alpha_dropout(torch.tensor(x[:5]), 1.0, True), F.alpha_dropout(sx, 1.0, True))
    with pytest.raises(ValueError):
        F.alpha_dropout(sx, 1.5)


@pytest.mark.filterwarnings("ignore:dropout2d")
def test_dropout_modules():
    for mod, tmod in ((Dropout2d(0.3), torch.nn.Dropout2d(0.3)), (AlphaDropout(0.2), torch.nn.AlphaDropout(0.2)),
                      (Dropout1d(0.1, inplace=True), torch.nn.Dropout1d(0.1, inplace=True))):
        assert repr(mod) == repr(tmod)
        mod.eval()
        x = ts.ones(2, 3, 4)
        assert np.array_equal(mod(x).numpy(), x.numpy())
    with pytest.raises(ValueError):
        Dropout2d(1.5)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, float("inf")])
def test_pdist(p):
    x = np.random.default_rng(1).standard_normal((5, 3))
    x[3] = x[1]   # a zero distance: gradient 0 there, as torch's
    tx, sx = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    t, s = TF.pdist(tx, p), F.pdist(sx, p)
    _close(t, s)
    w = np.arange(1.0, 11.0)
    (t * torch.tensor(w)).sum().backward()
    (s * ts.tensor(w)).sum().backward()
    _close(tx.grad, sx.grad)
