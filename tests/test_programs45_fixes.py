"""Rounds 45-46 (2026-12-07): a reviewer's, a DDP audit's and a function-transform audit's
findings beside torch 2.13 (the DDP ones run under MPI: tests/mpi_scripts/audit_ddp.py)."""
import warnings

import pytest
import torch

import tinygrad_seq as tg


@pytest.mark.parametrize("via_backward", [False, True])
def test_multi_grad_hook_under_create_graph(via_backward):
    """queue_callback (a multi-grad hook's) works in a create_graph=True backward, as torch's."""
    seen = []
    for m in (tg, torch):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        h1, h2 = a * 2, a * 3
        got = []
        m.autograd.graph.register_multi_grad_hook((h1, h2), lambda gs: got.append(sum(float(g.detach().sum()) for g in gs)))
        if via_backward:
            with warnings.catch_warnings():   # the reference-cycle warning, once a process in both
                warnings.simplefilter("ignore")
                (h1 * h2).sum().backward(create_graph=True)
        else:
            m.autograd.grad((h1 * h2).sum(), a, create_graph=True)
        seen.append(got)
    assert seen[0] == seen[1] == [15.0]


def test_function_backward_returning_a_tuple_is_torchs_error():
    class F(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return (g, g), (True, True)
    x, y = (tg.tensor([1.0, 2.0], requires_grad=True) for _ in range(2))
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got tuple\)"):
        tg.autograd.grad(F.apply(x, y).sum(), [x, y])


def test_train_reaches_every_module_and_calls_overrides_as_torch():
    seen = []
    for m in (tg, torch):
        calls = []

        class Frozen(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = m.nn.Dropout(0.5)

            def train(self, mode=True):
                calls.append(mode)
                return super().train(False)
        f = Frozen()
        root = m.nn.Sequential(m.nn.Linear(2, 2), f, m.nn.Sequential(m.nn.Dropout(0.1), f))
        root.eval()
        root.train()
        seen.append((calls, f.training, f.inner.training, [x.training for x in (root, root[0], root[2], root[2][0])]))
    assert seen[0] == seen[1]


def test_a_uint8_mask_spans_its_dims_beside_an_ellipsis():
    import warnings
    import numpy as np
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's and our uint8-index deprecation warning
        for m in (tg, torch):
            x = m.arange(12.0).reshape(3, 4)
            mask = m.tensor([[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]], dtype=m.uint8)
            assert tuple(x[None, mask, ..., m.tensor(True)].shape) == (1, 6)
            y = m.arange(6.0).reshape(3, 2)
            np.testing.assert_array_equal(y[..., m.tensor([[1, 0], [0, 1], [1, 1]], dtype=m.uint8)].numpy(),
                                          [0.0, 3.0, 4.0, 5.0])


def test_a_one_element_value_of_another_dtype_under_one_mask_beside_slices():
    for m in (tg, torch):
        mask = m.tensor([True, False, True])
        x = m.zeros(3, 4)
        x[mask, :] = m.tensor(2, dtype=m.int32)
        x[None, mask] += 0   # (a view's write path)
        x[mask, ...] = m.tensor([3], dtype=m.int32)
        assert x.tolist() == [[3.0] * 4, [0.0] * 4, [3.0] * 4]
        for index, value in (((mask, slice(None)), m.ones(2, 4, dtype=m.int32)),
                             (([0, 2], slice(None)), m.tensor(2, dtype=m.int32))):
            with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
                x[index] = value
        y = m.zeros(3, dtype=m.int64)
        with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
            y[m.tensor(True)] = m.tensor(2, dtype=m.int32)   # a 0-d mask is index_put's
