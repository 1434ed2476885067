"""optim.LBFGS against torch.optim.LBFGS: pytorch/examples' time-sequence LSTM (LSTMCell over
sine waves, a closure, float64) with and without the strong-Wolfe line search, a badly scaled
quadratic, and the options' checks."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn, optim
from module_helpers import load_from_torch


class _Sequence:
    """The model of pytorch/examples/time_sequence_prediction, for library T."""

    def __init__(self, T, mod):
        self.T = T
        self.lstm1, self.lstm2, self.linear = mod.LSTMCell(1, 6), mod.LSTMCell(6, 6), mod.Linear(6, 1)

    def modules(self):
        return (self.lstm1, self.lstm2, self.linear)

    def parameters(self):
        return [p for m in self.modules() for p in m.parameters()]

    def __call__(self, x):
        T, B = self.T, x.shape[0]
        h1, c1, h2, c2 = (T.zeros(B, 6, dtype=T.float64) for _ in range(4))
        outputs = []
        for step in x.split(1, dim=1):
            h1, c1 = self.lstm1(step, (h1, c1))
            h2, c2 = self.lstm2(h1, (h2, c2))
            outputs.append(self.linear(h2))
        return T.cat(outputs, dim=1)


def _data():
    t = np.arange(12)[None, :] + np.array([[0.0], [3.0], [7.0]])
    wave = np.sin(t / 2.0)
    return wave[:, :-1], wave[:, 1:]


def _train(T, model, line_search, steps=2):
    x, y = (T.tensor(a) for a in _data())
    opt = (optim if T is ts else torch.optim).LBFGS(model.parameters(), lr=0.8, max_iter=6,
                                                   line_search_fn=line_search)
    losses = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss
        losses.append(float(opt.step(closure).detach()))
    return losses, opt.state[model.parameters()[0]]["func_evals"]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_time_sequence_example_matches_torch(line_search):
    torch.manual_seed(0)
    theirs = _Sequence(torch, torch.nn)
    for m in theirs.modules():
        m.double()
    ours = _Sequence(ts, nn)
    for a, b in zip(ours.modules(), theirs.modules()):
        a.double()
        load_from_torch(a, b)
    l_ours, evals_ours = _train(ts, ours, line_search)
    l_theirs, evals_theirs = _train(torch, theirs, line_search)
    np.testing.assert_allclose(l_ours, l_theirs, rtol=1e-8)
    assert evals_ours == evals_theirs
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_badly_scaled_quadratic_matches_torch(line_search):
    scales = np.array([1.0, 30.0, 0.2])
    results = []
    for T, o in ((ts, optim), (torch, torch.optim)):
        w = T.tensor([1.0, -2.0, 3.0], dtype=T.float64, requires_grad=True)
        opt = o.LBFGS([w], lr=1, max_iter=15, history_size=3, line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            loss = (T.tensor(scales) * (w - 0.5) ** 2).sum() + (w ** 4).sum() * 0.01
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-12)


def test_lbfgs_options_are_checked():
    w = nn.Parameter(ts.zeros(2))
    bad = optim.LBFGS([w], line_search_fn="armijo")   # torch's check is at the step
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        bad.step(lambda: ((w - 1) ** 2).sum().backward() or ((w - 1) ** 2).sum())
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [w]}, {"params": [nn.Parameter(ts.zeros(1))]}])
    assert optim.LBFGS([w], max_iter=8).param_groups[0]["max_eval"] == 10


def _quadratic_run(T, o, w, opt_state=None, steps=2):
    opt = o.LBFGS([w], lr=1, max_iter=4, history_size=3, line_search_fn="strong_wolfe")
    if opt_state is not None:
        opt.load_state_dict(opt_state)

    def closure():
        opt.zero_grad()
        loss = ((w - 0.5) ** 2 * T.tensor([1.0, 30.0, 0.2], dtype=T.float64)).sum() + (w ** 4).sum() * 0.01
        loss.backward()
        return loss
    for _ in range(steps):
        opt.step(closure)
    return opt


def test_state_dict_round_trip_and_torchs_state_continue_exactly(tmp_path):
    start = [1.0, -2.0, 3.0]
    straight = ts.tensor(start, dtype=ts.float64, requires_grad=True)
    _quadratic_run(ts, optim, straight, steps=4)
    w = ts.tensor(start, dtype=ts.float64, requires_grad=True)
    opt = _quadratic_run(ts, optim, w, steps=2)
    ts.save(opt.state_dict(), tmp_path / "lbfgs.pt")
    resumed = ts.tensor(w.tolist(), dtype=ts.float64, requires_grad=True)
    _quadratic_run(ts, optim, resumed, ts.load(tmp_path / "lbfgs.pt"), steps=2)
    np.testing.assert_array_equal(resumed.numpy(), straight.numpy())
    # a torch LBFGS's state dict continues the same way here as in torch
    tw = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    topt = _quadratic_run(torch, torch.optim, tw, steps=2)
    ours = ts.tensor(tw.tolist(), dtype=ts.float64, requires_grad=True)
    _quadratic_run(ts, optim, ours, topt.state_dict(), steps=2)
    _quadratic_run(torch, torch.optim, tw, topt.state_dict(), steps=2)
    np.testing.assert_allclose(ours.numpy(), tw.detach().numpy(), rtol=1e-9)
