"""A one-layer, one-direction recurrent module's states: h_0 [1, B, H] goes into the fused
Function as it is and h_n comes out of it (tinygrad_seq/recurrent.py, nn/rnn.py), for the
hand-written kernels and generated ones."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import Tensor


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "peephole_lstm", "gru_reset_before"])
def test_a_one_layer_modules_states_go_through_without_extra_nodes(mode):
    # one layer, one direction: h_0 [1, B, H] goes into the fused Function as it is and h_n comes
    # out of it (no indexing node before, no stacking node after); a hand-written kernel's h_0
    # gradient is its array seen as [1, B, H] (adopted, not copied); h_n is the kernel's own, so
    # writing it in place leaves the backward through the output intact, as in PyTorch
    from tinygrad_seq import cell_library
    rng = np.random.default_rng(0)
    # the hand-written kernels, and generated ones (two states; one, whose st the kernel saves)
    layer = ts.nn.RNNBase(mode, 3, 4) if mode.isupper() else ts.nn.Recurrent(cell_library.get(mode), 3, 4)
    n_states = len(layer.cell_spec.states)
    x = Tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    hx = tuple(Tensor(rng.standard_normal((1, 2, 4)), requires_grad=True) for _ in range(n_states))
    layer = layer.double()
    out, finals = layer(x, hx if n_states > 1 else hx[0])
    finals = finals if n_states > 1 else (finals,)
    assert all(f._ctx is out._ctx for f in finals) and all(f.shape == (1, 2, 4) for f in finals)
    reference = ts.nn.RNNBase(None, 3, 4, fused=False, cell=layer.cell_spec).double()
    reference.load_state_dict(layer.state_dict())
    hx_ref = tuple(Tensor(h.numpy(), requires_grad=True) for h in hx)
    out_ref, _ = reference(Tensor(x.numpy()), hx_ref if n_states > 1 else hx_ref[0])
    for f in finals:
        f.add_(1.0)
    (out * out).sum().backward()
    (out_ref * out_ref).sum().backward()
    for h, h_ref in zip(hx, hx_ref):
        assert h.grad.shape == (1, 2, 4)
        if mode.isupper():  # the kernel's [2, 4] array, adopted (a generated cell's [S, 2, 4] rows are copied)
            assert h.grad.array.base is not None
        np.testing.assert_allclose(h.grad.numpy(), h_ref.grad.numpy(), rtol=1e-9, atol=1e-12)
