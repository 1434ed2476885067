"""F.ctc_loss / nn.CTCLoss and F.batch_norm / nn.BatchNorm1d against torch 2.13: losses, the
gradients of the logits and of the log-probabilities (torch's CTC gradient form), padded and
concatenated targets, impossible alignments and zero_infinity, unbatched input; batch
normalization's outputs, gradients and running statistics in training and eval."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn

RNG = np.random.default_rng(0)
T, N, C = 12, 3, 5
LOGITS = RNG.standard_normal((T, N, C))
TARGETS = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 2]])
TARGET_LENGTHS, INPUT_LENGTHS = np.array([3, 2, 4]), np.array([12, 9, 10])


def _ctc(lib, fn, targets, input_lengths, **kw):
    x = lib.tensor(LOGITS, requires_grad=True)
    lp = x.log_softmax(2)
    lp.retain_grad()
    loss = fn(lp, lib.tensor(targets), lib.tensor(input_lengths), lib.tensor(TARGET_LENGTHS), **kw)
    (loss * lib.tensor(np.arange(1.0, 1.0 + loss.numel()).reshape(loss.shape))).sum().backward()
    return loss.detach().numpy(), x.grad.numpy(), lp.grad.numpy()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("targets", ["padded", "concatenated"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_matches_torch(reduction, targets, zero_infinity):
    tg = TARGETS if targets == "padded" else np.concatenate([t[:k] for t, k in zip(TARGETS, TARGET_LENGTHS)])
    lengths = INPUT_LENGTHS if not zero_infinity else np.array([2, 9, 10])   # sequence 0 cannot align
    ours = _ctc(ts, F.ctc_loss, tg, lengths, reduction=reduction, zero_infinity=zero_infinity)
    theirs = _ctc(torch, torch.nn.functional.ctc_loss, tg, lengths, reduction=reduction, zero_infinity=zero_infinity)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-8, atol=1e-10)


def test_ctc_module_unbatched_and_errors():
    for lib, mod in ((ts, nn), (torch, torch.nn)):
        lp = lib.tensor(LOGITS[:, 0]).log_softmax(1)
        loss = mod.CTCLoss(blank=0)(lp, lib.tensor([1, 2, 2]), lib.tensor(12), lib.tensor(3))
        assert abs(loss.item() - 4.793452) < 1e-5
    lp = ts.tensor(LOGITS).log_softmax(2)
    with pytest.raises(ValueError, match="labels outside"):   # (a label equal to the blank is computed, as torch's)
        F.ctc_loss(lp, ts.tensor([[5, 1], [1, 1], [1, 1]]), ts.tensor([5, 5, 5]), ts.tensor([2, 2, 2]))
    with pytest.raises(ValueError, match="input_lengths must be in"):
        F.ctc_loss(lp, ts.tensor(TARGETS), ts.tensor([13, 5, 5]), ts.tensor(TARGET_LENGTHS))


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5)])
@pytest.mark.parametrize("kw", [dict(), dict(momentum=None), dict(affine=False), dict(track_running_stats=False)])
def test_batchnorm1d_matches_torch(shape, kw):
    theirs = torch.nn.BatchNorm1d(3, **kw).double()
    ours = nn.BatchNorm1d(3, **kw).double()
    if kw.get("affine", True):
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
            theirs.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step, train in enumerate([True, True, False]):
        ours.train(train)
        theirs.train(train)
        data = RNG.standard_normal(shape) * (step + 1) + step
        results = []
        for lib, module in ((ts, ours), (torch, theirs)):
            x = lib.tensor(data, requires_grad=True)
            y = module(x)
            (y * lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape))).sum().backward()
            results.append([y.detach().numpy(), x.grad.numpy()] +
                           [v.detach().numpy() for v in module.state_dict().values()])
        for a, t in zip(*results):
            np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)


def test_batchnorm1d_errors():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(ts.zeros(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ts.zeros(1, 3))
