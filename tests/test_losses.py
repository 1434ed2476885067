"""tinygrad_seq.functional's losses with every PyTorch option (weight, ignore_index,
label_smoothing, reduction, (N, C, d1, ...) inputs, probability targets, the legacy
size_average / reduce pair) and the regression and binary losses, against torch.nn.functional:
values and gradients, float64 tight and float32."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq.functional as F
from tinygrad_seq import Tensor
from engine_helpers import helper_test_op


def tgt(arr, like):
    return torch.tensor(arr) if isinstance(like, torch.Tensor) else Tensor(arr)


# ------------------------------------------------------------------ PyTorch's full loss options
def _ce_case(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    C = shape[0] if len(shape) == 1 else shape[1]
    t = rng.integers(0, C, () if len(shape) == 1 else (shape[0],) + shape[2:])
    if t.ndim:
        t.flat[0] = -100
    return x, t, rng.random(C) + 0.1


@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3), (2, 4, 3, 2), (5,)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fn,opts", [("cross_entropy", o) for o in ("plain", "weight", "smooth", "weight+smooth")]
                         + [("nll_loss", o) for o in ("plain", "weight")])
def test_class_losses_all_options(fn, opts, reduction, shape):
    x, t, w = _ce_case(shape)
    if len(shape) == 1:
        t = np.array(2)

    def call(a):
        lib = TF if isinstance(a, torch.Tensor) else F
        kw = dict(reduction=reduction)
        if "weight" in opts:
            kw["weight"] = torch.tensor(w).to(a.dtype) if lib is TF else Tensor(w.astype(a.dtype))
        if "smooth" in opts:
            kw["label_smoothing"] = 0.15
        return getattr(lib, fn)(a, tgt(t, a), **kw)
    helper_test_op(None, call, arrays=[x], dtypes=(np.float64,))
    helper_test_op(None, call, arrays=[x], dtypes=(np.float32,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2)], ids=str)
def test_cross_entropy_probability_targets(reduction, shape):
    rng = np.random.default_rng(1)
    p = rng.random(shape)
    p /= p.sum(1, keepdims=True)
    w = rng.random(shape[1]) + 0.5

    def call(a):
        lib = TF if isinstance(a, torch.Tensor) else F
        W = torch.tensor(w) if lib is TF else Tensor(w)
        return lib.cross_entropy(a, tgt(p, a), weight=W, reduction=reduction, label_smoothing=0.1)
    helper_test_op([shape], call, dtypes=(np.float64,))


def test_cross_entropy_large_vocab_float32_matches_torch():
    # the fused CPU path: softmax kept for backward, scatter at the targets
    rng = np.random.default_rng(2)
    x = rng.standard_normal((70, 1000)).astype(np.float32) * 3
    t = rng.integers(0, 1000, 70)
    helper_test_op(None, lambda a: (TF if isinstance(a, torch.Tensor) else F).cross_entropy(a, tgt(t, a)),
                   arrays=[x], dtypes=(np.float32,))


@pytest.mark.parametrize("opts", [{}, dict(label_smoothing=0.1, ignore_index=3), dict(weight=True)])
def test_cross_entropy_rows_split_over_threads_match_torch(opts, monkeypatch, request):
    # logits of PARALLEL_ROWS_MIN_ELEMENTS or more run their softmax and gradient passes by rows on
    # the kernels' threads (forced here on a small input, two threads, the spy counts them)
    import numba
    from threads_helpers import ChunkSpy, rerun_with_two_threads
    from tinygrad_seq import cross_entropy_cpu
    from tinygrad_seq.kernels import tuning

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(cross_entropy_cpu, "PARALLEL_ROWS_MIN_ELEMENTS", 0)
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 13))
    t = rng.integers(0, 13, 9)
    w = rng.uniform(0.5, 1.5, 13) if opts.get("weight") else None
    kw = {k: v for k, v in opts.items() if k != "weight"}
    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        lo = F.cross_entropy(ours, Tensor(t), weight=None if w is None else Tensor(w), **kw)
        lo.backward()
    finally:
        numba.set_num_threads(before)
    lt = TF.cross_entropy(theirs, torch.tensor(t), weight=None if w is None else torch.tensor(w), **kw)
    lt.backward()
    assert spy.most == 2
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_fused_equals_log_softmax_and_nll_loss():
    # nll_loss(log_softmax) runs the backend-generic code; cross_entropy the fused numpy one
    x, t, w = _ce_case((6, 5))
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    F.cross_entropy(a, Tensor(t), weight=Tensor(w), label_smoothing=0.2).backward()
    lp = F.log_softmax(b, 1)                # the unfused composition, smoothing written out
    nll = F.nll_loss(lp, Tensor(t), weight=Tensor(w), reduction="sum")
    valid = Tensor((t != -100).astype(np.float64))
    smooth = -((lp * Tensor(w)).sum(1) * valid).sum()
    denom = float((w[np.where(t != -100, t, 0)] * (t != -100)).sum())
    ((nll * 0.8 + smooth * (0.2 / 5)) / denom).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-14)


def test_legacy_size_average_reduce():
    x, t, _ = _ce_case((6, 5))
    for kw in [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)]:
        ours = F.cross_entropy(Tensor(x), Tensor(t), **kw).numpy()
        with pytest.warns(UserWarning):
            theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t), **kw).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_cross_entropy_weight_shape_error():
    with pytest.raises(ValueError, match=r"weight must have shape \(5,\)"):
        F.cross_entropy(Tensor(np.zeros((2, 5))), Tensor(np.array([0, 1])), weight=Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(Tensor(np.zeros((2, 5))), Tensor(np.array([0, 1])), label_smoothing=1.5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", [("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.7}),
                                     ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.6}),
                                     ("mse_loss", {})])
def test_regression_losses(name, kw, reduction):
    helper_test_op([(4, 3), (4, 3)], lambda a, b: getattr(TF if isinstance(a, torch.Tensor) else F, name)(
        a, b, reduction=reduction, **kw))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    rng = np.random.default_rng(3)
    x, t, w = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3)), rng.random((4, 3))

    def call(a, b):
        lib = TF if isinstance(a, torch.Tensor) else F
        W = None if not weighted else (torch.tensor(w).to(a.dtype) if lib is TF else Tensor(w.astype(a.dtype)))
        return lib.binary_cross_entropy(a, b, weight=W, reduction=reduction)
    helper_test_op(None, call, arrays=[x, t])


def test_binary_cross_entropy_clamps_log_and_checks_range():
    x = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(Tensor(x), Tensor(t), reduction="none").numpy()
    np.testing.assert_allclose(ours, TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t),
                                                             reduction="none").numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), Tensor(np.array([1.0])))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", ["plain", "weight", "pos_weight"])
def test_binary_cross_entropy_with_logits(reduction, opts):
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((4, 3)) * 4, rng.uniform(0, 1, (4, 3))
    w, pw = rng.random((4, 3)), rng.random(3) * 3

    def call(a, b):
        lib = TF if isinstance(a, torch.Tensor) else F
        mk = (lambda v: torch.tensor(v).to(a.dtype)) if lib is TF else (lambda v: Tensor(v.astype(a.dtype)))
        kw = {"weight": mk(w)} if opts == "weight" else {"pos_weight": mk(pw)} if opts == "pos_weight" else {}
        return lib.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw)
    helper_test_op(None, call, arrays=[x, t])


@pytest.mark.cuda
@pytest.mark.parametrize("kw", [{}, {"weight": True, "label_smoothing": 0.2, "reduction": "sum"}])
def test_class_losses_on_cuda(kw):
    x, t, w = _ce_case((5, 4))
    for fn, inp in (("cross_entropy", x), ("nll_loss", x - np.log(np.exp(x).sum(1, keepdims=True)))):
        k = {k: v for k, v in kw.items() if fn == "cross_entropy" or k != "label_smoothing"}
        a, b = Tensor(inp, requires_grad=True), torch.tensor(inp, requires_grad=True)
        ko = {**k, "weight": Tensor(w).to("cuda")} if "weight" in k else k
        kt = {**k, "weight": torch.tensor(w)} if "weight" in k else k
        out = getattr(F, fn)(a.to("cuda"), Tensor(t).to("cuda"), **ko)
        assert out.device == "cuda"
        out.backward()
        getattr(TF, fn)(b, torch.tensor(t), **kt).backward()
        np.testing.assert_allclose(out.item(), getattr(TF, fn)(b.detach(), torch.tensor(t), **kt).item(), atol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
