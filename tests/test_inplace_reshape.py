"""unsqueeze_ / squeeze_ / t_ / transpose_ on a tensor in the graph, as torch records them
(inplace_reshape.py): gradients for the nodes that used the tensor before and after, torch's
node names, the version bump that makes a node that saved the tensor raise, and a view that
stays its base's view."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

PROGRAMS = {
    # zhykoties/TimeSeries (DeepAR) train.py: a row of a batch written in the graph, then
    # `train_batch[t].unsqueeze_(0).clone()`
    "deepar": "b = w * 2\nb[1, 2] = w[0, 0] * 5\nx = b[1].unsqueeze_(0).clone()\n"
              "out = (x * x).sum() + b.sum()\nshow = tuple(x.shape)",
    "used before and after": "y = w * 3\ns = y * 2\ny.unsqueeze_(0)\nout = (s * 2).sum() + (y ** 2).sum()\n"
                             "show = (y.grad_fn.name(), tuple(y.shape), y._version)",
    "t_": "y = w * 1\nz = y + 1\ny.t_()\nout = (y @ w).sum() + (z * z).sum()\nshow = (y.grad_fn.name(), tuple(y.shape))",
    "transpose_ then write": "y = w * 1\ny.transpose_(0, 1)\nshow = y.grad_fn.name()\ny.mul_(2)\n"
                             "out = (y * L.arange(3.0)).sum()",
    "squeeze_ dim": "y = (w * 1).unsqueeze(1)\nk = y + 1\ny.squeeze_(1)\nout = (y * y).sum() * 2 + (k * k).sum()\n"
                    "show = (y.grad_fn.name(), tuple(y.shape))",
    "squeeze_ all": "y = (w * 1).unsqueeze(0)\ny.squeeze_()\nout = (y * y).sum()\nshow = y.grad_fn.name()",
    "squeeze_ dims": "y = (w * 1).unsqueeze(0)\ny.squeeze_((0,))\nout = (y * y).sum()\nshow = y.grad_fn.name()",
    "view written after": "b = w * 1\nv = b[2]\nv.unsqueeze_(0)\nv.mul_(3)\nout = (b * b).sum()\n"
                          "show = (tuple(v.shape), tuple(b.shape))",
    "twice": "y = w * 1\nq = y * 2\ny.unsqueeze_(0)\nr = y * 3\ny.unsqueeze_(0)\n"
             "out = q.sum() + r.sum() * 2 + (y * y).sum()\nshow = tuple(y.shape)",
}


def _run(lib, program):
    w = lib.tensor(np.arange(12.0).reshape(3, 4) / 7, requires_grad=True)
    env = {"L": lib, "w": w}
    exec(program, env)
    env["out"].backward()
    return w.grad.numpy().copy(), env["show"]


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_gradients_and_nodes_are_torchs(name):
    want_grad, want_show = _run(torch, PROGRAMS[name])
    got_grad, got_show = _run(ts, PROGRAMS[name])
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-12)
    assert got_show == want_show


@pytest.mark.parametrize("op", ["unsqueeze_(0)", "t_()"])
def test_a_node_that_saved_the_tensor_raises_as_torch(op):
    for lib in (torch, ts):
        w = lib.ones(3, 4, requires_grad=True)
        y = w * 2
        s = y.sin()   # saves y
        eval("y." + op)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            s.sum().backward()


def test_a_leaf_that_requires_grad_still_raises():
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ts.ones(3, requires_grad=True).unsqueeze_(0)
    x = ts.ones(3, requires_grad=True)
    with ts.no_grad():
        x.unsqueeze_(0)   # outside the graph: the shape changes
    assert x.shape == (1, 3)
