"""What a third audit against torch 2.13 found (nn modules, containers, nn.init, the tensor
surface; 2026-12-03), each asserted against torch: gradients at kinks and ties, Sequential's
numbering after del, the binary cross-entropies' shape check, `x in t`, error classes, and the
functions and arguments that were missing."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F


def _grad(L, fn, values):
    x = L.tensor(values, dtype=L.float64, requires_grad=True)
    fn(L, x).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", ["softplus", "softplus beta 2", "logsigmoid", "bce with logits",
                                  "bce with logits pos_weight"])
def test_gradients_at_zero_are_torchs(name):
    y = [0.0, 0.5, 1.0, 0.25]
    fns = {
        "softplus": lambda L, x: (TF if L is torch else F).softplus(x),
        "softplus beta 2": lambda L, x: (TF if L is torch else F).softplus(x, beta=2.0, threshold=5.0),
        "logsigmoid": lambda L, x: (TF if L is torch else F).logsigmoid(x),
        "bce with logits": lambda L, x: (TF if L is torch else F).binary_cross_entropy_with_logits(
            x, L.tensor(y, dtype=L.float64), reduction="none"),
        "bce with logits pos_weight": lambda L, x: (TF if L is torch else F).binary_cross_entropy_with_logits(
            x, L.tensor(y, dtype=L.float64), pos_weight=L.tensor([2.0], dtype=L.float64), reduction="none"),
    }
    values = [0.0, 0.0, -0.0, 1.5]
    np.testing.assert_allclose(_grad(ts, fns[name], values), _grad(torch, fns[name], values), rtol=1e-12)


def test_clamp_with_tensor_bounds_passes_gradients_as_torch():
    rng = np.random.default_rng(0)
    for _ in range(60):
        x, lo, hi = (rng.integers(-2, 3, 6).astype(float) for _ in range(3))
        for kw in ({"min": 1, "max": 2}, {"min": 1}, {"max": 2}):
            grads = []
            for L in (torch, ts):
                t = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in (x, lo, hi)]
                out = t[0].clamp(**{k: t[i] for k, i in kw.items()})
                (out * L.tensor(np.arange(1.0, 7.0), dtype=L.float64)).sum().backward()
                grads.append([out.detach().numpy()] + [v.grad.numpy() if v.grad is not None else 0 * x for v in t])
            for a, b in zip(*grads):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fn", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_cross_entropy_refuses_a_target_of_another_shape(fn):
    x, y = np.full((3, 1), 0.3), np.array([0.0, 1.0, 1.0])
    with pytest.raises(ValueError):
        getattr(TF, fn)(torch.tensor(x), torch.tensor(y))
    with pytest.raises(ValueError, match=r"[Tt]arget size \(torch\.Size\(\[3\]\)\) .*input size \(torch\.Size\(\[3, 1\]\)\)"):
        getattr(F, fn)(ts.tensor(x), ts.tensor(y))


def test_sequential_renumbers_after_del_and_has_torchs_list_methods():
    names = []
    for L in (torch, ts):
        nn = L.nn
        s = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Tanh())
        del s[0]
        s.append(nn.Sigmoid())
        s.insert(0, nn.Linear(1, 2))
        s.insert(-1, nn.ELU())
        popped = s.pop(2)
        both = s + nn.Sequential(nn.Identity())
        s += nn.Sequential(nn.Identity())
        names.append(([type(m).__name__ for m in s], list(s.state_dict()), type(popped).__name__,
                      len(both), len(s * 2)))
        out = s(input=L.ones(4, 1, dtype=L.float32))
        assert tuple(out.shape) == (4, 2)
    assert names[0] == names[1]


def test_module_traversal_arguments_as_torch():
    results = []
    for L in (torch, ts):
        nn = L.nn
        shared = nn.Linear(2, 2)
        m = nn.Module()
        m.a, m.b = shared, shared
        m.register_module("c", nn.BatchNorm1d(2) if L is torch else nn.LayerNorm(2))
        m.c.register_buffer("extra", L.zeros(1))
        results.append((
            [k for k, _ in m.named_parameters(remove_duplicate=False)],
            [k for k, _ in m.named_parameters(prefix="top")],
            [k for k, _ in m.named_buffers(prefix="p") if k.endswith("extra")],
            len(list(m.named_buffers(recurse=False))),
            len(list(m.children())),
            len(nn.ModuleList([nn.ReLU(), nn.Tanh()]).pop(0)._parameters),
        ))
    assert results[0][0][:4] == results[1][0][:4] and results[0][1][:4] == results[1][1][:4]
    assert results[0][2:] == results[1][2:]


def test_module_to_a_tensor_takes_its_dtype():
    m = ts.nn.Linear(2, 2)
    assert m.to(ts.zeros(1, dtype=ts.float64)).weight.dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        m.to(ts.int64)


def test_contains_on_any_shape():
    for L in (torch, ts):
        t = L.arange(6.0).reshape(2, 3)
        assert (3.0 in t) and (7.0 not in t) and (2 in t)


@pytest.mark.parametrize("name", ["split sizes", "topk k", "max of empty", "layer_norm shape", "int ** -1"])
def test_runtime_errors_as_torch(name):
    fns = {
        "split sizes": lambda L: L.arange(5).split([2, 2]),
        "topk k": lambda L: L.arange(3.0).topk(4),
        "max of empty": lambda L: L.zeros(0).max(),
        "layer_norm shape": lambda L: L.nn.LayerNorm(3)(L.zeros(2, 4)),
        "int ** -1": lambda L: L.tensor([1, 2]) ** -1,
    }
    for L in (torch, ts):
        with pytest.raises(RuntimeError):
            fns[name](L)


def test_tensor_functions_that_were_missing():
    a = np.arange(24.0).reshape(2, 3, 4)
    out = []
    for L in (torch, ts):
        x = L.tensor(a, requires_grad=True)
        v = L.tensor([float("nan"), float("inf"), -float("inf"), 1.5], dtype=L.float64, requires_grad=True)
        parts = [L.diagonal(x, 1, 1, 2), x.diagonal(-1, 0, 2), L.diag(x[0], 2), x[1].diagonal(),
                 L.diag(L.tensor([1.0, 2.0], dtype=L.float64), -1), L.nan_to_num(v, posinf=9.0), v.nan_to_num(),
                 x[0, 0].outer(x[1, 1]), L.tensor([1.2345, -2.5678], dtype=L.float64).round(decimals=2),
                 L.tensor([1234.5], dtype=L.float64).round(decimals=-2)]
        sum(p.sum() for p in parts[:4] + parts[7:8]).backward()
        parts[5].sum().backward()
        out.append([p.detach().numpy() for p in parts] + [x.grad.numpy(), v.grad.numpy()])
        assert L.is_floating_point(v) and not L.is_floating_point(L.tensor([1]))
        assert tuple(L.tensor([L.tensor([1.0]), L.tensor(2.0)]).shape) == (2,)
    for a_, b_ in zip(*out):
        np.testing.assert_allclose(a_, b_, rtol=1e-12)


def test_init_takes_a_generator():
    init = ts.nn.init
    draws = []
    for _ in range(2):
        g = ts.Generator().manual_seed(5)
        w = ts.nn.Parameter(ts.zeros(4, 3))
        for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                   init.kaiming_normal_, init.orthogonal_):
            fn(w, generator=g)
            draws.append(w.detach().numpy().copy())
    for a_, b_ in zip(draws[:7], draws[7:]):
        np.testing.assert_array_equal(a_, b_)


def test_embedding_max_norm_and_scale_grad_by_freq_as_torch():
    w0 = np.random.default_rng(0).standard_normal((6, 3)) * 2
    idx = np.array([[1, 2, 1], [5, 1, 0]])
    got = []
    for L in (torch, ts):
        e = L.nn.Embedding(6, 3, max_norm=1.5, scale_grad_by_freq=True, padding_idx=0).double()
        with L.no_grad():
            e.weight.copy_(L.tensor(w0))
        out = e(L.tensor(idx))
        (out * L.tensor(np.arange(18.0).reshape(2, 3, 3), dtype=L.float64)).sum().backward()
        got.append((out.detach().numpy(), e.weight.detach().numpy(), e.weight.grad.numpy()))
        f = (TF if L is torch else F).embedding(L.tensor([3, 3]), L.tensor(w0), max_norm=1.0, norm_type=1.0)
        got.append((f.numpy(),))
    for a_, b_ in zip(got[0] + got[1], got[2] + got[3]):
        np.testing.assert_allclose(a_, b_, rtol=1e-12)
