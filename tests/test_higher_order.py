"""create_graph=True: gradients of gradients against torch (double backward), float64."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _np(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(fn, rtol=1e-7, atol=1e-9):
    """Run fn(lib) with torch and with tinygrad_seq; compare the returned tensors."""
    want, got = fn(torch), fn(ts)
    assert len(want) == len(got)
    for k, (a, b) in enumerate(zip(want, got)):
        a, b = _np(a), _np(b)
        if a is None or b is None:
            # torch's double-backward formulas may give zeros where nothing depends (README)
            assert (a is None or not a.any()) and (b is None or not b.any()), f"output {k}: {a} vs {b}"
            continue
        assert a.shape == b.shape, f"output {k}: shape {a.shape} vs {b.shape}"
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=f"output {k}")


RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 5))
V = RNG.standard_normal((5, 1))
UNARY = ["exp", "tanh", "sigmoid", "sin", "cos", "abs", "relu", "log1p", "expm1", "sqrt", "log",
         "square", "reciprocal", "rsqrt", "softplus", "gelu", "silu", "elu", "logsigmoid"]


@pytest.mark.parametrize("name", UNARY)
def test_second_and_third_derivative_of_unary(name):
    def fn(lib):
        F = lib.nn.functional
        x = lib.tensor(np.abs(X) + 0.1 if name in ("sqrt", "log", "rsqrt", "reciprocal") else X, requires_grad=True)
        f = getattr(F, name, None) or getattr(lib, name)
        y = f(x).sum()
        g1, = lib.autograd.grad(y, x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = lib.autograd.grad((g2 * x).sum(), x, allow_unused=True)
        return g1, g2, g3
    _same(fn)


def test_binary_ops_broadcast_and_matmul():
    def fn(lib):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        b = lib.tensor(W[0], requires_grad=True)
        y = ((x @ w + b) ** 3 / (1.5 + (x @ w).pow(2)) - lib.maximum(x @ w, b) * 2).sum()
        gx, gw, gb = lib.autograd.grad(y, (x, w, b), create_graph=True)
        (gx.pow(2).sum() + (gw * w).sum() + gb.sum()).backward()
        return gx, gw, gb, x.grad, w.grad, b.grad
    _same(fn)


X3 = np.random.default_rng(1).standard_normal((3, 4, 5))
IDX = np.random.default_rng(2).integers(0, 5, (3, 4, 2))


def test_reductions_shapes_and_indexing():
    def fn(lib):
        x = lib.tensor(X3, requires_grad=True)
        y = x.permute(2, 0, 1).reshape(5, 12)[:, 1:7]
        z = lib.cat([y, y.exp()], 1).max(dim=1).values.sum() + x.amax(dim=(0, 2)).pow(2).sum()
        z = z + lib.stack([x[0, :, 1], x[1, :, 2]]).softmax(-1).pow(2).sum() + x.mean() ** 2
        z = z + x.log_softmax(1).pow(2).sum() + x.cumsum(2).pow(2).sum() + lib.where(x > 0, x, x * x).sum()
        z = z + x.gather(2, lib.tensor(IDX)).pow(2).sum() + x.var() + x.std(1).sum()
        z = z + x[lib.tensor([0, 2, 0])].pow(3).sum() + x.expand(2, 3, 4, 5).pow(2).sum()
        g, = lib.autograd.grad(z, x, create_graph=True)
        (g.sin()).sum().backward()
        return g, x.grad
    _same(fn)


def test_wgan_gradient_penalty_with_modules():
    def fn(lib):
        lib.manual_seed(0)
        D = lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.LeakyReLU(0.2), lib.nn.Linear(8, 8), lib.nn.Tanh(),
                              lib.nn.LayerNorm(8), lib.nn.Linear(8, 1)).double()
        if lib is ts:
            D.load_state_dict({k: ts.tensor(v.numpy()) for k, v in _D_STATE.items()})
        real = lib.tensor(X)
        fake = lib.tensor(X[::-1].copy())
        alpha = lib.tensor(np.linspace(0, 1, 4)[:, None])
        interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        d = D(interp)
        g, = lib.autograd.grad(d, interp, grad_outputs=lib.ones_like(d), create_graph=True, retain_graph=True)
        gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss = D(fake).mean() - D(real).mean() + 10 * gp
        loss.backward()
        return (g, gp) + tuple(p.grad for p in D.parameters())
    global _D_STATE
    torch.manual_seed(0)
    _D_STATE = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 8),
                                   torch.nn.Tanh(), torch.nn.LayerNorm(8), torch.nn.Linear(8, 1)).double().state_dict()
    _same(fn)


def test_maml_inner_step_through_cross_entropy():
    rng = np.random.default_rng(3)
    xs, ys = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    xq, yq = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    w1, b1, w2, b2 = rng.standard_normal((8, 4)), rng.standard_normal(8), rng.standard_normal((3, 8)), rng.standard_normal(3)

    def fn(lib):
        F = lib.nn.functional
        params = [lib.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]

        def net(x, p):
            return F.linear(F.relu(F.linear(x, p[0], p[1])), p[2], p[3])
        fast = params
        for _ in range(2):
            loss = F.cross_entropy(net(lib.tensor(xs), fast), lib.tensor(ys))
            grads = lib.autograd.grad(loss, fast, create_graph=True)
            fast = [p - 0.4 * g for p, g in zip(fast, grads)]
        meta = F.cross_entropy(net(lib.tensor(xq), fast), lib.tensor(yq), label_smoothing=0.1)
        meta = meta + F.mse_loss(net(lib.tensor(xq), fast), lib.zeros(5, 3))
        meta.backward()
        return (meta,) + tuple(p.grad for p in params)
    _same(fn)


def test_hessian_vector_product_and_backward_create_graph_grad():
    def fn(lib):
        x = lib.tensor(X[0], requires_grad=True)
        v = lib.tensor(W[:, 0])
        y = (x.exp() * x.sum() + x.pow(3)).sum() + (x[:, None] * x[None, :]).tanh().sum()
        y.backward(create_graph=True)
        g = x.grad
        hv, = lib.autograd.grad(g, x, grad_outputs=v)
        return g, hv, g.requires_grad
    want, got = fn(torch), fn(ts)
    np.testing.assert_allclose(_np(got[0]), _np(want[0]), rtol=1e-7)
    np.testing.assert_allclose(_np(got[1]), _np(want[1]), rtol=1e-7)
    assert got[2] is True and got[0].grad_fn is not None


def test_embedding_bce_and_mse_second_order():
    rng = np.random.default_rng(4)
    emb, idx = rng.standard_normal((6, 3)), rng.integers(0, 6, (2, 4))
    t = rng.random((2, 4))

    def fn(lib):
        F = lib.nn.functional
        w = lib.tensor(emb, requires_grad=True)
        e = F.embedding(lib.tensor(idx), w, padding_idx=2)
        p = e.sum(-1).sigmoid()
        loss = F.binary_cross_entropy(p, lib.tensor(t)) + F.mse_loss(e, lib.ones_like(e) * 0.5)
        loss = loss + F.binary_cross_entropy_with_logits(e.sum(-1), lib.tensor(t))
        g, = lib.autograd.grad(loss, w, create_graph=True)
        (g.pow(2).sum()).backward()
        return g, w.grad
    _same(fn)


def test_hooks_and_retain_grad_see_graph_gradients():
    def fn(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x.tanh()
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
        y = (h ** 2).sum()
        y.backward(create_graph=True)
        (x.grad.sum() + h.grad.sum()).backward()
        return x.grad, h.grad, np.array(seen)
    _same(fn)


def test_fused_op_without_graph_backward_raises_when_reached():
    # ctc_loss's gradient is formed in its forward (torch has no double backward of it either)
    x = ts.randn(5, 1, 4, dtype=ts.float64).log_softmax(-1).detach().requires_grad_()

    def loss():
        return ts.nn.functional.ctc_loss(x, ts.tensor([[1, 2]]), [5], [2]).pow(2)
    g, = ts.autograd.grad(loss(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), ts.autograd.grad(loss(), x)[0].numpy())
    with pytest.raises(RuntimeError, match="double backward through CTC"):
        g.pow(2).sum().backward()


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_fused_recurrent_layers_double_backward(mode):
    rng = np.random.default_rng(5)
    x, h0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((1, 2, 4))
    torch.manual_seed(0)
    ref = getattr(torch.nn, mode)(3, 4).double()
    lengths = [5, 3]

    def fn(lib):
        m = getattr(lib.nn, mode)(3, 4).double()
        m.load_state_dict({k: lib.tensor(v.numpy()) for k, v in ref.state_dict().items()})
        xs = lib.tensor(x, requires_grad=True)
        hx = lib.tensor(h0, requires_grad=True)
        state = (hx, hx * 0.5) if mode == "LSTM" else hx
        packed = lib.nn.utils.rnn.pack_padded_sequence(xs, lengths)
        y, _ = m(packed, state)
        y, _ = lib.nn.utils.rnn.pad_packed_sequence(y)
        gx, gh = lib.autograd.grad((y.tanh() ** 2).sum(), (xs, hx), create_graph=True)
        (gx.pow(2).sum() + gh.sum()).backward()
        return (gx, gh, xs.grad, hx.grad) + tuple(p.grad for p in m.parameters())
    _same(fn, rtol=1e-6, atol=1e-8)


def test_autograd_functional_second_order_tools():
    rng = np.random.default_rng(6)
    a, b, v = rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal(3)
    vo = rng.standard_normal(2)

    def scalar(x, y):
        return (x.exp() * (y @ x).tanh().sum()).sum() + (x * x).sum() * y.pow(2).sum()

    def vector(x, y):
        return (y @ x.sin()) * x[:2]

    def fn(lib):
        AF = lib.autograd.functional
        x, y, w = lib.tensor(a), lib.tensor(b), lib.tensor(v)
        hx = AF.hessian(lambda x: scalar(x, y), x)
        (hxx, hxy), (hyx, hyy) = AF.hessian(scalar, (x, y))
        o1, vh = AF.vhp(lambda x: scalar(x, y), x, w)
        o2, hv = AF.hvp(lambda x: scalar(x, y), x, w)
        o3, jv = AF.jvp(lambda x: vector(x, y), x, w)
        o4, vj = AF.vjp(lambda x: vector(x, y), x, lib.tensor(vo))
        j = AF.jacobian(lambda x: vector(x, y), x, create_graph=True)
        return hx, hxx, hxy, hyx, hyy, o1, vh, o2, hv, o3, jv, o4, vj, j
    _same(fn)


def test_autograd_functional_create_graph_reaches_the_inputs():
    def fn(lib):
        x = lib.tensor(X[0], requires_grad=True)
        _, hv = lib.autograd.functional.hvp(lambda z: (z.exp() * z).sum(), x, lib.ones(3), create_graph=True)
        hv.sum().backward()
        return hv, x.grad
    _same(fn)


@pytest.mark.cuda
def test_double_backward_on_cuda_matches_cpu():
    results = []
    for dev in ("cpu", "cuda"):
        x = ts.tensor(X, device=dev, requires_grad=True)
        w = ts.tensor(W, device=dev, requires_grad=True)
        F = ts.nn.functional
        y = F.log_softmax((x @ w).tanh(), 1).sum() + (x.exp() * x[:, :1]).sum() + F.linear(x, w.t()).pow(2).sum()
        g, = ts.autograd.grad(y, x, create_graph=True)
        g.pow(2).sum().backward()
        results.append([t.cpu().detach().numpy() for t in (g, x.grad, w.grad)])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_dcgan_critic_gradient_penalty_through_conv2d_and_pools():
    torch.manual_seed(1)

    def critic(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                             nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2), nn.MaxPool2d(2),
                             nn.InstanceNorm2d(4, affine=True), nn.Conv2d(4, 3, 1), nn.AvgPool2d(2, ceil_mode=True),
                             nn.Flatten(), nn.Linear(3, 1)).double()
    state = critic(torch).state_dict()
    real = np.random.default_rng(7).standard_normal((3, 2, 9, 9))

    def fn(lib):
        D = critic(lib)
        D.load_state_dict({k: lib.tensor(v.numpy()) for k, v in state.items()})
        x = lib.tensor(real, requires_grad=True)
        g, = lib.autograd.grad(D(x).sum(), x, create_graph=True)
        gp = ((g.reshape(3, -1).norm(2, dim=1) - 1) ** 2).mean()
        gp.backward()
        return (g, gp, x.grad) + tuple(p.grad for p in D.parameters())
    _same(fn)


def test_once_differentiable_raises_torchs_error_when_reached():
    class Square(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @ts.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    x = ts.tensor(X, requires_grad=True)
    # torch wraps a once_differentiable gradient only when an incoming gradient requires grad
    go = ts.ones((), dtype=x.dtype, requires_grad=True)
    g, = ts.autograd.grad(Square.apply(x).sum(), x, grad_outputs=go, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * X)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
