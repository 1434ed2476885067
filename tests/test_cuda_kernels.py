"""CUDA kernels (kernels/*_cuda.py) against plain references, at tiny shapes: the recurrent
kernels against tests/naive.py's loops (values, and gradients by complex-step differentiation of
those loops), the other kernels against numpy and torch.

Runs in Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1 set before numba is imported) or on a
real GPU; skipped otherwise. The simulator runs one Python thread per CUDA thread, so shapes
stay at T <= 4, B <= 2, H <= 4, I <= 3, and persistent kernels run with 1 block (the
simulator's grid barrier is wrong across blocks).
"""
import os

import numpy as np
import pytest

import naive

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


def _cuda_usable():
    if SIM:
        return True
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:
        return False


pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not _cuda_usable(), reason="needs a GPU or NUMBA_ENABLE_CUDASIM=1")]


def _h(a):
    return a.copy_to_host() if hasattr(a, "copy_to_host") else np.asarray(a)


# ---------------------------------------------------------------- references (tests/naive.py)

def reference_forward(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
    """naive.py's loop of the cell's equations, masked by lengths -> y [T,B,H], h_n, c_n (None
    for a one-state cell)."""
    p = dict(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh)
    y, states = naive.direction(cell, p, x, [h0] if c0 is None else [h0, c0], lengths, reverse)
    return y, states[0], (states[1] if len(states) > 1 else None)


def reference_grads(cell, inputs, dy, dh_n, dc_n, lengths, reverse):
    """Gradients of sum(y*dy) + sum(h_n*dh_n) (+ sum(c_n*dc_n)) w.r.t. x, h0, c0, w_ih, w_hh,
    b_ih, b_hh: complex-step differentiation of naive.py's loop (float64, exact to rounding)."""
    def loss(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        y, h_n, c_n = reference_forward(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        total = (y * dy).sum() + (h_n * dh_n).sum()
        return total if c_n is None else total + (c_n * dc_n).sum()
    return naive.complex_step_grads(loss, inputs)


def _problem(cell, T=3, B=2, I=3, H=4, seed=0):
    rng = np.random.default_rng(seed)
    from tinygrad_seq import cell_library
    G = cell_library.get(cell).gates
    p = dict(x=rng.standard_normal((T, B, I)), h0=rng.standard_normal((B, H)) * 0.5,
             c0=rng.standard_normal((B, H)) * 0.5 if cell == "lstm" else None,
             w_ih=rng.standard_normal((G * H, I)) * 0.6, w_hh=rng.standard_normal((G * H, H)) * 0.6,
             b_ih=rng.standard_normal(G * H) * 0.3, b_hh=rng.standard_normal(G * H) * 0.3)
    grads = dict(dy=rng.standard_normal((T, B, H)), dh_n=rng.standard_normal((B, H)),
                 dc_n=rng.standard_normal((B, H)))
    return p, grads


CELLS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("path", ["step", "persistent"])
@pytest.mark.parametrize("reverse", [False, True])
def test_recurrent_paths_float64(cell, path, reverse):
    from tinygrad_seq.kernels import recurrent_cuda as rc
    code = {"lstm": rc.LSTM, "gru": rc.GRU, "rnn_tanh": rc.RNN_TANH, "rnn_relu": rc.RNN_RELU}[cell]
    p, g = _problem(cell)
    lengths = np.array([3, 2])
    kw = dict(path=path, blocks=1, slices=2) if path == "persistent" else dict(path="step")
    y, h_n, c_n, saved = rc.forward(code, p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"],
                                    p["b_hh"], lengths, reverse, **kw)
    y_ref, h_ref, c_ref = reference_forward(cell, p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"],
                                            p["b_ih"], p["b_hh"], lengths, reverse)
    np.testing.assert_allclose(_h(y), y_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(_h(h_n), h_ref, rtol=0, atol=1e-10)
    if cell == "lstm":
        np.testing.assert_allclose(_h(c_n), c_ref, rtol=0, atol=1e-10)
    dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = rc.backward(
        code, g["dy"], g["dh_n"], g["dc_n"] if cell == "lstm" else None, p["x"], p["w_ih"], p["w_hh"],
        lengths, reverse, saved, **kw)
    ref = reference_grads(cell, p, g["dy"], g["dh_n"], g["dc_n"], lengths, reverse)
    got = dict(x=dx, h0=dh0, w_ih=dw_ih, w_hh=dw_hh, b_ih=db_ih, b_hh=db_hh)
    if cell == "lstm":
        got["c0"] = dc0
    for k, v in got.items():
        np.testing.assert_allclose(_h(v), ref[k], rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("cell", CELLS)
def test_contract_functions_float32(cell):
    """The contract names and signatures (auto dispatch), float32, host inputs, h0 given, no
    lengths, with T=4 and B=1; checked against the float64 reference at float32 accuracy."""
    from tinygrad_seq import kernels  # noqa: F401  (the contract docstring lives there)
    p, g = _problem(cell, T=4, B=1, I=2, H=3, seed=1)
    f32 = {k: (v.astype(np.float32) if v is not None else None) for k, v in p.items()}
    lengths = None
    if cell == "lstm":
        from tinygrad_seq.kernels import lstm_cuda as m
        y, h_n, c_n, saved = m.lstm_forward(f32["x"], f32["h0"], f32["c0"], f32["w_ih"], f32["w_hh"],
                                            f32["b_ih"], f32["b_hh"], lengths, False)
        grads = m.lstm_backward(g["dy"].astype(np.float32), g["dh_n"].astype(np.float32),
                                g["dc_n"].astype(np.float32), f32["x"], f32["h0"], f32["c0"],
                                f32["w_ih"], f32["w_hh"], lengths, False, saved)
        names = ["x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"]
    elif cell == "gru":
        from tinygrad_seq.kernels import gru_cuda as m
        y, h_n, saved = m.gru_forward(f32["x"], f32["h0"], f32["w_ih"], f32["w_hh"], f32["b_ih"],
                                      f32["b_hh"], lengths, False)
        grads = m.gru_backward(g["dy"].astype(np.float32), g["dh_n"].astype(np.float32), f32["x"],
                               f32["h0"], f32["w_ih"], f32["w_hh"], f32["b_hh"], lengths, False, saved)
        names = ["x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"]
    else:
        from tinygrad_seq.kernels import rnn_cuda as m
        relu = cell == "rnn_relu"
        y, h_n, saved = m.rnn_forward(f32["x"], f32["h0"], f32["w_ih"], f32["w_hh"], f32["b_ih"],
                                      f32["b_hh"], lengths, False, relu)
        grads = m.rnn_backward(g["dy"].astype(np.float32), g["dh_n"].astype(np.float32), f32["x"],
                               f32["h0"], f32["w_ih"], f32["w_hh"], lengths, False, relu, saved)
        names = ["x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"]
    full = np.full(1, 4)
    y_ref, h_ref, _ = reference_forward(cell, p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"],
                                        p["b_ih"], p["b_hh"], full, False)
    assert _h(y).dtype == np.float32
    np.testing.assert_allclose(_h(y), y_ref, atol=2e-5)
    np.testing.assert_allclose(_h(h_n), h_ref, atol=2e-5)
    ref = reference_grads(cell, p, g["dy"], g["dh_n"], g["dc_n"], full, False)
    for name, v in zip(names, grads):
        assert _h(v).dtype == np.float32, name
        np.testing.assert_allclose(_h(v), ref[name], atol=1e-4, err_msg=name)


@pytest.mark.parametrize("refusal", ["not_resident", "launch_error"])
def test_refused_cooperative_launch_falls_back_to_steps(refusal, monkeypatch):
    """A device that cannot hold the persistent grid (or refuses its cooperative launch) gets the
    per-step path under path="auto", remembered per plan; path="persistent" raises instead."""
    from tinygrad_seq.kernels import recurrent_cuda as rc
    p, g = _problem("lstm")
    lengths = np.array([3, 2])

    class Refused(Exception):
        pass

    launches = []

    def refusing_kernels(*key):
        def launcher(*config):
            def launch(*args):
                launches.append(config)
                raise Refused("cooperative launch refused")
            return launch

        class Kernel:
            __getitem__ = staticmethod(launcher)
        return Kernel(), Kernel()

    monkeypatch.setattr(rc, "_coop_failed", set())
    if refusal == "not_resident":
        monkeypatch.setattr(rc, "_resident_blocks", lambda kern, args, threads: 0)
    else:
        monkeypatch.setattr(rc, "persistent_kernels", refusing_kernels)
        monkeypatch.setattr(rc, "_resident_blocks", lambda kern, args, threads: None)
        monkeypatch.setattr(rc, "_LAUNCH_ERRORS", (Refused,))
    args = (rc.LSTM, p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], lengths, False)
    y, h_n, c_n, saved = rc.forward(*args, path="auto", blocks=1, slices=2)
    y_ref, h_ref, _ = reference_forward("lstm", *[p[k] for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih",
                                                                  "b_hh")], lengths, False)
    np.testing.assert_allclose(_h(y), y_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(_h(h_n), h_ref, rtol=0, atol=1e-10)
    assert len(rc._coop_failed) == 1
    rc.forward(*args, path="auto", blocks=1, slices=2)   # remembered: no second attempt
    assert len(launches) == (1 if refusal == "launch_error" else 0)
    with pytest.raises((ValueError, Refused)):
        rc.forward(*args, path="persistent", blocks=1, slices=2)


def test_persistent_plan_choices():
    from tinygrad_seq.kernels.recurrent_gates_cuda import LSTM
    from tinygrad_seq.kernels.recurrent_persistent_cuda import persistent_plan
    # H=1024 LSTM over 128 blocks: 8 units a block, 512 threads, 64 float32 weights a thread
    assert persistent_plan(LSTM, 1024, 8, np.float32, blocks=128, slices=16) == (8, 16, 64, 128)
    # float64 weights take two registers: the same shape does not fit, nor does a big batch
    assert persistent_plan(LSTM, 1024, 8, np.float64, blocks=128, slices=16) is None
    assert persistent_plan(LSTM, 1024, 64, np.float32) is None


# ---------------------------------------------------------------- ops_cuda, gemm_cuda, reduce_cuda,
# softmax_cuda, gather_cuda

@pytest.fixture(scope="module")
def ops():
    from tinygrad_seq.kernels import ops_cuda
    return ops_cuda


@pytest.fixture(scope="module")
def mm():
    from tinygrad_seq.kernels import gemm_cuda
    return gemm_cuda


@pytest.fixture(scope="module")
def red():
    from tinygrad_seq.kernels import reduce_cuda
    return reduce_cuda


@pytest.fixture(scope="module")
def rows():
    from tinygrad_seq.kernels import softmax_cuda
    return softmax_cuda


@pytest.fixture(scope="module")
def gather():
    from tinygrad_seq.kernels import gather_cuda
    return gather_cuda


def _rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unary_ops(ops, dtype):
    a = _rand(2, 3, dtype=dtype)
    pos = np.abs(a) + 0.5
    tol = 1e-12 if dtype == np.float64 else 1e-5
    cases = {"neg": (a, -a), "exp": (a, np.exp(a)), "log": (pos, np.log(pos)), "tanh": (a, np.tanh(a)),
             "sigmoid": (a, 1 / (1 + np.exp(-a))), "relu": (a, np.maximum(a, 0)), "abs": (a, np.abs(a)),
             "sqrt": (pos, np.sqrt(pos)), "sign": (a, np.sign(a))}
    for name, (inp, want) in cases.items():
        got = _h(getattr(ops, name)(ops.as_device(inp)))
        assert got.dtype == dtype, name
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=name)


def test_binary_ops_broadcast(ops):
    a = _rand(2, 1, 3)
    b = _rand(4, 1, seed=1)
    b[0, 0] = a[0, 0, 0]  # one equal pair for eq/ge/le
    pa = np.abs(a) + 0.5
    da, db, dpa = ops.as_device(a), ops.as_device(b), ops.as_device(pa)
    want = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "maximum": np.maximum(a, b),
            "minimum": np.minimum(a, b), "gt": (a > b) * 1.0, "ge": (a >= b) * 1.0, "lt": (a < b) * 1.0,
            "le": (a <= b) * 1.0, "eq": (a == b) * 1.0, "ne": (a != b) * 1.0}
    for name, w in want.items():
        got = _h(getattr(ops, name)(da, db))
        assert got.shape == w.shape, name
        np.testing.assert_allclose(got, w, rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(_h(ops.power(dpa, db)), pa ** b, rtol=1e-12)
    np.testing.assert_allclose(_h(ops.mul(da, 2.5)), a * 2.5)
    cond = (a > 0) * 1.0
    np.testing.assert_allclose(_h(ops.where(ops.as_device(cond), da, db)), np.where(cond != 0, a, b))
    # a strided (non-contiguous) operand: a column slice
    m = _rand(3, 4, seed=2)
    col = ops.as_device(m)[:, 1:3]
    np.testing.assert_allclose(_h(ops.add(col, db[:3, :])), m[:, 1:3] + b[:3, :])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_and_gemm_flags(ops, mm, dtype):
    tol = 1e-12 if dtype == np.float64 else 1e-5
    a, b = _rand(5, 7, dtype=dtype), _rand(7, 9, dtype=dtype, seed=1)
    np.testing.assert_allclose(_h(mm.matmul(a, b)), a @ b, rtol=tol, atol=tol)
    np.testing.assert_allclose(_h(mm.gemm(a.T.copy(), b, trans_a=True)), a @ b, rtol=tol, atol=tol)
    np.testing.assert_allclose(_h(mm.gemm(a, b.T.copy(), trans_b=True)), a @ b, rtol=tol, atol=tol)
    bias = _rand(9, dtype=dtype, seed=2)
    np.testing.assert_allclose(_h(mm.gemm(a, b, bias=bias)), a @ b + bias, rtol=tol, atol=tol)
    out = ops.as_device(np.ones((5, 9), dtype))
    mm.gemm(a, b, out=out, accumulate=True)
    np.testing.assert_allclose(_h(out), a @ b + 1, rtol=tol, atol=tol)
    # batched, with a broadcast 2-D right operand, and a 1-D vector
    ab = _rand(2, 3, 4, dtype=dtype, seed=3)
    w = _rand(4, 5, dtype=dtype, seed=4)
    np.testing.assert_allclose(_h(mm.matmul(ab, w)), ab @ w, rtol=tol, atol=tol)
    bb = _rand(2, 4, 2, dtype=dtype, seed=5)
    np.testing.assert_allclose(_h(mm.matmul(ab, bb)), ab @ bb, rtol=tol, atol=tol)
    v = _rand(4, dtype=dtype, seed=6)
    np.testing.assert_allclose(_h(mm.matmul(ab[0], v)), ab[0] @ v, rtol=tol, atol=tol)


def test_gemm_production_tiles(mm, monkeypatch):
    """Register tiles of 4x4 per thread (on a GPU: the production tiles, 64x64 per block),
    partial tiles at every edge."""
    if SIM:
        monkeypatch.setattr(mm, "gemm_config", lambda dtype: (32, 32, 8, 4, 4))
    a, b = _rand(33, 9, dtype=np.float32), _rand(9, 17, dtype=np.float32, seed=1)
    np.testing.assert_allclose(_h(mm.gemm(a, b)), a @ b, rtol=1e-5, atol=1e-5)


def test_gemm_one_dimensional_grid():
    """Blocks numbered over (M tile, N tile, batch) on grid x, which holds 2^31 - 1 blocks where
    grid y and z stop at 65535: several of each, partial tiles, a broadcast operand, bias."""
    from numba import cuda
    from tinygrad_seq.kernels import gemm_cuda as mm
    BM, BN = mm.gemm_config(np.float64)[:2]
    a, b = _rand(3, BM + 1, 5), _rand(3, 5, 2 * BN + 3, seed=1)
    np.testing.assert_allclose(_h(mm.gemm(a, b)), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_h(mm.gemm(a[:1], b)), a[:1] @ b, rtol=1e-12, atol=1e-12)
    bias = _rand(2 * BN + 3, seed=2)
    got = mm.gemm(a[0], b[1], bias=cuda.to_device(bias))
    np.testing.assert_allclose(_h(got), a[0] @ b[1] + bias, rtol=1e-12, atol=1e-12)


def test_reductions(ops, red):
    a = _rand(2, 3, 4)
    da = ops.as_device(a)
    np.testing.assert_allclose(_h(red.sum(da)), a.sum())
    assert _h(red.sum(da)).shape == ()
    np.testing.assert_allclose(_h(red.sum(da, axis=1)), a.sum(1))
    np.testing.assert_allclose(_h(red.sum(da, axis=(0, 2), keepdims=True)), a.sum((0, 2), keepdims=True))
    np.testing.assert_allclose(_h(red.max(da, axis=-1, keepdims=True)), a.max(-1, keepdims=True))
    np.testing.assert_allclose(_h(red.max(da)), a.max())
    np.testing.assert_array_equal(_h(red.argmax(da, axis=1)), a.argmax(1))
    np.testing.assert_array_equal(_h(red.argmax(da)), a.argmax())
    tie = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(_h(red.argmax(ops.as_device(tie), axis=1)), [1, 0])
    # many outputs over a short axis: the thread-per-output kernel
    wide = _rand(70, 3)
    np.testing.assert_allclose(_h(red.sum(ops.as_device(wide), axis=1)), wide.sum(1))
    np.testing.assert_allclose(_h(red.mean(da, axis=0)), a.mean(0))


def test_shapes_and_copies(ops):
    a = _rand(2, 3, 4)
    da = ops.as_device(a)
    np.testing.assert_array_equal(_h(ops.transpose(da, (2, 0, 1))), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(_h(ops.transpose(da[:, 1])), a[:, 1].T)
    b = _rand(2, 2, 4, seed=1)
    np.testing.assert_array_equal(_h(ops.concatenate([da, ops.as_device(b)], axis=1)),
                                  np.concatenate([a, b], 1))
    np.testing.assert_array_equal(_h(ops.stack([da, da], axis=0)), np.stack([a, a]))
    parts = ops.split(da, [1, 2], axis=1)
    np.testing.assert_array_equal(_h(parts[1]), a[:, 1:])
    np.testing.assert_array_equal(_h(ops.copy(da[:, ::2])), a[:, ::2])
    f = ops.astype(da, np.float32)
    assert _h(f).dtype == np.float32
    np.testing.assert_allclose(_h(f), a.astype(np.float32))
    np.testing.assert_array_equal(_h(ops.full((2, 3), 2.5, np.float64)), np.full((2, 3), 2.5))
    np.testing.assert_array_equal(_h(ops.zeros((3,), np.float32)), np.zeros(3))
    np.testing.assert_array_equal(_h(ops.ones((2, 2), np.float64)), np.ones((2, 2)))
    np.testing.assert_array_equal(_h(ops.broadcast_to(ops.as_device(a[:1]), (2, 3, 4))),
                                  np.broadcast_to(a[:1], (2, 3, 4)))
    dst = ops.zeros((2, 3), np.float64)
    ops.copy_into(dst[:, 1], ops.as_device(np.array([5.0, 6.0])))
    np.testing.assert_array_equal(_h(dst), [[0, 5, 0], [0, 6, 0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family(ops, rows, dtype):
    tol = 1e-12 if dtype == np.float64 else 1e-5
    a = _rand(3, 5, dtype=dtype) * 3
    e = np.exp(a - a.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(_h(rows.softmax(ops.as_device(a), axis=-1)), sm, rtol=tol, atol=tol)
    np.testing.assert_allclose(_h(rows.log_softmax(ops.as_device(a), axis=1)), np.log(sm), rtol=tol, atol=tol)
    e0 = np.exp(a - a.max(0, keepdims=True))
    np.testing.assert_allclose(_h(rows.softmax(ops.as_device(a), axis=0)), e0 / e0.sum(0), rtol=tol, atol=tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(rows, reduction):
    import torch
    logits = _rand(4, 3) * 2
    targets = np.array([0, 2, -100, 1], np.int64)
    loss, lse, count = rows.cross_entropy(logits, targets, ignore_index=-100, reduction=reduction)
    tl = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tl, torch.from_numpy(targets), ignore_index=-100,
                                            reduction=reduction)
    np.testing.assert_allclose(_h(loss), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    grad = np.array([0.7, -1.0, 2.0, 0.5]) if reduction == "none" else np.array(0.7)
    ref.backward(torch.from_numpy(grad))
    dx = rows.cross_entropy_backward(logits, targets, lse, grad, count, -100, reduction)
    np.testing.assert_allclose(_h(dx), tl.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_gathers_and_scatters(gather):
    w = _rand(5, 3)
    idx = np.array([[0, 4], [4, 2]], np.int64)
    np.testing.assert_array_equal(_h(gather.take_rows(w, idx)), w[idx])
    g = _rand(2, 2, 3, seed=1)
    want = np.zeros((5, 3))
    np.add.at(want, idx.reshape(-1), g.reshape(-1, 3))
    np.testing.assert_allclose(_h(gather.index_add_rows((5, 3), idx, g)), want, rtol=1e-12)
    want[4] = 0
    np.testing.assert_allclose(_h(gather.index_add_rows((5, 3), idx, g, skip_row=4)), want, rtol=1e-12)
    a = _rand(3, 4)
    pi = np.array([3, 0, 1], np.int64)
    np.testing.assert_array_equal(_h(gather.pick(a, pi)), a[np.arange(3), pi])
    back = np.zeros((3, 4))
    back[np.arange(3), pi] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(_h(gather.pick_backward((3, 4), pi, np.array([1.0, 2.0, 3.0]))), back)
