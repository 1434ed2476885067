"""PyTorch programs round 26 (2026-12-06): what the programs found different from torch 2.13,
checked against torch itself. In-place writes through an index whose region has a size-1 dim
(d2l's `param.grad[:] *= theta / norm` on an nn.Linear(H, 1)); var/std's degrees-of-freedom
warning; a custom Function's saved_tensors after backward; the in-place check of the ops whose
torch node saves self; index_add's out-of-range index."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _inplace_through_index(lib):
    out = []
    x = lib.ones(1, 5)
    x[:] *= 2
    out.append(x)
    x = lib.ones(3, 4)
    x[0:1] *= 2
    out.append(x)
    h = lib.ones(1, 4, 8)
    h[:] *= lib.tensor([1., 0, 1, 1]).view(1, -1, 1)   # a recurrent state reset where an episode ended
    out.append(h)
    x = lib.ones(2, 1, 3)
    x[0] += 1
    out.append(x)
    x = lib.arange(5.).reshape(1, 5)
    x[:] = x
    out.append(x)
    lib.manual_seed(0)
    w = lib.nn.Linear(5, 1, bias=False)   # d2l's gradient clipping, on an attention's w_v
    (w(lib.ones(2, 5)) ** 2).sum().backward()
    norm = float(w.weight.grad.norm())
    w.weight.grad[:] *= 0.5 / norm
    out.append(w.weight.grad)
    return [np.asarray(t.detach().numpy()) for t in out]


def test_inplace_writes_through_an_index_with_a_size_one_dim():
    for ours, theirs in zip(_inplace_through_index(ts), _inplace_through_index(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_a_real_partial_overlap_still_raises():
    for lib in (ts, torch):
        x = lib.arange(6.)
        with pytest.raises(RuntimeError, match="single memory location"):
            x[1:] = x[:-1]
    ys = []
    for lib in (ts, torch):   # not dense: torch does not look (a copy through a buffer)
        y = lib.arange(6.).reshape(2, 3)
        y[:, :2] = y[:, 1:]
        ys.append(y.numpy())
    np.testing.assert_array_equal(*ys)


@pytest.mark.parametrize("call,name", [
    (lambda lib: lib.tensor([1.0]).var(), "var"),
    (lambda lib: lib.ones(2, 1).std(1), "std"),
    (lambda lib: lib.ones(3).var(correction=5), "var"),
    (lambda lib: lib.var_mean(lib.ones(1)), "var_mean"),
    (lambda lib: lib.std_mean(lib.ones(2, 1), 1), "std_mean"),
    (lambda lib: lib.ones(1, dtype=lib.float16).var(), "var"),
])
def test_var_and_std_warn_when_no_degrees_of_freedom_are_left(call, name):
    results = []
    for lib in (ts, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = call(lib)
        msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert any(m.startswith(f"{name}(): degrees of freedom is <= 0") for m in msgs), (lib.__name__, msgs)
        results.append(np.asarray((out[0] if isinstance(out, tuple) else out).detach().float().numpy()))
    np.testing.assert_array_equal(*results)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ts.ones(3).var()
        ts.ones(2, 3).std(1, correction=0)


def test_saved_tensors_of_a_custom_function_are_gone_after_backward():
    for lib in (ts, torch):
        class Keep(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * 2

            @staticmethod
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return g * 2

        a = lib.ones(2, requires_grad=True)
        o = Keep.apply(a)
        assert len(o.grad_fn.saved_tensors) == 1
        o.sum().backward(retain_graph=True)
        assert len(o.grad_fn.saved_tensors) == 1   # retained
        o.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            o.grad_fn.saved_tensors
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            o.sum().backward()


OPS = {
    "gather": lambda lib, x: x.gather(1, lib.tensor([[0], [1], [2]])),
    "take_along_dim": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0], [1], [2]]), 1),
    "masked_select": lambda lib, x: x.masked_select(x.detach() > 0),
    "take": lambda lib, x: x.take(lib.tensor([0, 5])),
    "cummax": lambda lib, x: x.cummax(1).values,
    "logcumsumexp": lambda lib, x: x.logcumsumexp(1),
    "topk": lambda lib, x: x.topk(2).values,
    "sort": lambda lib, x: x.sort(1).values,
    "kthvalue": lambda lib, x: x.kthvalue(2, 1).values,
    "median": lambda lib, x: x.median(1).values,
    "mode": lambda lib, x: x.mode(1).values,
    "index_select": lambda lib, x: x.index_select(1, lib.tensor([0, 2])),
    "median_all": lambda lib, x: x.median(),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x.unsqueeze(0), 2),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 3, 4), 2),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_writing_an_input_torch_saves_raises_in_backward(op):
    raised = []
    for lib in (ts, torch):
        x = lib.tensor([[0.5, -1.0, 2.0, 0.3], [1.5, 0.2, -0.7, 0.9], [-0.1, 0.4, 0.8, -2.0]], requires_grad=True) * 1
        y = OPS[op](lib, x)
        x.mul_(3)
        try:
            y.sum().backward()
            raised.append(False)
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            raised.append(True)
    assert raised[0] == raised[1], f"{op}: ours raised {raised[0]}, torch {raised[1]}"


@pytest.mark.parametrize("bad", [-1, 3])
def test_index_add_names_an_index_out_of_range(bad):
    with pytest.raises(IndexError, match="index out of range in self"):
        torch.zeros(3).index_add(0, torch.tensor([bad]), torch.ones(1))
    with pytest.raises(IndexError, match=f"index {bad} is out of range for dimension 0 with size 3"):
        ts.zeros(3).index_add(0, ts.tensor([bad]), ts.ones(1))
    np.testing.assert_array_equal(ts.zeros(3).index_add(0, ts.tensor([2, 2]), ts.ones(2)).numpy(), [0, 0, 2])


def test_the_dof_warning_points_at_the_callers_line():
    for lib in (ts, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.tensor([1.]).var()
            lib.std_mean(lib.tensor([1.]))
        assert [w.filename for w in caught] == [__file__, __file__], lib.__name__


def test_a_transposed_alias_is_still_a_partial_overlap():
    for lib in (ts, torch):   # the same bytes in another layout: torch refuses, as before
        z = lib.arange(5.)
        with pytest.raises(RuntimeError, match="single memory location"):
            z.view(1, 5)[:] = z.view(5, 1).t()
