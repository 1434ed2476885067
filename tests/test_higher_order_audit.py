"""create_graph=True against torch 2.13 (float64): the findings of the audit of higher-order
gradients (hardswish's second derivative, constant padding, custom Functions, the host-computed
functions, prod, einsum, bilinear, 2-D convolution and pooling, vector norms of any order, .grad
keeping its graph, pow's saved output)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

X = np.array([-3.5, -2.0, -0.7, 0.4, 1.3, 2.9, 3.6])
A = np.array([0.3, -0.6, 0.8])


def _g2(lib, f, x0=X):
    """f'' summed: grad of sum(f'(x)) w.r.t. x, with create_graph."""
    x = lib.tensor(x0, requires_grad=True)
    g, = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
    g2, = lib.autograd.grad(g.sum(), x)
    return g.detach().numpy(force=True) if lib is torch else g.detach().numpy(), g2.detach().numpy(force=True) if lib is torch else g2.detach().numpy()


def _same(f, x0=X):
    want, got = _g2(torch, f, x0), _g2(ts, f, x0)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-10)


# 1. SILENTLY WRONG: hardswish's second derivative is 0 (slope detached in functional_extra._hardswish)
def test_hardswish_second_derivative_silently_zero():
    # + x**3 so that the gradient requires grad in both libraries; torch: 6x + 1/3 inside (-3, 3)
    _same(lambda lib, x: lib.nn.functional.hardswish(x) + x ** 3)


def test_hardswish_module_hessian_silently_wrong():
    def h(lib):
        f = lambda x: lib.nn.Hardswish()(x * 2).sum() + (x ** 3).sum()
        return lib.autograd.functional.hessian(f, lib.tensor(A)).numpy()
    np.testing.assert_allclose(h(ts), h(torch), atol=1e-10)


# 2. constant padding (F.pad, Conv1d(padding=...), padding="same") has no double backward
def _wgan_conv(lib, padding):
    lib.manual_seed(0)
    conv = lib.nn.Conv1d(2, 3, 3, padding=padding).double()
    if lib is ts:
        tconv = _wgan_conv.torch_conv
        conv.weight.data = ts.tensor(tconv.weight.detach().numpy()); conv.bias.data = ts.tensor(tconv.bias.detach().numpy())
    else:
        _wgan_conv.torch_conv = conv
    x = lib.tensor(np.linspace(-1, 1, 2 * 2 * 6).reshape(2, 2, 6), requires_grad=True)
    out = lib.nn.functional.leaky_relu(conv(x), 0.2).sum()
    g, = lib.autograd.grad(out, x, create_graph=True)
    gp = ((g.reshape(2, -1).norm(2, dim=1) - 1) ** 2).mean()
    gp.backward()
    return conv.weight.grad.detach().numpy()


@pytest.mark.parametrize("padding", [1, "same"])
def test_gradient_penalty_through_padded_conv1d(padding):
    want = _wgan_conv(torch, padding)
    got = _wgan_conv(ts, padding)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10)


def test_F_pad_constant_double_backward():
    x0 = np.linspace(-1, 1, 12).reshape(1, 2, 6)
    _same(lambda lib, x: lib.nn.functional.pad(x, (1, 2)) ** 3, x0)


# 3. custom autograd.Function whose backward uses Tensor ops: torch differentiates it again
def test_custom_function_double_backward():
    def run(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * x * x * g
        return _g2(lib, lambda lib_, x: Cube.apply(x), A)
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-10)


# 4. host elementwise ops (HostUnary / HostBinary) raise on double backward
@pytest.mark.parametrize("name", ["atan", "erf", "erfc", "sinh", "cosh", "asinh", "tan", "lgamma", "exp2", "asin", "atanh"])
def test_host_unary_double_backward(name):
    _same(lambda lib, x: getattr(lib, name)(x), A)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "xlogy"])
def test_host_binary_double_backward(name):
    _same(lambda lib, x: getattr(lib, name)(x + 2.0, x * x + 1.0), A)


# 5. prod, einsum / bilinear
def test_prod_double_backward():
    _same(lambda lib, x: x.prod().reshape(1), A)


def test_einsum_double_backward():
    _same(lambda lib, x: lib.einsum("i,j->ij", x, x.sin()), A)


def test_bilinear_double_backward():
    w = np.linspace(-1, 1, 2 * 3 * 3).reshape(2, 3, 3)
    _same(lambda lib, x: lib.nn.functional.bilinear(x[None], x[None] ** 2, lib.tensor(w)), A)


# 6. conv2d / conv_transpose / 2-d pooling / interpolate / unfold
def test_conv2d_double_backward():
    w = np.linspace(-1, 1, 2 * 1 * 2 * 2).reshape(2, 1, 2, 2)
    _same(lambda lib, x: lib.nn.functional.conv2d(x.reshape(1, 1, 3, 3), lib.tensor(w)) ** 2, np.linspace(-1, 1, 9))


def test_avg_pool2d_double_backward():
    _same(lambda lib, x: lib.nn.functional.avg_pool2d((x * x).reshape(1, 1, 2, 2), 2) ** 2, np.array([0.1, -0.4, 0.7, 0.2]))


@pytest.mark.parametrize("ord_", [3.0, float("inf")])
def test_linalg_vector_norm_other_ord_double_backward(ord_):
    # x.norm(p=3) works; linalg.vector_norm(ord=3) raises "double backward through VectorNorm"
    _same(lambda lib, x: lib.linalg.vector_norm(x, ord=ord_).reshape(1), A)


# 9. plain backward after a create_graph backward: torch's .grad keeps requiring grad
def test_grad_requires_grad_after_mixed_backwards():
    def run(lib):
        x = lib.tensor(A, requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        x.sin().sum().backward()
        return x.grad.requires_grad
    assert run(ts) == run(torch)


# 10. (first order, seen on the way) an in-place op on a pow output: torch's pow saves only its input
def test_inplace_on_pow_output_first_order():
    def run(lib):
        x = lib.tensor(A, requires_grad=True)
        y = (x * 2) ** 2
        y.exp_()
        g, = lib.autograd.grad(y.sum(), x)
        return g.numpy()
    np.testing.assert_allclose(run(ts), run(torch), rtol=1e-10)


# requires_grad of a piecewise-linear activation's gradient (torch: True, second derivative 0)
@pytest.mark.parametrize("name", ["leaky_relu", "hardtanh", "relu6", "hardshrink"])
def test_piecewise_linear_gradient_requires_grad(name):
    _same(lambda lib, x: getattr(lib.nn.functional, name)(x), A)


# zero_grad(set_to_none=False) after a create_graph backward cuts the grad from its graph (the
# regression re-run: a WGAN-GP-style loop chained each step's graph onto the last one's)
def _after_create_graph_then_zero_grad(L, opt_cls):
    w = L.nn.Parameter(L.tensor([1., 2.]))
    opt = opt_cls(L)([w], lr=0.01)
    (w.sin() ** 3).sum().backward(create_graph=True)
    opt.step()
    opt.zero_grad(set_to_none=False)
    return w


@pytest.mark.parametrize("opt_cls", [lambda L: L.optim.SGD, lambda L: L.optim.Adam], ids=["SGD", "Adam"])
def test_optimizer_zero_grad_set_to_none_false_detaches_graph_carrying_grad(opt_cls):
    # torch's Optimizer.zero_grad(set_to_none=False) detaches a grad that has a grad_fn
    # (p.grad.detach_()) before zeroing; Module.zero_grad too
    wt = _after_create_graph_then_zero_grad(torch, opt_cls)
    ws = _after_create_graph_then_zero_grad(ts, opt_cls)
    assert wt.grad.requires_grad is False and wt.grad.grad_fn is None
    assert ws.grad.requires_grad is False and ws.grad.grad_fn is None


def _graph_size(t):
    seen, st = set(), [t.grad_fn]
    while st:
        f = st.pop()
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        st.extend(g for g, _ in getattr(f, "next_functions", ()))
    return len(seen)


def test_create_graph_training_loop_does_not_grow_grad_graph():
    # WGAN-GP / second-order style loop with zero_grad(set_to_none=False): under torch the grad
    # carries no graph after zero_grad (each step's graph must not chain onto the last one's)
    sizes = {}
    for L in (torch, ts):
        w = L.nn.Parameter(L.tensor([1., 2.]))
        opt = L.optim.SGD([w], lr=0.01)
        for _ in range(30):
            (w.sin() ** 3).sum().backward(create_graph=True)
            opt.step()
            opt.zero_grad(set_to_none=False)
        sizes[L.__name__] = _graph_size(w.grad)
    assert sizes["torch"] == 0
    assert sizes["tinygrad_seq"] == sizes["torch"], sizes


@pytest.mark.parametrize("mode,kw", [("bilinear", dict(align_corners=False)), ("bilinear", dict(align_corners=True)),
                                     ("nearest", {}), ("linear", dict(align_corners=False))])
def test_interpolate_double_backward(mode, kw):
    X4 = np.random.default_rng(0).standard_normal((1, 2, 4, 5))

    def run(lib):
        x = lib.tensor(X4 if mode != "linear" else X4[0], requires_grad=True)
        y = lib.nn.functional.interpolate(x, scale_factor=2, mode=mode, **kw)
        g, = lib.autograd.grad((y ** 3).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g ** 2).sum(), x)
        return g.detach().numpy(), g2.numpy()
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1), dict(stride=1, dilation=2, groups=2),
                                dict(stride=3, padding=2, bias=False)])
def test_conv_transpose2d_double_backward(kw):
    X4 = np.random.default_rng(0).standard_normal((2, 4, 3, 5))
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose2d(4, 6, 3, **kw).double()

    def run(lib):
        m = lib.nn.ConvTranspose2d(4, 6, 3, **kw).double()
        m.load_state_dict({k: lib.tensor(v.numpy()) for k, v in ref.state_dict().items()})
        x = lib.tensor(X4, requires_grad=True)
        g, = lib.autograd.grad((m(x) ** 3).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        return [g.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)
