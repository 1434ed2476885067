"""Found by porting torch's test/nn/test_init.py, test_dropout.py and the 1-D parts of
test_convolution.py, each beside torch 2.13: nn.init fills a view in memory order (the tensor's
own uniform_ / normal_), kaiming's mode is case-insensitive, Dropout3d / F.dropout3d,
nn.grad.conv*d_input / _weight, ConvTranspose output_size for an unbatched input, Conv1d over
zero input channels, Dropout's p kept as given, torch.native_dropout, F.conv_tbc, integer
tensors refused by orthogonal_ / sparse_, padding='same' with an even kernel warning once, and
torch's error texts and types."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as tsF
from tinygrad_seq import user_warning

torch = pytest.importorskip("torch")


def _np(t):
    return np.asarray(t.detach().numpy())


# ------------------------------------------------------------------ nn.init on views
@pytest.mark.parametrize("fn, args", [
    ("uniform_", ()), ("normal_", ()), ("xavier_uniform_", ()), ("xavier_normal_", ()),
    ("kaiming_uniform_", ()), ("kaiming_normal_", ()), ("trunc_normal_", ()), ("sparse_", (0.25,)),
])
def test_init_on_transposed_view_matches_torch(fn, args):
    torch.manual_seed(1)
    tw = torch.zeros(6, 8)
    getattr(torch.nn.init, fn)(tw.t(), *args)
    ts.manual_seed(1)
    sw = ts.zeros(6, 8)
    getattr(ts.nn.init, fn)(sw.t(), *args)
    np.testing.assert_allclose(_np(sw), tw.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", ["uniform_", "normal_", "xavier_normal_", "kaiming_normal_", "trunc_normal_"])
def test_init_on_column_slice_matches_torch(fn):
    torch.manual_seed(1)
    tw = torch.zeros(8, 6)
    getattr(torch.nn.init, fn)(tw[:, :3])
    ts.manual_seed(1)
    sw = ts.zeros(8, 6)
    getattr(ts.nn.init, fn)(sw[:, :3])
    np.testing.assert_allclose(_np(sw), tw.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [dict(a=-0.1, b=0.1), dict(mean=3.0, a=-1.0, b=1.0), dict(a=-0.5, b=1.5)])
@pytest.mark.parametrize("view", ["t", "slice", "permute", "plain"])
def test_trunc_normal_redraws_land_as_torch(kw, view):
    """Both of torch's samplers (redrawn normals; uniform proposals): every redraw buffer is laid
    out as torch's empty_like lays it, so the draws land where torch's do."""
    make = {"t": lambda m: m.zeros(6, 8).t(), "slice": lambda m: m.zeros(8, 6)[:, 1:4],
            "permute": lambda m: m.zeros(4, 5, 6, dtype=m.float64).permute(2, 0, 1),
            "plain": lambda m: m.zeros(5, 7)}[view]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # mean 3 is more than 2 std from [a, b]: both warn
        torch.manual_seed(3)
        expect = torch.nn.init.trunc_normal_(make(torch), **kw)
        ts.manual_seed(3)
        got = ts.nn.init.trunc_normal_(make(ts), **kw)
    np.testing.assert_allclose(_np(got), expect.numpy(), rtol=1e-6, atol=1e-7)
    assert float(ts.rand(1)) == float(torch.rand(1))   # as many draws as torch


def test_init_on_parameter_leaves_a_leaf():
    p = ts.nn.Parameter(ts.zeros(3, 4))
    ts.nn.init.kaiming_uniform_(p)
    ts.nn.init.trunc_normal_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_orthogonal_zero_elements_is_a_no_op():
    expect = torch.nn.init.orthogonal_(torch.zeros(0, 3))
    assert tuple(ts.nn.init.orthogonal_(ts.zeros(0, 3)).shape) == tuple(expect.shape)


@pytest.mark.parametrize("fn", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("mode", ["FAN_OUT", "Fan_In"])
def test_kaiming_mode_case_insensitive(fn, mode):
    torch.manual_seed(0)
    expect = getattr(torch.nn.init, fn)(torch.zeros(6, 7), mode=mode)
    ts.manual_seed(0)
    got = getattr(ts.nn.init, fn)(ts.zeros(6, 7), mode=mode)
    np.testing.assert_allclose(_np(got), expect.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, args", [("orthogonal_", ()), ("sparse_", (0.5,))])
def test_init_integer_tensor_raises(fn, args):
    with pytest.raises(NotImplementedError) as te:
        getattr(torch.nn.init, fn)(torch.zeros(4, 5, dtype=torch.int64), *args)
    with pytest.raises(NotImplementedError) as se:
        getattr(ts.nn.init, fn)(ts.zeros(4, 5, dtype=ts.int64), *args)
    assert str(se.value) == str(te.value)


# ------------------------------------------------------------------ dropouts
@pytest.mark.parametrize("shape", [(4, 3, 2, 2, 2), (3, 2, 2, 2), (5, 3, 2, 2), (6, 2), (6,), (2, 3, 2, 2, 2, 2)])
@pytest.mark.parametrize("p", [0.5, 1.0])
def test_dropout3d_matches_torch(shape, p):
    """One draw per channel (an input other than 5-D is unbatched), torch's warning for ranks
    other than 4 and 5, and the same number of draws."""
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        torch.manual_seed(0)
        expect = torch.nn.functional.dropout3d(torch.ones(*shape) * 1.5, p)
        expect_module = torch.nn.Dropout3d(p)(torch.ones(*shape))
        after = torch.rand(2)
    with warnings.catch_warnings(record=True) as sw:
        warnings.simplefilter("always")
        ts.manual_seed(0)
        got = tsF.dropout3d(ts.ones(*shape) * 1.5, p)
        got_module = ts.nn.Dropout3d(p)(ts.ones(*shape))
        got_after = ts.rand(2)
    np.testing.assert_array_equal(_np(got), expect.numpy())
    np.testing.assert_array_equal(_np(got_module), expect_module.numpy())
    np.testing.assert_array_equal(_np(got_after), after.numpy())
    assert [str(w.message) for w in sw] == [str(w.message) for w in tw]


def test_dropout3d_checks_and_forms():
    for T in (torch, ts):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            T.nn.Dropout3d(1.1)
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions in the input"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                T.nn.functional.dropout3d(T.ones(()), 0.5)
    assert repr(ts.nn.Dropout3d(0.2, True)) == repr(torch.nn.Dropout3d(0.2, True))
    x = ts.ones(2, 3, 2, 2, 2)
    assert tsF.dropout3d(x, 0.5, inplace=True) is x
    y = ts.ones(2, 3, 2, 2, 2)
    m = ts.nn.Dropout3d(0.5).eval()
    assert np.array_equal(_np(m(y)), _np(y))


@pytest.mark.parametrize("p, inplace", [(0, False), (1, False), (0.5, 1), (1.0, True)])
def test_dropout_keeps_p_and_inplace_as_given(p, inplace):
    assert repr(ts.nn.Dropout(p, inplace)) == repr(torch.nn.Dropout(p, inplace))
    assert type(ts.nn.Dropout(p).p) is type(torch.nn.Dropout(p).p)


def test_dropout_p_checked_as_torch():
    for T in (torch, ts):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            T.nn.Dropout(1.5)
    assert repr(ts.nn.Dropout(float("nan"))) == repr(torch.nn.Dropout(float("nan")))   # torch's p < 0 or p > 1


@pytest.mark.parametrize("shape, p, train", [((4, 5), 0.3, True), ((4, 5), 0.3, None), ((3, 4), 0.0, True),
                                             ((3, 4), 1.0, True), ((3, 4), 0.5, False), ((0, 3), 0.5, True)])
def test_native_dropout_matches_torch(shape, p, train):
    torch.manual_seed(5)
    expect_out, expect_mask = torch.native_dropout(torch.ones(*shape) * 1.7, p, train)
    after = torch.rand(2)
    ts.manual_seed(5)
    got_out, got_mask = ts.native_dropout(ts.ones(*shape) * 1.7, p, train)
    np.testing.assert_array_equal(_np(got_out), expect_out.numpy())
    np.testing.assert_array_equal(_np(got_mask), expect_mask.numpy())
    assert str(got_mask.dtype) == str(expect_mask.dtype).replace("torch.", "")
    np.testing.assert_array_equal(_np(ts.rand(2)), after.numpy())


def test_native_dropout_draws_as_f_dropout_and_backward():
    torch.manual_seed(0)
    expect = torch.nn.functional.dropout(torch.ones(6, 7, dtype=torch.float64), 0.4)
    ts.manual_seed(0)
    x = ts.ones(6, 7, dtype=ts.float64, requires_grad=True)
    out, mask = ts.native_dropout(x, 0.4, True)
    np.testing.assert_array_equal(_np(out), expect.numpy())
    out.backward(ts.ones(6, 7, dtype=ts.float64) * 2)
    np.testing.assert_allclose(_np(x.grad), _np(mask) * 2 / 0.6)
    assert out.grad_fn.name() == "NativeDropoutBackward0"


@pytest.mark.parametrize("call", [
    lambda T: T.native_dropout(T.ones(2, 3), 1.5, True),
    lambda T: T.native_dropout(T.ones(2, 3), -0.1, True),
    lambda T: T.native_dropout(T.ones(2, 3, dtype=T.int64), 0.5, True),
])
def test_native_dropout_errors_match_torch(call):
    with pytest.raises(RuntimeError) as te:
        call(torch)
    with pytest.raises(RuntimeError) as se:
        call(ts)
    assert str(se.value) == str(te.value)


# ------------------------------------------------------------------ convolutions
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", [
    ((2, 4, 11), (6, 2, 3), 2, 1, 2, 2), ((3, 3, 9), (4, 3, 2), 1, 0, 1, 1), ((1, 2, 7), (2, 2, 3), 3, 2, 1, 1),
])
def test_nn_grad_conv1d_matches_torch(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(w_shape).astype(np.float32)
    args = (stride, padding, dilation, groups)
    go = torch.randn_like(torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), None, *args))
    expect_input = torch.nn.grad.conv1d_input(x.shape, torch.tensor(w), go, *args)
    expect_weight = torch.nn.grad.conv1d_weight(torch.tensor(x), w.shape, go, *args)
    got_input = ts.nn.grad.conv1d_input(x.shape, ts.tensor(w), ts.tensor(go.numpy()), *args)
    got_weight = ts.nn.grad.conv1d_weight(ts.tensor(x), w.shape, ts.tensor(go.numpy()), *args)
    np.testing.assert_allclose(_np(got_input), expect_input.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(got_weight), expect_weight.numpy(), rtol=1e-5, atol=1e-5)


def test_nn_grad_conv2d_matches_torch():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    args = ((2, 1), (1, 0), (1, 2), 2)
    go = torch.randn_like(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, *args))
    expect_input = torch.nn.grad.conv2d_input(x.shape, torch.tensor(w), go, *args)
    expect_weight = torch.nn.grad.conv2d_weight(torch.tensor(x), w.shape, go, *args)
    with ts.no_grad():   # computed by autograd even so, as torch's convolution_backward is
        got_input = ts.nn.grad.conv2d_input(x.shape, ts.tensor(w), ts.tensor(go.numpy()), *args)
        got_weight = ts.nn.grad.conv2d_weight(ts.tensor(x), w.shape, ts.tensor(go.numpy()), *args)
    np.testing.assert_allclose(_np(got_input), expect_input.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(got_weight), expect_weight.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, output_size", [((1, 13), (1, 200)), ((1, 13), [200]), ((2, 1, 13), (2, 1, 200))])
def test_conv_transpose1d_output_size(x_shape, output_size):
    tm = torch.nn.ConvTranspose1d(1, 1, kernel_size=16, stride=16, padding=7, bias=False)
    sm = ts.nn.ConvTranspose1d(1, 1, kernel_size=16, stride=16, padding=7, bias=False)
    expect = tuple(tm(torch.randn(*x_shape), output_size=output_size).shape)
    assert tuple(sm(ts.randn(*x_shape), output_size=output_size).shape) == expect


def test_conv_transpose2d_output_size_unbatched():
    tm, sm = torch.nn.ConvTranspose2d(1, 1, 3, stride=2), ts.nn.ConvTranspose2d(1, 1, 3, stride=2)
    for size in [(1, 12, 12), (11, 12)]:
        assert tuple(sm(ts.randn(1, 5, 5), output_size=size).shape) == tuple(tm(torch.randn(1, 5, 5),
                                                                                  output_size=size).shape)


@pytest.mark.parametrize("x_shape, output_size", [
    ((3, 5), [2, 4, 12]), ((2, 3, 5), (4, 12)), ((3, 5), (4, 20)), ((3, 5), [20]), ((2, 3, 5), (2, 4, 20)),
])
def test_conv_transpose1d_output_size_errors_match_torch(x_shape, output_size):
    tm, sm = torch.nn.ConvTranspose1d(3, 4, 3, 2), ts.nn.ConvTranspose1d(3, 4, 3, 2)
    with pytest.raises(ValueError) as te:
        tm(torch.randn(*x_shape), output_size=output_size)
    with pytest.raises(ValueError) as se:
        sm(ts.randn(*x_shape), output_size=output_size)
    assert str(se.value) == str(te.value)


def test_conv1d_empty_channel_matches_torch():
    """torch's test_conv_empty_channel: (N, 0, L_out) out, zero gradients for every parameter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # both: "Initializing zero-element tensors is a no-op"
        tmod, smod = torch.nn.Conv1d(0, 8, 2, stride=2), ts.nn.Conv1d(0, 8, 2, stride=2)
    tin, sin = torch.randn(2, 0, 15, requires_grad=True), ts.randn(2, 0, 15, requires_grad=True)
    tout, sout = tmod(tin), smod(sin)
    assert tuple(sout.shape) == tuple(tout.shape) == (2, 0, 7)
    tout.backward(torch.rand_like(tout))
    sout.backward(ts.rand(*sout.shape))
    for tp, sp in zip(tmod.parameters(), smod.parameters()):
        np.testing.assert_array_equal(_np(sp.grad), tp.grad.numpy())
    assert tuple(sin.grad.shape) == tuple(tin.grad.shape)


@pytest.mark.parametrize("call", [
    lambda T: T.nn.functional.conv1d(T.randn(0, 5), T.randn(4, 0, 2), T.randn(4)),
    lambda T: T.nn.functional.conv1d(T.randn(2, 0, 5), T.randn(4, 0, 2), padding=3, dilation=2),
    lambda T: T.nn.functional.conv1d(T.randn(2, 0, 5), T.randn(4, 0, 2), groups=2),
    lambda T: T.nn.functional.conv2d(T.randn(2, 0, 5, 5), T.randn(4, 0, 2, 2), T.randn(4)),
])
def test_conv_empty_channel_shapes_match_torch(call):
    assert tuple(call(ts).shape) == tuple(call(torch).shape)


def test_functional_conv_tbc():
    rng = np.random.default_rng(0)
    a, w, b = rng.random((9, 4, 5)), rng.random((3, 5, 6)), rng.random(6)
    expect = torch.nn.functional.conv_tbc(torch.tensor(a), torch.tensor(w), torch.tensor(b), 3)
    got = tsF.conv_tbc(ts.tensor(a), ts.tensor(w), ts.tensor(b), 3)
    np.testing.assert_allclose(_np(got), expect.numpy(), rtol=1e-10)


def test_same_padding_even_kernel_warns_once_per_process(monkeypatch):
    """torch's TORCH_WARN_ONCE: the first call in the process warns, whatever the filters say."""
    user_warning._said_once.discard("conv_same_padding")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        tsF.conv1d(ts.rand(1, 1, 12), ts.rand(1, 1, 3), padding="same")               # symmetric: silent
        tsF.conv1d(ts.rand(1, 1, 12), ts.rand(1, 1, 4), padding="same", dilation=2)   # 6 zeros: symmetric
        tsF.conv1d(ts.rand(1, 1, 12), ts.rand(1, 1, 4), padding="same")
        tsF.conv1d(ts.rand(1, 1, 12), ts.rand(1, 1, 4), padding="same")
        tsF.conv2d(ts.rand(1, 1, 12, 12), ts.rand(1, 1, 3, 4), padding="same")
    assert [str(x.message) for x in w] == ["Using padding='same' with even kernel lengths and odd dilation may "
                                           "require a zero-padded copy of the input be created"]
    assert w[0].filename == __file__ and w[0].category is UserWarning
    user_warning._said_once.discard("conv_same_padding")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        tsF.conv2d(ts.rand(1, 1, 12, 12), ts.rand(1, 1, 3, 4), padding="same")
    assert len(w) == 1


# ------------------------------------------------------------------ torch's error texts and types
@pytest.mark.parametrize("call", [
    lambda T: T.nn.init.kaiming_uniform_(T.zeros(2, 3), mode="fan_avg"),
    lambda T: T.nn.init.kaiming_normal_(T.zeros(2, 3), mode="FAN_AVG"),
    lambda T: T.nn.init.xavier_uniform_(T.zeros(2)),
    lambda T: T.nn.init.orthogonal_(T.zeros(2)),
    lambda T: T.nn.Conv1d(3, 4, 3, groups=2),
    lambda T: T.nn.Conv1d(4, 3, 3, groups=2),
    lambda T: T.nn.functional.conv1d(T.randn(1, 2, 8), T.randn(4, 2, 3), dilation=0),
    lambda T: T.nn.functional.conv1d(T.randn(1, 2, 8), T.randn(4, 2, 3), dilation=-1),
    lambda T: T.nn.functional.conv1d(T.randn(1, 3, 8), T.randn(4, 2, 3), dilation=0),
    lambda T: T.nn.functional.conv2d(T.randn(1, 2, 8, 8), T.randn(4, 2, 3, 3), dilation=(0, 1)),
    lambda T: T.nn.functional.conv2d(T.randn(1, 2, 8, 8), T.randn(4, 2, 3, 3), dilation=(1, -1)),
    lambda T: T.nn.functional.conv_transpose1d(T.randn(1, 2, 8), T.randn(2, 4, 3), dilation=0),
    lambda T: T.nn.functional.conv_transpose2d(T.randn(1, 2, 8, 8), T.randn(2, 4, 3, 3), dilation=0),
    lambda T: T.nn.functional.conv1d(T.randn(2, 3, 5), T.randn(0, 3, 2)),
    lambda T: T.nn.functional.conv1d(T.randn(1, 4, 5), T.randn(1, 2, 3), groups=2),
    lambda T: T.nn.ConvTranspose1d(3, 3, 3)(None),
])
def test_error_messages_match_torch(call):
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(Exception) as se:
        call(ts)
    assert str(se.value) == str(te.value)
    assert isinstance(se.value, type(te.value))


@pytest.mark.parametrize("call", [
    lambda T: T.nn.Conv1d(3, 3, 3)(None),
    lambda T: T.nn.Conv2d(3, 3, 3)(None),
    lambda T: T.nn.functional.conv1d(T.randn(1, 3, 5), None),
])
def test_conv_non_tensor_input_typeerror(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match="must be Tensor, not NoneType"):
        call(ts)
