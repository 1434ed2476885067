"""F.embedding_bag as one node (embedding_bag_op.py), scatter_reduce's amax / amin kernel and
torch.segment_reduce, against torch 2.13: values, the gradients of the weight and the
per-sample weights, torch's CPU-kernel quirks and its errors."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

LIBS = (torch, ts)


def _np(t):
    return t.detach().numpy()


def _close(a, b, dtype):
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-3, atol=1e-3) if dtype == "float16" \
        else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), equal_nan=True, **tol)


def _run(lib, weight, idx, offsets, psw, kw, dtype):
    """(output, weight grad, per-sample weight grad, weight after) of one embedding_bag."""
    w = lib.tensor(weight, dtype=getattr(lib, dtype), requires_grad=True)
    p = None if psw is None else lib.tensor(psw, dtype=getattr(lib, dtype), requires_grad=True)
    out = lib.nn.functional.embedding_bag(lib.tensor(idx), w, None if offsets is None else lib.tensor(offsets),
                                          per_sample_weights=p, **kw)
    g = lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)) % 7 - 3.0,
                   dtype=getattr(lib, dtype))
    out.backward(g)
    return _np(out), _np(w.grad), None if p is None else _np(p.grad), _np(w)


def _case(seed):
    rng = np.random.default_rng(seed)
    num, dim = int(rng.integers(3, 9)), int(rng.integers(1, 5))
    mode = ("sum", "mean", "max")[seed % 3]
    kw = dict(mode=mode)
    if rng.random() < 0.4:
        kw["padding_idx"] = int(rng.integers(-num, num))
    if mode != "max" and rng.random() < 0.3:
        kw["scale_grad_by_freq"] = True
    if rng.random() < 0.25:
        kw["max_norm"], kw["norm_type"] = float(rng.uniform(0.5, 2.0)), float(rng.choice([1.0, 2.0]))
    if rng.random() < 0.5:   # 2-D input: fixed-length bags
        idx, offsets = rng.integers(0, num, (int(rng.integers(1, 5)), int(rng.integers(1, 5)))), None
    else:   # 1-D input, sorted offsets with empty bags
        n = int(rng.integers(0, 12))
        idx = rng.integers(0, num, n)
        cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(0, 5))))
        offsets = np.concatenate([[0], cuts]).astype(np.int64)
        if offsets.size > 1 and rng.random() < 0.5:   # (no bags at all: torch's backward crashes)
            kw["include_last_offset"] = True
            # the last offset may end before the input: mean and max only (torch's float32 sum
            # backward reads past the output's gradient for the indices after it; 0 here)
            if mode == "sum" and offsets[-1] != n:
                offsets = np.append(offsets, n)
            elif rng.random() < 0.5:
                offsets = np.append(offsets, int(rng.integers(offsets[-1], n + 1)))
    psw = rng.standard_normal(idx.shape) if mode == "sum" and rng.random() < 0.5 else None
    return rng.standard_normal((num, dim)), idx, offsets, psw, kw


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", range(60))
def test_embedding_bag_sweep_matches_torch(seed, dtype):
    weight, idx, offsets, psw, kw = _case(seed)
    ours = _run(ts, weight, idx, offsets, psw, kw, dtype)
    by_freq = kw.pop("scale_grad_by_freq", False)
    theirs = _run(torch, weight, idx, offsets, psw, kw, dtype)
    if by_freq:   # each row's gradient over its count in the input (torch 2.13's CPU kernel shifts the
        # counts by one row of the sorted indices: README, not copied)
        counts = np.bincount(idx.reshape(-1), minlength=weight.shape[0])
        theirs = (theirs[0], theirs[1] / np.maximum(counts, 1)[:, None].astype(theirs[1].dtype), *theirs[2:])
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.shape == b.shape
            _close(a, b, dtype)


def test_embedding_bag_float16_and_grad_fn():
    rng = np.random.default_rng(1)
    weight, idx, offsets = rng.standard_normal((6, 3)), rng.integers(0, 6, 10), np.array([0, 4, 4, 7])
    for mode in ("sum", "mean", "max"):
        theirs = _run(torch, weight, idx, offsets, None, dict(mode=mode), "float16")
        ours = _run(ts, weight, idx, offsets, None, dict(mode=mode), "float16")
        for a, b in zip(ours[:2], theirs[:2]):
            assert a.dtype == np.float16
            _close(a, b, "float16")
    out = ts.nn.functional.embedding_bag(ts.tensor([1, 2]), ts.ones(3, 2, requires_grad=True), ts.tensor([0]))
    assert out.grad_fn.name() == "EmbeddingBagBackward0"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_include_last_offset_backward_quirk(mode, dtype):
    # torch's float32 mean drops the indices after offsets[-1] in the forward but gives them the
    # last bag's gradient; float64 keeps them in the last bag
    theirs = _run(torch, np.ones((5, 1)), np.array([1, 2, 3, 4]), np.array([0, 2, 3]), None,
                  dict(mode=mode, include_last_offset=True), dtype)
    ours = _run(ts, np.ones((5, 1)), np.array([1, 2, 3, 4]), np.array([0, 2, 3]), None,
                dict(mode=mode, include_last_offset=True), dtype)
    _close(ours[0], theirs[0], dtype)
    if mode == "sum" and dtype == "float32":   # torch reads past the gradient for index 4 (often 0)
        _close(ours[1][:4], theirs[1][:4], dtype)
        assert ours[1][4] == 0
    else:
        _close(ours[1], theirs[1], dtype)


# decreasing offsets are not compared with torch: its kernels read uninitialized memory there
# (bags of garbage, or "Expected i < index_size" raised, from run to run)


def _error(f):
    try:
        f()
    except Exception as e:   # noqa: BLE001  (the error itself is compared)
        return e
    raise AssertionError("no error")


@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.embedding_bag(L.tensor([[1., 0.]]), L.ones(5, 2)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 0]), L.ones(5, 2), L.tensor([0.])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([[1, 0]]), L.ones(5, 2), per_sample_weights=L.ones(2), mode="sum"),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 0]), L.ones(5, 2), L.tensor([0]),
                                            per_sample_weights=L.ones(3), mode="mean"),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 0]), L.ones(5), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 0]), L.ones(5, 2), L.tensor([0]), mode="max",
                                            scale_grad_by_freq=True),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 0]), L.ones(5, 2), L.tensor([0]), mode="prod"),
    lambda L: L.nn.functional.embedding_bag(L.zeros(3, 0, dtype=L.int64), L.ones(5, 2)),
])
def test_embedding_bag_errors_as_torch(call):
    te, se = _error(lambda: call(torch)), _error(lambda: call(ts))
    assert isinstance(se, type(te)), (te, se)
    assert str(se) == str(te)


def test_create_graph_gradients_then_torch_errors():
    for lib in LIBS:
        w = lib.tensor([[1., 2.], [3., 4.], [5., 6.]], dtype=lib.float64, requires_grad=True)
        p = lib.tensor([0.5, 2., -1.], dtype=lib.float64, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor([0, 2, 1]), w, lib.tensor([0, 1]), mode="sum",
                                              per_sample_weights=p)
        gw, gp = lib.autograd.grad((out ** 2).sum(), (w, p), create_graph=True)
        assert gw.requires_grad and gp.requires_grad
        assert gw.grad_fn.name() == "EmbeddingBagBackwardBackward0"
        with pytest.raises(NotImplementedError, match="derivative for '_embedding_bag_backward' is not implemented"):
            gw.sum().backward()
        with pytest.raises(RuntimeError, match="_embedding_bag_per_sample_weights_backward is not implemented"):
            gp.sum().backward()
        if lib is torch:
            want = (gw.detach().numpy(), gp.detach().numpy())
    np.testing.assert_allclose(gw.detach().numpy(), want[0])
    np.testing.assert_allclose(gp.detach().numpy(), want[1])


def test_embedding_bag_module_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.EmbeddingBag(20, 4, mode="max", padding_idx=3)
    ours = ts.nn.EmbeddingBag(20, 4, mode="max", padding_idx=3)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    idx = np.random.default_rng(2).integers(0, 20, (6, 5))
    outs = [m(lib.tensor(idx)) for m, lib in ((theirs, torch), (ours, ts))]
    for o in outs:
        o.sum().backward()
    np.testing.assert_allclose(_np(outs[1]), _np(outs[0]), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- scatter_reduce amax / amin
@pytest.mark.parametrize("seed", range(40))
def test_scatter_reduce_amax_amin_match_torch(seed):
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 4))
    shape = tuple(int(s) for s in rng.integers(1, 5, nd))
    dim = int(rng.integers(0, nd))
    ishape = tuple(int(rng.integers(1, s + 1)) if a != dim else int(rng.integers(1, 7)) for a, s in enumerate(shape))
    dtype = (np.float32, np.float64, np.int64, np.bool_)[seed % 4]
    x, src = rng.integers(-3, 3, shape).astype(dtype), rng.integers(-3, 3, ishape).astype(dtype)
    if seed % 8 == 1:   # nan on either side
        x.flat[0], src.flat[-1] = np.nan, np.nan
    idx = rng.integers(0, shape[dim], ishape)
    grad = rng.standard_normal(shape)
    for reduce in ("amax", "amin"):
        for include_self in (True, False):
            res = []
            for lib in LIBS:
                fl = dtype in (np.float32, np.float64)
                a, s = lib.tensor(x, requires_grad=fl), lib.tensor(src, requires_grad=fl)
                out = a.scatter_reduce(dim, lib.tensor(idx), s, reduce, include_self=include_self)
                grads = lib.autograd.grad(out, (a, s), lib.tensor(grad.astype(dtype))) if fl else ()
                res.append([_np(out)] + [_np(g) for g in grads])
            for a, b in zip(*res):
                np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-6, equal_nan=True)


# ---------------------------------------------------------------- segment_reduce
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("initial", [None, 2.0])
@pytest.mark.parametrize("form", ["lengths", "offsets", "axis1"])
def test_segment_reduce_matches_torch(reduce, initial, form):
    rng = np.random.default_rng(3)
    data = np.round(rng.standard_normal((9, 3)), 1)
    data[2, 0], data[4, 1], data[5, 1] = np.nan, 0.0, 0.0
    data[7] = data[6]   # ties
    lengths = np.array([2, 0, 3, 1, 3])
    if form == "axis1":
        data = data.T.copy()
        lengths = np.stack([lengths, np.array([0, 4, 1, 4, 0]), np.array([9, 0, 0, 0, 0])])
    grad = np.round(rng.standard_normal((3, 5) if form == "axis1" else (5, 3)), 1)
    res = []
    for lib in LIBS:
        d = lib.tensor(data, requires_grad=True)
        kw = dict(axis=1 if form == "axis1" else 0, initial=initial)
        if form == "offsets":
            kw["offsets"] = lib.tensor(np.concatenate([[0], np.cumsum(lengths)]))
        else:
            kw["lengths"] = lib.tensor(lengths)
        out = lib.segment_reduce(d, reduce, **kw)
        g, = lib.autograd.grad(out, d, lib.tensor(grad))
        res.append((_np(out), _np(g)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, equal_nan=True)


@pytest.mark.parametrize("call", [
    lambda L: L.segment_reduce(L.ones(3), "max", lengths=L.tensor([2])),
    lambda L: L.segment_reduce(L.ones(3), "max", lengths=L.tensor([4, -1])),
    lambda L: L.segment_reduce(L.ones(3), "max"),
    lambda L: L.segment_reduce(L.ones(3), "max", indices=L.tensor([0, 0, 1])),
    lambda L: L.segment_reduce(L.ones(3), "foo", lengths=L.tensor([3])),
    lambda L: L.segment_reduce(L.ones(3), "max", lengths=L.tensor([3.])),
    lambda L: L.segment_reduce(L.tensor([1, 2, 3]), "sum", lengths=L.tensor([3])),
    lambda L: L.segment_reduce(L.ones(3), "sum", lengths=L.tensor([[3]])),
    lambda L: L.segment_reduce(L.ones(3), "sum", lengths=L.tensor([3]), axis=1),
])
def test_segment_reduce_errors_as_torch(call):
    te, se = _error(lambda: call(torch)), _error(lambda: call(ts))
    assert isinstance(se, type(te)), (te, se)
    assert str(se) == str(te)


def test_segment_reduce_empty_and_unsafe():
    for lib in LIBS:
        out = lib.segment_reduce(lib.zeros(0), "max", lengths=lib.tensor([0, 0]))
        np.testing.assert_array_equal(out.numpy(), [-np.inf, -np.inf])
        out = lib.segment_reduce(lib.tensor([1., 2., 3.]), "sum", lengths=lib.tensor([2]), unsafe=True)
        np.testing.assert_array_equal(out.numpy(), [3.0])
