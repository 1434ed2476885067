"""Cases ported from PyTorch's own test/test_nn.py (normalization, linear and activation
modules), each compared with torch 2.13 in the same process: GroupNorm's one-value-per-group
ValueError, the in-place ELU / CELU refusal with a negative alpha, ReLU6 as a Hardtanh,
Bilinear's in1_features check, the second derivatives of elu / celu / selu / prelu / softplus
at their kinks, prelu's create_graph gradient with a constant weight, softshrink's node name,
torch's error types (glu of a 0-d tensor, celu with alpha 0, Linear's sizes, layer_norm's int
normalized_shape, linear with a 1-D weight and a bias) and Linear's zero-element warning."""
import re

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as tF

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001  (the type is what is compared)
        return error
    return None


def _raises_like_torch(call_torch, call_ours):
    """Both raise; ours is an instance of torch's exception type."""
    theirs, ours = _error(call_torch), _error(call_ours)
    assert theirs is not None
    assert ours is not None, f"torch raises {type(theirs).__name__}: {theirs}; tinygrad_seq does not"
    assert isinstance(ours, type(theirs)), (f"torch {type(theirs).__name__}: {theirs} vs "
                                            f"ours {type(ours).__name__}: {ours}")
    return theirs, ours


# ------------------------------------------------------------------ GroupNorm
def test_groupnorm_one_value_per_group_raises_valueerror():
    # test_nn.py test_GroupNorm_raises_error_if_one_value_per_group
    with pytest.raises(ValueError, match="Expected more than 1 value per channel") as theirs:
        torch.nn.GroupNorm(10, 10)(torch.rand(10)[None, :, None])
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        ts.nn.GroupNorm(10, 10)(ts.rand(10)[None, :, None])


def test_functional_group_norm_one_value_per_group_raises_in_eval_too():
    x = np.random.RandomState(0).randn(1, 4, 1).astype("float32")
    for M, Fn in ((torch, F), (ts, tF)):
        with pytest.raises(ValueError):
            Fn.group_norm(M.tensor(x), 4)
        m = M.nn.GroupNorm(4, 4).eval()
        with pytest.raises(ValueError):
            m(M.tensor(x))


def test_group_norm_one_value_per_group_with_a_batch_is_taken():
    # torch's check multiplies N * C // G by the spatial sizes: a batch of 2 passes (zeros out)
    x = np.random.RandomState(1).randn(2, 4, 1).astype("float32")
    np.testing.assert_array_equal(tF.group_norm(ts.tensor(x), 4).numpy(), F.group_norm(torch.tensor(x), 4).numpy())


# ------------------------------------------------------------------ in-place ELU / CELU
@pytest.mark.parametrize("name", ["elu_", "celu_"])
def test_inplace_elu_celu_negative_alpha_backward_raises(name):
    # test_nn.py test_elu_inplace_with_neg_alpha / test_celu_inplace_with_neg_alpha
    a = torch.tensor([-1., 1.], requires_grad=True)
    b = getattr(F, name)(a.clone(), alpha=-2)
    with pytest.raises(RuntimeError, match="call out-of-place version") as theirs:
        b.backward(torch.ones(2))
    a = ts.tensor([-1., 1.], requires_grad=True)
    b = getattr(tF, name)(a.clone(), alpha=-2)
    assert b.grad_fn.name() == ("EluBackward1" if name == "elu_" else "CeluBackward1")
    with pytest.raises(RuntimeError, match="^" + re.escape(str(theirs.value)) + "$"):
        b.backward(ts.ones(2))


@pytest.mark.parametrize("make", [lambda M: M.nn.ELU(-1.0, inplace=True), lambda M: M.nn.CELU(-1.0, inplace=True),
                                  lambda M: (lambda t: M.nn.functional.elu(t, -0.5, inplace=True))])
def test_inplace_module_negative_alpha_backward_raises(make):
    for M in (torch, ts):
        x = M.tensor([-1., 1.], requires_grad=True)
        with pytest.raises(RuntimeError, match="call out-of-place version"):
            make(M)(x.clone()).sum().backward()


def test_inplace_elu_nonnegative_alpha_and_leaky_relu_keep_working():
    for alpha in (0.0, 0.5):
        grads = []
        for M, Fn in ((torch, F), (ts, tF)):
            x = M.tensor([-1.5, 0.0, 2.0], dtype=M.float64, requires_grad=True)
            y = Fn.elu_(x.clone(), alpha=alpha)
            y.sum().backward()
            grads.append((y.detach().numpy(), x.grad.numpy()))
        for theirs, ours in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    x = ts.tensor([-1., 1.], requires_grad=True)
    with pytest.raises(RuntimeError, match="In-place leakyReLu backward"):
        tF.leaky_relu_(x.clone(), -0.5).sum().backward()


# ------------------------------------------------------------------ the ELU family, values and gradients
_ELU_CASES = [("elu", {}), ("elu", dict(alpha=0.3)), ("elu", dict(alpha=-1.5)), ("celu", {}),
              ("celu", dict(alpha=0.5)), ("selu", {})]


@pytest.mark.parametrize("name, kw", _ELU_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elu_family_values_and_gradients_match_torch(name, kw, dtype):
    x = np.concatenate([np.random.RandomState(2).randn(40) * 3, [0.0, -0.0, 50.0, -50.0, np.inf, -np.inf]])
    x, g = x.astype(dtype), np.random.RandomState(3).randn(x.size).astype(dtype)
    results = []
    for M, Fn in ((torch, F), (ts, tF)):
        t = M.tensor(x, requires_grad=True)
        y = getattr(Fn, name)(t, **kw)
        y.backward(M.tensor(g))
        results.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    (yt, gt, nt), (ys, gs, ns) = results
    assert ns == nt
    rtol, atol = (1e-6, 1e-7) if dtype == "float32" else (1e-13, 1e-16)   # exp(x) - 1 here, torch's expm1
    np.testing.assert_allclose(ys, yt, rtol=rtol, atol=atol)
    np.testing.assert_allclose(gs, gt, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, kw", _ELU_CASES)
def test_elu_family_inplace_node_names(name, kw):
    names = []
    for M, Fn in ((torch, F), (ts, tF)):
        x = M.tensor([-1.0, 2.0], requires_grad=True)
        y = getattr(Fn, name)(x.clone(), inplace=True, **kw) if kw.get("alpha", 1) >= 0 else None
        names.append(None if y is None else y.grad_fn.name())
    assert names[1] == names[0]


# ------------------------------------------------------------------ second derivatives at the kinks
def _second(M, fn, x=(0.0, 0.5, -3.0, 3.0, -0.5)):
    x = M.tensor(list(x), dtype=M.float64, requires_grad=True)
    g, = M.autograd.grad(fn(M, x).sum(), x, create_graph=True)
    g2, = M.autograd.grad(g.sum(), x)
    return g.detach().numpy(), g2.detach().numpy()


@pytest.mark.parametrize("call", [
    lambda M, x: M.nn.functional.elu(x), lambda M, x: M.nn.functional.elu(x, 0.4),
    lambda M, x: M.nn.functional.celu(x), lambda M, x: M.nn.functional.celu(x, 2.5),
    lambda M, x: M.nn.functional.selu(x), lambda M, x: M.nn.functional.softplus(x, beta=2.0, threshold=1.0),
    lambda M, x: M.nn.functional.softplus(x, beta=1.0, threshold=3.0),
    lambda M, x: M.nn.functional.softplus(x, beta=-1.0, threshold=0.5)])
def test_first_and_second_derivatives_at_the_kink_match_torch(call):
    for ours, theirs in zip(_second(ts, call), _second(torch, call)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_softplus_at_the_threshold_keeps_its_value():
    x = np.array([0.5, 1.0, 3.0], dtype="float32")   # beta * x == threshold at 0.5
    at_kink = tF.softplus(ts.tensor(x, requires_grad=True), beta=2.0, threshold=1.0)
    assert at_kink.grad_fn.name() == "SoftplusBackward0"
    assert at_kink.numpy()[0] == tF.softplus(ts.tensor(x), beta=2.0, threshold=2.0).numpy()[0]   # no kink there
    np.testing.assert_allclose(at_kink.detach().numpy(), F.softplus(torch.tensor(x), beta=2.0, threshold=1.0).numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("weight", [[0.25], [0.25, -1.5, 2.0]])
def test_prelu_double_backward_at_zero_matches_torch(weight):
    x0 = np.array([[0.0, 0.5, -3.0, 0.0], [-0.5, 0.0, 2.0, -1.0], [0.0, 0.0, -2.0, 1.0]]).reshape(1, 3, 4)
    out = []
    for M, Fn in ((torch, F), (ts, tF)):
        x = M.tensor(x0, requires_grad=True)
        w = M.tensor(weight, dtype=M.float64, requires_grad=True)
        g = M.autograd.grad((Fn.prelu(x, w) ** 2).sum() + Fn.prelu(x, w).sum(), [x, w], create_graph=True)
        second = M.autograd.grad(g[0].sum() + (g[1] * 3).sum(), [x, w])
        out.append([t.detach().numpy() for t in (*g, *second)])
    for ours, theirs in zip(out[1], out[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_prelu_first_order_gradients_per_channel_match_torch():
    x0 = np.random.RandomState(4).randn(2, 3, 5).astype("float32")
    x0[0, 1, 2] = 0.0
    out = []
    for M, Fn in ((torch, F), (ts, tF)):
        x = M.tensor(x0, requires_grad=True)
        w = M.tensor([0.1, -0.2, 0.3], requires_grad=True)
        y = Fn.prelu(x, w)
        (y * y.detach().sin()).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), y.grad_fn.name()))
    assert out[1][3] == out[0][3]
    for ours, theirs in zip(out[1][:3], out[0][:3]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_prelu_constant_weight_create_graph_second_grad():
    res = []
    for M, Fn in ((torch, F), (ts, tF)):
        x = M.tensor([0.0, 0.5, -3.0], dtype=M.float64, requires_grad=True)
        w = M.tensor([0.25], dtype=M.float64)
        g, = M.autograd.grad(Fn.prelu(x, w).sum(), x, create_graph=True)
        assert g.requires_grad and g.grad_fn is not None
        res.append((g.detach().numpy(), M.autograd.grad(g.sum(), x)[0].numpy()))
    for ours, theirs in zip(res[1], res[0]):
        np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------------ ReLU6, Bilinear, softshrink
def test_relu6_is_hardtanh_with_bounds():
    t, m = torch.nn.ReLU6(), ts.nn.ReLU6()
    assert isinstance(t, torch.nn.Hardtanh) and isinstance(m, ts.nn.Hardtanh)
    assert (m.min_val, m.max_val, m.inplace) == (t.min_val, t.max_val, t.inplace)
    assert repr(m) == repr(t) and repr(ts.nn.ReLU6(True)) == repr(torch.nn.ReLU6(True))
    x = np.array([-1.0, 0.0, 3.0, 6.0, 7.5], dtype="float32")
    np.testing.assert_array_equal(m(ts.tensor(x)).numpy(), t(torch.tensor(x)).numpy())
    xs = ts.tensor(x)
    assert ts.nn.ReLU6(inplace=True)(xs) is xs and xs.numpy().max() == 6.0


def test_bilinear_zero_in1_features_valueerror():
    # test_nn.py test_bilinear_value_error
    with pytest.raises(ValueError, match="in1_features must be > 0") as theirs:
        torch.nn.Bilinear(0, 0, 0)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        ts.nn.Bilinear(0, 0, 0)
    assert repr(ts.nn.Bilinear(1, 0, 0)) == repr(torch.nn.Bilinear(1, 0, 0))


def test_softshrink_grad_fn_name_in_print():
    a = np.array([[1.5, 0.2, -0.9]], dtype="float32")
    theirs = F.softshrink(torch.tensor(a, requires_grad=True))
    assert str(tF.softshrink(ts.tensor(a, requires_grad=True))) == str(theirs)   # ... grad_fn=<SoftshrinkBackward0>)
    assert ts.nn.Softshrink()(ts.tensor(a, requires_grad=True)).grad_fn.name() == "SoftshrinkBackward0"


# ------------------------------------------------------------------ errors as torch's
def test_glu_0d_runtimeerror():
    theirs, ours = _raises_like_torch(lambda: F.glu(torch.tensor(1.0)), lambda: tF.glu(ts.tensor(1.0)))
    assert str(ours) == str(theirs)


def test_celu_alpha_zero_runtimeerror():
    for inplace in (False, True):
        theirs, ours = _raises_like_torch(lambda: F.celu(torch.randn(3), alpha=0.0, inplace=inplace),
                                          lambda: tF.celu(ts.randn(3), alpha=0.0, inplace=inplace))
        assert str(ours) == str(theirs)


@pytest.mark.parametrize("sizes", [(-1, 3), (3, -2), (4.0, 3), (4, 3.0)])
def test_linear_bad_feature_counts_raise_like_torch(sizes):
    theirs, ours = _raises_like_torch(lambda: torch.nn.Linear(*sizes), lambda: ts.nn.Linear(*sizes))
    if isinstance(theirs, RuntimeError):
        assert str(ours) == str(theirs)


@pytest.mark.parametrize("shape", [5, 5.0, None, "ab", [5.0]])
def test_layer_norm_normalized_shape_not_ints_typeerror(shape):
    _raises_like_torch(lambda: F.layer_norm(torch.randn(2, 5), shape), lambda: tF.layer_norm(ts.randn(2, 5), shape))


@pytest.mark.parametrize("shape", [(5,), [5], torch.Size([5]), (np.int64(5),)])
def test_layer_norm_normalized_shape_sequences_are_taken(shape):
    x = np.random.RandomState(5).randn(2, 5).astype("float32")
    ours_shape = tuple(shape) if isinstance(shape, torch.Size) else shape
    np.testing.assert_allclose(tF.layer_norm(ts.tensor(x), ours_shape).numpy(),
                               F.layer_norm(torch.tensor(x), shape).numpy(), rtol=1e-5, atol=1e-6)


# torch: a 2-D input, or a contiguous one with a 1-D bias or a bias of more than one element,
# takes addmm (a matrix weight only); the rest matmul then add_ (which cannot grow the output)
_ONE_D_WEIGHT_CASES = [((2, 4), None), ((4,), None), ((3, 2, 4), None), ((2, 4), (1,)), ((2, 4), (2,)),
                       ((2, 4), ()), ((2, 4), (1, 1)), ((4,), ()), ((4,), (1,)), ((4,), (1, 1)), ((4,), (1, 2)),
                       ((3, 2, 4), ()), ((3, 2, 4), (2,)), ((3, 2, 4), (1, 1)), ((3, 2, 4), (1, 1, 1)),
                       ((5, 3, 2, 4), ()), ((5, 3, 2, 4), (1, 1)), ((5, 3, 2, 4), (1, 2)), ((5, 3, 2, 4), (3, 1)),
                       ((5, 3, 2, 4), (1, 1, 1))]


@pytest.mark.parametrize("x_shape, bias_shape", _ONE_D_WEIGHT_CASES)
def test_linear_with_1d_weight_matches_torch(x_shape, bias_shape):
    rs = np.random.RandomState(6)
    x, w = rs.randn(*x_shape).astype("float32"), rs.randn(4).astype("float32")
    b = None if bias_shape is None else np.asarray(rs.randn(*bias_shape), dtype="float32")

    def call(M, Fn):
        return Fn.linear(M.tensor(x), M.tensor(w), None if b is None else M.tensor(b))
    theirs = _error(lambda: call(torch, F))
    if theirs is not None:
        _, ours = _raises_like_torch(lambda: call(torch, F), lambda: call(ts, tF))
        assert str(ours) == str(theirs)
        return
    np.testing.assert_allclose(call(ts, tF).numpy(), call(torch, F).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bias_shape", [(2,), (1, 2), (3, 2), (1, 3, 2)])
def test_linear_1d_weight_bias_on_a_transposed_input_like_torch(bias_shape):
    # torch's fused path needs a contiguous input; a transposed one takes matmul + add_
    rs = np.random.RandomState(7)
    x, w = rs.randn(2, 3, 4).astype("float32"), rs.randn(4).astype("float32")
    b = rs.randn(*bias_shape).astype("float32")

    def call(M, Fn):
        return Fn.linear(M.tensor(x).transpose(0, 1), M.tensor(w), M.tensor(b))
    if _error(lambda: call(torch, F)) is not None:
        theirs, ours = _raises_like_torch(lambda: call(torch, F), lambda: call(ts, tF))
        assert str(ours) == str(theirs)
        return
    np.testing.assert_allclose(call(ts, tF).numpy(), call(torch, F).numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ Linear's zero-element init
@pytest.mark.parametrize("shape", [(0, 3), (4, 0)])
def test_linear_zero_size_init_warns(shape):
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        t = torch.nn.Linear(*shape)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        m = ts.nn.Linear(*shape)
    assert m.weight.shape == tuple(t.weight.shape)
    np.testing.assert_array_equal(m.bias.detach().numpy(), t.bias.detach().numpy())   # U(0, 0) or empty
