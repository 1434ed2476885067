"""Indices that mix integers with index arrays, against torch: torch applies the integers first
(a select each) and the arrays to what is left, where numpy counts an integer as one more array
and moves the arrays' dims to the front when a slice or None parts them. Values, gradients and
item assignment (with and without autograd)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

A = np.arange(120.0).reshape(2, 3, 4, 5)
I = np.array([2, 0])
J = np.array([1, 1])
M = np.array([True, False, True])

CASES = {
    "int, slice, array": (0, slice(None), I),
    "int, None, array": (1, None, I),
    "array, int, array": (J, 0, I),
    "slice, array, int, array": (slice(None), I, 1, np.array([3, 4])),
    "int, ellipsis, array": (1, Ellipsis, np.array([4, 0, 1])),
    "array, slice, int": (np.array([1, 0]), slice(1, 3), 2),
    "int, mask": (1, M),
    "int, list, slice, int": (0, [2, 1, 1], slice(None, None, 2), -1),
    "list of lists, int": ([[0, 1], [1, 0]], 2),
}


def _torch_index(idx):
    return tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in idx)


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_as_torch(name):
    idx = CASES[name]
    ours = ts.tensor(A, requires_grad=True)
    theirs = torch.tensor(A, requires_grad=True)
    out, out_t = ours[idx], theirs[_torch_index(idx)]
    assert out.shape == tuple(out_t.shape), name
    np.testing.assert_array_equal(out.numpy(), out_t.detach().numpy())
    weights = np.random.default_rng(0).standard_normal(out.shape)
    (out * ts.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("name", CASES)
def test_item_assignment_as_torch(name, grad):
    idx = CASES[name]
    theirs = torch.tensor(A).clone()
    shape = tuple(theirs[_torch_index(idx)].shape)
    value = np.random.default_rng(1).standard_normal(shape)
    ours = ts.tensor(A.copy())
    v, v_t = ts.tensor(value, requires_grad=grad), torch.tensor(value, requires_grad=grad)
    if grad:
        ours, theirs = ours * 1.0, theirs * 1.0   # a graph node written in place
    ours[idx] = v
    theirs[_torch_index(idx)] = v_t
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    if grad:
        (ours * ours).sum().backward()
        (theirs * theirs).sum().backward()
        np.testing.assert_allclose(v.grad.numpy(), v_t.grad.numpy())


def test_a_0d_integer_tensor_indexes_as_an_integer():
    ours, theirs = ts.tensor(A), torch.tensor(A)
    for make in (lambda L: (L.tensor(0), slice(None), [1, 2]), lambda L: (L.tensor(-1),),
                 lambda L: (slice(None), L.tensor(1), L.tensor([0, 3]))):
        out, out_t = ours[make(ts)], theirs[make(torch)]
        assert out.shape == tuple(out_t.shape)
        np.testing.assert_array_equal(out.numpy(), out_t.numpy())
