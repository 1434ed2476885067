"""The "cuda" device end to end: every op the models use against its CPU twin (float64, tight),
recurrent layers, and whole training steps on "cuda" against "cpu". Runs in Numba's CUDA
simulator on CI (NUMBA_ENABLE_CUDASIM=1, tiny shapes) and on a real GPU when one is present."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn, optim

cuda = pytest.mark.cuda
RNG = np.random.default_rng(0)


def pair(shape, dtype=np.float64, positive=False):
    a = RNG.standard_normal(shape).astype(dtype)
    if positive:
        a = np.abs(a) + 0.5
    return ts.Tensor(a, requires_grad=True), ts.Tensor(a, requires_grad=True, device="cuda")


OPS = {
    "add_broadcast": (lambda a, b: a + b, [(2, 3), (3,)]),
    "sub_scalar": (lambda a: 2.0 - a, [(2, 3)]),
    "mul_broadcast": (lambda a, b: a * b, [(2, 1, 3), (4, 1)]),
    "div": (lambda a, b: a / b, [(2, 3), "pos(2, 3)"]),
    "pow": (lambda a: a ** 3, [(2, 3)]),
    "neg_exp_log": (lambda a: (-a).exp() + a.log(), ["pos(3,)"]),
    "tanh_sigmoid_relu": (lambda a: a.tanh() * a.sigmoid() + a.relu(), [(2, 3)]),
    "abs_sqrt": (lambda a: a.abs().sqrt(), ["pos(5,)"]),
    "clamp_maximum": (lambda a, b: a.clamp(-0.5, 0.5) + a.maximum(b), [(2, 3), (2, 3)]),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "bmm_broadcast": (lambda a, b: a @ b, [(2, 2, 3), (3, 2)]),
    "matvec": (lambda a, b: a @ b, [(2, 3), (3,)]),
    "sum_dims": (lambda a: a.sum(1) + a.sum((0, 1), keepdim=True).reshape(1) + a.mean(), [(2, 3)]),
    "max": (lambda a: a.max(1)[0] + a.max(), [(2, 3)]),
    "reshape_permute": (lambda a: a.reshape(3, 2).permute(1, 0).transpose(0, 1).unsqueeze(0).squeeze(0), [(2, 3)]),
    "getitem_basic": (lambda a: a[1, 1:] + a[0][::2].sum(), [(3, 3)]),
    "getitem_element": (lambda a: a[0, 1] * a[-1, -1] + a[1, 0], [(2, 3)]),
    "getitem_fancy": (lambda a: a[np.array([0, 2, 0])], [(3, 2)]),
    "cat_stack": (lambda a, b: ts.cat([a, b], 0).sum(0) + ts.stack([a, b], 1).sum((1, 2)).sum(), [(2, 3), (2, 3)]),
    "masked_fill": (lambda a: a.masked_fill(ts.Tensor(np.array([[True, False, True]]), device=a.device), -1.0), [(2, 3)]),
    "softmax": (lambda a: F.softmax(a, 1) * F.log_softmax(a, 0), [(2, 3)]),
    "expand": (lambda a: a.expand(2, 3, 3), [(3, 1)]),
}


def _make(spec):
    if isinstance(spec, str):
        return pair(eval(spec[3:]), positive=True)
    return pair(spec)


@cuda
@pytest.mark.parametrize("name", list(OPS))
def test_op_matches_cpu(name):
    fn, specs = OPS[name]
    pairs = [_make(s) for s in specs]
    cpu_in, gpu_in = [p[0] for p in pairs], [p[1] for p in pairs]
    out_c, out_g = fn(*cpu_in), fn(*gpu_in)
    assert out_g.device == "cuda"
    np.testing.assert_allclose(out_g.numpy(), out_c.numpy(), rtol=1e-10, atol=1e-12)
    w = RNG.standard_normal(out_c.shape)
    (out_c * ts.Tensor(w)).sum().backward()
    (out_g * ts.Tensor(w, device="cuda")).sum().backward()
    for c, g in zip(cpu_in, gpu_in):
        np.testing.assert_allclose(g.grad.numpy(), c.grad.numpy(), rtol=1e-10, atol=1e-12)


EDGE_CASES = {   # the points where a plain composition gives 0 * inf (tests/test_grad_edges.py on the CPU)
    "pow_0": (lambda x: x ** 0, [0.0, -2.0]),
    "norm_zero_row": (lambda x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]]),
    "norm_p3_zero_row": (lambda x: x.norm(p=3, dim=1), [[0.0, 0.0], [3.0, 4.0]]),
    "std_constant_row": (lambda x: x.std(1), [[2.0, 2.0], [1.0, 3.0]]),
    "cross_entropy_all_ignored": (lambda x: F.cross_entropy(x, ts.tensor([-100, -100], device=x.device)),
                                  [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]),
}


@cuda
@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_gradients_match_cpu(name):
    fn, data = EDGE_CASES[name]
    grads = []
    for device in ("cpu", "cuda"):
        x = ts.tensor(np.array(data), requires_grad=True, device=device)
        fn(x).sum().backward()
        grads.append(x.grad.numpy())
    assert np.isfinite(grads[0]).all()
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


@cuda
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_and_embedding_match_cpu(reduction):
    xc, xg = pair((4, 5))
    target = np.array([0, 4, -100, 2])
    lc = F.cross_entropy(xc, ts.Tensor(target), reduction=reduction)
    lg = F.cross_entropy(xg, ts.Tensor(target, device="cuda"), reduction=reduction)
    np.testing.assert_allclose(lg.numpy(), lc.numpy(), rtol=1e-10)
    lc.sum().backward()
    lg.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xc.grad.numpy(), rtol=1e-10, atol=1e-12)
    wc, wg = pair((6, 3))
    idx = np.array([[1, 5], [1, 0]])
    ec = F.embedding(ts.Tensor(idx), wc, padding_idx=0)
    eg = F.embedding(ts.Tensor(idx, device="cuda"), wg, padding_idx=0)
    (ec * ec).sum().backward()
    (eg * eg).sum().backward()
    np.testing.assert_allclose(eg.numpy(), ec.numpy())
    np.testing.assert_allclose(wg.grad.numpy(), wc.grad.numpy(), rtol=1e-10, atol=1e-12)


@cuda
@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_recurrent_layers_match_cpu(cls):
    layer_c = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    layer_g = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    layer_g.load_state_dict(layer_c.state_dict())
    layer_g.to("cuda")
    xc, xg = pair((2, 3, 3))
    lengths = [3, 2]
    oc, sc = layer_c(xc, lengths=lengths)
    og, sg = layer_g(xg, lengths=lengths)
    hc, hg = (sc[0], sg[0]) if cls is nn.LSTM else (sc, sg)
    np.testing.assert_allclose(og.numpy(), oc.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hg.numpy(), hc.numpy(), rtol=1e-10, atol=1e-12)
    ((oc * oc).sum() + hc.sum()).backward()
    ((og * og).sum() + hg.sum()).backward()
    np.testing.assert_allclose(xg.grad.numpy(), xc.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (name, pc), pg in zip(layer_c.named_parameters(), layer_g.parameters()):
        np.testing.assert_allclose(pg.grad.numpy(), pc.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def _lm(device):
    ts.manual_seed(1)
    model = nn.ModuleList([nn.Embedding(7, 4), nn.LSTM(4, 5, num_layers=2), nn.Linear(5, 7)]).double()
    return model.to(device)


@cuda
@pytest.mark.parametrize("opt_name", ["Adam", "SGD"])
def test_lm_training_steps_match_cpu(opt_name):
    tokens = RNG.integers(0, 7, size=(5, 2))
    results = []
    for device in ("cpu", "cuda"):
        model = _lm(device)
        emb, lstm, head = model
        opt = optim.Adam(model.parameters(), lr=0.01) if opt_name == "Adam" else \
            optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        inp = ts.Tensor(tokens[:-1], device=device)
        tgt = ts.Tensor(tokens[1:].reshape(-1), device=device)
        for _ in range(2):
            opt.zero_grad()
            out, _ = lstm(emb(inp))
            loss = F.cross_entropy(head(out).reshape(-1, 7), tgt)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        results.append({k: v for k, v in model.state_dict().items()})
    for k in results[0]:
        np.testing.assert_allclose(results[1][k], results[0][k], rtol=1e-9, atol=1e-11, err_msg=k)


@cuda
def test_setitem_element_and_overlapping_slices():
    host = np.arange(100.0).reshape(50, 2)
    ref = host.copy()
    g = ts.Tensor(host, device="cuda")
    g[1:] = g[:-1]          # source and destination share memory: copied first, as numpy does
    ref[1:] = ref[:-1]
    g[0, 1] = 7.0           # one element: numba would hand back a host scalar for g[0, 1]
    ref[0, 1] = 7.0
    g[-1, -2] = g[3, 1]
    ref[-1, -2] = ref[3, 1]
    np.testing.assert_array_equal(g.numpy(), ref)
    with pytest.raises(IndexError):
        g[50, 0] = 1.0
    one = g[0, 1]           # an element read is a copy, as on "cpu"
    g[0, 1] = 100.0
    assert one.numpy() == 7.0


@cuda
def test_device_moves_and_mixing_errors():
    a = ts.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    g = a.to("cuda")
    assert g.device == "cuda" and a.device == "cpu"
    back = (g * 2).to("cpu")
    back.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(RuntimeError, match="cpu and cuda|cuda and cpu"):
        g + ts.Tensor(np.ones(3))
    lin = nn.Linear(3, 2).to("cuda")
    assert all(p.device == "cuda" for p in lin.parameters())
    with pytest.raises(RuntimeError, match="cuda"):
        lin(ts.Tensor(np.ones((1, 3), np.float32)))
    assert ts.cuda_available()


@cuda
def test_torchs_device_conveniences():
    """A 0-d cpu tensor is a scalar to a cuda one (its gradient comes back to the cpu);
    ts.tensor(cuda tensor) stays on cuda; .cuda(0), .cuda(non_blocking=True), Module.cuda(0)."""
    w = ts.ones(2, device="cuda", requires_grad=True)
    lr = ts.tensor(0.5, requires_grad=True)
    y = w * lr
    assert y.device == "cuda" and (ts.tensor(3.0) * w).tolist() == [3.0, 3.0]
    y.sum().backward()
    assert w.grad.tolist() == [0.5, 0.5] and lr.grad.item() == 2.0 and lr.grad.device == "cpu"
    with pytest.raises(RuntimeError, match="cuda and cpu"):
        w * ts.ones(2)   # a cpu tensor with dimensions is refused, as torch's
    assert ts.tensor(w).device == "cuda" and ts.tensor(w, device="cpu").device == "cpu"
    assert ts.ones(2).cuda(0).device == "cuda" and ts.ones(2).cuda(non_blocking=True).device == "cuda"
    assert all(p.device == "cuda" for p in nn.Linear(2, 2).cuda(0).parameters())


def test_cuda_without_gpu_says_so():
    """No GPU and no simulator: asking for "cuda" raises an error that says so."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    code = ("import tinygrad_seq as ts\n"
            "if ts.cuda_available():\n    print('HAS-GPU')\n"
            "else:\n"
            "    try:\n        ts.zeros(2, device='cuda')\n"
            "    except RuntimeError as e:\n        print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300).stdout
    if "HAS-GPU" in out:
        pytest.skip("a GPU is present")
    assert "ERR" in out and "no CUDA GPU is available" in out and "NUMBA_ENABLE_CUDASIM" in out


def test_cpu_import_does_not_load_numba_cuda():
    code = ("import sys, numpy as np, tinygrad_seq as ts\n"
            "from tinygrad_seq import nn\n"
            "m = nn.LSTM(2, 3); out, _ = m(ts.randn(4, 1, 2)); out.sum().backward()\n"
            "print('numba.cuda' in sys.modules, 'tinygrad_seq.backend_cuda' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["False", "False"], out.stderr
