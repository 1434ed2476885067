"""F.ctc_loss's compiled path (kernels/ctc_cpu.py, its log-space fallback kernels/ctc_log_cpu.py)
against the reference composition (tinygrad_seq/ctc.py, KERNEL = False) and torch 2.13: losses and
the gradients of the log-probabilities in float32 and float64, every reduction, zero_infinity,
blank other than 0, padded and concatenated targets, empty targets, impossible alignments,
unbatched input, input lengths under T, repeated labels, a label equal to the blank, long peaked
sequences (far-apart terms), non-finite log-probabilities and a batch split over threads."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import ctc
from tinygrad_seq.kernels import tuning

T, N, C = 14, 5, 6
RNG = np.random.default_rng(34)
LOGITS = RNG.standard_normal((T, N, C))
# empty target, repeated labels (no skip between them), a label equal to blank 2, one too long
# for its input length (an impossible alignment: inf loss)
TARGETS = np.array([[1, 3, 3, 4], [0, 0, 0, 0], [5, 1, 2, 1], [2, 2, 2, 2], [4, 1, 4, 3]])
TARGET_LENGTHS = np.array([4, 0, 4, 3, 4])
INPUT_LENGTHS = np.array([14, 9, 11, 14, 3])


def _run(lib, logits, targets, input_lengths, target_lengths, dtype, kernel=True, **kw):
    ctc.KERNEL = kernel
    try:
        lp = lib.tensor(logits, dtype=getattr(lib, dtype)).log_softmax(-1).detach().requires_grad_()
        loss = lib.nn.functional.ctc_loss(lp, lib.tensor(targets), lib.tensor(input_lengths),
                                          lib.tensor(target_lengths), **kw) if lib is torch else \
            F.ctc_loss(lp, lib.tensor(targets), lib.tensor(input_lengths), lib.tensor(target_lengths), **kw)
        weights = np.arange(1.0, 1.0 + loss.numel()).reshape(tuple(loss.shape))
        (loss * lib.tensor(weights, dtype=getattr(lib, dtype))).sum().backward()
        return loss.detach().numpy().astype(np.float64), lp.grad.numpy().astype(np.float64)
    finally:
        ctc.KERNEL = True


def _targets(form):
    if form == "padded":
        return TARGETS
    return np.concatenate([t[:k] for t, k in zip(TARGETS, TARGET_LENGTHS)])


def _close(a, b, dtype, vs_torch):
    rtol, atol = ((1e-4, 1e-5) if dtype == "float32" else (1e-8, 1e-10)) if vs_torch else \
        ((2e-6, 1e-7) if dtype == "float32" else (1e-10, 1e-12))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("form", ["padded", "concatenated"])
@pytest.mark.parametrize("blank", [0, 2])
def test_kernel_matches_reference_and_torch(dtype, reduction, zero_infinity, form, blank):
    kw = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    args = (LOGITS, _targets(form), INPUT_LENGTHS, TARGET_LENGTHS, dtype)
    ours, ref, theirs = _run(ts, *args, **kw), _run(ts, *args, kernel=False, **kw), _run(torch, *args, **kw)
    for a, r, t in zip(ours, ref, theirs):
        _close(a, r, dtype, vs_torch=False)
        _close(a, t, dtype, vs_torch=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unbatched(dtype):
    args = (LOGITS[:, 0], TARGETS[0], np.array(11), np.array(4), dtype)
    ours, ref, theirs = _run(ts, *args), _run(ts, *args, kernel=False), _run(torch, *args)
    for a, r, t in zip(ours, ref, theirs):
        _close(a, r, dtype, vs_torch=False)
        _close(a, t, dtype, vs_torch=True)


def test_long_peaked_sequences():
    """Logits 25x sharper over 300 steps: the alpha / beta terms lie hundreds of nats apart."""
    rng = np.random.default_rng(7)
    logits = 25 * rng.standard_normal((300, 3, 12))
    targets = rng.integers(1, 12, (3, 60))
    args = (logits, targets, np.array([300, 250, 200]), np.array([60, 40, 55]), "float64")
    ours, ref, theirs = _run(ts, *args, reduction="sum"), _run(ts, *args, kernel=False, reduction="sum"), \
        _run(torch, *args, reduction="sum")
    for a, r, t in zip(ours, ref, theirs):   # a loss of ~15500 nats: its ulp is 2e-12, and the
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=2e-11)   # gradients' differences ~4e-12
        _close(a, t, "float64", vs_torch=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the reference's numpy, on inf and nan
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_non_finite_log_probs_as_the_reference(bad, zero_infinity):
    lp = torch.tensor(LOGITS).log_softmax(-1).numpy()
    lp[3, 0, 1] = lp[5, 2, 0] = bad
    lp[2, 4, 3] = bad   # after sequence 4's input length: unused
    out = []
    for kernel in (True, False):
        ctc.KERNEL = kernel
        try:
            x = ts.tensor(lp, requires_grad=True)
            loss = F.ctc_loss(x, ts.tensor(TARGETS), ts.tensor(INPUT_LENGTHS), ts.tensor(TARGET_LENGTHS),
                              reduction="none", zero_infinity=zero_infinity)
            loss.sum().backward()
            out.append((loss.detach().numpy(), x.grad.numpy()))
        finally:
            ctc.KERNEL = True
    for a, r in zip(*out):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12)   # (nan where nan, inf where inf)


def test_zero_input_length_and_split_batch(monkeypatch):
    """An input length 0 (loss 0 for the empty target, else inf), and the batch split over the
    kernels' threads (every call splits): the same values as one chunk and as the reference."""
    lengths = np.array([14, 0, 0, 14, 6])
    args = (LOGITS, TARGETS, lengths, TARGET_LENGTHS, "float64")
    one = _run(ts, *args, reduction="none")
    assert one[0][1] == 0 and np.isinf(one[0][2])
    ref = _run(ts, *args, kernel=False, reduction="none")
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    split = _run(ts, *args, reduction="none")
    for a, b, r in zip(one, split, ref):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12)
