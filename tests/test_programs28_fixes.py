"""Differences from torch 2.13 found in session 53 (round 28: torch's docstring examples, RNN
programs of kinds earlier rounds missed), each checked against torch itself."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("leaf", [False, True])
def test_a_tensor_hook_returning_an_array_raises_torchs_type_error(leaf):
    for lib in (torch, ts):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = w if leaf else w * 2
        x.register_hook(lambda g: g.detach().numpy() * 10)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'numpy.ndarray'"):
            x.sum().backward()
    for lib in (torch, ts):   # the post-accumulate hooks name the type alike
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda p: 3)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            w.sum().backward()


def _second_backward_cases(lib):
    F = lib.nn.functional
    w = lib.randn(3, 4, requires_grad=True)
    idx, rows = lib.tensor([0, 2]), lib.tensor([[0], [1], [2]])
    return {
        "embedding": lambda: F.embedding(idx, w), "gather": lambda: w.gather(1, rows),
        "take_along_dim": lambda: lib.take_along_dim(w, rows, 1), "sort": lambda: w.sort().values,
        "topk": lambda: w.topk(2).values, "max_dim": lambda: w.max(dim=1).values,
        "masked_fill": lambda: w.masked_fill(w > 0, 0.0), "hardtanh": lambda: F.hardtanh(w),
        "where": lambda: lib.where(w > 0, w, lib.zeros(3, 4)),
        "index_add": lambda: lib.zeros(3, 4).index_add(0, lib.tensor([0, 1, 2]), w),
        "scatter": lambda: lib.zeros(3, 4).scatter(0, lib.tensor([[0, 1, 2, 0]]), w[:1]),
        # torch's nodes that save no tensor: a second backward runs
        "mean": lambda: w.mean(), "mean_dim": lambda: w.mean(1), "tril": lambda: w.tril(), "triu": lambda: w.triu(1),
        "sum": lambda: w.sum(0), "var_mean's mean": lambda: lib.var_mean(w, 1)[1],
        "std_mean's mean": lambda: lib.std_mean(w)[1],
    }


def _second_backward_runs(lib):
    result = {}
    for name, make in _second_backward_cases(lib).items():
        y = make().sum()
        y.backward()
        try:
            y.backward()
            result[name] = "runs"
        except RuntimeError as err:
            assert "backward through the graph a second time" in str(err), (name, err)
            result[name] = "raises"
    return result


def test_a_second_backward_raises_where_torchs_node_saved_a_tensor():
    # embedding, gather, sort, masked_fill... keep their indices / masks as attributes, where
    # torch's nodes save them: a second backward without retain_graph now raises as torch's
    # (it ran and added the gradient again); mean, tril and triu save nothing in torch and run
    want = _second_backward_runs(torch)
    assert want["embedding"] == "raises" and want["mean"] == "runs"
    assert _second_backward_runs(ts) == want


def test_var_mean_outputs_are_one_torch_node():
    for lib in (torch, ts):
        w = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        v, m = lib.var_mean(w, 1)
        s, m2 = lib.std_mean(w)
        assert [t.grad_fn.name() for t in (v, m, s, m2)] == ["VarMeanBackward0"] * 2 + ["StdMeanBackward0"] * 2
        np.testing.assert_allclose(m.detach().numpy(), [1.5, 5.5, 9.5])
        assert w.mean().grad_fn.name() == "MeanBackward0" and w.mean(0).grad_fn.name() == "MeanBackward1"
