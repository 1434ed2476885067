"""kernels/elementwise_cpu.py (exp, tanh, sigmoid, relu, gelu and their backwards, one pass each)
against torch: forward and gradients, float32 and float64, below and above the kernel's size
threshold (tuning.ELEMENTWISE_MIN_SIZE) and split over the threads (ELEMENTWISE_SPLIT_NS),
special values, strided inputs (numpy's path), gradcheck and double backward."""
import math

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.kernels import elementwise_cpu as E, tuning

torch = pytest.importorskip("torch")

OPS = {
    "exp": (lambda L, t: t.exp()),
    "tanh": (lambda L, t: t.tanh()),
    "sigmoid": (lambda L, t: t.sigmoid()),
    "relu": (lambda L, t: t.relu()),
    "gelu": (lambda L, t: L.nn.functional.gelu(t)),
    "gelu_tanh": (lambda L, t: L.nn.functional.gelu(t, approximate="tanh")),
}
DTYPES = {np.float32: torch.float32, np.float64: torch.float64}
MIN, SPLIT = "TINYGRAD_SEQ_TUNE_ELEMENTWISE_MIN_SIZE", "TINYGRAD_SEQ_TUNE_ELEMENTWISE_SPLIT_NS"


def _special(dtype):
    tiny = np.finfo(dtype).tiny
    return np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 100.0, -100.0, 1e-30, -1e-30, tiny / 4, -tiny / 4,
                     tiny, 88.5, -88.5, 710.0, -710.0, 20.0, -20.0, 9.5, -9.5, 0.5, -0.5, 1.5, -1.5], dtype)


def _data(n, dtype, seed=0):
    x = (np.random.default_rng(seed).standard_normal(n) * 4).astype(dtype)
    s = _special(dtype)[:n]
    x[:s.size] = s
    x[-min(n, 5):] = s[:min(n, 5)]   # in the tail that the vector loop leaves too
    return x


def _close(got, want, dtype):
    """float64: 1e-12 relative, and 1e-13 absolute where a formula cancels (1 + tanh near -1:
    torch's tanh and libm's differ by an ulp there)."""
    got, want = np.asarray(got), want.detach().numpy()
    if dtype == np.float64:
        torch.testing.assert_close(torch.from_numpy(got), torch.from_numpy(want), rtol=1e-12, atol=1e-13, equal_nan=True)
    else:
        torch.testing.assert_close(torch.from_numpy(got), torch.from_numpy(want), equal_nan=True)


def _forward_and_grad(name, x, g, dtype):
    """(ours, torch's): the output and the input's gradient under the upstream gradient g.
    float32 exact gelu: torch's float64 result rounded, as torch's float32 kernel depends on the
    machine (on an AVX-512 Zen 4 its gelu(inf) is nan and -0.0 stays -0.0; on an AVX2 Zen 2, inf and +0.0)."""
    via64 = name == "gelu" and dtype == np.float32
    t = torch.tensor(x.astype(np.float64) if via64 else x, requires_grad=True)
    tout = OPS[name](torch, t)
    tout.backward(torch.tensor(g.astype(np.float64) if via64 else g))
    if via64:
        tout, t = tout.float(), t.grad.float()
        s = ts.tensor(x, requires_grad=True)
        sout = OPS[name](ts, s)
        sout.backward(ts.tensor(g))
        return (sout.detach().numpy(), s.grad.numpy()), (tout, t)
    s = ts.tensor(x, requires_grad=True)
    sout = OPS[name](ts, s)
    sout.backward(ts.tensor(g))
    return (sout.detach().numpy(), s.grad.numpy()), (tout, t.grad)


# 100: numpy's path; 4099: one kernel call (odd: the vector loop's tail); 300007: split over the threads
@pytest.mark.parametrize("n", [100, 4099, 300007])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPS))
def test_forward_and_gradient_match_torch(name, dtype, n):
    x = _data(n, dtype)
    g = np.random.default_rng(1).standard_normal(n).astype(dtype)
    (out, grad), (tout, tgrad) = _forward_and_grad(name, x, g, dtype)
    assert out.dtype == dtype and grad.dtype == dtype
    _close(out, tout, dtype)
    _close(grad, tgrad, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPS))
def test_special_values_on_the_kernel_path(name, dtype, monkeypatch):
    monkeypatch.setenv(MIN, "0")
    x = _special(dtype).reshape(4, 6)   # 2-D: the kernels see its flat view
    g = np.ones_like(x)
    (out, grad), (tout, tgrad) = _forward_and_grad(name, x, g, dtype)
    assert out.shape == (4, 6)
    _close(out, tout, dtype)
    _close(grad, tgrad, dtype)
    if name in ("exp", "tanh", "sigmoid", "relu", "gelu"):   # -0.0 as torch's (float64 for gelu, above)
        np.testing.assert_array_equal(np.signbit(out), np.signbit(tout.detach().numpy()))


@pytest.mark.parametrize("name", list(OPS))
def test_strided_input_takes_numpy_path_and_matches(name, monkeypatch):
    monkeypatch.setenv(MIN, "0")
    calls = []
    monkeypatch.setattr(E, "run", lambda *a, _run=E.run: calls.append(a[0]) or _run(*a))
    x = np.random.default_rng(2).standard_normal((64, 130)).astype(np.float32)
    t = torch.tensor(x, requires_grad=True)
    s = ts.tensor(x, requires_grad=True)
    tout = OPS[name](torch, t[:, ::2].T)
    sout = OPS[name](ts, s[:, ::2].T)
    tout.sum().backward()
    sout.sum().backward()
    _close(sout.detach().numpy(), tout, np.float32)
    _close(s.grad.numpy(), t.grad, np.float32)
    forward = {E.exp_range, E.tanh_range, E.sigmoid_range, E.relu_range, E.gelu_range, E.gelu_tanh_range}
    # exp, tanh and sigmoid copy a strided input of 1024+ elements (an LSTM cell's gate slice) and
    # take the kernel; the others stay on numpy's path
    # (gelu's numpy path calls tanh / exp on its own contiguous temporaries)
    own = {"exp": E.exp_range, "tanh": E.tanh_range, "sigmoid": E.sigmoid_range, "relu": E.relu_range,
           "gelu": E.gelu_range, "gelu_tanh": E.gelu_tanh_range}
    assert (own[name] in calls) == (name in ("exp", "tanh", "sigmoid"))
    assert forward >= set(calls) & forward


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_is_one_kernel_pass_and_drops_inf_and_nan_where_output_is_not_positive(dtype, monkeypatch):
    monkeypatch.setenv(MIN, "0")
    calls = []
    monkeypatch.setattr(E, "run", lambda *a, _run=E.run: calls.append(a[0]) or _run(*a))
    x = _data(5003, dtype, seed=3)
    g = np.random.default_rng(4).standard_normal(x.size).astype(dtype)
    g[:40:3], g[1:40:3] = np.inf, np.nan   # where x <= 0 these give 0, as torch's threshold_backward
    (out, grad), (tout, tgrad) = _forward_and_grad("relu", x, g, dtype)
    _close(out, tout, dtype)
    _close(grad, tgrad, dtype)
    assert E.relu_backward_range in calls


def test_lstm_cell_gate_slices_take_the_kernels(monkeypatch):
    """sigmoid / tanh of a column slice of [B, 4H] (not C-contiguous) match torch's."""
    monkeypatch.setenv(MIN, "0")
    x = np.random.default_rng(5).standard_normal((32, 1024)).astype(np.float32)
    t, s = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    tout = t[:, 256:512].sigmoid() * t[:, 512:768].tanh()
    sout = s[:, 256:512].sigmoid() * s[:, 512:768].tanh()
    tout.backward(torch.ones_like(tout))
    sout.backward(ts.ones(sout.shape))
    _close(sout.detach().numpy(), tout, np.float32)
    _close(s.grad.numpy(), t.grad, np.float32)


def test_thresholds_pick_the_path(monkeypatch):
    calls, chunks = [], []
    monkeypatch.setattr(E, "run", lambda *a, _run=E.run: calls.append(a[0]) or _run(*a))
    monkeypatch.setattr(E, "run_chunks", lambda task, n, _rc=E.run_chunks: chunks.append(n) or _rc(task, n))
    small = np.linspace(-3, 3, 40, dtype=np.float32)
    big = np.linspace(-3, 3, 50000, dtype=np.float32)
    monkeypatch.setenv(MIN, "0")
    np.testing.assert_allclose(ts.tensor(small).sigmoid().numpy(), 1 / (1 + np.exp(-small.astype(np.float64))), rtol=1e-6)
    assert calls == [E.sigmoid_range] and chunks == []
    monkeypatch.setenv(MIN, "1e18")
    ts.tensor(big).sigmoid()
    assert calls == [E.sigmoid_range]   # numpy's path: no kernel call
    monkeypatch.setenv(MIN, "0")
    monkeypatch.setenv(SPLIT, "0")
    got = ts.tensor(big).tanh().numpy()
    np.testing.assert_allclose(got, np.tanh(big), rtol=3e-7, atol=1e-7)
    assert calls[-1] is E.tanh_range and chunks and chunks[-1] == min(ts.get_num_threads(), big.size)
    monkeypatch.setenv(SPLIT, "1e18")
    ts.tensor(big).exp()
    assert calls[-1] is E.exp_range and len(chunks) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["exp", "relu", "sigmoid", "tanh"])
def test_empty_and_zero_dim(name, dtype, monkeypatch):
    monkeypatch.setenv(MIN, "0")
    for x in (np.zeros((0, 3), dtype), np.array(-0.5, dtype)):
        out = OPS[name](ts, ts.tensor(x)).numpy()
        want = OPS[name](torch, torch.tensor(x)).numpy()
        assert out.shape == want.shape and out.dtype == dtype
        np.testing.assert_allclose(out, want, rtol=1e-6)


@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck_float64_on_the_kernel_path(name, monkeypatch):
    monkeypatch.setenv(MIN, "0")
    x = ts.tensor(np.random.default_rng(3).standard_normal((3, 5)) * 2 + 0.05, requires_grad=True)
    assert ts.gradcheck(lambda t: OPS[name](ts, t), (x,), eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("name", list(OPS))
def test_double_backward_matches_torch(name, big, monkeypatch):
    """create_graph=True runs the backwards as graphs of Tensor ops; the first-order pass of the
    same call (and the kernels' path, with big) must agree with torch too."""
    monkeypatch.setenv(MIN, "0" if big else "1e18")
    x = np.random.default_rng(4).standard_normal((16, 9)) * 2

    def fn(L):
        t = L.tensor(x, requires_grad=True)
        y = OPS[name](L, t)
        g1, = L.autograd.grad((y * y).sum(), t, create_graph=True)
        g2, = L.autograd.grad((g1 * t).sum(), t)
        return y.detach().numpy(), g1.detach().numpy(), g2.numpy()
    for got, want in zip(fn(ts), fn(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_grad_fn_name_and_float32_result(approximate, monkeypatch):
    monkeypatch.setenv(MIN, "0")
    x = np.linspace(-12, 12, 2001, dtype=np.float32)
    s = ts.tensor(x, requires_grad=True)
    out = ts.nn.functional.gelu(s, approximate=approximate)
    assert out.grad_fn.name() == "GeluBackward0" and out.dtype == ts.float32
    want = torch.nn.functional.gelu(torch.tensor(x.astype(np.float64)), approximate=approximate).numpy()
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=2e-6, atol=2e-7)


def test_float32_erf_is_within_three_ulp():
    from numba import njit
    from tinygrad_seq.kernels.vector_erf_cpu import verf

    @njit
    def erf_all(x, out):
        for i in range(x.shape[0]):
            out[i] = verf(x[i])
    x = np.concatenate([np.linspace(-11, 11, 400001), np.logspace(-38, 1, 2001), -np.logspace(-38, 1, 2001)])
    x = x.astype(np.float32)
    out = np.empty_like(x)
    erf_all(x, out)
    want = np.array([math.erf(float(v)) for v in x])
    ulps = np.abs(out - want) / np.spacing(np.abs(want).astype(np.float32))
    assert ulps.max() <= 3.0
    special = np.array([np.nan, np.inf, -np.inf, -0.0], np.float32)
    erf_all(special, out[:4])
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == -1 and out[3] == 0 and np.signbit(out[3])


def test_settings_exist_and_are_numbers():
    assert tuning.setting("ELEMENTWISE_MIN_SIZE") > 0 and tuning.setting("ELEMENTWISE_SPLIT_NS") > 0


@pytest.mark.cuda
def test_cuda_sigmoid_and_tanh_backward():
    if not ts.cuda.is_available():
        pytest.skip("no CUDA GPU and NUMBA_ENABLE_CUDASIM is not set")
    x = np.linspace(-3, 3, 12)
    for name in ("sigmoid", "tanh"):
        s = ts.tensor(x, device="cuda", requires_grad=True)
        OPS[name](ts, s).sum().backward()
        t = torch.tensor(x, requires_grad=True)
        OPS[name](torch, t).sum().backward()
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh"])
def test_results_keep_the_inputs_layout_as_torch(name):
    """A transposed, permuted or sliced input: the result's strides are torch's (the order of the
    input's strides), below and above the kernels' size threshold."""
    rng = np.random.default_rng(6)
    for shape, view in (((16, 16), lambda t: t.t()), ((64, 64), lambda t: t.t()),
                        ((8, 16, 32), lambda t: t.permute(2, 0, 1)), ((64, 130), lambda t: t[:, ::2].t())):
        x = rng.standard_normal(shape).astype(np.float32)
        t = getattr(view(torch.from_numpy(x)), name)()
        o = getattr(view(ts.tensor(x)), name)()
        assert o.stride() == t.stride(), (shape, o.stride(), t.stride())
        assert o.is_contiguous() == t.is_contiguous()
        _close(o.numpy(), t, np.float32)


@pytest.mark.parametrize("n", [4, 2048])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_sign_of_zero_as_torch(dtype, n):
    """Exact gelu keeps the math's sign of zero (-0.0 at -0.0 and where x Phi(x) underflows below
    0) in both dtypes, as torch's float64 gelu does (its float32 kernel gives -0.0 on AVX-512
    Zen 4 machines, +0.0 on AVX2 Zen 2 ones)."""
    x = np.resize(np.array([-0.0, -20.0, -100.0, 0.0], dtype), n)
    want = torch.nn.functional.gelu(torch.from_numpy(x.astype(np.float64))).numpy().astype(dtype)
    assert np.array_equal(np.signbit(want[:4]), [True, True, True, False])
    got = ts.nn.functional.gelu(ts.tensor(x)).numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
