"""Cases ported from PyTorch's own test/test_nn.py (losses, F.pad, Bilinear), each compared with
torch 2.13 in the same process: the RuntimeErrors torch raises for F.pad's value in the index
modes and its over-cropping negative widths, triplet_margin_loss / cosine_embedding_loss /
bilinear shape checks, loss weights that require grad, cross_entropy of a 0-d input, and the
target gradients of binary_cross_entropy (unclamped) and poisson_nll_loss(full=True) (nan at 0)."""
import re

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as tF

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _raises_like_torch(call):
    """call(module, functional) raises a RuntimeError on torch and on ours, and ours' message
    starts with torch's (ours may add the shapes after it)."""
    with pytest.raises(RuntimeError) as theirs:
        call(torch, F)
    with pytest.raises(RuntimeError, match="^" + re.escape(str(theirs.value))):
        call(ts, tF)


# ------------------------------------------------------------------ F.pad
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_index_mode_with_value_raises(mode):
    # torch: 'Padding mode "reflect" doesn't take in value argument'; value None or 0 is taken
    x = np.arange(10, dtype=np.float32).reshape(1, 2, 5)
    _raises_like_torch(lambda T, Fn: Fn.pad(T.tensor(x), (1, 1), mode=mode, value=2.0))
    for value in (None, 0.0):
        np.testing.assert_array_equal(tF.pad(ts.tensor(x), (1, 1), mode=mode, value=value).numpy(),
                                      F.pad(torch.tensor(x), (1, 1), mode=mode, value=value).numpy())


@pytest.mark.parametrize("pad", [(-3, -3), (-6, 1), (2, -8), (0, 0, -4, 0)])
def test_pad_negative_beyond_size_raises(pad):
    # torch: 'narrow(): length must be non-negative.'
    x = np.ones((2, 3, 5), np.float32)
    _raises_like_torch(lambda T, Fn: Fn.pad(T.tensor(x), pad))


def test_pad_negative_to_empty_is_fine():
    x = np.ones((2, 3, 5), np.float32)
    for pad in [(-3, -2), (-5, 0)]:
        assert tuple(tF.pad(ts.tensor(x), pad).shape) == tuple(F.pad(torch.tensor(x), pad).shape) == (2, 3, 0)


# ------------------------------------------------------------------ shape checks of the losses
def test_triplet_margin_loss_dims_mismatch_raises():
    # torch: 'The anchor, positive, and negative tensors are expected to have the same number of dimensions'
    r = np.random.RandomState(0)
    a, p, n = r.randn(5, 4).astype(np.float32), r.randn(4).astype(np.float32), r.randn(5, 4).astype(np.float32)
    _raises_like_torch(lambda T, Fn: Fn.triplet_margin_loss(T.tensor(a), T.tensor(p), T.tensor(n)))
    _raises_like_torch(lambda T, Fn: Fn.triplet_margin_loss(T.tensor(a), T.tensor(a), T.tensor(p)))


def test_cosine_embedding_loss_2d_target_raises():
    # torch: '0D or 1D target tensor expected, multi-target not supported'
    r = np.random.RandomState(0)
    a, b = r.randn(5, 4).astype(np.float32), r.randn(5, 4).astype(np.float32)
    y = np.ones((5, 1), np.float32)
    _raises_like_torch(lambda T, Fn: Fn.cosine_embedding_loss(T.tensor(a), T.tensor(b), T.tensor(y)))


def test_cosine_embedding_loss_target_rank_against_inputs():
    # torch: '1D target tensor expects 2D input tensors, ...' / '0D target tensor expects 1D input tensors, ...'
    r = np.random.RandomState(0)
    a, b = r.randn(5, 4).astype(np.float32), r.randn(5, 4).astype(np.float32)
    _raises_like_torch(lambda T, Fn: Fn.cosine_embedding_loss(T.tensor(a[0]), T.tensor(b[0]), T.ones(1)))
    _raises_like_torch(lambda T, Fn: Fn.cosine_embedding_loss(T.tensor(a), T.tensor(b), T.tensor(1.0)))
    _raises_like_torch(lambda T, Fn: Fn.cosine_embedding_loss(T.tensor(a), T.tensor(b[0]), T.ones(5)))
    ours = tF.cosine_embedding_loss(ts.tensor(a[0]), ts.tensor(b[0]), ts.tensor(-1.0), margin=-0.5)
    theirs = F.cosine_embedding_loss(torch.tensor(a[0]), torch.tensor(b[0]), torch.tensor(-1.0), margin=-0.5)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


def test_bilinear_batch_dims_must_match():
    # torch: 'bilinear(): input batch dimensions do not match at dim 0: got 1 and 3'
    #        'bilinear(): input dimensions do not match: got 3 and 2'
    r = np.random.RandomState(0)
    w = r.randn(7, 5, 4).astype(np.float32)
    x1, x2 = r.randn(3, 5).astype(np.float32), r.randn(3, 4).astype(np.float32)
    _raises_like_torch(lambda T, Fn: Fn.bilinear(T.tensor(x1[:1]), T.tensor(x2), T.tensor(w)))
    _raises_like_torch(lambda T, Fn: Fn.bilinear(T.tensor(x1[None]), T.tensor(x2), T.tensor(w)))


def test_bilinear_feature_and_bias_sizes_must_match_weight():
    r = np.random.RandomState(0)
    w, b = r.randn(7, 5, 4).astype(np.float32), r.randn(6).astype(np.float32)
    x1, x2 = r.randn(3, 5).astype(np.float32), r.randn(3, 4).astype(np.float32)
    _raises_like_torch(lambda T, Fn: Fn.bilinear(T.tensor(x1[:, :3]), T.tensor(x2), T.tensor(w)))
    _raises_like_torch(lambda T, Fn: Fn.bilinear(T.tensor(x1), T.tensor(x2[:, :3]), T.tensor(w)))
    _raises_like_torch(lambda T, Fn: Fn.bilinear(T.tensor(x1), T.tensor(x2), T.tensor(w), T.tensor(b)))


def test_bilinear_module_batch_dims_must_match():
    r = np.random.RandomState(0)
    x1, x2 = r.randn(1, 5).astype(np.float32), r.randn(3, 4).astype(np.float32)
    _raises_like_torch(lambda T, Fn: T.nn.Bilinear(5, 4, 7)(T.tensor(x1), T.tensor(x2)))


# ------------------------------------------------------------------ weights that require grad
@pytest.mark.parametrize("arg", ["weight", "pos_weight"])
def test_bce_with_logits_weight_requires_grad_raises(arg):
    # torch: "The function 'binary_cross_entropy_with_logits' is not differentiable with respect to argument 'weight'"
    r = np.random.RandomState(0)
    x, t, w = r.randn(4, 3).astype(np.float32), r.rand(4, 3).astype(np.float32), np.abs(r.randn(3)).astype(np.float32)
    _raises_like_torch(lambda T, Fn: Fn.binary_cross_entropy_with_logits(
        T.tensor(x, requires_grad=True), T.tensor(t), **{arg: T.tensor(w, requires_grad=True)}))
    with ts.no_grad():   # only in grad mode, as torch's
        tF.binary_cross_entropy_with_logits(ts.tensor(x), ts.tensor(t), **{arg: ts.tensor(w, requires_grad=True)})


def test_bce_weight_requires_grad_raises():
    r = np.random.RandomState(0)
    s, t, w = r.rand(4, 3).astype(np.float32), r.rand(4, 3).astype(np.float32), np.abs(r.randn(3)).astype(np.float32)
    _raises_like_torch(lambda T, Fn: Fn.binary_cross_entropy(
        T.tensor(s, requires_grad=True), T.tensor(t), weight=T.tensor(w, requires_grad=True)))
    with ts.no_grad():
        tF.binary_cross_entropy(ts.tensor(s), ts.tensor(t), weight=ts.tensor(w, requires_grad=True))


# ------------------------------------------------------------------ target gradients
def _bce_target_grad(T, Fn):
    x = T.tensor([0.0, 1.0, 1e-30, 0.25], requires_grad=True)
    y = T.tensor([1.0, 0.0, 0.5, 0.75], requires_grad=True)
    Fn.binary_cross_entropy(x, y, reduction="sum").backward()
    return np.asarray(y.grad.numpy(), np.float64), np.asarray(x.grad.numpy(), np.float64)


def test_bce_target_grad_unclamped():
    # torch: target grad -logit(x) is [inf, -inf, 69.08, 1.0986]; the input's gradient stays clamped
    ours, theirs = _bce_target_grad(ts, tF), _bce_target_grad(torch, F)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)


def _pnll_target_grad(T, Fn):
    i = T.tensor([0.5, 1.0, 2.0, 3.0, 0.3, 0.2], requires_grad=True)
    t = T.tensor([0.0, 1.0, 2.0, 3.0, -1.0, 0.5], requires_grad=True)
    loss = Fn.poisson_nll_loss(i, t, full=True, reduction="sum")
    loss.backward()
    return float(loss.item()), np.asarray(t.grad.numpy(), np.float64)


def test_poisson_nll_full_target_grad_at_zero():
    # torch: [nan, -1, -1.0569, -1.7347, nan, -0.2] (the Stirling term's 0 * log(0) gradient); a finite loss
    with np.errstate(all="raise"):   # the nan comes without numpy's warnings
        ours = _pnll_target_grad(ts, tF)
    theirs = _pnll_target_grad(torch, F)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, equal_nan=True)


# ------------------------------------------------------------------ cross_entropy's target kinds
def test_cross_entropy_0d_input_error_type():
    # torch: RuntimeError 'Expected floating point type for target with class probabilities, got Long'
    _raises_like_torch(lambda T, Fn: Fn.cross_entropy(T.tensor(1.0), T.tensor(0)))


@pytest.mark.parametrize("shape", [(3,), (1,), (2, 3)])
def test_cross_entropy_integer_target_of_input_shape_raises(shape):
    # a target of the input's shape is taken as class probabilities, whatever its dtype
    _raises_like_torch(lambda T, Fn: Fn.cross_entropy(T.ones(*shape), T.zeros(*shape, dtype=T.long)))
