"""Fused CPU kernels (kernels/*_cpu.py) against a plain-numpy reference loop and against torch.

The reference runs every step on the whole batch and applies the length mask with np.where
(state kept, output zero past each length), a formulation independent of the kernels' per-row
skipping. float64 comparisons are tight; float32 ones loose (fast rational tanh/sigmoid). The
thread splits are tested in test_kernels_cpu_threads.py, the step product on panels in test_panel_cpu.py.
"""
import numpy as np
import pytest

from tinygrad_seq.kernels import activations_cpu, gru_cpu, lstm_cpu, rnn_cpu

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-5)}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# ---------------------------------------------------------------- numpy reference (float64)

def ref_step(cell, x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step on the whole batch: returns the new (h, c) and what the backward step needs."""
    gi = x_t @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if cell == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new, (i, f, g, o, c, c_new)
    if cell == "gru":
        ir, iz, in_ = np.split(gi, 3, axis=1)
        hr, hz, hn = np.split(gh, 3, axis=1)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = np.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, c, (r, z, n, hn)
    pre = gi + gh
    h_new = np.maximum(pre, 0) if cell == "rnn_relu" else np.tanh(pre)
    return h_new, c, (h_new,)


def ref_step_backward(cell, dh_new, dc_new, h, cache, w_hh):
    """Gradients of one step: (d pre-activation input side, d hidden side, dh, dc)."""
    if cell == "lstm":
        i, f, g, o, c, c_new = cache
        tc = np.tanh(c_new)
        dc_tot = dc_new + dh_new * o * (1 - tc**2)
        d = np.concatenate([dc_tot * g * i * (1 - i), dc_tot * c * f * (1 - f),
                            dc_tot * i * (1 - g**2), dh_new * tc * o * (1 - o)], axis=1)
        return d, d, d @ w_hh, dc_tot * f
    if cell == "gru":
        r, z, n, hn = cache
        dn = dh_new * (1 - z) * (1 - n**2)
        dz = dh_new * (h - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        d_in = np.concatenate([dr, dz, dn], axis=1)
        d_hid = np.concatenate([dr, dz, dn * r], axis=1)
        return d_in, d_hid, dh_new * z + d_hid @ w_hh, dc_new
    (h_new,) = cache
    d = dh_new * ((h_new > 0) if cell == "rnn_relu" else (1 - h_new**2))
    return d, d, d @ w_hh, dc_new


def ref_forward_backward(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, dy, dh_n, dc_n):
    seq_len, batch, _ = x.shape
    order = range(seq_len - 1, -1, -1) if reverse else range(seq_len)
    h, c = h0.copy(), c0.copy()
    y = np.zeros((seq_len, batch, h0.shape[1]))
    tape = []
    for t in order:
        m = (t < lengths)[:, None]
        h_new, c_new, cache = ref_step(cell, x[t], h, c, w_ih, w_hh, b_ih, b_hh)
        tape.append((t, m, h, cache))
        y[t] = np.where(m, h_new, 0)
        h, c = np.where(m, h_new, h), np.where(m, c_new, c)
    h_n, c_n = h, c

    dx = np.zeros_like(x)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    dh, dc = dh_n.copy(), dc_n.copy()
    for t, m, h_prev, cache in reversed(tape):
        d_in, d_hid, dh_cell, dc_cell = ref_step_backward(cell, dh + dy[t], dc, h_prev, cache, w_hh)
        d_in, d_hid = d_in * m, d_hid * m
        dx[t] = d_in @ w_ih
        dw_ih += d_in.T @ x[t]
        dw_hh += d_hid.T @ h_prev
        db_ih += d_in.sum(0)
        db_hh += d_hid.sum(0)
        dh, dc = np.where(m, dh_cell, dh), np.where(m, dc_cell, dc)
    return (y, h_n, c_n), (dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh)


# ---------------------------------------------------------------- kernel calls

def kernel_forward_backward(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, dy, dh_n, dc_n):
    """Runs the fused pair; returns ((y, h_n, c_n), (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh))."""
    if cell == "lstm":
        y, h_n, c_n, saved = lstm_cpu.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = lstm_cpu.lstm_backward(
            dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved)
        return (y, h_n, c_n), (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)
    if cell == "gru":
        y, h_n, saved = gru_cpu.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        grads = gru_cpu.gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, reverse, saved)
    else:
        relu = cell == "rnn_relu"
        y, h_n, saved = rnn_cpu.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu)
        grads = rnn_cpu.rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved)
    dx, dh0, dw_ih, dw_hh, db_ih, db_hh = grads
    return (y, h_n, c0), (dx, dh0, dc_n, dw_ih, dw_hh, db_ih, db_hh)


def make_case(cell, seq_len, batch, n_in, hidden, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    g = GATES[cell]
    scale = 1.0 / np.sqrt(hidden)
    arrays = dict(
        x=rng.standard_normal((seq_len, batch, n_in)),
        h0=rng.standard_normal((batch, hidden)) * 0.5,
        c0=rng.standard_normal((batch, hidden)) * 0.5,
        w_ih=rng.uniform(-scale, scale, (g * hidden, n_in)) * 2,
        w_hh=rng.uniform(-scale, scale, (g * hidden, hidden)) * 2,
        b_ih=rng.uniform(-scale, scale, g * hidden),
        b_hh=rng.uniform(-scale, scale, g * hidden),
        dy=rng.standard_normal((seq_len, batch, hidden)),
        dh_n=rng.standard_normal((batch, hidden)),
        dc_n=rng.standard_normal((batch, hidden)),
    )
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    lengths = rng.integers(1, seq_len + 1, batch).astype(np.int64)
    lengths[0] = seq_len  # at least one full-length row, as pack_padded_sequence requires
    return arrays, lengths


def run_both(cell, arrays, lengths, reverse):
    a = arrays
    args = (a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"], lengths, reverse,
            a["dy"], a["dh_n"], a["dc_n"])
    ref = ref_forward_backward(cell, *[v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                                       else v for v in args])
    return kernel_forward_backward(cell, *args), ref


NAMES_FWD = ("y", "h_n", "c_n")
NAMES_BWD = ("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh")


def assert_all_close(got, ref, dtype, names):
    for name, g, r in zip(names, got, ref):
        assert g.dtype == dtype, name
        assert g.shape == r.shape, name
        np.testing.assert_allclose(g, r, err_msg=name, **TOL[dtype])


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_against_numpy_reference(cell, reverse, dtype):
    arrays, lengths = make_case(cell, seq_len=9, batch=5, n_in=6, hidden=7, seed=hash((cell, reverse)) % 1000,
                                dtype=dtype)
    (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, reverse)
    assert (fwd[0][np.arange(9)[:, None] >= lengths[None, :]] == 0).all()
    assert_all_close(fwd, rfwd, dtype, NAMES_FWD)
    assert_all_close(bwd, rbwd, dtype, NAMES_BWD)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_blas_sized_steps(cell):
    # B*H*G*H above the plain-loop threshold: the per-step products go through BLAS
    arrays, lengths = make_case(cell, seq_len=4, batch=24, n_in=40, hidden=48, seed=3)
    for reverse in (False, True):
        (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, reverse)
        assert_all_close(fwd, rfwd, np.float64, NAMES_FWD)
        assert_all_close(bwd, rbwd, np.float64, NAMES_BWD)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_relu"])
def test_full_lengths_and_none(cell):
    arrays, _ = make_case(cell, seq_len=6, batch=3, n_in=4, hidden=5, seed=11)
    full = np.full(3, 6, np.int64)
    (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, full, False)
    assert_all_close(fwd, rfwd, np.float64, NAMES_FWD)
    assert_all_close(bwd, rbwd, np.float64, NAMES_BWD)
    # lengths=None means every sequence runs all T steps
    a = arrays
    if cell == "lstm":
        y, h_n, c_n, _ = lstm_cpu.lstm_forward(a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"], a["b_ih"],
                                               a["b_hh"], None, False)
    elif cell == "gru":
        y, h_n, _ = gru_cpu.gru_forward(a["x"], a["h0"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"], None, False)
    else:
        y, h_n, _ = rnn_cpu.rnn_forward(a["x"], a["h0"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"], None,
                                        False, True)
    np.testing.assert_allclose(y, fwd[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_empty_sequence(cell):
    # T=0: no step runs; the outputs are empty and the state gradients pass straight through
    arrays, _ = make_case(cell, seq_len=1, batch=3, n_in=4, hidden=5, seed=2)
    arrays["x"] = arrays["x"][:0]
    arrays["dy"] = arrays["dy"][:0]
    (fwd, bwd) = kernel_forward_backward(cell, *(arrays[k] for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih",
                                                                    "b_hh")), None, False,
                                          *(arrays[k] for k in ("dy", "dh_n", "dc_n")))
    assert fwd[0].shape == (0, 3, 5)
    np.testing.assert_array_equal(fwd[1], arrays["h0"])
    np.testing.assert_array_equal(bwd[1], arrays["dh_n"])
    assert not bwd[3].any() and not bwd[4].any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_one_step_calls(cell, dtype):
    # a decoder's one-step call: the backward's only recurrent product (dh0) runs after the loop
    # on W_hh as stored (first_step_product), with no transposed copy
    arrays, lengths = make_case(cell, seq_len=1, batch=5, n_in=6, hidden=7, seed=5, dtype=dtype)
    for reverse in (False, True):
        (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, reverse)
        assert_all_close(fwd, rfwd, dtype, NAMES_FWD)
        assert_all_close(bwd, rbwd, dtype, NAMES_BWD)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_inputs_and_saved_survive(cell):
    # the engine may run backward twice (retain_graph): neither call may write to its inputs
    arrays, lengths = make_case(cell, seq_len=5, batch=3, n_in=4, hidden=5, seed=2)
    before = {k: v.copy() for k, v in arrays.items()}
    a = arrays
    args = (a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"], lengths, True,
            a["dy"], a["dh_n"], a["dc_n"])
    first = kernel_forward_backward(cell, *args)
    second = kernel_forward_backward(cell, *args)
    for k, v in arrays.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    for g, h in zip(first[0] + first[1], second[0] + second[1]):
        np.testing.assert_array_equal(g, h)
    if cell == "lstm":
        y, h_n, c_n, saved = lstm_cpu.lstm_forward(a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"], a["b_ih"],
                                                   a["b_hh"], lengths, False)
        grads = [lstm_cpu.lstm_backward(a["dy"], a["dh_n"], a["dc_n"], a["x"], a["h0"], a["c0"], a["w_ih"],
                                        a["w_hh"], lengths, False, saved) for _ in range(2)]
        for g, h in zip(*grads):
            np.testing.assert_array_equal(g, h)


def test_fast_activations_match_numpy_float32():
    from numba import njit

    @njit(fastmath=True, error_model="numpy")
    def both(v, t_out, s_out):
        for k in range(v.size):
            t_out[k] = activations_cpu.fast_tanh(v[k])
            s_out[k] = activations_cpu.fast_sigmoid(v[k])

    v = np.concatenate([np.linspace(-20, 20, 200001), [-1e-6, 1e-6, 0.0, -1e30, 1e30]]).astype(np.float32)
    t_out, s_out = np.empty_like(v), np.empty_like(v)
    both(v, t_out, s_out)
    exact = v.astype(np.float64)
    np.testing.assert_allclose(t_out, np.tanh(exact), rtol=4e-7, atol=2e-7)
    with np.errstate(over="ignore"):
        s_exact = 1 / (1 + np.exp(-exact))
    np.testing.assert_allclose(s_out, s_exact, rtol=0, atol=2e-7)
    assert np.abs(t_out).max() <= 1 and s_out.min() >= 0 and s_out.max() <= 1

    v64 = np.linspace(-30, 30, 1001)
    t64, s64 = np.empty_like(v64), np.empty_like(v64)
    both(v64, t64, s64)
    np.testing.assert_allclose(t64, np.tanh(v64), rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(s64, 1 / (1 + np.exp(-v64)), rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_long_sequence_runs(cell):
    # T=20000, B=1, H=8: the loops are iterative; the end state matches the reference
    arrays, _ = make_case(cell, seq_len=20000, batch=1, n_in=8, hidden=8, seed=5)
    lengths = np.array([20000], np.int64)
    (fwd, bwd), (rfwd, rbwd) = run_both(cell, arrays, lengths, False)
    assert_all_close(fwd, rfwd, np.float64, NAMES_FWD)
    for name, g, r in zip(NAMES_BWD, bwd, rbwd):
        np.testing.assert_allclose(g, r, rtol=1e-8, atol=1e-8, err_msg=name)


# ---------------------------------------------------------------- torch

torch = pytest.importorskip("torch")
TORCH_CELL = {"lstm": lambda i, h: torch.nn.LSTM(i, h, bidirectional=True),
              "gru": lambda i, h: torch.nn.GRU(i, h, bidirectional=True),
              "rnn_tanh": lambda i, h: torch.nn.RNN(i, h, nonlinearity="tanh", bidirectional=True),
              "rnn_relu": lambda i, h: torch.nn.RNN(i, h, nonlinearity="relu", bidirectional=True)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_against_torch_bidirectional_packed(cell, dtype):
    """A bidirectional torch layer on a packed (enforce_sorted=False) batch is our forward kernel
    plus our reverse kernel; every gradient, h0/c0 included, comes from torch autograd."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    seq_len, batch, n_in, hidden = 8, 4, 5, 6
    rng = np.random.default_rng(7)
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    module = TORCH_CELL[cell](n_in, hidden).to(tdt)
    lengths = np.array([8, 3, 6, 1], np.int64)
    x = rng.standard_normal((seq_len, batch, n_in)).astype(dtype)
    h0 = (rng.standard_normal((2, batch, hidden)) * 0.5).astype(dtype)
    c0 = (rng.standard_normal((2, batch, hidden)) * 0.5).astype(dtype)
    dy = rng.standard_normal((seq_len, batch, 2 * hidden)).astype(dtype)
    dh_n = rng.standard_normal((2, batch, hidden)).astype(dtype)
    dc_n = rng.standard_normal((2, batch, hidden)).astype(dtype)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True)
    packed = pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=False)
    if cell == "lstm":
        out, (h_nt, c_nt) = module(packed, (h0t, c0t))
    else:
        out, h_nt = module(packed, h0t)
    yt, _ = pad_packed_sequence(out, total_length=seq_len)
    loss = (yt * torch.tensor(dy)).sum() + (h_nt * torch.tensor(dh_n)).sum()
    if cell == "lstm":
        loss = loss + (c_nt * torch.tensor(dc_n)).sum()
    loss.backward()

    tol = TOL[dtype]
    for d, suffix in enumerate(("", "_reverse")):
        params = {name: getattr(module, name + "_l0" + suffix).detach().numpy()
                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        sl = slice(d * hidden, (d + 1) * hidden)
        (y, h_n, c_n), grads = kernel_forward_backward(
            cell, x, h0[d], c0[d], params["weight_ih"], params["weight_hh"], params["bias_ih"],
            params["bias_hh"], lengths, bool(d), np.ascontiguousarray(dy[:, :, sl]), dh_n[d], dc_n[d])
        np.testing.assert_allclose(y, yt.detach().numpy()[:, :, sl], **tol)
        np.testing.assert_allclose(h_n, h_nt.detach().numpy()[d], **tol)
        if cell == "lstm":
            np.testing.assert_allclose(c_n, c_nt.detach().numpy()[d], **tol)
        dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = grads
        np.testing.assert_allclose(dh0, h0t.grad.numpy()[d], **tol)
        if cell == "lstm":
            np.testing.assert_allclose(dc0, c0t.grad.numpy()[d], **tol)
        for name, ours in (("weight_ih", dw_ih), ("weight_hh", dw_hh), ("bias_ih", db_ih), ("bias_hh", db_hh)):
            theirs = getattr(module, name + "_l0" + suffix).grad.numpy()
            np.testing.assert_allclose(ours, theirs, err_msg=name + suffix, **tol)
        if d == 0:
            dx_total = dx
        else:
            dx_total = dx_total + dx
    np.testing.assert_allclose(dx_total, xt.grad.numpy(), **tol)
