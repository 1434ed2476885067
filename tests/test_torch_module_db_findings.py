"""The findings of an audit driven by torch's own test databases (module_db, optim_db, torch 2.13):
each compares with torch in the same test."""
import warnings
import numpy as np
import pytest
torch = pytest.importorskip("torch")
import tinygrad_seq as ts


def test_prelu_0d_input_keeps_0d_shape():
    # module_db PReLU sample 0 ("scalar input"): torch returns a 0-d tensor, ours (1,)
    x = np.float64(-0.7)
    t = torch.nn.PReLU().double()(torch.tensor(x, requires_grad=True))
    o = ts.nn.PReLU().double()(ts.tensor(x, requires_grad=True))
    assert tuple(o.shape) == tuple(t.shape) == ()
    tf = torch.nn.functional.prelu(torch.tensor(x), torch.tensor([0.25], dtype=torch.float64))
    of = ts.nn.functional.prelu(ts.tensor(x), ts.tensor([0.25], dtype=ts.float64))
    assert tuple(of.shape) == tuple(tf.shape) == ()
    assert np.allclose(of.numpy(), tf.numpy())


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (0, 5, 9)), ("BatchNorm2d", (0, 5, 2, 2))])
def test_batchnorm_empty_batch_in_training(cls, shape):
    # module_db BatchNorm1d sample 6 / BatchNorm2d sample 5: torch returns an empty output
    t = getattr(torch.nn, cls)(5)(torch.zeros(shape, requires_grad=True))
    o = getattr(ts.nn, cls)(5)(ts.zeros(*shape, requires_grad=True))
    assert tuple(o.shape) == tuple(t.shape)


@pytest.mark.parametrize("eps", [0.0, -1.0])
def test_batchnorm_nonpositive_eps_refused_in_training(eps):
    # module_db BatchNorm error inputs: torch raises ValueError "eps must be positive during training"
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(10, eps=eps)(torch.randn(2, 10))
    with pytest.raises(ValueError):
        ts.nn.BatchNorm1d(10, eps=eps)(ts.randn(2, 10))


def test_batchnorm_functional_negative_eps_refused():
    with pytest.raises(ValueError):
        torch.nn.functional.batch_norm(torch.ones(4, 3), torch.zeros(3), torch.ones(3), eps=-1.0)
    with pytest.raises(ValueError):
        ts.nn.functional.batch_norm(ts.ones(4, 3), ts.zeros(3), ts.ones(3), eps=-1.0)


@pytest.mark.parametrize("delta", [1 + 2j, "1"])
def test_huberloss_non_real_delta_refused(delta):
    # module_db HuberLoss error input: torch raises TypeError at construction
    with pytest.raises(TypeError):
        torch.nn.HuberLoss(delta=delta)
    with pytest.raises(TypeError):
        ts.nn.HuberLoss(delta=delta)


def test_optimizer_refuses_named_and_unnamed_groups_mixed():
    # optim_db error input "all optimizer param groups should be with/without names"
    w, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError):
        torch.optim.SGD([{"params": [("w", w)]}, {"params": [b]}], lr=0.1)
    W, B = ts.nn.Parameter(ts.ones(2)), ts.nn.Parameter(ts.ones(2))
    with pytest.raises(ValueError):
        ts.optim.SGD([{"params": [("w", W)]}, {"params": [B]}], lr=0.1)


def test_optimizer_add_param_group_refuses_unnamed_after_named():
    w, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    o = torch.optim.Adam([("w", w)], lr=0.1)
    with pytest.raises(ValueError):
        o.add_param_group({"params": [b]})
    W, B = ts.nn.Parameter(ts.ones(2)), ts.nn.Parameter(ts.ones(2))
    oo = ts.optim.Adam([("w", W)], lr=0.1)
    with pytest.raises(ValueError):
        oo.add_param_group({"params": [B]})


@pytest.mark.parametrize("fn,kw", [("logsigmoid", {}), ("softplus", {"beta": 2, "threshold": -100})])
def test_double_backward_softplus_logsigmoid_0d(fn, kw):
    # module_db LogSigmoid "scalar" / Softplus "beta_threshold_scalar" samples, gradgrad
    res = []
    for lib in (torch, ts):
        x = lib.tensor(-3.1742, dtype=lib.float64, requires_grad=True)
        y = getattr(lib.nn.functional, fn)(x, **kw)
        g, = lib.autograd.grad(y * 1.5, x, create_graph=True)
        g2, = lib.autograd.grad(g * 0.7, x)
        res.append(float(g2.numpy() if lib is ts else g2.detach().numpy()))
    assert np.isclose(res[0], res[1], rtol=1e-10)


def test_cross_entropy_all_ignored_double_backward_not_nan():
    # module_db CrossEntropyLoss sample "2d_ignore_index_mean" (every target == ignore_index), gradgrad
    x = np.array([[-1.9, 6.2, 3.4], [6.7, 8.0, -3.3]])
    out = []
    for lib in (torch, ts):
        X = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(X, lib.tensor([1, 1]), ignore_index=1)
        g, = lib.autograd.grad(loss, X, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), X)
        out.append((np.asarray(g.detach().numpy()), np.asarray(g2.detach().numpy())))
    np.testing.assert_array_equal(out[1][0], out[0][0])   # torch: zeros
    np.testing.assert_array_equal(out[1][1], out[0][1])


def test_kl_div_nonpositive_and_nan_target():
    # module_db KLDivLoss samples draw unconstrained targets: torch's xlogy(t, t) - t * x gives
    # nan for t < 0 and a nan target gradient at t = 0 or t = nan; ours a finite loss / gradient 1
    t_np = np.array([0.0, 0.5, -0.5, np.nan])
    a_np = np.array([-1.0, -1.0, -1.0, -1.0])
    res = []
    for lib in (torch, ts):
        t = lib.tensor(t_np, requires_grad=True); a = lib.tensor(a_np, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            l = lib.nn.functional.kl_div(a, t, reduction="none")
        l.sum().backward()
        res.append((np.asarray(l.detach().numpy()), np.asarray(t.grad.numpy())))
    np.testing.assert_array_equal(np.isnan(res[1][0]), np.isnan(res[0][0]))
    np.testing.assert_array_equal(np.isnan(res[1][1]), np.isnan(res[0][1]))


_PIECEWISE = {   # x [2, 3, 6], x4 [2, 3, 6, 6] -> output
    "max_full": lambda L, x, x4: x.max(), "amin": lambda L, x, x4: x.amin(1), "amax": lambda L, x, x4: x.amax(2),
    "clamp": lambda L, x, x4: x.clamp(-0.5, 0.5), "hardtanh": lambda L, x, x4: L.nn.functional.hardtanh(x),
    "max_pool1d": lambda L, x, x4: L.nn.functional.max_pool1d(x, 2),
    "max_pool1d_unbatched": lambda L, x, x4: L.nn.functional.max_pool1d(x[0], 2),
    "MaxPool1d": lambda L, x, x4: L.nn.MaxPool1d(3, 2)(x),
    "max_pool2d": lambda L, x, x4: L.nn.functional.max_pool2d(x4, 2),
    "adaptive_max_pool1d": lambda L, x, x4: L.nn.functional.adaptive_max_pool1d(x, 4),
    "adaptive_max_pool2d": lambda L, x, x4: L.nn.functional.adaptive_max_pool2d(x4, 4),
    "reflect1d": lambda L, x, x4: L.nn.functional.pad(x, (2, 1), mode="reflect"),
    "replicate2d": lambda L, x, x4: L.nn.functional.pad(x4, (1, 1, 2, 0), mode="replicate"),
    "circular": lambda L, x, x4: L.nn.functional.pad(x, (2, 1), mode="circular"),
    "nll": lambda L, x, x4: L.nn.functional.nll_loss(x[:, :, 0], L.tensor([0, 2])),
}


@pytest.mark.parametrize("case", sorted(_PIECEWISE))
def test_piecewise_linear_gradient_requires_grad_as_torch(case):
    # module_db gradgrad of pure max pools / reflection pads: torch's gradient under create_graph
    # requires grad (their backward reads the input; a zero second derivative), clamp's / amax's not
    rng = np.random.default_rng(0)
    xn, x4n = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 6, 6))
    res = []
    for lib in (torch, ts):
        x, x4 = lib.tensor(xn, requires_grad=True), lib.tensor(x4n, requires_grad=True)
        y = _PIECEWISE[case](lib, x, x4)
        g = [t for t in lib.autograd.grad(y, (x, x4), lib.ones_like(y), create_graph=True, allow_unused=True)
             if t is not None][0]
        r = [g.requires_grad]
        if g.requires_grad:
            r += [None if t is None else float(t.abs().sum())
                  for t in lib.autograd.grad(g.sum(), (x, x4), allow_unused=True)]
        res.append(r)
    assert res[1] == res[0]
