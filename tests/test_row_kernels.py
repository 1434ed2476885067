"""kernels/rows_cpu.py (softmax, log_softmax, their backwards, layer_norm, the cross_entropy
softmax) against torch, through both paths: the row kernels and numpy's passes, chosen by
tuning.ROWS_KERNEL_MIN_ELEMENTS (forced here with TINYGRAD_SEQ_TUNE_ variables)."""
import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import backend_cpu

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [np.float32, np.float64]
# (rows, C): below and above the kernel and split thresholds, odd C, C = 1, a long row
SHAPES = [(3, 5), (7, 1), (33, 17), (64, 513), (600, 512), (2, 10000), (2, 50000)]


@pytest.fixture(params=["kernel", "numpy"])
def path(request, monkeypatch):
    """Each test twice: every call on the row kernels (threshold 0, rows split from 4096 elements),
    and every call on numpy's passes."""
    if request.param == "kernel":
        monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_KERNEL_MIN_ELEMENTS", "0")
        monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_SPLIT_MIN_ELEMENTS", "4096")
    else:
        monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_KERNEL_MIN_ELEMENTS", str(1 << 40))
    return request.param


def _close(ours, theirs, dtype, **tol):
    if dtype == np.float64:
        tol = {"rtol": 1e-12, "atol": 1e-12, **tol}
    torch.testing.assert_close(torch.from_numpy(np.asarray(ours)), theirs.detach(), equal_nan=True, **tol)


def _data(shape, dtype, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_forward_and_backward_match_torch(path, name, shape, dtype):
    X, G = _data(shape, dtype)
    x, tx = ts.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = getattr(F, name)(x, -1), getattr(TF, name)(tx, -1)
    _close(y.detach().numpy(), ty, dtype)
    y.backward(ts.tensor(G))
    ty.backward(torch.tensor(G))
    if dtype == np.float32 and shape[1] >= 10000:
        # torch sums the 10000+ gradients of a row in float32 (error ~1e-5 of the sum); ours in
        # float64: no farther from the exact gradient (from the float64 forward) than torch's
        exact = _exact_backward(name, G, getattr(TF, name)(torch.tensor(X.astype(np.float64)), -1).numpy())
        assert np.abs(x.grad.numpy() - exact).max() <= max(np.abs(tx.grad.numpy() - exact).max(), 1e-5)
    else:
        _close(x.grad.numpy(), tx.grad, dtype)


def _exact_backward(name, g, y):
    g, y = g.astype(np.float64), y.astype(np.float64)
    if name == "softmax":
        return y * (g - (g * y).sum(-1, keepdims=True))
    return g - np.exp(y) * g.sum(-1, keepdims=True)


def test_the_forced_thresholds_choose_the_path(monkeypatch):
    x = np.ones((4, 8), np.float32)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_KERNEL_MIN_ELEMENTS", "0")
    assert backend_cpu._row_kernels(x, -1) is not None
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_KERNEL_MIN_ELEMENTS", "33")
    assert backend_cpu._row_kernels(x, -1) is None
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_KERNEL_MIN_ELEMENTS", "0")
    assert backend_cpu._row_kernels(x, 0) is None                              # not the last axis
    assert backend_cpu._row_kernels(x.T, -1) is None                           # not contiguous
    assert backend_cpu._row_kernels(x.astype(np.float16), -1) is None          # another dtype
    assert backend_cpu._row_kernels(np.ones((0, 8), np.float32), -1) is None   # empty


SPECIAL_ROWS = [
    [-np.inf] * 5,                       # all -inf: nan, as torch's
    [1.0, np.inf, 2.0, -1.0, 0.0],       # a +inf
    [np.inf, np.inf, 1.0, 2.0, 3.0],
    [1.0, np.nan, 2.0, 3.0, 4.0],        # a nan
    [-np.inf, 0.5, -np.inf, 1.0, 2.0],   # some -inf
    [3e38, -3e38, 1e38, 0.0, 1.0],       # huge (float32)
    [1e-40, -1e-42, 0.0, -0.0, 1e-45],   # tiny and signed zeros
    [100.0, -100.0, 50.0, 0.0, 88.0],    # exp underflows
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_special_values_match_torch(path, name, dtype):
    X = np.array(SPECIAL_ROWS * 40, dtype)   # 40 copies: above the split threshold of the fixture
    tx = torch.tensor(X)
    with np.errstate(all="ignore"):
        y = getattr(F, name)(ts.tensor(X), -1)
    _close(y.numpy(), getattr(TF, name)(tx, -1), dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_other_dims_and_layouts_fall_back_and_stay_right(path, name):
    X, G = _data((6, 40, 30), np.float32)
    for dim, arr in ((1, X), (0, X), (-1, X.transpose(0, 2, 1)), (-1, X[:, ::2, :])):
        x, tx = ts.tensor(arr, requires_grad=True), torch.tensor(np.ascontiguousarray(arr), requires_grad=True)
        y, ty = getattr(F, name)(x, dim), getattr(TF, name)(tx, dim)
        _close(y.detach().numpy(), ty, np.float32)
        g = np.ascontiguousarray(G.reshape(-1)[: arr.size].reshape(arr.shape))
        y.backward(ts.tensor(g))
        ty.backward(torch.tensor(g))
        _close(x.grad.numpy(), tx.grad, np.float32)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck_and_double_backward(path, name):
    X, _ = _data((5, 70), np.float64, seed=2, scale=1.0)
    x = ts.tensor(X, requires_grad=True)
    assert ts.gradcheck(lambda t: getattr(F, name)(t, -1), (x,))
    # double backward: d/dx sum(grad * v) with a weighted output, against torch
    V, W = _data((5, 70), np.float64, seed=3)
    tx = torch.tensor(X, requires_grad=True)
    (gx,) = ts.autograd.grad((getattr(F, name)(x, -1) * ts.tensor(W)).sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad((getattr(TF, name)(tx, -1) * torch.tensor(W)).sum(), tx, create_graph=True)
    (gx * ts.tensor(V)).sum().backward()
    (tgx * torch.tensor(V)).sum().backward()
    _close(gx.detach().numpy(), tgx, np.float64)
    _close(x.grad.numpy(), tx.grad, np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,normalized", [((3, 5), (5,)), ((7, 1), (1,)), ((33, 17), (17,)), ((64, 513), (513,)),
                                              ((600, 512), (512,)), ((2, 50000), (50000,)), ((4, 6, 10, 12), (10, 12))])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_matches_torch(path, shape, normalized, affine, dtype):
    X, G = _data(shape, dtype)
    rng = np.random.default_rng(5)
    W, B = rng.standard_normal(normalized).astype(dtype), rng.standard_normal(normalized).astype(dtype)
    x, tx = ts.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    w = ts.tensor(W, requires_grad=True) if affine in ("both", "weight") else None
    b = ts.tensor(B, requires_grad=True) if affine in ("both", "bias") else None
    tw = torch.tensor(W, requires_grad=True) if w is not None else None
    tb = torch.tensor(B, requires_grad=True) if b is not None else None
    y, ty = F.layer_norm(x, normalized, w, b), TF.layer_norm(tx, normalized, tw, tb)
    assert y.grad_fn.name() == ty.grad_fn.name() == "NativeLayerNormBackward0"
    _close(y.detach().numpy(), ty, dtype)
    y.backward(ts.tensor(G))
    ty.backward(torch.tensor(G))
    # C = 1: the exact dx is 0; torch's formula leaves rounding noise of |x| rstd^3 eps there
    _close(x.grad.numpy(), tx.grad, dtype, **({"atol": 1e-4, "rtol": 0} if normalized == (1,) else {}))
    # dw / db sum over up to 600 rows: torch adds them in float32 (1e-4 off the exact sum at
    # 600 x 512, where ours adds in float64)
    loose = {"rtol": 1e-4, "atol": 1e-3} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    if w is not None:
        _close(w.grad.numpy(), tw.grad, dtype, **loose)
    if b is not None:
        _close(b.grad.numpy(), tb.grad, dtype, **loose)


@pytest.mark.parametrize("elementwise_affine", [True, False])
def test_nn_layer_norm_goes_through_the_node(path, elementwise_affine):
    X, G = _data((50, 3, 40), np.float32)
    m = ts.nn.LayerNorm((3, 40), elementwise_affine=elementwise_affine)
    tm = torch.nn.LayerNorm((3, 40), elementwise_affine=elementwise_affine)
    x, tx = ts.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = m(x), tm(tx)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    y.backward(ts.tensor(G))
    ty.backward(torch.tensor(G))
    _close(y.detach().numpy(), ty, np.float32)
    _close(x.grad.numpy(), tx.grad, np.float32)
    if elementwise_affine:
        _close(m.weight.grad.numpy(), tm.weight.grad, np.float32, rtol=1e-4, atol=1e-4)
        _close(m.bias.grad.numpy(), tm.bias.grad, np.float32, rtol=1e-4, atol=1e-4)


def test_layer_norm_non_contiguous_input_and_gradcheck_and_double_backward(path):
    X, G = _data((8, 60), np.float64, seed=4, scale=1.0)
    Xt = np.asfortranarray(X)   # not C-contiguous: falls back
    x, tx = ts.tensor(Xt, requires_grad=True), torch.tensor(X, requires_grad=True)
    _close(F.layer_norm(x, (60,)).detach().numpy(), TF.layer_norm(tx, (60,)), np.float64)
    rng = np.random.default_rng(6)
    x = ts.tensor(X[:3, :9].copy(), requires_grad=True)
    w, b = ts.tensor(rng.standard_normal(9), requires_grad=True), ts.tensor(rng.standard_normal(9), requires_grad=True)
    assert ts.gradcheck(lambda x, w, b: F.layer_norm(x, (9,), w, b), (x, w, b))
    # double backward against torch
    W, V = rng.standard_normal(60), rng.standard_normal((8, 60))
    x, tx = ts.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    w, tw = ts.tensor(W, requires_grad=True), torch.tensor(W, requires_grad=True)
    gx, gw = ts.autograd.grad((F.layer_norm(x, (60,), w) * ts.tensor(G)).sum(), (x, w), create_graph=True)
    tgx, tgw = torch.autograd.grad((TF.layer_norm(tx, (60,), tw) * torch.tensor(G)).sum(), (tx, tw), create_graph=True)
    ((gx * ts.tensor(V)).sum() + gw.sum()).backward()
    ((tgx * torch.tensor(V)).sum() + tgw.sum()).backward()
    _close(x.grad.numpy(), tx.grad, np.float64, rtol=1e-10, atol=1e-10)
    _close(w.grad.numpy(), tw.grad, np.float64, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, {"ignore_index": 3}, {"weight": True}, {"label_smoothing": 0.2},
                                     {"weight": True, "ignore_index": 1, "label_smoothing": 0.1},
                                     {"reduction": "sum"}, {"reduction": "none"}])
@pytest.mark.parametrize("shape", [(7, 5), (300, 1000)])
def test_cross_entropy_unchanged_against_torch(path, shape, options, dtype):
    M, C = shape
    X, _ = _data(shape, dtype)
    rng = np.random.default_rng(7)
    T = rng.integers(0, C, M)
    T[::4] = options.get("ignore_index", 0)
    kw, tkw = dict(options), dict(options)
    if options.get("weight"):
        Wc = rng.random(C).astype(dtype)
        kw["weight"], tkw["weight"] = ts.tensor(Wc), torch.tensor(Wc)
    x, tx = ts.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    loss, tloss = F.cross_entropy(x, ts.tensor(T), **kw), TF.cross_entropy(tx, torch.tensor(T), **tkw)
    _close(loss.detach().numpy(), tloss, dtype, **({"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {}))
    loss.sum().backward()
    tloss.sum().backward()
    _close(x.grad.numpy(), tx.grad, dtype)
