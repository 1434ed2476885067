"""autograd.grad and backward(inputs=) run only the nodes on a path to the requested inputs, as
torch's engine: the rest keep their saved arrays (a later backward through them works) and their
hooks do not fire."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _program(lib):
    out = []
    a = lib.tensor([1., 2., 3.], requires_grad=True)
    b = lib.tensor([4., 5., 6.], requires_grad=True)
    h = a.exp()
    y = (h * b).sum()
    out.append(lib.autograd.grad(y, [b])[0])
    out.append(lib.autograd.grad(h.sum(), [a])[0])          # exp's node was not run, nor freed
    h = a.exp()
    calls = []
    h.register_hook(lambda g: calls.append(1) or g * 2)
    z = (h * b).sum()
    out.append(lib.autograd.grad(z, [h], retain_graph=True)[0])   # a captured non-leaf: its hook runs
    out.append(lib.tensor(float(len(calls))))
    out.append(lib.autograd.grad(z, [b])[0])
    out.append(lib.tensor(float(len(calls))))
    try:
        lib.autograd.grad(z, [a])                              # the mul node was freed above
        out.append(lib.tensor(0.))
    except RuntimeError:
        out.append(lib.tensor(1.))
    h = a.exp()
    fired = []
    h.register_hook(lambda g: fired.append(1))
    (h * b).sum().backward(inputs=[b])                         # off the path: no hook
    out += [lib.tensor(float(len(fired))), b.grad, lib.tensor(float(a.grad is None))]
    h = a.sin()
    h.retain_grad()
    lib.autograd.grad((h * b).sum(), [b])
    out.append(lib.tensor(float(h.grad is None)))
    c = lib.tensor([1., 2.], requires_grad=True)
    out.append(lib.tensor(float(lib.autograd.grad((a * 2).sum(), [a, c], allow_unused=True)[1] is None)))
    u = a * b
    v = u.sum() + (u * a).sum()
    out.append(lib.autograd.grad(v, [b], retain_graph=True)[0])
    out.append(lib.autograd.grad(v, [a])[0])
    return [np.asarray(o.detach().numpy(), np.float64) for o in out]


def test_pruned_sweeps_match_torch():
    for k, (ours, theirs) in enumerate(zip(_program(ts), _program(torch))):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=f"value {k}")
