"""A PyTorch tutorial program (the char-RNN name classifier's training loop: one-hot line tensors
built by item assignment, a hand-written RNN over torch.cat, a hand-written SGD step through
.data, a confusion matrix filled with +=) run with only its import changed, in lockstep with
torch: the same losses, parameters and confusion matrix over 100 steps, in float64 (to round-off)
and in float32 (losses within 1e-4 at every step, as the programs of test_torch_programs.py)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def program(torch, dtype, steps=100, n_letters=6, n_hidden=8, n_categories=3, seed=0):
    """The tutorial's code, written against `torch` (either library), in torch.<dtype>."""
    dt = getattr(torch, dtype)
    rng = np.random.default_rng(seed)
    w_i2h = torch.tensor(rng.standard_normal((n_letters + n_hidden, n_hidden)) * 0.3, dtype=dt, requires_grad=True)
    b_i2h = torch.zeros(n_hidden, dtype=dt, requires_grad=True)
    w_i2o = torch.tensor(rng.standard_normal((n_letters + n_hidden, n_categories)) * 0.3, dtype=dt, requires_grad=True)
    params = [w_i2h, b_i2h, w_i2o]

    def line_to_tensor(line):
        tensor = torch.zeros(len(line), 1, n_letters, dtype=dt)
        for li, letter in enumerate(line):
            tensor[li][0][letter] = 1
        return tensor

    def step(input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(combined @ w_i2h + b_i2h)
        output = torch.log_softmax(combined @ w_i2o, dim=1)
        return output, hidden

    losses = []
    confusion = torch.zeros(n_categories, n_categories)
    for it in range(steps):
        category = int(rng.integers(n_categories))
        line = [int(c) for c in rng.integers(0, n_letters, size=int(rng.integers(2, 6)))]
        category_tensor = torch.tensor([category], dtype=torch.long)
        line_tensor = line_to_tensor(line)
        hidden = torch.zeros(1, n_hidden, dtype=dt)
        for i in range(line_tensor.size()[0]):
            output, hidden = step(line_tensor[i], hidden)
        loss = -output[0, category_tensor[0]]
        loss.backward()
        for p in params:
            p.data.add_(p.grad.data, alpha=-0.1)
            p.grad.zero_()
        losses.append(loss.item())
        top_n, top_i = output.topk(1)
        guess_i = top_i[0].item()
        confusion[category][guess_i] += 1
    for i in range(n_categories):
        confusion[i] = confusion[i] / confusion[i].sum().clamp(min=1)
    return losses, [p.detach().numpy().copy() for p in params], confusion.numpy().copy()


@pytest.mark.parametrize("dtype,loss_tol,param_tol", [("float64", 1e-12, 1e-12), ("float32", 1e-4, 1e-5)])
def test_char_rnn_tutorial_loop_runs_unchanged_in_lockstep_with_torch(dtype, loss_tol, param_tol):
    ours, theirs = program(ts, dtype), program(torch, dtype)
    assert len(ours[0]) == len(theirs[0]) == 100
    np.testing.assert_allclose(ours[0], theirs[0], atol=loss_tol, rtol=0)
    for a, b in zip(ours[1], theirs[1]):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=0, atol=param_tol)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-7)
    assert ours[2].sum() > 0
