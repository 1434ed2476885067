"""functional_extra against torch.nn.functional 2.13: layer_norm, glu, mish, softsign,
hardsigmoid, hardswish, relu6, selu, celu, cosine_similarity, pairwise_distance, kl_div,
scaled_dot_product_attention and their module forms; values and the gradient of every float
input, in float64."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn


def _compare(fn_ours, fn_torch, arrays, rtol=1e-10, atol=1e-12, needs=None):
    needs = needs or [a.dtype.kind == "f" for a in arrays]
    ours = [ts.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    theirs = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    y, yt = fn_ours(*ours), fn_torch(*theirs)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(7).standard_normal(y.shape)
    (y * ts.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for a, t in zip(ours, theirs):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


def _no_warning():
    import contextlib
    return contextlib.nullcontext()


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2


# points away from the kinks (|x| = 3 for the hard ones), where torch's one-sided choices apply
ACTIVATIONS = [("glu", {}), ("glu", dict(dim=0)), ("mish", {}), ("softsign", {}), ("hardsigmoid", {}),
               ("hardswish", {}), ("relu6", {}), ("selu", {}), ("celu", {}), ("celu", dict(alpha=0.5))]


@pytest.mark.parametrize("name, kw", ACTIVATIONS)
def test_activations_match_torch(name, kw):
    x = np.linspace(-7.3, 7.1, 24).reshape(4, 6)
    _compare(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x])


@pytest.mark.parametrize("cls, args", [("GLU", ()), ("Mish", ()), ("Softsign", ()), ("Hardsigmoid", ()),
                                       ("Hardswish", ()), ("ReLU6", ()), ("SELU", ()), ("CELU", (0.7,))])
def test_activation_modules_match_torch(cls, args):
    x = np.linspace(-5.3, 5.1, 12).reshape(2, 6)
    # torch's CELU takes alpha as a float32 constant: 1e-7 apart
    _compare(lambda a: getattr(nn, cls)(*args)(a), lambda a: getattr(torch.nn, cls)(*args)(a), [x],
             rtol=1e-6 if args else 1e-10)


def test_glu_odd_dimension_raises():
    with pytest.raises(ValueError, match="Halving dimension must be even"):
        F.glu(ts.zeros(2, 3))


@pytest.mark.parametrize("shape, normalized, affine", [((3, 5), (5,), True), ((2, 3, 4), (3, 4), True),
                                                       ((2, 3, 4), [4], False)])
def test_layer_norm_matches_torch(shape, normalized, affine):
    ns = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    arrays = [_rand(*shape)] + ([_rand(*ns, seed=1), _rand(*ns, seed=2)] if affine else [])
    _compare(lambda x, *wb: F.layer_norm(x, normalized, *wb, eps=1e-5),
             lambda x, *wb: TF.layer_norm(x, ns, *wb, eps=1e-5), arrays)


def test_layer_norm_bad_shape_names_both():
    with pytest.raises(ValueError, match=r"expected input with shape \(\*, 4\), got \(2, 3\)"):
        F.layer_norm(ts.zeros(2, 3), (4,))


@pytest.mark.parametrize("dim", [1, -1, 0])
def test_cosine_similarity_and_pairwise_distance_match_torch(dim):
    a, b = _rand(3, 4), _rand(3, 4, seed=1)
    _compare(lambda x, y: F.cosine_similarity(x, y, dim=dim), lambda x, y: TF.cosine_similarity(x, y, dim=dim), [a, b])
    _compare(lambda x, y: nn.CosineSimilarity(dim)(x, y), lambda x, y: torch.nn.CosineSimilarity(dim)(x, y), [a, b])
    _compare(lambda x, y: F.cosine_similarity(x, y, dim=-1), lambda x, y: TF.cosine_similarity(x, y, dim=-1),
             [a, _rand(1, 4, seed=2)])   # broadcast
    for p in (2.0, 1.0, 3.0):
        _compare(lambda x, y: F.pairwise_distance(x, y, p), lambda x, y: TF.pairwise_distance(x, y, p), [a, b])
    _compare(lambda x, y: nn.PairwiseDistance(keepdim=True)(x, y),
             lambda x, y: torch.nn.PairwiseDistance(keepdim=True)(x, y), [a, b])


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(5), 3))
    q = np.random.default_rng(1).dirichlet(np.ones(5), 3)
    q[0, 1] = 0.0          # a zero target contributes 0 (its own gradient is torch's nan: not compared)
    target = np.log(q + 1e-3) if log_target else q
    with pytest.warns(UserWarning, match="batchmean") if reduction == "mean" else _no_warning():
        _compare(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
                 lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target), [logp, target],
                 needs=[True, log_target])
        _compare(lambda x, t: nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t),
                 lambda x, t: torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t), [logp, target],
                 needs=[True, log_target])


@pytest.mark.parametrize("kind", ["plain", "causal", "bool_mask", "float_mask", "scale"])
def test_scaled_dot_product_attention_matches_torch(kind):
    q, k, v = _rand(2, 3, 4), _rand(2, 5, 4, seed=1), _rand(2, 5, 6, seed=2)
    if kind == "causal":
        k, v = k[:, :3], v[:, :3]
    mask = np.random.default_rng(3).random((3, 5)) > 0.3
    mask[:, 0] = True
    extra = dict(plain={}, causal=dict(is_causal=True), scale=dict(scale=0.3),
                 bool_mask=dict(attn_mask=mask), float_mask=dict(attn_mask=_rand(3, 5, seed=4)))[kind]

    def call(lib, f):
        return lambda a, b, c: f(a, b, c, **{n: (lib.tensor(m) if isinstance(m, np.ndarray) else m)
                                             for n, m in extra.items()})
    _compare(call(ts, F.scaled_dot_product_attention), call(torch, TF.scaled_dot_product_attention), [q, k, v])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths, shape", [((1, 2), (3, 5)), ((2, 1, 1, 3), (2, 3, 5, 4)), ((1, 0), (2, 3, 4))])
def test_pad_modes_match_torch(mode, widths, shape):
    _compare(lambda x: F.pad(x, widths, mode=mode), lambda x: TF.pad(x, widths, mode=mode), [_rand(*shape)])


def test_pad_mode_errors():
    with pytest.raises(ValueError, match="Padding size should be less than"):
        F.pad(ts.zeros(2, 3), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="last 1-3 dims"):
        F.pad(ts.zeros(3), (1, 1), mode="replicate")
