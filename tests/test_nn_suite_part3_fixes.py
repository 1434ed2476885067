"""Differences found by porting the second half of PyTorch's test/test_nn.py (TestNN after
test_adaptive_log_softmax, TestNNDeviceType on CPU), each run on torch 2.13 and on tinygrad_seq:
cross_entropy with zero classes and probability targets, double backward through softmax over a
zero-length dim, ctc_loss with a target equal to the blank and with empty log_probs, threshold_
on an expanded tensor, TransformerEncoderLayer's inference fast path (nan for a query whose keys
are all masked), circular padding with negative widths, reflection / replication padding of a
zero-size channel dim, MultiLabelMarginLoss of zero classes, nll_loss's shape errors."""
import contextlib
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _err(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return e
    return None


def _same_error(f_torch, f_ts, kind=RuntimeError):
    """Both raise the same message; ours is a `kind` (ours may subclass torch's class too)."""
    te, se = _err(f_torch), _err(f_ts)
    assert te is not None and se is not None, (te, se)
    assert isinstance(te, kind) and isinstance(se, kind), (te, se)
    assert str(se) == str(te), (str(te), str(se))
    return te, se


def _np(t):
    return np.asarray(t.detach().numpy())


# ---------------------------------------------------------------- 1. cross_entropy, zero classes
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 0), (0, 3), (0,), (2, 0, 3)])
def test_cross_entropy_empty_probability_target(reduction, label_smoothing, dtype, shape):
    rng = np.random.RandomState(0)
    a, b = rng.rand(*shape).astype(dtype), rng.rand(*shape).astype(dtype)
    res = []
    for T in (torch, ts):
        x = T.tensor(a, requires_grad=True)
        loss = T.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)(x, T.tensor(b))
        loss.sum().backward()
        res.append((_np(loss), tuple(x.grad.shape), str(loss.dtype).split(".")[-1], loss.grad_fn.name()))
    (want, want_grad, want_dtype, want_node), (got, got_grad, got_dtype, got_node) = res
    np.testing.assert_array_equal(got, want)   # nan for mean, -0. for sum, zeros for none
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert (got.shape, got_grad, got_dtype, got_node) == (want.shape, want_grad, want_dtype, want_node)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 2)])
def test_cross_entropy_probability_target_values_and_node(reduction, shape):
    rng = np.random.RandomState(1)
    a, b = rng.randn(*shape), rng.rand(*shape)
    res = []
    for T in (torch, ts):
        x = T.tensor(a, requires_grad=True)
        loss = T.nn.functional.cross_entropy(x, T.tensor(b), reduction=reduction, label_smoothing=0.1)
        loss.backward()
        res.append((_np(loss), _np(x.grad), loss.grad_fn.name()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-10, atol=1e-12)
    assert res[1][2] == res[0][2]


# ---------------------------------------------------------------- 2. softmax over an empty dim
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("size,dim", [((0, 10), 0), ((10, 0), 1), ((3, 0, 2), 1)])
def test_softmax_empty_dim_double_backward(fn, size, dim):
    res = []
    for T in (torch, ts):
        x = T.zeros(*size, requires_grad=True)
        out = getattr(T.nn.functional, fn)(x, dim=dim, dtype=T.float)
        go = T.ones_like(out, requires_grad=True)
        g, = T.autograd.grad(out, x, go, create_graph=True)
        gx, ggo = T.autograd.grad(g.sum(), (x, go), retain_graph=True)
        g.sum().backward()
        res.append((tuple(g.shape), g.requires_grad, tuple(gx.shape), tuple(ggo.shape), tuple(x.grad.shape),
                    str(g.dtype).split(".")[-1]))
    assert res[1] == res[0]


def test_softmax_empty_dim_first_order_still_runs():
    x = ts.zeros(0, 4, requires_grad=True)
    ts.nn.functional.log_softmax(x, 0).sum().backward()
    assert tuple(x.grad.shape) == (0, 4)


# ---------------------------------------------------------------- 3-4. ctc_loss
CTC_CASES = [([[1, 0, 2], [3, 4, 0]], [12, 12], [3, 3], 0),   # the auditor's repro: targets hold the blank
             ([[0, 0, 0], [0, 1, 0]], [12, 9], [3, 3], 0),     # every label the blank / repeated blanks
             ([[2, 2, 1], [1, 2, 2]], [12, 12], [3, 2], 2),    # blank 2
             ([[0, 0, 0], [4, 4, 4]], [3, 5], [3, 3], 4),      # an impossible alignment (inf)
             ([[0, 0, 1], [3, 0, 3]], [6, 12], [2, 3], 3)]


@pytest.mark.parametrize("case", range(len(CTC_CASES)))
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_target_equal_to_blank_is_computed(case, zero_infinity):
    targets, input_lengths, target_lengths, blank = CTC_CASES[case]
    lp = np.random.RandomState(case).randn(12, 2, 5)
    res = []
    for T in (torch, ts):
        x = T.tensor(lp, requires_grad=True)
        loss = T.nn.functional.ctc_loss(T.log_softmax(x, 2), T.tensor(targets), input_lengths, target_lengths,
                                        blank=blank, reduction="none", zero_infinity=zero_infinity)
        (loss * T.tensor([1.5, 0.5], dtype=T.float64)).sum().backward()
        res.append((_np(loss), _np(x.grad)))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-10)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-8, atol=1e-10)


def test_ctc_loss_auditor_repro_float32():
    lp = np.random.RandomState(0).randn(12, 2, 5).astype(np.float32)
    res = []
    for T in (torch, ts):
        x = T.tensor(lp, requires_grad=True)
        loss = T.nn.functional.ctc_loss(T.log_softmax(x, 2), T.tensor([[1, 0, 2], [3, 4, 0]]), [12, 12], [3, 3],
                                        reduction="sum")
        loss.backward()
        res.append((_np(loss), _np(x.grad)))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-5)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,n", [((0, 0, 4), 0), ((0, 2, 4), 2), ((3, 0, 4), 0), ((3, 2, 0), 2)])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_ctc_loss_empty_log_probs_raises(shape, n, reduction):
    def call(T):
        lengths = T.zeros(n, dtype=T.long)
        return T.nn.functional.ctc_loss(T.rand(*shape), T.zeros(n, 0, dtype=T.long), lengths, lengths,
                                        reduction=reduction)
    _same_error(lambda: call(torch), lambda: call(ts))


# ---------------------------------------------------------------- 5. threshold_ on an expand
@pytest.mark.parametrize("threshold,value", [(0.5, 0.5), (0.5, 0.0), (0.0, 0.5)])
def test_threshold_inplace_on_expanded_tensor(threshold, value):
    base = np.random.RandomState(2).randn(1, 6).astype(np.float32)
    res = []
    for T in (torch, ts):
        b = T.tensor(base)
        x = b.expand((6, 6))
        assert T.nn.functional.threshold(x, threshold, value, inplace=True) is x
        T.nn.functional.threshold_(x, threshold, value)
        T.nn.Threshold(threshold, value, inplace=True)(x)
        res.append((_np(x), _np(b)))
    np.testing.assert_array_equal(res[1][0], res[0][0])
    np.testing.assert_array_equal(res[1][1], res[0][1])   # written through to the expanded tensor's base


def test_threshold_inplace_on_expanded_integer_tensor():
    res = []
    for T in (torch, ts):
        b = T.tensor([[1, -2, 3]])
        T.nn.functional.threshold_(b.expand((3, 3)), 1, 7)
        res.append(_np(b))
    np.testing.assert_array_equal(res[1], res[0])


def test_relu_inplace_on_expanded_tensor_still_raises():
    _same_error(lambda: torch.nn.functional.relu_(torch.zeros(1, 3).expand(3, 3)),
                lambda: ts.nn.functional.relu_(ts.zeros(1, 3).expand((3, 3))))


# ---------------------------------------------------------------- 6. TransformerEncoderLayer fast path
X = np.random.RandomState(0).rand(2, 3, 4).astype(np.float32)
KP = [[True, True, True], [False, True, False]]            # sequence 0 all padded, not left aligned
KP_LEFT = [[True, True, True], [False, False, True]]       # left aligned (the encoder's nested path)


def _pair(make):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the encoder's enable_nested_tensor warning
        tm, om = make(torch).eval(), make(ts).eval()
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, om


def _compare(tm, om, call, grad_mode=False):
    res = []
    for T, m in ((torch, tm), (ts, om)):
        with contextlib.nullcontext() if grad_mode else T.no_grad():
            res.append(_np(call(T, m)))
    np.testing.assert_allclose(res[1], res[0], rtol=1e-5, atol=1e-5, equal_nan=True)
    return res[0]


def _layer(**kw):
    def make(T):
        kw2 = dict(kw)
        act = kw2.pop("act", "relu")
        named = {"GELU()": lambda: T.nn.GELU(), "ReLU()": lambda: T.nn.ReLU(), "tanh": lambda: T.tanh}
        act = named[act]() if act in named else act
        return T.nn.TransformerEncoderLayer(4, kw2.pop("nhead", 2), 8, 0.0, activation=act, **kw2)
    return make


def test_encoder_layer_fast_path_fully_masked_sequence_is_nan():
    tm, om = _pair(_layer(batch_first=True))
    want = _compare(tm, om, lambda T, m: m(T.tensor(X), src_key_padding_mask=T.tensor(KP)))
    assert np.isnan(want[0]).all() and not np.isnan(want[1]).any()


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True), dict(act="gelu"), dict(act="GELU()"), dict(act="ReLU()"),
                                dict(act="tanh"), dict(bias=False), dict(nhead=1), dict(layer_norm_eps=1e-6)],
                         ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("grad_mode", [False, True])
def test_encoder_layer_fast_path_conditions(kw, grad_mode):
    """nan exactly where torch takes its fused kernel (eval, batch_first, relu / gelu, even heads,
    biases, no grad needed, ...)."""
    tm, om = _pair(_layer(batch_first=True, **kw))
    _compare(tm, om, lambda T, m: m(T.tensor(X), src_key_padding_mask=T.tensor(KP)), grad_mode)


def _src_mask_3d(T):
    m = T.zeros(4, 3, 3)
    m[1, 0, :] = float("-inf")   # batch 0, head 1, query 0: every key masked
    return m


MASKS = {
    "src_mask_row": lambda T: dict(src_mask=T.tensor([[True, True, True], [False, False, False],
                                                      [False, True, False]])),
    "src_mask_and_padding": lambda T: dict(src_mask=T.tensor([[False, True, False]] * 3),
                                           src_key_padding_mask=T.tensor([[False, False, False], [True, False, True]])),
    "src_mask_3d_one_head": lambda T: dict(src_mask=_src_mask_3d(T)),
    "float_padding": lambda T: dict(src_key_padding_mask=T.where(T.tensor(KP), float("-inf"), 0.0)),
    "left_aligned_padding": lambda T: dict(src_key_padding_mask=T.tensor(KP_LEFT)),
}


@pytest.mark.parametrize("mask", list(MASKS))
def test_encoder_layer_fast_path_masks(mask):
    tm, om = _pair(_layer(batch_first=True))
    _compare(tm, om, lambda T, m: m(T.tensor(X), **MASKS[mask](T)))


@pytest.mark.parametrize("setup", ["hook", "submodule_pre_hook", "fastpath_off", "training", "input_requires_grad",
                                   "unbatched", "not_batch_first"])
def test_encoder_layer_slow_path_stays_finite(setup):
    tm, om = _pair(_layer(batch_first=setup != "not_batch_first"))

    def call(T, m):
        x, kp = T.tensor(X), T.tensor(KP)
        if setup == "hook":
            handle = m.register_forward_hook(lambda *a: None)
        elif setup == "submodule_pre_hook":
            handle = m.linear1.register_forward_pre_hook(lambda *a: None)
        elif setup == "fastpath_off":
            T.backends.mha.set_fastpath_enabled(False)
        elif setup == "training":
            m.train()
        elif setup == "input_requires_grad":
            x.requires_grad_(True)
        elif setup == "unbatched":
            x, kp = x[0], kp[0]
        elif setup == "not_batch_first":
            kp = T.tensor([[True, True], [False, True], [True, True]])   # (batch 3, seq 2)
        try:
            return m(x, src_key_padding_mask=kp)
        finally:
            if setup in ("hook", "submodule_pre_hook"):
                handle.remove()
            T.backends.mha.set_fastpath_enabled(True)
            m.eval()
    grad_mode = setup == "input_requires_grad"
    want = _compare(tm, om, call, grad_mode)
    assert not np.isnan(want).any()


@pytest.mark.parametrize("nested", [True, False])
@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("kp", ["unaligned", "left"])
@pytest.mark.parametrize("act", ["relu", "GELU()"])
def test_encoder_fast_paths(nested, norm, kp, act):
    """TransformerEncoder: its nested-tensor path (left-aligned padding) gives zeros at padded
    positions; otherwise each layer's fast path gives nan rows."""
    def make(T):
        return T.nn.TransformerEncoder(_layer(batch_first=True, act=act)(T), 2,
                                       norm=T.nn.LayerNorm(4) if norm else None, enable_nested_tensor=nested)
    tm, om = _pair(make)
    mask = KP if kp == "unaligned" else KP_LEFT
    _compare(tm, om, lambda T, m: m(T.tensor(X), src_key_padding_mask=T.tensor(mask)))
    _compare(tm, om, lambda T, m: m(T.tensor(X), src_key_padding_mask=T.tensor(mask)), grad_mode=True)


def test_encoder_gelu_module_takes_nested_path_without_warning():
    for T in (torch, ts):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            enc = T.nn.TransformerEncoder(T.nn.TransformerEncoderLayer(4, 2, 8, 0.0, activation=T.nn.GELU(),
                                                                        batch_first=True), 1)
        assert enc.use_nested_tensor


# ---------------------------------------------------------------- 7. circular padding
@pytest.mark.parametrize("shape,pad", [((1, 1, 4), (-3, -2)), ((1, 1, 4), (-4, -1)), ((1, 1, 4), (-5, 0)),
                                       ((1, 1, 4), (5, 0)), ((1, 1, 4, 4), (0, 0, -3, -2)),
                                       ((1, 1, 4, 4), (-3, -2, 5, 0)), ((1, 1, 4, 4), (5, 0, -3, -2))])
def test_pad_circular_errors(shape, pad):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    _same_error(lambda: torch.nn.functional.pad(torch.tensor(a), pad, mode="circular"),
                lambda: ts.nn.functional.pad(ts.tensor(a), pad, mode="circular"))


@pytest.mark.parametrize("shape,pad", [((1, 1, 4), (-2, -2)), ((1, 1, 4), (-1, -1)), ((1, 1, 4), (1, -3)),
                                       ((1, 1, 4), (4, 4)), ((1, 1, 4, 4), (-2, -2, 0, 0)),
                                       ((1, 1, 4, 4), (1, 2, -1, 3))])
def test_pad_circular_negative_widths_values(shape, pad):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    want = torch.nn.functional.pad(torch.tensor(a), pad, mode="circular").numpy()
    got = ts.nn.functional.pad(ts.tensor(a), pad, mode="circular").numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- 8. reflection / replication padding
PAD_SHAPES = [(3, 0, 10), (0, 3, 10), (0, 10), (3, 0), (2, 3, 0), (2, 0, 3, 10), (0, 3, 4, 10), (3, 0, 4, 10),
              (2, 3, 0, 4), (2, 3, 4, 0), (2, 3, 4, 5, 0), (2, 0, 3, 4, 5), (0, 2, 3, 4, 5), (2, 3, 4, 5)]


@pytest.mark.parametrize("cls", ["ReplicationPad1d", "ReflectionPad1d", "ReplicationPad2d", "ReflectionPad2d",
                                 "ReplicationPad3d", "ReflectionPad3d", "CircularPad1d", "CircularPad2d"])
def test_pad_modules_on_zero_size_dims(cls):
    k = int(cls[-2])
    for shape in (s for s in PAD_SHAPES if k + 1 <= len(s) <= k + 2):
        te = _err(lambda: getattr(torch.nn, cls)(1)(torch.zeros(*shape)))
        if te is None:
            want = getattr(torch.nn, cls)(1)(torch.zeros(*shape))
            assert tuple(getattr(ts.nn, cls)(1)(ts.zeros(*shape)).shape) == tuple(want.shape), shape
        else:
            _same_error(lambda: getattr(torch.nn, cls)(1)(torch.zeros(*shape)),
                        lambda: getattr(ts.nn, cls)(1)(ts.zeros(*shape)))


def test_reflection_pad_zero_channels_checked_before_bool_dtype():
    _same_error(lambda: torch.nn.functional.pad(torch.zeros(3, 0, 10, dtype=torch.bool), (1, 1), mode="reflect"),
                lambda: ts.nn.functional.pad(ts.zeros(3, 0, 10, dtype=ts.bool), (1, 1), mode="reflect"))


# ---------------------------------------------------------------- 9. MultiLabelMarginLoss
@pytest.mark.parametrize("shape,target", [((10, 0), (10, 0)), ((0,), (0,)), ((0, 0), (0, 0)), ((10, 0), (10, 1)),
                                          ((2, 3, 4), (2, 3, 4))])
def test_multilabel_margin_loss_shape_errors(shape, target):
    _same_error(lambda: torch.nn.MultiLabelMarginLoss()(torch.zeros(*shape), torch.ones(*target).long()),
                lambda: ts.nn.MultiLabelMarginLoss()(ts.zeros(*shape), ts.ones(*target).long()))


def test_multilabel_margin_loss_float_target_checked_after_shape():
    _same_error(lambda: torch.nn.MultiLabelMarginLoss()(torch.zeros(10, 0), torch.ones(10, 0)),
                lambda: ts.nn.MultiLabelMarginLoss()(ts.zeros(10, 0), ts.ones(10, 0)))


@pytest.mark.parametrize("shape", [(0, 3), (3,), (2, 4)])
def test_multilabel_margin_loss_valid_shapes_still_run(shape):
    x = np.random.RandomState(3).randn(*shape)
    t = np.full(shape, -1, np.int64)
    if t.size:
        t[..., 0] = 1
    got = ts.nn.MultiLabelMarginLoss(reduction="none")(ts.tensor(x), ts.tensor(t))
    want = torch.nn.MultiLabelMarginLoss(reduction="none")(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- 10. nll_loss / cross_entropy shape errors
NLL_CASES = [((10, 3), (3,), "long"), ((10, 3), (10, 2), "long"), ((3,), (2,), "long"), ((3,), (1, 1), "long"),
             ((3,), (0,), "long"), ((10, 3, 4), (10, 5), "long"), ((10, 3, 4), (9, 4), "long"),
             ((10, 3, 4, 5), (10, 4), "long"), ((10, 3, 4, 5), (10, 4, 6), "long"), ((10, 3, 4, 5), (9, 4, 5), "long"),
             ((10, 3), (10, 2, 3), "long"), ((0, 3), (3,), "long"), ((10, 3), (), "long"), ((0, 3), (), "long"),
             ((10, 3, 4), (10,), "long"), ((10, 3, 4, 5, 6), (10, 4, 5), "long"),
             ((10, 3, 4, 5), (10, 4, 5, 1), "long"),
             ((10, 3, 4, 5), (10, 4, 5), "float"), ((10, 3), (10,), "int"), ((10, 3), (3,), "int"),
             ((10, 3), (10,), "float"), ((10, 3), (3,), "float"), ((), (), "long")]


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("case", NLL_CASES, ids=str)
def test_nll_loss_shape_errors(fn, case):
    shape, target_shape, kind = case

    def call(T):
        dtype = {"long": T.long, "int": T.int32, "float": T.float32}[kind]
        x = T.zeros(shape) if shape else T.tensor(1.0)
        t = T.zeros(target_shape, dtype=dtype) if target_shape else T.tensor(0, dtype=dtype)
        return getattr(T.nn.functional, fn)(x, t)
    te = _err(lambda: call(torch))
    assert te is not None
    _same_error(lambda: call(torch), lambda: call(ts), kind=type(te))


def test_nll_loss_auditor_messages():
    e1 = _err(lambda: ts.nn.functional.nll_loss(ts.randn(10, 3, requires_grad=True), ts.zeros(3, dtype=ts.int64)))
    assert isinstance(e1, ValueError) and str(e1) == "Expected input batch_size (10) to match target batch_size (3)."
    e2 = _err(lambda: ts.nn.functional.nll_loss(ts.randn(10, 3), ts.zeros(10, 2, dtype=ts.int64)))
    assert isinstance(e2, RuntimeError) and str(e2) == "0D or 1D target tensor expected, multi-target not supported"
