"""utils.checkpoint: gradients through a checkpointed block (recomputed in backward) equal
those of the plain block and torch's checkpoint's, with parameters used inside, dropout under
the preserved random state, several outputs, non-tensor arguments, and checkpoint_sequential."""
import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.utils.checkpoint import checkpoint, checkpoint_sequential


def _grads(lib, mod, block, use_checkpoint, cp, x_array):
    x = lib.tensor(x_array, requires_grad=True)
    out = cp(block, x, 0.5, use_reentrant=use_checkpoint == "reentrant") if use_checkpoint else block(x, 0.5)
    out = out[0] * 2 + out[1]
    (out ** 2).sum().backward()
    return [x.grad.numpy()] + [p.grad.numpy() for p in mod.parameters()]


def _make(lib_nn):
    return lib_nn.ModuleList([lib_nn.LSTM(4, 5), lib_nn.Linear(5, 3)]).double()


def test_checkpoint_matches_the_plain_block_and_torch():
    torch.manual_seed(0)
    theirs = _make(torch.nn)
    ours = _make(nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 2, 4))

    def block_for(mod):
        def block(inp, scale):   # two outputs and a number argument
            y = mod[1](mod[0](inp)[0]).tanh() * scale
            return y, y.sum(-1, keepdim=True)
        return block
    plain = _grads(ts, ours, block_for(ours), False, checkpoint, x)
    for mode in ("reentrant", "non-reentrant"):
        ours.zero_grad()
        theirs.zero_grad()
        checked = _grads(ts, ours, block_for(ours), mode, checkpoint, x)
        reference = _grads(torch, theirs, block_for(theirs), mode, tcp.checkpoint, x)
        for a, b, t in zip(plain, checked, reference):
            np.testing.assert_allclose(b, a, rtol=1e-12)
            np.testing.assert_allclose(b, t, rtol=1e-9, atol=1e-12)


def test_checkpoint_replays_dropout_masks_and_sequential():
    drop, lin = nn.Dropout(0.4), nn.Linear(4, 4).double()
    x = ts.randn(5, 4, dtype=ts.float64, requires_grad=True)
    results = []
    for use in (False, True):
        x.grad, lin.weight.grad = None, None
        ts.manual_seed(3)
        y = checkpoint(lambda t: drop(lin(t)), x, use_reentrant=True) if use else drop(lin(x))
        (y ** 2).sum().backward()
        results.append((x.grad.numpy().copy(), lin.weight.grad.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    seq = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    z = ts.randn(3, 4, dtype=ts.float64, requires_grad=True)
    seq(z).sum().backward()
    plain = (z.grad.numpy().copy(), seq[0].weight.grad.numpy().copy())
    z.grad = None
    seq.zero_grad()
    checkpoint_sequential(seq, 2, z, use_reentrant=True).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), plain[0], rtol=1e-12)
    np.testing.assert_allclose(seq[0].weight.grad.numpy(), plain[1], rtol=1e-12)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad"):
        y = checkpoint(lambda t: lin(t), ts.ones(2, 4, dtype=ts.float64), use_reentrant=True)
    assert not y.requires_grad   # torch's: the reentrant node's output has no graph


def test_non_reentrant_checkpoint_is_the_functions_own_graph():
    """use_reentrant=False as torch's: autograd.grad with respect to parameters inside, backward(inputs=)
    filling only those, dict outputs, no warning without inputs requiring grad."""
    import warnings
    lin = nn.Linear(3, 2)
    x = ts.randn(4, 3, requires_grad=True)
    y = checkpoint(lambda t: {"y": lin(t)}, x, use_reentrant=False)["y"]
    gx, gw = ts.autograd.grad((y ** 2).sum(), [x, lin.weight])
    assert gx.shape == (4, 3) and gw.shape == (2, 3) and lin.weight.grad is None
    y = checkpoint(lin, x, use_reentrant=False)
    (y ** 2).sum().backward(inputs=[lin.bias])
    assert lin.weight.grad is None and lin.bias.grad is not None and x.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lin, ts.ones(2, 3), use_reentrant=False).sum().backward()
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lin, x)
    with pytest.raises(ValueError, match="Unexpected keyword"):
        checkpoint(lambda t, k=1: t * k, x, use_reentrant=True, k=2)
