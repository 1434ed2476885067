"""Programs round 19 (recurrent training programs beside torch 2.13): a module's dtype change
converts the grads in place, and the cells' and layers' state errors lead with torch's words."""
import re

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_a_dtype_change_converts_a_kept_grad_in_place(lib):
    lin = lib.nn.Linear(2, 1).double()
    lin(lib.ones(1, 2, dtype=lib.float64)).sum().backward()
    weight, grad = lin.weight, lin.weight.grad
    lin.float()
    assert lin.weight is weight and lin.weight.grad is grad
    assert grad.dtype == lib.float32
    np.testing.assert_array_equal(np.asarray(grad.detach().numpy()), [[1.0, 1.0]])


CELL_CASES = [  # (input shape, state shape, torch's sentence)
    ((2, 3), (3, 4), "Input batch size 2 doesn't match hidden0 batch size 3"),
    ((2, 3), (2, 5), "hidden0 has inconsistent hidden_size: got 5, expected 4"),
    ((2, 3), (4,), "Input batch size 2 doesn't match hidden0 batch size 4"),
    ((3,), (2, 4), "hidden0 has inconsistent hidden_size: got 2, expected 4"),
    ((3,), (5,), "hidden0 has inconsistent hidden_size: got 5, expected 4"),
]


@pytest.mark.parametrize("cell", ["GRUCell", "RNNCell", "LSTMCell"])
@pytest.mark.parametrize("x_shape,h_shape,words", CELL_CASES)
def test_a_cell_state_of_the_wrong_shape_raises_with_torchs_words(cell, x_shape, h_shape, words):
    for lib in (torch, ts):
        c = getattr(lib.nn, cell)(3, 4)
        h = lib.ones(*h_shape)
        with pytest.raises(RuntimeError, match="^" + words):
            c(lib.ones(*x_shape), (h, h) if cell == "LSTMCell" else h)
    c = ts.nn.LSTMCell(3, 4)   # the cell state is hidden1, and ours names the shape it expected
    with pytest.raises(RuntimeError, match=r"hidden1 batch size 3 \(LSTMCell: expected hx\[1\] \(c_0\) of shape "
                                           r"\(2, 4\) for input of shape \(2, 3\), got \(3, 4\)\)"):
        c(ts.ones(2, 3), (ts.ones(2, 4), ts.ones(3, 4)))


@pytest.mark.parametrize("layer", ["GRU", "RNN", "GRUCell"])
def test_a_tuple_for_a_single_state_raises_attribute_error_with_torchs_words(layer):
    for lib in (torch, ts):
        m = getattr(lib.nn, layer)(3, 4)
        x, h = (lib.ones(5, 2, 3), lib.zeros(1, 2, 4)) if layer != "GRUCell" else (lib.ones(2, 3), lib.zeros(2, 4))
        with pytest.raises(AttributeError, match="^'tuple' object has no attribute 'dim'"):
            m(x, (h, h))


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_a_grad_that_was_a_view_writes_no_more_into_its_buffer_after_a_dtype_change(lib):
    lin = lib.nn.Linear(2, 2, bias=False)
    buf = lib.zeros(8)
    lin.weight.grad = buf[:4].view(2, 2)
    lin.double()
    lin.weight.grad.add_(1)
    assert buf.tolist() == [0.0] * 8
    v = buf[:2]            # the same through .data: new memory, no longer the buffer's view
    v.data = lib.ones(2, dtype=lib.float64)
    v.add_(1)
    assert buf.tolist() == [0.0] * 8 and v.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("cell", ["GRUCell", "RNNCell", "LSTMCell"])
def test_a_cell_state_of_the_wrong_rank_raises_value_error_first(cell):
    name = "hx[0]" if cell == "LSTMCell" else "hidden"
    for lib in (torch, ts):
        c = getattr(lib.nn, cell)(3, 4)
        for h, rank in ((lib.ones(2, 4, 1), 3), (lib.tensor(1.0), 0)):
            with pytest.raises(ValueError, match=rf"^{cell}: Expected {re.escape(name)} to be 1D or 2D, got {rank}D"):
                c(lib.ones(2, 5), (h, h) if cell == "LSTMCell" else h)   # before the input's size


def test_a_non_tensor_state_names_its_type_as_python_does():
    with pytest.raises(AttributeError, match=r"^'numpy.ndarray' object has no attribute 'dim' \(GRU: hidden "
                                             r"\(h_0\) must be a Tensor, got numpy.ndarray\)"):
        ts.nn.GRU(3, 4)(ts.ones(5, 2, 3), np.zeros((1, 2, 4), np.float32))
    with pytest.raises(TypeError, match=r"^GRUCell: hx must be one Tensor \(the hidden state 'h'\), got torch.Tensor"):
        ts.nn.GRUCell(3, 4)(ts.ones(2, 3), torch.zeros(2, 4))
