"""An index tensor written in place between the forward and the backward of an op that saved it
(x[i], x[mask], index_select, x[i] = v, x[mask] = v): torch's nodes save the index, and backward
raises its "modified by an inplace operation" error; this engine scattered the gradient to the
new positions silently (x.grad [0, 1, 0, 1, 0] where the forward read [0, 1])."""
import pytest
import torch

import tinygrad_seq as ts

CASES = {
    "x[int index]": lambda L, x, i, m: x[i] * 1,
    "x[bool mask]": lambda L, x, i, m: x[m] * 1,
    "index_select": lambda L, x, i, m: x.index_select(0, i),
    "gather": lambda L, x, i, m: x.gather(0, i),
    "z[int index] = z[int index] * 2": lambda L, x, i, m: _put(x, i),
    "z[bool mask] = z[bool mask] * 2": lambda L, x, i, m: _put(x, m),
}


def _put(x, index):
    z = x * 1
    z[index] = z[index] * 2
    return z


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("L", [ts, torch], ids=["ours", "torch"])
def test_writing_a_saved_index_before_backward_raises_as_torch(case, L):
    x = L.arange(5.0, requires_grad=True)
    i, m = L.tensor([0, 1]), L.tensor([True, True, False, False, False])
    y = CASES[case](L, x, i, m)
    i[0] = 3
    m[3] = True
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("case", list(CASES))
def test_an_index_written_after_backward_or_left_alone_is_fine(case):
    grads = []
    for L in (ts, torch):
        x = L.arange(5.0, requires_grad=True)
        i, m = L.tensor([0, 1]), L.tensor([True, True, False, False, False])
        CASES[case](L, x, i, m).sum().backward()
        i[0] = 3   # after backward: nothing to check
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
