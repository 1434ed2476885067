"""ts.einsum against torch.einsum: values, shapes and the gradient of every operand, over the
equations attention and sequence code write (batched products, implicit output, ellipsis,
broadcast size-1 dimensions, a letter summed inside one operand), and its errors."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

CASES = [
    ("bth,bsh->bts", [(2, 3, 4), (2, 5, 4)]),          # attention scores
    ("bts,bsh->bth", [(2, 3, 5), (2, 5, 4)]),          # context vectors
    ("bth,hk,bsk->bts", [(2, 3, 4), (4, 4), (2, 5, 4)]),  # Luong "general", three operands
    ("ij,jk", [(3, 4), (4, 2)]),                       # implicit output
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...h,hk->...k", [(2, 3, 4), (4, 5)]),            # ellipsis
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # ellipsis dimensions broadcast
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 2)]),          # a size-1 letter broadcasts
    ("ijk,k->i", [(2, 3, 4), (4,)]),                    # j is summed inside operand 0 alone
    ("ab,ab->a", [(3, 4), (3, 4)]),
    ("B a, a C -> C B", [(2, 3), (3, 4)]),             # spaces and capitals
    ("ii->i", [(3, 3)]),                               # a diagonal
    ("ii", [(3, 3)]),                                  # the trace
    ("bii,bj->bij", [(2, 3, 3), (2, 4)]),
    ("ij,kj->i", [(2, 3), (1, 1)]),                    # k summed inside one operand, j size 1 in it
]


@pytest.mark.parametrize("equation, shapes", CASES)
def test_einsum_matches_torch_values_and_gradients(equation, shapes):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [ts.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = ts.einsum(equation, *ours), torch.einsum(equation, *theirs)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(y.shape)
    (y * ts.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for a, t in zip(ours, theirs):
        assert a.grad.shape == a.shape
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_takes_a_list_and_passes_gradcheck():
    rng = np.random.default_rng(0)
    q, k = (ts.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(2))
    assert ts.einsum("bth,bsh->bts", [q, k]).shape == (2, 3, 3)
    assert ts.gradcheck(lambda a, b: ts.einsum("bth,bsh->bts", a, b).tanh(), (q, k))


@pytest.mark.parametrize("equation, shapes, error, message", [
    ("ij,jk->ik", [(2, 3)], RuntimeError, "fewer operands were provided than specified"),
    ("ij->ik", [(2, 3)], RuntimeError, "output subscript k does not appear"),
    ("ijk->i", [(2, 3)], ValueError, r"subscripts in the equation \(3\) does not match the number of dimensions \(2\) for operand 0"),
    ("ij,jk->ik", [(2, 3), (4, 5)], RuntimeError, "subscript j has size 4 for operand 1 which does not broadcast "
                                                  "with previously seen size 3"),
    ("i1->i", [(2, 3)], RuntimeError, "invalid subscript given at index 1"),
])
def test_einsum_errors_name_the_problem(equation, shapes, error, message):
    with pytest.raises(error, match=message):
        ts.einsum(equation, *[ts.zeros(*s) for s in shapes])
