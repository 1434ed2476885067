"""Module hooks against torch 2.13: full backward hooks and pre-hooks, and the forward hooks'
with_kwargs / prepend / always_call."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _pair(seed=0):
    torch.manual_seed(seed)
    tl = torch.nn.Linear(3, 2).double()
    ol = ts.nn.Linear(3, 2).double()
    ol.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    return tl, ol


def _arr(t):
    return None if t is None else np.asarray(t.detach().numpy() if hasattr(t, "detach") else t.numpy())


def _record(log):
    def hook(m, grad_input, grad_output):
        log.append(([_arr(g) for g in grad_input], [_arr(g) for g in grad_output]))
    return hook


def _same_logs(a, b):
    assert len(a) == len(b)
    for (gi_a, go_a), (gi_b, go_b) in zip(a, b):
        for x, y in zip(gi_a + go_a, gi_b + go_b):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-12)


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_full_backward_hook_sees_torchs_grad_input_and_grad_output(x_requires_grad):
    tl, ol = _pair()
    logs = []
    for lib, lin in ((torch, tl), (ts, ol)):
        log = []
        lin.register_full_backward_hook(_record(log))
        x = lib.tensor(np.arange(12.0).reshape(4, 3) / 7, requires_grad=x_requires_grad)
        (lin(x) ** 2).sum().backward()
        logs.append((log, _arr(x.grad), _arr(lin.weight.grad)))
    _same_logs(logs[0][0], logs[1][0])
    assert len(logs[0][0]) == 1
    for a, b in zip(logs[0][1:], logs[1][1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_backward_hook_replaces_grad_input_and_a_pre_hook_grad_output():
    tl, ol = _pair(1)
    grads = []
    for lib, lin in ((torch, tl), (ts, ol)):
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        y = lib.tensor(np.full((2, 3), 2.0), requires_grad=True)
        (lin(x * y) ** 2).sum().backward()
        grads.append((_arr(x.grad), _arr(y.grad), _arr(lin.weight.grad), _arr(lin.bias.grad)))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_backward_hooks_on_a_cell_called_in_a_loop_and_on_an_lstm():
    torch.manual_seed(0)
    tc = torch.nn.LSTM(3, 4, batch_first=True).double()
    oc = ts.nn.LSTM(3, 4, batch_first=True).double()
    oc.load_state_dict({k: v.numpy() for k, v in tc.state_dict().items()})
    tcell = torch.nn.GRUCell(3, 4).double()
    ocell = ts.nn.GRUCell(3, 4).double()
    ocell.load_state_dict({k: v.numpy() for k, v in tcell.state_dict().items()})
    logs = []
    for lib, lstm, cell in ((torch, tc, tcell), (ts, oc, ocell)):
        log = []
        lstm.register_full_backward_hook(_record(log))
        cell.register_full_backward_hook(_record(log))
        pre = []
        cell.register_full_backward_pre_hook(lambda m, go: pre.append(_arr(go[0])))
        x = lib.tensor(np.linspace(-1, 1, 2 * 5 * 3).reshape(2, 5, 3), requires_grad=True)
        out, (h, c) = lstm(x)
        hx = lib.zeros(2, 4, dtype=lib.float64)
        for t in range(3):
            hx = cell(out[:, t, :3], hx)
        (hx.sum() + h.sum()).backward()
        logs.append((log, pre, _arr(x.grad)))
    _same_logs(logs[0][0], logs[1][0])
    assert len(logs[1][0]) == 4 and len(logs[1][1]) == 3
    for a, b in zip(logs[0][1], logs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(logs[0][2], logs[1][2], rtol=1e-10)


def test_backward_hook_errors_and_removal():
    for lib in (torch, ts):
        lin = lib.nn.Linear(3, 2)
        h = lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_input"):
            lin(lib.ones(1, 3, requires_grad=True)).sum().backward()
        h.remove()
        lin(lib.ones(1, 3, requires_grad=True)).sum().backward()   # no hook any more
        lin.register_full_backward_hook(lambda m, gi, go: (lib.ones(1, 3),))
        with pytest.raises(RuntimeError, match="no input requires gradient"):
            lin(lib.ones(1, 3)).sum().backward()
    with pytest.raises(AttributeError, match="register_full_backward_hook"):
        ts.nn.Linear(2, 2).register_backward_hook(lambda *a: None)


def test_no_backward_hook_call_without_grad():
    calls = []
    lin = ts.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda *a: calls.append(1))
    with ts.no_grad():
        assert not lin(ts.ones(1, 3, requires_grad=True)).requires_grad
    assert calls == []


def test_forward_hooks_with_kwargs_prepend_and_always_call():
    results = []
    for lib in (torch, ts):
        class M(lib.nn.Module):
            def forward(self, x, scale=1.0, fail=False):
                if fail:
                    raise ValueError("boom")
                return x * scale
        m = M()
        order = []
        m.register_forward_pre_hook(lambda mod, args, kw: (args, {**kw, "scale": 3.0}), with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, args: order.append("pre2"))
        m.register_forward_pre_hook(lambda mod, args: order.append("pre1"), prepend=True)
        m.register_forward_hook(lambda mod, args, kw, out: out + kw["scale"], with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: order.append("always"), always_call=True)
        out = m(lib.ones(2), scale=2.0)
        with pytest.raises(ValueError, match="boom"):
            m(lib.ones(2), fail=True)
        results.append((out.tolist(), order))
    assert results[0] == results[1] == ([6.0, 6.0], ["pre1", "pre2", "always", "pre1", "pre2", "always"])


def test_an_unused_input_gets_zeros_as_in_torch():
    got = []
    for lib in (torch, ts):
        class Two(lib.nn.Module):
            def forward(self, a, b, k):
                return a * 2
        m = Two()
        log = []
        m.register_full_backward_hook(_record(log))
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(3, requires_grad=True)
        m(a, b, 5).sum().backward()
        got.append((log, _arr(b.grad)))
    _same_logs(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    assert got[1][0][0][0][2] is None
