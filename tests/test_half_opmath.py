"""float16 computed as torch's CPU kernels compute it (half_opmath.py): activations, norms, a
Python number meeting a float16 tensor, softmax's dtype. Values compared with torch 2.13 bit for
bit where torch rounds once; the gradients likewise."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

RS = np.random.RandomState(24)
X = (RS.randn(40, 50) * 3).astype(np.float16)
Y = (RS.randn(40, 50) * 3).astype(np.float16)
P = (RS.rand(40, 50) * 0.98 + 0.01).astype(np.float16)
G = RS.randn(40, 50).astype(np.float16)


def _ulps(a, b):
    with np.errstate(all="ignore"):
        u = np.abs(a.astype(np.float64) - b.astype(np.float64)) / np.spacing(np.abs(a)).astype(np.float64)
    return float(np.nanmax(np.where(np.isnan(a) & np.isnan(b), 0, u)))


# name -> (function of (lib, x, y, p), largest difference in float16 units in the last place)
# (before: sigmoid 2, silu 3, gelu tanh 1968, elu 99, selu 88, layer_norm 45, x * 0.1 ~35% of values off by 1)
FORWARD = {
    "sigmoid": (lambda L, x, y, p: x.sigmoid(), 0),
    "silu": (lambda L, x, y, p: L.nn.functional.silu(x), 1),
    "softplus": (lambda L, x, y, p: L.nn.functional.softplus(x), 0),
    "logsigmoid": (lambda L, x, y, p: L.nn.functional.logsigmoid(x), 0),
    "gelu": (lambda L, x, y, p: L.nn.functional.gelu(x), 3),
    "gelu_tanh": (lambda L, x, y, p: L.nn.functional.gelu(x, approximate="tanh"), 3),
    "elu": (lambda L, x, y, p: L.nn.functional.elu(x), 0),
    "celu": (lambda L, x, y, p: L.nn.functional.celu(x, 0.7), 0),
    "selu": (lambda L, x, y, p: L.nn.functional.selu(x), 0),
    "mish": (lambda L, x, y, p: L.nn.functional.mish(x), 0),
    "hardswish": (lambda L, x, y, p: L.nn.functional.hardswish(x), 0),
    "hardsigmoid": (lambda L, x, y, p: L.nn.functional.hardsigmoid(x), 0),
    "leaky_relu": (lambda L, x, y, p: L.nn.functional.leaky_relu(x, 0.01), 0),
    "glu": (lambda L, x, y, p: L.nn.functional.glu(x, -1), 1),
    "rsqrt": (lambda L, x, y, p: p.rsqrt(), 1),
    "logit": (lambda L, x, y, p: p.logit(), 0),
    "layer_norm": (lambda L, x, y, p: L.nn.functional.layer_norm(x, (50,)), 0),
    "group_norm": (lambda L, x, y, p: L.nn.functional.group_norm(x.view(4, 10, 50), 5), 0),
    "group_norm_half_params": (lambda L, x, y, p: L.nn.functional.group_norm(x.view(4, 10, 50), 5, p[0, :10],
                                                                             y[0, :10]), 0),
    "rms_norm": (lambda L, x, y, p: L.nn.functional.rms_norm(x, (50,)), 1),
    "mul_number": (lambda L, x, y, p: x * 0.1 + 0.3 * y, 0),
    # torch takes a numpy number or a 0-d float tensor as a scalar too
    "mul_scalars": (lambda L, x, y, p: x * np.float32(0.1) + y * L.tensor(0.3) - x / L.tensor(0.7, dtype=L.float64), 0),
    "div_number": (lambda L, x, y, p: x / 3.3, 0),
    "number_div": (lambda L, x, y, p: 3.3 / x, 0),
    "reciprocal": (lambda L, x, y, p: x.reciprocal(), 0),
    "mul_in_place": (lambda L, x, y, p: x.clone().mul_(0.1).div_(0.7), 0),
    # torch's vectorised loop (its element loop, for the last elements past a multiple of the vector
    # width, rounds other * alpha first: 5 of 2,000 here)
    "add_alpha": (lambda L, x, y, p: x.add(y, alpha=0.3).sub(x, alpha=0.7), 8),
    "addcmul": (lambda L, x, y, p: x.addcmul(y, p, value=0.3), 0),
    "addcdiv": (lambda L, x, y, p: x.addcdiv(y, p, value=0.3), 0),
    "lerp": (lambda L, x, y, p: x.lerp(y, 0.3), 1),
    # the bias added before rounding, as torch's addmm (before: 174 of 320 values 1 unit off)
    "linear_bias": (lambda L, x, y, p: L.nn.functional.linear(x, y[:20], p[0, :20]), 1),
    "conv1d_bias": (lambda L, x, y, p: L.nn.functional.conv1d(x[None, :10], y[:10, None, :3], p[0, :10], padding=2,
                                                              groups=10), 0),
    "softmax": (lambda L, x, y, p: x.softmax(-1), 0),
    "softmax_large": (lambda L, x, y, p: x.repeat(1, 30).softmax(-1), 1),
}


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_float16_forward_as_torch(name):
    fn, ulps = FORWARD[name]
    a = fn(torch, *(torch.tensor(v) for v in (X, Y, P))).numpy()
    b = fn(ts, *(ts.tensor(v) for v in (X, Y, P))).numpy()
    assert b.dtype == np.float16 == a.dtype
    assert _ulps(a, b) <= ulps


@pytest.mark.parametrize("shape", [(2, 4), (200, 100), (10, 2000)])
def test_float16_softmaxes_stay_float16(shape):
    # the row kernels (1,024 elements and more) returned their float32 result
    x = ts.tensor(np.random.RandomState(0).randn(*shape).astype(np.float16))
    F = ts.nn.functional
    for y in (ts.softmax(x, -1), F.log_softmax(x, -1), x.softmax(-1), ts.nn.Softmax(-1)(x), F.softmin(x, -1),
              ts.softmax(x, 0)):
        assert y.dtype == ts.float16


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "silu", "elu", "selu", "softplus", "mish", "hardswish",
                                  "mul_number", "div_number", "softmax", "rms_norm", "leaky_relu"])
def test_float16_gradients_as_torch(name):
    fns = dict(FORWARD, tanh=(lambda L, x, y, p: x.tanh(), 0))
    fn = fns[name][0]
    grads, names = [], []
    for L in (torch, ts):
        x = L.tensor(X[:8], requires_grad=True)
        out = fn(L, x, L.tensor(Y[:8]), L.tensor(P[:8]))
        out.backward(L.tensor(G[:8]))
        grads.append(x.grad.numpy())
        names.append(type(out.grad_fn).__name__ if L is torch else out.grad_fn.name())
    assert grads[1].dtype == np.float16 and _ulps(*grads) == 0
    assert names[0] == names[1]


def test_float16_conv1d_and_lerp_gradients_stay_torchs():
    # the forward rounded once (torch's), the gradients torch's float16 steps (half_opmath.rounded_once)
    rs = np.random.RandomState(1)
    x, w, b = rs.randn(2, 4, 9).astype(np.float16), rs.randn(4, 1, 3).astype(np.float16), rs.randn(4).astype(np.float16)
    e, wt = rs.randn(64, 64).astype(np.float16), (rs.rand(64, 64) + 0.5).astype(np.float16)
    g1, g2 = rs.randn(2, 4, 11).astype(np.float16), rs.randn(64, 64).astype(np.float16)
    got = []
    for L in (torch, ts):
        tx, tw, tb = (L.tensor(a, requires_grad=True) for a in (x, w, b))
        y = L.nn.functional.conv1d(tx, tw, tb, padding=2, groups=4)
        y.backward(L.tensor(g1))
        s, end, weight = (L.tensor(a, requires_grad=True) for a in (e[::-1].copy(), e, wt))
        z = s.lerp(end, weight)
        z.backward(L.tensor(g2))
        got.append([t.detach().numpy() for t in (y, tx.grad, tw.grad, tb.grad, z, s.grad, end.grad, weight.grad)])
    # units in the last place allowed: conv output, x, weight, bias; lerp output, self, end, weight
    # (self's gradient g (1 - w) is g - g w here, rounded twice: not compared)
    for a, b_, ulps in zip(*got, (0, 0, 1, 1, 2, None, 0, 0)):
        assert b_.dtype == np.float16 and (ulps is None or _ulps(a, b_) <= ulps)


@pytest.mark.parametrize("name, options", [("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
                                           ("LSTM", {"proj_size": 3}), ("GRU", {"batch_first": True}),
                                           ("RNN", {"bias": False})])
def test_float16_recurrent_layers_run_as_torchs(name, options):
    # torch runs .half() layers on the CPU; here in float32, the outputs rounded once (nn/rnn_half.py):
    # float16's precision apart, gradients in float16 on the float16 weights
    rs = np.random.RandomState(0)
    theirs, ours = getattr(torch.nn, name)(4, 5, **options), getattr(ts.nn, name)(4, 5, **options)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    theirs.half()
    ours.half()
    x = rs.randn(3, 2, 4).astype(np.float16)
    results = []
    for L, m in ((torch, theirs), (ts, ours)):
        xt = L.tensor(x, requires_grad=True)
        y, _ = m(xt)
        y.backward(L.ones_like(y))
        results.append([y.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*results):
        assert b.dtype == np.float16
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=4e-3, atol=4e-3)


def test_float16_layer_with_packed_input_and_dtype_mismatches():
    m = ts.nn.LSTM(4, 5).half()
    out, (h, c) = m(ts.nn.utils.rnn.pack_padded_sequence(ts.randn(3, 2, 4).half(), [3, 2]))
    assert out.data.dtype == h.dtype == c.dtype == ts.float16
    assert all(p.dtype == ts.float16 for p in m.parameters())   # the float32 copies were for the call only
    with pytest.raises(RuntimeError, match=r"weight dtype \(torch.float16\)"):
        m(ts.randn(3, 2, 4))
    with pytest.raises(RuntimeError, match="float32 or float64, got float16"):
        ts.nn.LSTM(4, 5)(ts.randn(3, 2, 4).half())


def test_float16_training_helpers_as_torchs():
    # clip_grad_norm_ past 256, einsum's sums, dropout's scale, round(decimals), where with -1e9,
    # SGD's steps: all torch's values (round 29g)
    rs = np.random.RandomState(2)
    a, b = rs.randn(2, 8, 256).astype(np.float16), rs.randn(2, 256, 4).astype(np.float16)
    w, grads = (rs.randn(128) * 0.3).astype(np.float16), [rs.randn(128).astype(np.float16) for _ in range(3)]
    keep = rs.rand(256) > 0.5
    got = []
    for L in (torch, ts):
        out = []
        ps = [L.nn.Parameter(L.ones(3, dtype=L.float16)) for _ in range(100)]
        for p in ps:
            p.grad = L.full((3,), 300.0, dtype=L.float16)
        out.append(L.nn.utils.clip_grad_norm_(ps, 1.0).float().numpy())
        out.append(ps[0].grad.numpy())
        out.append(L.einsum("bij,bjk->bik", L.tensor(a), L.tensor(b)).numpy())
        L.manual_seed(0)
        out.append(L.nn.functional.dropout(L.full((64,), 1.5, dtype=L.float16), 0.3).numpy())
        out.append(L.tensor(a[0, 0]).round(decimals=2).numpy())
        out.append(L.where(L.tensor(keep), L.tensor(a[0, 0]), -1e9).numpy())
        p = L.nn.Parameter(L.tensor(w))
        opt = L.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)
        for g in grads:
            p.grad = L.tensor(g)
            opt.step()
        out.append(p.detach().numpy())
        got.append(out)
    for x, y in zip(*got):
        assert y.dtype == x.dtype
        np.testing.assert_array_equal(y, x)


def test_float16_layer_refuses_float32_states_and_threads_share_it():
    import threading
    m = ts.nn.LSTM(4, 5).half()
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        m(ts.randn(3, 2, 4).half(), (ts.zeros(1, 2, 5), ts.zeros(1, 2, 5)))
    errors = []

    def work():
        for _ in range(10):
            try:
                y, _ = m(ts.randn(3, 2, 4).half())
                y.sum().backward()
            except Exception as e:   # noqa: BLE001  (collected, asserted below)
                errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(p.dtype == ts.float16 and p.grad.dtype == ts.float16 for p in m.parameters())


def test_quantile_of_float16_and_cpu_amp_as_torchs():
    for L in (torch, ts):
        with pytest.raises(RuntimeError, match="quantile\\(\\) input tensor must be either float or double"):
            L.quantile(L.tensor([1.0, 2.0], dtype=L.float16), 0.3)
        with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)   # ours: autocast keeps float32 (README)
                with L.cpu.amp.autocast():
                    pass


def test_float16_sgd_on_a_zero_dim_parameter_keeps_stepping():
    # the momentum buffer of a 0-d float16 parameter stays an array (it became a numpy scalar)
    values = []
    for L in (torch, ts):
        p = L.nn.Parameter(L.tensor(0.5, dtype=L.float16))
        opt = L.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
        for g in (0.3, -0.2, 0.7):
            p.grad = L.tensor(g, dtype=L.float16)
            opt.step()
        values.append(float(p.detach().numpy()))
    assert values[0] == values[1]


@pytest.mark.parametrize("name, options", [("Adam", {}), ("Adam", {"weight_decay": 0.01, "eps": 1e-3}),
                                           ("AdamW", {}), ("Adam", {"amsgrad": True}), ("RMSprop", {}),
                                           ("RMSprop", {"momentum": 0.9, "weight_decay": 0.01}),
                                           ("Adagrad", {"lr_decay": 0.01, "weight_decay": 0.01})])
def test_float16_optimizer_steps_as_torchs(name, options):
    # op by op as torch's float16 loops (optim/half_steps.py; before: 31-96 of 128 values a unit
    # apart after 6 steps)
    rs = np.random.RandomState(1)
    w, grads = (rs.randn(128) * 0.3).astype(np.float16), [(rs.randn(128) * 0.5).astype(np.float16) for _ in range(6)]
    got = []
    for L in (torch, ts):
        p = L.nn.Parameter(L.tensor(w))
        opt = getattr(L.optim, name)([p], lr=0.01, **options)
        for g in grads:
            p.grad = L.tensor(g)
            opt.step()
        got.append([p.detach().numpy()] + [v.numpy() for k, v in opt.state[p].items() if k != "step"])
    for a, b in zip(*got):
        np.testing.assert_array_equal(b, a)
