"""Integer, bool and mixed-float operands of torch.nn.functional's activations, losses,
normalizations, pools and dropouts (review item 8 and the sweep after it): each call compared
with torch 2.13, value and dtype, or the type of the exception torch raises."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F

pytestmark = pytest.mark.filterwarnings("ignore")


def _operands(lib):
    x = lib.tensor([[[1, 0, 3, 2], [2, 1, 0, 5]]])
    return {"T": lib, "F": TF if lib is torch else F, "x": x, "u": x.to(lib.uint8), "b": x.bool(),
            "f": x.float(), "d": x.double()}


def _run(src, lib):
    try:
        out = eval(src, _operands(lib))
    except Exception as e:   # the exception is the result compared
        return "raises", type(e)
    return str(out.dtype).split(".")[-1], np.asarray(out.detach().numpy(), np.float64)


def _same_as_torch(src):
    want, got = _run(src, torch), _run(src, ts)
    if want[0] == "raises":
        assert got[0] == "raises" and issubclass(got[1], want[1]), (src, want, got)
        return
    assert got[0] == want[0], (src, want, got)   # the dtype
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6, err_msg=src)


# ---- activations: bool / integer inputs torch refuses or keeps integer
ACTIVATIONS = [
    "F.relu(b)", "F.relu(b, inplace=True)", "F.relu_(b.clone())", "F.relu(u)", "F.relu(x)",
    "F.hardtanh(u)", "F.hardtanh(u, -1, 2)", "F.hardtanh_(u.clone())", "F.hardtanh(u, inplace=True)",
    "F.hardtanh(u, -0.5, 2)", "F.hardtanh(u, 0, 2)", "F.hardtanh(x.to(T.int8))", "F.hardtanh(b)",
    "F.hardtanh(f, 1, -1)", "F.hardtanh_(f.clone(), 1, -1)", "F.relu6(u)", "F.relu6(b)",
    "F.glu(x)", "F.glu(u)", "F.glu(b)", "F.glu(f)",
    "F.softsign(b)", "F.softsign(x)", "F.softsign(u)",
    "F.threshold(b, 1, 7)", "F.threshold_(b.clone(), 1, 7)", "F.threshold(x, 1.5, 7.5)",
    "F.threshold(T.tensor([-3, -2, 2, 5]), -2.5, 7.9)", "F.threshold(T.tensor([-3, -2, 2, 5]), 2.5, 7.9)",
    "F.threshold(u, 1.5, 7.5)", "F.threshold(u, 1, -1)", "F.threshold(u, 1, 300)",
    "F.threshold(x.to(T.int8), 1, 300)", "F.threshold_(x.clone(), 1.5, 7.5)",
    "F.prelu(x, T.ones(1, dtype=T.int64))", "F.prelu(u, T.ones(1, dtype=T.uint8))", "F.prelu(b, b[0, 0, :1])",
    "F.prelu(f, T.ones(1, dtype=T.float64))", "F.prelu(d, T.ones(1))", "F.prelu(x, T.ones(1))",
    "F.prelu(f, T.ones(1, dtype=T.float16))", "F.prelu(f, T.full((1,), 0.25))",
    "F.gumbel_softmax(x)", "F.gumbel_softmax(b)",
    "F.elu(x)", "F.silu(b)", "F.tanhshrink(x)", "F.softmin(x, 1)",
]


@pytest.mark.parametrize("src", ACTIVATIONS)
def test_activation_dtypes_like_torch(src):
    _same_as_torch(src)


# ---- dropouts: a float mask can't go into an integer tensor; p = 1 keeps the dtype
DROPOUTS = [
    "F.alpha_dropout(x, 0.5, True)", "F.alpha_dropout(u, 0.5, True)", "F.alpha_dropout(b, 0.5, True)",
    "F.alpha_dropout(x, 1.0, True)", "F.alpha_dropout(b, 1.0, True)", "F.alpha_dropout(x, 0.0, True)",
    "F.alpha_dropout(x, 0.5, False)",
    "F.dropout(x, 0.5, True)", "F.dropout(b, 0.5, True)", "F.dropout(x, 1.0, True)", "F.dropout(b, 1.0, True)",
    "F.dropout(x.clone(), 1.0, True, inplace=True)", "F.dropout(x, 0.5, False)",
    "F.dropout1d(x, 0.5, True)", "F.dropout1d(x, 1.0, True)",
    "F.dropout2d(x, 0.5, True)", "F.dropout2d(b, 0.5, True)", "F.dropout2d(x, 1.0, True)", "F.dropout2d(b, 1.0, True)",
]


@pytest.mark.parametrize("src", DROPOUTS)
def test_dropout_dtypes_like_torch(src):
    _same_as_torch(src)


# ---- normalization: integer inputs, and parameters of another dtype than the input's
NORMS = [
    "F.layer_norm(x, (4,))", "F.layer_norm(b, (4,))", "F.layer_norm(f, (4,), T.ones(4, dtype=T.float64))",
    "F.layer_norm(d, (4,), T.ones(4))", "F.layer_norm(f, (4,), None, T.ones(4, dtype=T.float64))",
    "F.layer_norm(f, (4,), T.ones(4, dtype=T.int64))", "F.layer_norm(d, (4,), T.ones(4, dtype=T.float64))",
    "F.group_norm(x, 1)", "F.group_norm(u, 1)", "F.group_norm(f, 1, T.ones(2, dtype=T.float64))",
    "F.group_norm(d, 1, T.ones(2))", "F.group_norm(f, 1, T.ones(2, dtype=T.int64))",
    "F.batch_norm(x, None, None, training=True)", "F.batch_norm(x, T.zeros(2), T.ones(2))",
    "F.batch_norm(u, T.zeros(2, dtype=T.uint8), T.ones(2, dtype=T.uint8))",
    "F.batch_norm(f, T.zeros(2, dtype=T.float64), T.ones(2, dtype=T.float64))",
    "F.batch_norm(d, T.zeros(2), T.ones(2))", "F.batch_norm(f, T.zeros(2), T.ones(2), T.ones(2, dtype=T.float64))",
    "F.batch_norm(f, None, None, None, T.ones(2, dtype=T.float64), training=True)",
    "F.batch_norm(f, T.zeros(2, dtype=T.int64), T.ones(2))", "F.batch_norm(f, T.zeros(2), T.ones(2))",
    "F.rms_norm(x, (4,))", "F.rms_norm(b, (4,))", "F.rms_norm(f, (4,), T.ones(4, dtype=T.float64))",
    "F.rms_norm(d, (4,), T.ones(4))", "F.rms_norm(f, (4,), T.ones(4, dtype=T.int64))",
    "F.cosine_similarity(x, f)", "F.cosine_similarity(f, x)", "F.cosine_similarity(b, f)",
    "F.cosine_similarity(x, d)", "F.cosine_similarity(x, x)", "F.cosine_similarity(x, u)",
    "F.cosine_similarity(f, d)", "F.normalize(x)", "F.pairwise_distance(x, f)",
]


@pytest.mark.parametrize("src", NORMS)
def test_normalization_dtypes_like_torch(src):
    _same_as_torch(src)


# ---- products, pools, pad
LAYERS = [
    "F.bilinear(f[0], f[0], T.ones(1, 4, 4, dtype=T.float64))", "F.bilinear(d[0], d[0], T.ones(1, 4, 4))",
    "F.bilinear(f[0], d[0], T.ones(1, 4, 4))", "F.bilinear(f[0], f[0], T.ones(1, 4, 4), T.ones(1, dtype=T.float64))",
    "F.bilinear(x[0], x[0], T.ones(1, 4, 4, dtype=T.int64))", "F.bilinear(x[0], x[0], T.ones(1, 4, 4))",
    "F.bilinear(b[0], b[0], T.ones(1, 4, 4, dtype=T.bool))",
    "F.linear(b[0], b[0])", "F.linear(b[0], b[0, 0])", "F.linear(b[0], f[0])", "F.linear(x[0], x[0])",
    "F.conv1d(b, b[:, :, :1])", "F.conv1d(x, x[:, :, :1])", "F.conv1d(f, d[:, :, :1])",
    "F.max_pool1d(x, 2)", "F.max_pool1d(u, 2)", "F.max_pool1d(b, 2)",
    "F.max_pool1d(x, 2, return_indices=True)[0]", "F.max_pool1d(x, 2, return_indices=True)[1]",
    "F.adaptive_max_pool1d(x, 2)", "F.adaptive_max_pool1d(x, 2, return_indices=True)[0]",
    "F.adaptive_avg_pool1d(x, 2)", "F.adaptive_avg_pool1d(b, 2)",
    "F.avg_pool1d(x, 2)", "F.avg_pool1d(x, 3, 1)", "F.avg_pool1d(x, 2, padding=1)", "F.avg_pool1d(u, 2)",
    "F.avg_pool1d(b, 2)", "F.avg_pool1d(x.int(), 2)", "F.avg_pool1d(T.tensor([[[-1, -2, 3, -4]]]), 2)",
    "F.avg_pool1d(T.tensor([[[1, 2, 3, 4, 5]]]), 2, ceil_mode=True)",
    "F.avg_pool1d(T.tensor([[[-1, -2, 3, -4, 7]]]), 3, 2, padding=1, count_include_pad=False, ceil_mode=True)",
    "F.avg_pool1d(T.tensor([[-1, -2, 3, -4, 7]]), 2)",
    "F.pad(b, (1, 1), mode='reflect')", "F.pad(b, (1, 1), mode='replicate')", "F.pad(b, (1, 1), mode='circular')",
    "F.pad(x, (1, 1), mode='reflect')", "F.pad(b, (1, 1))",
]


@pytest.mark.parametrize("src", LAYERS)
def test_layer_dtypes_like_torch(src):
    _same_as_torch(src)


# ---- losses
LOSSES = [
    "F.mse_loss(x, x)", "F.mse_loss(b, b)", "F.mse_loss(x, x, reduction='none')", "F.mse_loss(x, u)",
    "F.mse_loss(u, b)", "F.mse_loss(x, f)", "F.mse_loss(f, b)", "F.mse_loss(b, f)", "F.mse_loss(f, d)",
    "F.smooth_l1_loss(x, x)", "F.smooth_l1_loss(u, u, reduction='none')", "F.smooth_l1_loss(b, f)",
    "F.smooth_l1_loss(x, f)", "F.smooth_l1_loss(f, d)",
    "F.huber_loss(x, x)", "F.huber_loss(x, f)", "F.huber_loss(b, f)", "F.huber_loss(f, x)", "F.huber_loss(f, b)",
    "F.huber_loss(f, d, reduction='none')", "F.huber_loss(d, f)", "F.huber_loss(f, d, weight=T.ones_like(f))",
    "F.l1_loss(x, x, reduction='none')", "F.l1_loss(x, x)", "F.l1_loss(f, d)",
    "F.binary_cross_entropy(x, x)", "F.binary_cross_entropy(b, b)", "F.binary_cross_entropy(f / 5, d / 5)",
    "F.binary_cross_entropy(d / 5, f / 5)", "F.binary_cross_entropy(x, f / 5)",
    "F.binary_cross_entropy(f / 5, f / 5, T.ones(4, dtype=T.float64))",
    "F.binary_cross_entropy(f / 5, f / 5, T.ones(4, dtype=T.int64))",
    "F.binary_cross_entropy(d / 5, d / 5, T.ones(4))",
    "F.binary_cross_entropy_with_logits(x, x)", "F.binary_cross_entropy_with_logits(u, u)",
    "F.binary_cross_entropy_with_logits(b, b)", "F.binary_cross_entropy_with_logits(x, f)",
    "F.binary_cross_entropy_with_logits(f, x)", "F.binary_cross_entropy_with_logits(f, b)",
    "F.binary_cross_entropy_with_logits(d, f, reduction='none')", "F.binary_cross_entropy_with_logits(f, d)",
    "F.binary_cross_entropy_with_logits(f, f, T.ones(4, dtype=T.float64))",
    "F.binary_cross_entropy_with_logits(f, f, pos_weight=T.ones(4, dtype=T.float64))",
    "F.binary_cross_entropy_with_logits(f, f, T.ones(4, dtype=T.int64))",
    "F.binary_cross_entropy_with_logits(d, f, pos_weight=T.full((4,), 2.0, dtype=T.float64))",
    "F.cross_entropy(f[0], T.tensor([0, 1]), T.ones(4, dtype=T.float64))",
    "F.cross_entropy(d[0], T.tensor([0, 1]), T.ones(4))",
    "F.cross_entropy(f[0], T.tensor([0, 1]), T.ones(4, dtype=T.int64))",
    "F.cross_entropy(f[0], T.tensor([0, 1]), T.ones(4))",
    "F.cross_entropy(f[0], f[0].softmax(1), T.ones(4, dtype=T.float64))",
    "F.nll_loss(f[0], T.tensor([0, 1]), T.ones(4, dtype=T.float64))",
    "F.kl_div(x, x, reduction='none')", "F.kl_div(x, f, reduction='batchmean')", "F.kl_div(f, x)",
    "F.kl_div(b, f)", "F.kl_div(u, u, log_target=True)", "F.kl_div(f, d, reduction='none')",
    "F.soft_margin_loss(f, d)", "F.soft_margin_loss(d, f)", "F.soft_margin_loss(x, f)", "F.soft_margin_loss(x, x)",
    "F.soft_margin_loss(f, x)",
    "F.multi_margin_loss(x[0], T.tensor([0, 1]))", "F.multi_margin_loss(u[0], T.tensor([0, 1]))",
    "F.multi_margin_loss(b[0], T.tensor([0, 1]))",
    "F.multi_margin_loss(f[0], T.tensor([0, 1]), weight=T.ones(4, dtype=T.float64))",
    "F.multi_margin_loss(f[0], T.tensor([0, 1]), weight=T.ones(4, dtype=T.int64))",
    "F.multi_margin_loss(f[0], T.tensor([0, 1]), weight=T.ones(4))",
    "F.hinge_embedding_loss(x, T.ones_like(x))", "F.hinge_embedding_loss(x, T.ones_like(x), reduction='none')",
    "F.hinge_embedding_loss(x, -T.ones_like(x), reduction='sum')",
    "F.hinge_embedding_loss(x, -T.ones_like(x), margin=2.7, reduction='none')",
    "F.hinge_embedding_loss(x, T.ones_like(f), reduction='none')", "F.hinge_embedding_loss(f, -T.ones_like(x))",
    "F.hinge_embedding_loss(f, -T.ones_like(d), reduction='none')",
    "F.poisson_nll_loss(f, d)", "F.gaussian_nll_loss(f, d, T.ones_like(f))",
    "F.multilabel_soft_margin_loss(f, x)", "F.triplet_margin_loss(x[0], x[0], x[0])",
]


@pytest.mark.parametrize("src", LOSSES)
def test_loss_dtypes_like_torch(src):
    _same_as_torch(src)


# ---- the review's own cases, and the modules that delegate to these functions
def test_review_item8_refusals():
    with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
        F.hardtanh(ts.tensor([0, 3, 200], dtype=ts.uint8))
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        F.relu(ts.tensor([True, False]))
    with pytest.raises(RuntimeError):
        F.relu_(ts.tensor([True, False]))
    with pytest.raises(NotImplementedError):
        F.glu(ts.tensor([[1, 2, 3, 4]]))
    with pytest.raises(NotImplementedError):
        F.prelu(ts.tensor([[1, 2]]), ts.tensor([1]))
    with pytest.raises(RuntimeError):
        F.alpha_dropout(ts.tensor([1, 2, 3]), 0.5, training=True)
    with pytest.raises(RuntimeError):
        F.bilinear(ts.randn(3, 4, dtype=ts.float64), ts.randn(3, 4, dtype=ts.float64), ts.randn(2, 4, 4))


@pytest.mark.parametrize("make, call", [
    (lambda lib: lib.nn.ReLU(), lambda lib: lib.tensor([True, False])),
    (lambda lib: lib.nn.Hardtanh(), lambda lib: lib.tensor([0, 3, 200], dtype=lib.uint8)),
    (lambda lib: lib.nn.GLU(), lambda lib: lib.tensor([[1, 2, 3, 4]])),
    (lambda lib: lib.nn.Softsign(), lambda lib: lib.tensor([True, False])),
    (lambda lib: lib.nn.Threshold(1, 2), lambda lib: lib.tensor([True, False])),
    (lambda lib: lib.nn.AlphaDropout(0.5), lambda lib: lib.tensor([1, 2, 3])),
    (lambda lib: lib.nn.LayerNorm(4), lambda lib: lib.ones(2, 4, dtype=lib.float64)),
    (lambda lib: lib.nn.GroupNorm(1, 2), lambda lib: lib.ones(2, 2, 3, dtype=lib.float64)),
    (lambda lib: lib.nn.BatchNorm1d(2), lambda lib: lib.ones(3, 2, dtype=lib.float64)),
])
def test_modules_refuse_like_torch(make, call):
    with pytest.raises(Exception) as want:
        make(torch)(call(torch))
    with pytest.raises(want.type):
        make(ts)(call(ts))


def test_integer_results_keep_values_and_dtype():
    assert F.threshold(ts.tensor([-3, -2, 2, 5]), -2.5, 7.9).tolist() == [7, 7, 2, 5]
    out = F.threshold(ts.tensor([0, 3], dtype=ts.uint8), 1, -1)
    assert out.dtype == ts.uint8 and out.tolist() == [255, 3]
    out = F.avg_pool1d(ts.tensor([[[-1, -2, 3, -4]]]), 2)
    assert out.dtype == ts.int64 and out.tolist() == [[[-1, 0]]]
    x = ts.tensor([1, 2, 3])
    assert F.dropout(x, 1.0, True, inplace=True) is x and x.tolist() == [0, 0, 0] and x.dtype == ts.int64


@pytest.mark.parametrize("fn, target_grad, torch_target_dtype", [
    (lambda F_, a, t: F_.binary_cross_entropy_with_logits(t, a), True, None),
    (lambda F_, a, t: F_.rms_norm(a, (3,), t[0]).sum(), True, None),
    (lambda F_, a, t: F_.binary_cross_entropy(a.sigmoid(), a.sigmoid().detach(), t).sum(), False, None),
    (lambda F_, a, t: F_.soft_margin_loss(a, t), False, None),
    # torch's own huber backward fails on a float64 target ("Found dtype Double but expected
    # Float"): its float32-target gradient is the reference
    (lambda F_, a, t: F_.huber_loss(a, t, reduction="sum"), False, "float32"),
])
def test_kept_dtype_losses_backward_like_torch(fn, target_grad, torch_target_dtype):
    """The losses cast to torch's result dtype (the logits BCE to the target's, the others to the
    input's) still pass gradients to their operands, each in its own dtype, with torch's values."""
    rng = np.random.default_rng(0)
    a_np, t_np = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3))
    results = []
    for lib, F_ in ((torch, TF), (ts, F)):
        a = lib.tensor(a_np, requires_grad=True)
        t = lib.tensor(t_np, requires_grad=target_grad)
        if lib is torch and torch_target_dtype:
            t = t.to(getattr(torch, torch_target_dtype))
        loss = fn(F_, a, t)
        loss.backward()
        results.append((str(loss.dtype).split(".")[-1], a.grad.numpy(), t.grad))
    (want_dtype, want_a, want_t), (got_dtype, got_a, got_t) = results
    assert got_dtype == want_dtype
    np.testing.assert_allclose(got_a, want_a, rtol=1e-5, atol=1e-6)
    if target_grad:
        assert str(got_t.dtype).split(".")[-1] == str(want_t.dtype).split(".")[-1]
        np.testing.assert_allclose(got_t.numpy(), want_t.numpy(), rtol=1e-5, atol=1e-6)
