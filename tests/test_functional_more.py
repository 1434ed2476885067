"""functional_more.py and nn/more_layers.py against torch 2.13 (float64; values and every
gradient): rms_norm, group_norm, prelu, threshold, tanhshrink, bilinear, embedding_bag, the
ranking / embedding / count losses and their modules, the 1-D padding modules; gumbel_softmax
and dropout1d by their distributions."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn

RNG = np.random.default_rng(0)


def _compare(fo, ft, arrays, needs=None, rtol=1e-9):
    needs = needs or [a.dtype.kind == "f" for a in arrays]
    res = []
    for lib, fn in ((ts, fo), (torch, ft)):
        xs = [lib.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
        y = fn(*xs)
        (y * lib.tensor(np.linspace(-1, 2, y.numel()).reshape(y.shape))).sum().backward()
        res.append([y.detach().numpy()] + [x.grad.numpy() for x, n in zip(xs, needs) if n])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=rtol, atol=1e-11)


X = RNG.standard_normal((4, 6, 5))
A, B = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
SIGN = np.array([1.0, -1.0, 1.0, -1.0, 1.0])

CASES = {
    "rms_norm": (lambda L: lambda x, w: getattr(L, "rms_norm")(x, (5,), w), [X, RNG.standard_normal(5)]),
    "rms_norm_eps": (lambda L: lambda x: getattr(L, "rms_norm")(x, [6, 5], eps=1e-3), [X]),
    "group_norm": (lambda L: lambda x, w, b: L.group_norm(x, 3, w, b), [X, RNG.standard_normal(6), RNG.standard_normal(6)]),
    "prelu_channels": (lambda L: lambda x, w: L.prelu(x, w), [X, RNG.standard_normal(6)]),
    "prelu_scalar": (lambda L: lambda x, w: L.prelu(x, w), [X, np.array([0.25])]),
    "threshold": (lambda L: lambda x: L.threshold(x, 0.1, -2.0), [X]),
    "tanhshrink": (lambda L: lambda x: L.tanhshrink(x), [X]),
    "bilinear": (lambda L: lambda a, b, w, c: L.bilinear(a, b, w, c), [A, B[:, :3], RNG.standard_normal((2, 4, 3)),
                                                                        RNG.standard_normal(2)]),
    "margin_ranking": (lambda L: lambda a, b: L.margin_ranking_loss(a[:, 0], b[:, 0], _t(L, SIGN), 0.3), [A, B]),
    "hinge_embedding": (lambda L: lambda a: L.hinge_embedding_loss(a, _t(L, np.sign(B)), 0.5, reduction="sum"), [A]),
    "soft_margin": (lambda L: lambda a: L.soft_margin_loss(a, _t(L, np.sign(B))), [A]),
    "cosine_embedding": (lambda L: lambda a, b: L.cosine_embedding_loss(a, b, _t(L, SIGN), 0.2, reduction="none"),
                         [A, B]),
    "triplet": (lambda L: lambda a, b, c: L.triplet_margin_loss(a, b, c, 0.7, swap=True), [A, B, A[::-1].copy()]),
    "multilabel_soft_margin": (lambda L: lambda a: L.multilabel_soft_margin_loss(a, _t(L, (B > 0) * 1.0),
                                                                                  _t(L, np.arange(1.0, 5.0))), [A]),
    "multi_margin": (lambda L: lambda a: L.multi_margin_loss(a, _t(L, np.array([0, 3, 1, 2, 3])), p=2, margin=0.5,
                                                             weight=_t(L, np.arange(1.0, 5.0))), [A]),
    "poisson_nll": (lambda L: lambda a: L.poisson_nll_loss(a, _t(L, np.abs(B) * 3), full=True), [A]),
    "poisson_nll_rate": (lambda L: lambda a: L.poisson_nll_loss(a, _t(L, np.abs(B)), log_input=False), [np.abs(A)]),
    "gaussian_nll": (lambda L: lambda a, v: L.gaussian_nll_loss(a, _t(L, B), v, full=True), [A, np.abs(B) + 0.1]),
    "gaussian_nll_var": (lambda L: lambda a, v: L.gaussian_nll_loss(a, _t(L, B), v), [A, np.abs(B[:, 0]) + 1e-9]),
}


def _t(functional, a):
    """A tensor of the library whose functional module this is."""
    return (ts if functional is F else torch).tensor(a)


@pytest.mark.parametrize("name", list(CASES))
def test_functions_match_torch(name):
    make, arrays = CASES[name]
    _compare(make(F), make(TF), arrays)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("form", ["2d", "offsets", "last_offset", "padding"])
def test_embedding_bag_matches_torch(mode, form):
    weight = RNG.standard_normal((10, 3))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    kw = dict(mode=mode)
    if form == "2d":
        args = (idx.reshape(2, 4), None)
    elif form == "offsets":
        args = (idx, np.array([0, 3, 3, 5]))     # one empty bag
    elif form == "last_offset":
        args, kw = (idx, np.array([0, 3, 8])), dict(kw, include_last_offset=True)
    else:
        args, kw = (idx, np.array([0, 3])), dict(kw, padding_idx=4)

    def run(L):
        return lambda w: L.embedding_bag(_t(L, args[0]), w, None if args[1] is None else _t(L, args[1]), **kw)
    _compare(run(F), run(TF), [weight])


@pytest.mark.parametrize("make", [lambda m: m.RMSNorm(5), lambda m: m.GroupNorm(2, 6), lambda m: m.PReLU(6),
                                  lambda m: m.Threshold(0.0, 1.0), lambda m: m.Tanhshrink(), lambda m: m.ZeroPad1d(2),
                                  lambda m: m.ConstantPad1d((1, 2), 3.5), lambda m: m.ReflectionPad1d(2),
                                  lambda m: m.ReplicationPad1d((0, 3))])
def test_modules_match_torch(make):
    theirs, ours = make(torch.nn).double(), make(nn).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, [X])


def test_bilinear_and_embedding_bag_modules_and_loss_modules():
    torch.manual_seed(0)
    theirs, ours = torch.nn.Bilinear(4, 3, 2).double(), nn.Bilinear(4, 3, 2).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    _compare(ours, theirs, [A, B[:, :3]])
    theirs, ours = torch.nn.EmbeddingBag(10, 3, mode="sum").double(), nn.EmbeddingBag(10, 3, mode="sum").double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for lib, m in ((ts, ours), (torch, theirs)):
        out = m(lib.tensor([1, 2, 3, 4]), lib.tensor([0, 2]))
        assert out.shape == (2, 3)
    np.testing.assert_allclose(ours(ts.tensor([1, 2]), ts.tensor([0])).detach().numpy(),
                               theirs(torch.tensor([1, 2]), torch.tensor([0])).detach().numpy())
    for make, arrays in ((lambda m: m.MarginRankingLoss(0.2), (A[:, 0], B[:, 0], SIGN)),
                         (lambda m: m.SoftMarginLoss(), (A[:, 0], SIGN)),
                         (lambda m: m.HingeEmbeddingLoss(0.5), (A[:, 0], SIGN)),
                         (lambda m: m.TripletMarginLoss(), (A, B, A[::-1].copy())),
                         (lambda m: m.CosineEmbeddingLoss(), (A, B, SIGN)),
                         (lambda m: m.PoissonNLLLoss(), (A, np.abs(B))),
                         (lambda m: m.GaussianNLLLoss(), (A, B, np.abs(B) + 0.5)),
                         (lambda m: m.MultiLabelSoftMarginLoss(), (A, (B > 0) * 1.0)),
                         (lambda m: m.MultiMarginLoss(), (A, np.array([0, 1, 2, 3, 0])))):
        ours, theirs = make(nn)(*[ts.tensor(a) for a in arrays]), make(torch.nn)(*[torch.tensor(a) for a in arrays])
        assert abs(ours.item() - theirs.item()) < 1e-12


def test_gumbel_softmax_and_dropout1d_distributions():
    ts.manual_seed(0)
    logits = ts.tensor(np.log([0.7, 0.2, 0.1]))
    counts = np.zeros(3)
    for _ in range(2000):
        counts += F.gumbel_softmax(logits, tau=0.5, hard=True).numpy()
    assert np.allclose(counts / 2000, [0.7, 0.2, 0.1], atol=0.04)
    soft = F.gumbel_softmax(ts.zeros(4, 3, requires_grad=True), tau=2.0)
    assert np.allclose(soft.sum(-1).detach().numpy(), 1.0)
    x = ts.ones(50, 40, 6)
    y = F.dropout1d(x, 0.25).numpy()
    per_channel = y[:, :, 0]
    assert np.allclose(np.unique(y), [0.0, 1.0 / 0.75]) and (y == y[:, :, :1]).all()
    assert abs((per_channel == 0).mean() - 0.25) < 0.03
    assert F.dropout1d(x, 0.5, training=False) is x
