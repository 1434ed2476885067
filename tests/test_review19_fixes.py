"""Fixes of the 19th review round: inference tensors as torch's (marked, their views and
detach too; in-place writes and requires_grad outside the block raise), grad-mode context
managers bind None."""
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _inference_probe(lib):
    with lib.inference_mode():
        x = lib.ones(3)
        v, c = x[1:], x.clone()
        lin = lib.nn.Linear(2, 2)
    out = {"x": x.is_inference(), "view": v.is_inference(), "clone_in": c.is_inference(),
           "weight": lin.weight.is_inference(), "weight_rg": lin.weight.requires_grad,
           "clone_out": x.clone().is_inference(), "op_out": (x + 1).is_inference(),
           "detach": x.detach().is_inference(), "reshape": x.reshape(3, 1).is_inference(),
           "plain": lib.ones(2).is_inference()}
    with lib.inference_mode(False):
        out["mode_false"] = lib.ones(2).is_inference()
    for name, fn in [("inplace", lambda: x.add_(1)), ("setitem", lambda: x.__setitem__(0, 5.0)),
                     ("requires_grad", lambda: x.requires_grad_()),
                     ("parameter", lambda: lib.nn.Parameter(x))]:
        try:
            fn()
            out[name] = "ok"
        except RuntimeError:
            out[name] = "RuntimeError"
    with lib.no_grad():
        try:
            x.mul_(2)
            out["inplace_no_grad"] = "ok"
        except RuntimeError:
            out["inplace_no_grad"] = "RuntimeError"
    with lib.inference_mode():
        x.mul_(2)   # inside the block: allowed
    z = lib.ones(3, requires_grad=True)
    (z + x).sum().backward()   # not saved for backward: allowed in both
    out["grad"] = z.grad.tolist()
    return out


def test_inference_tensors_as_torch():
    assert _inference_probe(ts) == _inference_probe(torch)


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_grad_mode_context_binds_none(name):
    with getattr(ts, name)() as bound:
        assert bound is None
    with ts.set_grad_enabled(False) as bound:
        assert bound is None
    assert ts.is_grad_enabled()
